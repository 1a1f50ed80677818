//! Dialog identifiers (RFC 3261 §12): Call-ID plus the local and remote tags, and the rule that
//! says which tag of a message is ours. This room only names dialogs; it keeps no dialog state.

use crate::message::Message;
use std::fmt;
use std::sync::Arc;

/// Which side of the dialog-creating INVITE we were.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// We sent the INVITE (and generated the Call-ID).
    Uac,
    /// We received the INVITE.
    Uas,
}

/// A dialog's identity as seen from our side. The parts are shared, not copied, by clones:
/// an identifier is kept by the dialog, by the tables that find it and by whoever tracks it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DialogId {
    pub call_id: Arc<str>,
    pub local_tag: Arc<str>,
    pub remote_tag: Arc<str>,
}

impl DialogId {
    pub fn new(call_id: &str, local_tag: &str, remote_tag: &str) -> DialogId {
        DialogId {
            call_id: call_id.into(),
            local_tag: local_tag.into(),
            remote_tag: remote_tag.into(),
        }
    }

    /// The dialog a message we received belongs to: for a request the To tag is ours (we are
    /// its UAS) and the From tag is the peer's; for a response to our request the From tag is
    /// ours. `None` when the message lacks a Call-ID or either tag (it is not in a dialog).
    pub fn of_received(msg: &Message) -> Option<DialogId> {
        let call_id = msg.call_id()?;
        let (local, remote) = if msg.is_request() {
            (msg.to_tag()?, msg.from_tag()?)
        } else {
            (msg.from_tag()?, msg.to_tag()?)
        };
        Some(DialogId::new(call_id, local, remote))
    }

    /// Whether a message we received belongs to this dialog: `of_received(msg) == Some(self)`
    /// without building the identifier.
    pub fn is_received(&self, msg: &Message) -> bool {
        let (local, remote) = if msg.is_request() {
            (msg.to_tag(), msg.from_tag())
        } else {
            (msg.from_tag(), msg.to_tag())
        };
        msg.call_id() == Some(&*self.call_id)
            && local == Some(&*self.local_tag)
            && remote == Some(&*self.remote_tag)
    }

    /// The dialog a message we send belongs to: for our request the From tag is ours; for our
    /// response the To tag is ours.
    pub fn of_sent(msg: &Message) -> Option<DialogId> {
        let call_id = msg.call_id()?;
        let (local, remote) = if msg.is_request() {
            (msg.from_tag()?, msg.to_tag()?)
        } else {
            (msg.to_tag()?, msg.from_tag()?)
        };
        Some(DialogId::new(call_id, local, remote))
    }

    /// The identity of the dialog set (every dialog one INVITE created, RFC 3261 §12.1.2
    /// forking): Call-ID and the local tag, without the remote tag.
    pub fn set_key(&self) -> (&str, &str) {
        (&self.call_id, &self.local_tag)
    }
}

impl fmt::Display for DialogId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{};local={};remote={}",
            self.call_id, self.local_tag, self.remote_tag
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(text: &str) -> Message {
        Message::parse(text.replace('\n', "\r\n")).unwrap()
    }

    #[test]
    fn uac_and_uas_views() {
        let req = msg("BYE sip:bob@192.0.2.4 SIP/2.0\nVia: SIP/2.0/UDP a.example;branch=z9hG4bK1\nFrom: <sip:alice@a>;tag=A\nTo: <sip:bob@b>;tag=B\nCall-ID: c1\nCSeq: 2 BYE\nContent-Length: 0\n\n");
        let rx = DialogId::of_received(&req).unwrap();
        assert_eq!(rx, DialogId::new("c1", "B", "A"));
        assert!(rx.is_received(&req));
        assert!(!DialogId::new("c1", "A", "B").is_received(&req));
        assert!(!DialogId::new("c2", "B", "A").is_received(&req));
        let tx = DialogId::of_sent(&req).unwrap();
        assert_eq!(tx, DialogId::new("c1", "A", "B"));
        let resp = Message::response_to(&req, 200, "OK", None);
        assert_eq!(DialogId::of_received(&resp).unwrap(), tx);
        assert_eq!(DialogId::of_sent(&resp).unwrap(), rx);
        let no_tag = msg("INVITE sip:bob@b SIP/2.0\nVia: SIP/2.0/UDP a.example;branch=z9hG4bK1\nFrom: <sip:alice@a>;tag=A\nTo: <sip:bob@b>\nCall-ID: c1\nCSeq: 1 INVITE\nContent-Length: 0\n\n");
        assert!(DialogId::of_received(&no_tag).is_none());
    }
}
