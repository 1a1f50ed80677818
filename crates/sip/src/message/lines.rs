//! Header lines written together: a message Tether builds gets its lines from one text they
//! all share, as a parsed message's lines share its header section, so building a request
//! costs one allocation for its headers instead of one per line (and none for values that are
//! written straight into the text). The lines are checked when they go into the message.

use std::sync::Arc;

use super::header::Header;
use crate::header_name::HeaderName;

/// Lines waiting to be added to a message with [`Message::push_lines`](super::Message::push_lines).
#[derive(Debug, Default)]
pub struct HeaderLines {
    text: String,
    /// Each line: its name, where it starts in `text`, where its value starts (from the line's
    /// start) and where it ends.
    lines: Vec<(HeaderName, usize, u16, usize)>,
}

impl HeaderLines {
    /// Room for `lines` lines of `bytes` bytes in all (a hint: it grows as needed).
    pub fn with_capacity(lines: usize, bytes: usize) -> HeaderLines {
        HeaderLines {
            text: String::with_capacity(bytes),
            lines: Vec::with_capacity(lines),
        }
    }

    /// Adds `name: value`.
    pub fn push(&mut self, name: HeaderName, value: &str) -> &mut HeaderLines {
        self.push_with(name, |text| text.push_str(value))
    }

    /// Adds a line whose value `write` appends to the text (straight into it: no string of
    /// its own).
    pub fn push_with(
        &mut self,
        name: HeaderName,
        write: impl FnOnce(&mut String),
    ) -> &mut HeaderLines {
        let start = self.text.len();
        let n = name.as_str();
        self.text.push_str(n);
        self.text.push_str(": ");
        write(&mut self.text);
        let value_start = u16::try_from(n.len() + 1).unwrap_or(u16::MAX);
        self.lines.push((name, start, value_start, self.text.len()));
        self
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The lines as headers sharing one text.
    pub(super) fn into_headers(self) -> Vec<Header> {
        let text: Arc<str> = Arc::from(self.text);
        self.lines
            .into_iter()
            .map(|(name, start, value_start, end)| {
                Header::in_section(name, &text, start, end, value_start)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Message;

    fn request() -> Message {
        let uri = crate::uri::Uri::parse("sip:b@h").expect("uri");
        let mut m = Message::new_request(crate::Method::Options, uri);
        m.push_header(HeaderName::Via, "SIP/2.0/UDP h;branch=z9hG4bK1")
            .expect("via");
        m
    }

    /// Lines pushed together read and serialize as the same lines pushed one by one.
    #[test]
    fn lines_pushed_together_are_the_lines_pushed_one_by_one() {
        let mut one_by_one = request();
        for (n, v) in [
            (HeaderName::From, "<sip:a@h>;tag=f1"),
            (HeaderName::To, "<sip:b@h>"),
            (HeaderName::CallId, "c1@h"),
            (HeaderName::CSeq, "7 OPTIONS"),
            (HeaderName::MaxForwards, "70"),
        ] {
            one_by_one.push_header(n, v).expect("valid");
        }
        let mut together = request();
        let mut lines = HeaderLines::with_capacity(5, 100);
        lines
            .push_with(HeaderName::From, |t| t.push_str("<sip:a@h>;tag=f1"))
            .push(HeaderName::To, "<sip:b@h>")
            .push(HeaderName::CallId, "c1@h")
            .push_with(HeaderName::CSeq, |t| t.push_str("7 OPTIONS"))
            .push(HeaderName::MaxForwards, "70");
        together.push_lines(lines).expect("valid");
        assert_eq!(together.to_bytes(), one_by_one.to_bytes());
        assert_eq!(together.from_tag(), Some("f1"));
        assert_eq!(together.cseq().expect("cseq").seq, 7);
        assert_eq!(together.call_id(), Some("c1@h"));
        // Edits after the fact see the lines like any others.
        together.set_to_tag("t2").expect("tag");
        assert_eq!(together.to_tag(), Some("t2"));
        let again = Message::parse(together.to_bytes()).expect("reparses");
        assert_eq!(again.to_tag(), Some("t2"));
    }

    /// A bad line refuses the whole batch: the message is left as it was.
    #[test]
    fn a_bad_line_adds_nothing() {
        let mut m = request();
        let before = m.to_bytes();
        let mut lines = HeaderLines::default();
        lines
            .push(HeaderName::CallId, "c1@h")
            .push(HeaderName::CSeq, "not a cseq");
        assert!(m.push_lines(lines).is_err());
        assert_eq!(m.to_bytes(), before);
        assert_eq!(m.call_id(), None);
    }
}
