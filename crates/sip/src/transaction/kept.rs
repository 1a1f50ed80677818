//! What a transaction keeps of a message: all of it while the message may be sent again or
//! read, and only its To tag once the transaction merely lingers (Accepted, Confirmed and
//! Completed without retransmissions to make). A finished transaction lingers up to 32 s over
//! UDP, so at thousands of calls a second what it keeps is most of the process's memory.
//! This room holds data only; the state machines decide when to let go.

use crate::message::Message;

#[derive(Debug)]
pub(crate) enum Kept {
    Whole(Message),
    /// The To tag of the message that was let go.
    ToTag(Option<Box<str>>),
}

impl Kept {
    /// Only the To tag of `m`.
    pub fn tag_of(m: &Message) -> Kept {
        Kept::ToTag(m.to_tag().map(Into::into))
    }

    /// The message, while it is kept whole.
    pub fn message(&self) -> Option<&Message> {
        match self {
            Kept::Whole(m) => Some(m),
            Kept::ToTag(_) => None,
        }
    }

    pub fn to_tag(&self) -> Option<&str> {
        match self {
            Kept::Whole(m) => m.to_tag(),
            Kept::ToTag(t) => t.as_deref(),
        }
    }

    /// Lets the message go, keeping its To tag.
    pub fn forget(&mut self) {
        if let Kept::Whole(m) = self {
            *self = Kept::tag_of(m);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forgetting_keeps_the_to_tag_only() {
        let m = Message::parse(
            &b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@h>;tag=f\r\nTo: <sip:b@h>;tag=t9\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"[..],
        )
        .expect("parses");
        let mut k = Kept::Whole(m);
        assert!(k.message().is_some());
        assert_eq!(k.to_tag(), Some("t9"));
        k.forget();
        assert!(k.message().is_none());
        assert_eq!(k.to_tag(), Some("t9"));
        k.forget();
        assert_eq!(k.to_tag(), Some("t9"));
    }
}
