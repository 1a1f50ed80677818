//! Changing a message: header lines added, replaced and removed, the body, the Request-URI and
//! the To tag. A core header's new line is checked once, before it goes in, and the core index
//! is updated in place (indices shifted, the new first line of a name recorded) rather than
//! found again by scanning every line.

use super::core::{Checked, Tag};
use super::{Header, HeaderLines, Message, Parts, StartLine};
use crate::error::Error;
use crate::header_name::HeaderName;
use crate::uri::Uri;
use bytes::Bytes;
use std::sync::Arc;

impl Message {
    /// The parts to edit (copied first when another message shares them), with the original
    /// bytes forgotten: the message no longer is what was received.
    fn touched(&mut self) -> &mut Parts {
        let p = Arc::make_mut(&mut self.p);
        p.original = None;
        p
    }

    /// Finds the core headers again after lines named `name` were removed.
    fn lines_removed(&mut self, name: &HeaderName) {
        let p = Arc::make_mut(&mut self.p);
        p.core.reindex(&p.headers);
        // The lines left were checked when they went in: refreshing cannot fail.
        let _ = p.core.refresh(&p.headers, name);
    }

    /// Appends a header line. Core headers (Via, From, To, CSeq) are validated.
    pub fn push_header(&mut self, name: HeaderName, value: &str) -> Result<(), Error> {
        self.push_raw_header(Header::new(name, value))
    }

    /// Appends the lines, in order, each checked as [`push_header`](Self::push_header) checks
    /// it; if any is refused, none is added.
    pub fn push_lines(&mut self, lines: HeaderLines) -> Result<(), Error> {
        let headers = lines.into_headers();
        let checked = headers
            .iter()
            .map(Checked::of)
            .collect::<Result<Vec<_>, _>>()?;
        let p = self.touched();
        p.headers.reserve(headers.len());
        for (h, checked) in headers.into_iter().zip(checked) {
            let first =
                checked.is_core(h.name()) && !p.headers.iter().any(|x| x.name() == h.name());
            p.core.added(h.name(), p.headers.len(), checked, first);
            p.headers.push(h);
        }
        Ok(())
    }

    /// Appends an existing header (for example one copied from another message, byte for byte).
    pub fn push_raw_header(&mut self, h: Header) -> Result<(), Error> {
        let checked = Checked::of(&h)?;
        let p = self.touched();
        let first = checked.is_core(h.name()) && !p.headers.iter().any(|x| x.name() == h.name());
        p.core.added(h.name(), p.headers.len(), checked, first);
        p.headers.push(h);
        Ok(())
    }

    /// Inserts a header line before every other header of the same name (for Via, Route,
    /// Record-Route), or at the top when there is none.
    pub fn prepend_header(&mut self, name: HeaderName, value: &str) -> Result<(), Error> {
        let h = Header::new(name, value);
        let checked = Checked::of(&h)?;
        let p = self.touched();
        let at = p
            .headers
            .iter()
            .position(|x| x.name() == h.name())
            .unwrap_or(0);
        p.core.shift(at);
        p.core.added(h.name(), at, checked, true);
        p.headers.insert(at, h);
        Ok(())
    }

    /// Replaces every header of that name by one line holding `value`, at the first one's place.
    pub fn set_header(&mut self, name: HeaderName, value: &str) -> Result<(), Error> {
        let h = Header::new(name, value);
        let checked = Checked::of(&h)?;
        self.set_checked(h, checked);
        Ok(())
    }

    /// `set_header` with a line already checked.
    fn set_checked(&mut self, h: Header, checked: Checked) {
        let p = self.touched();
        let mut same = p
            .headers
            .iter()
            .enumerate()
            .filter(|(_, x)| x.name() == h.name());
        let first = same.next().map(|(i, _)| i);
        let others = same.next().is_some();
        match first {
            Some(i) => {
                p.core.added(h.name(), i, checked, true);
                if others {
                    let mut k = 0;
                    p.headers.retain(|x| {
                        k += 1;
                        k - 1 == i || x.name() != h.name()
                    });
                    // Lines after the first moved up: find them again.
                    p.core.reindex(&p.headers);
                }
                if let Some(slot) = p.headers.get_mut(i) {
                    *slot = h;
                }
            }
            None => {
                p.core.added(h.name(), p.headers.len(), checked, true);
                p.headers.push(h);
            }
        }
    }

