//! Building our responses to requests inside a dialog: the To tag of our side and, on 1xx/2xx
//! to INVITE and 2xx to UPDATE (dialog-creating and target refresh responses), our Contact
//! (RFC 3261 §12.1.1, RFC 3311 §5.2), plus the Record-Route echo of a dialog-creating response. This room sends nothing and changes no state.

use super::dialog::{is_target_refresh, Dialog};
use super::error::DialogError;
use super::id::Role;
use crate::header_name::HeaderName;
use crate::message::Message;
use crate::method::Method;

impl Dialog {
    /// A response to a request of this dialog with our tag and, where the dialog needs it, our
    /// Contact. The reason phrase is the usual one for the code.
    pub fn create_response(&self, req: &Message, code: u16) -> Result<Message, DialogError> {
        let method = req
            .method()
            .ok_or(DialogError::ApiMisuse("not a request"))?;
        let mut resp = Message::response_to(
            req,
            code,
            Message::default_reason(code),
            Some(&self.id.local_tag),
        );
        if code > 100 && code < 300 && is_target_refresh(method) {
            // A dialog-creating response echoes the Record-Route of the request (§12.1.1).
            let creating = *method == Method::Invite
                && req.cseq().is_some_and(|c| c.seq == self.initial_invite_seq);
            if creating && self.role == Role::Uas {
                for h in req.headers_named(&HeaderName::RecordRoute) {
                    resp.push_raw_header(h.clone())?;
                }
            }
            resp.push_header(HeaderName::Contact, &self.local_contact.to_text())?;
        }
        Ok(resp)
    }
}
