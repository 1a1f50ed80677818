//! Serialization. An untouched message is its original bytes; otherwise the start line and the
//! headers are written from their kept bytes (or canonical text when new), and Content-Length is
//! made to match the body.

use super::{Message, StartLine};
use crate::header_name::HeaderName;
use bytes::{BufMut, Bytes, BytesMut};
use std::fmt;

impl Message {
    /// The bytes to put on the wire.
    pub fn to_bytes(&self) -> Bytes {
        if let Some(orig) = &self.p.original {
            return orig.clone();
        }
        let mut out = BytesMut::with_capacity(self.encoded_len_hint());
        self.write_into(&mut out);
        out.freeze()
    }

    /// Appends the bytes to put on the wire to `out`: a sender that keeps one buffer for
    /// every message it writes allocates nothing per message.
    pub fn write_to(&self, out: &mut BytesMut) {
        match &self.p.original {
            Some(orig) => out.extend_from_slice(orig),
            None => self.write_into(out),
        }
    }

    fn encoded_len_hint(&self) -> usize {
        64 + self
            .p
            .headers
            .iter()
            .map(|h| h.raw().len() + 2)
            .sum::<usize>()
            + self.p.body.len()
            + 24
    }

    fn write_into(&self, out: &mut BytesMut) {
        match (&self.p.start_raw, &self.p.start) {
            (Some(raw), _) => out.put_slice(raw),
            (None, StartLine::Request { method, uri }) => {
                out.put_slice(method.as_str().as_bytes());
                out.put_u8(b' ');
                out.put_slice(uri.as_str().as_bytes());
                out.put_slice(b" SIP/2.0");
            }
            (None, StartLine::Response { code, reason }) => {
                out.put_slice(b"SIP/2.0 ");
                out.put_slice(crate::digits::decimal(&mut [0; 20], u64::from(*code)));
                out.put_u8(b' ');
                out.put_slice(reason.as_bytes());
            }
        }
        out.put_slice(b"\r\n");
        let mut wrote_length = false;
        for h in &self.p.headers {
            if *h.name() == HeaderName::ContentLength {
                if wrote_length {
                    continue;
                }
                wrote_length = true;
                let declared = h.value().trim().parse::<usize>().ok();
                if declared == Some(self.p.body.len()) {
                    out.put_slice(h.raw());
                } else {
                    write_length(out, self.p.body.len());
                }
            } else {
                out.put_slice(h.raw());
            }
            out.put_slice(b"\r\n");
        }
        if !wrote_length {
            write_length(out, self.p.body.len());
            out.put_slice(b"\r\n");
        }
        out.put_slice(b"\r\n");
        out.put_slice(&self.p.body);
    }
}

fn write_length(out: &mut BytesMut, n: usize) {
    out.put_slice(b"Content-Length: ");
    out.put_slice(crate::digits::decimal(&mut [0; 20], n as u64));
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.to_bytes()))
    }
}