    /// Replaces the first line of that name (which must exist) by one holding `value`, leaving
    /// the other lines of that name alone.
    pub(crate) fn replace_first(&mut self, name: HeaderName, value: &str) -> Result<(), Error> {
        let h = Header::new(name, value);
        let checked = Checked::of(&h)?;
        let i = self
            .p
            .headers
            .iter()
            .position(|x| x.name() == h.name())
            .ok_or(Error::ApiMisuse("no such header to replace"))?;
        let p = self.touched();
        p.core.added(h.name(), i, checked, true);
        if let Some(slot) = p.headers.get_mut(i) {
            *slot = h;
        }
        Ok(())
    }

    /// Removes every header of that name; returns how many were removed.
    pub fn remove_headers(&mut self, name: &HeaderName) -> usize {
        if !self.p.headers.iter().any(|h| h.name() == name) {
            return 0;
        }
        let p = self.touched();
        let before = p.headers.len();
        p.headers.retain(|h| h.name() != name);
        let n = before - p.headers.len();
        self.lines_removed(name);
        n
    }

    /// Removes the first header of that name (the top Via when forwarding a response).
    pub fn remove_first(&mut self, name: &HeaderName) -> Option<Header> {
        let i = self.p.headers.iter().position(|h| h.name() == name)?;
        let h = self.touched().headers.remove(i);
        self.lines_removed(name);
        Some(h)
    }

    /// Sets the body and its Content-Type; Content-Length follows the body when written.
    pub fn set_body(
        &mut self,
        content_type: Option<&str>,
        body: impl Into<Bytes>,
    ) -> Result<(), Error> {
        self.touched().body = body.into();
        match content_type {
            Some(ct) => self.set_header(HeaderName::ContentType, ct)?,
            None => {
                self.remove_headers(&HeaderName::ContentType);
            }
        }
        Ok(())
    }

    /// Replaces the Request-URI (requests only).
    pub fn set_request_uri(&mut self, new: Uri) -> Result<(), Error> {
        if self.is_response() {
            return Err(Error::ApiMisuse("a response has no Request-URI"));
        }
        let p = self.touched();
        if let StartLine::Request { uri, .. } = &mut p.start {
            *uri = new;
            p.start_raw = None;
        }
        Ok(())
    }

    /// Sets the To tag (a UAS does this on its first non-100 response). The To value keeps
    /// its text; only the tag's value is written in (or `;tag=` appended).
    pub fn set_to_tag(&mut self, tag: &str) -> Result<(), Error> {
        let at = self.p.core.to.ok_or(Error::ApiMisuse("no To header"))?;
        let value = self
            .p
            .headers
            .get(at.index)
            .map(Header::value)
            .ok_or(Error::ApiMisuse("no To header"))?;
        // A token tag written where a tag was, or appended after `>`, leaves a valid value
        // whose tag is where it was written: no need to check the value again.
        let token = !tag.is_empty() && tag.bytes().all(crate::text::is_token);
        let edited: Option<([&str; 3], Option<Tag>)> = match at.tag {
            Tag::At(a, b) => match (value.get(..a as usize), value.get(b as usize..)) {
                (Some(before), Some(after)) => {
                    let span = Tag::At(a, a.saturating_add(tag.len() as u32));
                    Some(([before, tag, after], token.then_some(span)))
                }
                _ => None,
            },
            // A `tag` parameter without a value would stay beside the new one: rebuild.
            Tag::Absent if !mentions_tag(value) => {
                let at = value.len() + ";tag=".len();
                let span = match (u32::try_from(at), u32::try_from(at + tag.len())) {
                    (Ok(a), Ok(b)) if token && value.ends_with('>') => Some(Tag::At(a, b)),
                    _ => None,
                };
                Some(([value, ";tag=", tag], span))
            }
            _ => None,
        };
        match edited {
            Some((parts, Some(span))) => {
                let h = Header::joined(HeaderName::To, &parts);
                self.set_checked(h, Checked::Addr(span));
                Ok(())
            }
            Some((parts, None)) => self.set_header(HeaderName::To, &parts.concat()),
            None => {
                let mut to = self
                    .to_hdr()
                    .cloned()
                    .ok_or(Error::ApiMisuse("no To header"))?;
                to.set_tag(tag);
                self.set_header(HeaderName::To, &to.to_string())
            }
        }
    }
}

/// Whether `tag` appears anywhere in the text, in any case.
fn mentions_tag(value: &str) -> bool {
    value
        .as_bytes()
        .windows(3)
        .any(|w| w.eq_ignore_ascii_case(b"tag"))
}
