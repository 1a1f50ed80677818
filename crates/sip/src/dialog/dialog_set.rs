//! The dialogs one INVITE of ours creates (RFC 3261 §12.1.2, §13.2.2.4): forking proxies may
//! return tagged 1xx and even 2xx from several branches, each a dialog of its own. The set keeps
//! them by remote tag, accepts the first 2xx, and ACKs then BYEs any later 2xx from another
//! branch. A non-2xx final response ends every early dialog. This room routes responses to
//! sessions; the sessions do the rest.

use super::config::SessionConfig;
use super::error::DialogError;
use super::id::DialogId;
use super::output::Output;
use super::random::{RandomSource, SeededRandom};
use super::session::{Inbound, Session};
use crate::message::Message;
use crate::method::Method;
use std::time::Instant;

pub struct DialogSet {
    invite: Message,
    cfg: SessionConfig,
    rng: Box<dyn RandomSource + Send>,
    sessions: Vec<Session>,
    accepted: Option<usize>,
    /// A final non-2xx arrived: no new dialog may form.
    failed: bool,
}

impl std::fmt::Debug for DialogSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DialogSet")
            .field("sessions", &self.sessions)
            .field("accepted", &self.accepted)
            .finish_non_exhaustive()
    }
}

impl DialogSet {
    /// The set for `invite` as we sent it (Call-ID, From tag and CSeq identify its responses).
    /// Each dialog draws its random values from a source seeded by `rng`.
    pub fn new(
        invite: Message,
        cfg: SessionConfig,
        rng: Box<dyn RandomSource + Send>,
    ) -> DialogSet {
        DialogSet {
            invite,
            cfg,
            rng,
            sessions: Vec::new(),
            accepted: None,
            failed: false,
        }
    }

    pub fn invite(&self) -> &Message {
        &self.invite
    }

    /// Whether `resp` answers our INVITE (same Call-ID, From tag and CSeq).
    pub fn matches(&self, resp: &Message) -> bool {
        resp.call_id() == self.invite.call_id()
            && resp.from_tag() == self.invite.from_tag()
            && resp.cseq().is_some_and(|c| {
                c.method == Method::Invite && Some(c.seq) == self.invite.cseq().map(|i| i.seq)
            })
    }

    pub fn sessions(&self) -> &[Session] {
        &self.sessions
    }
    pub fn session_mut(&mut self, id: &DialogId) -> Option<&mut Session> {
        self.sessions.iter_mut().find(|s| s.id() == id)
    }
    /// The dialog whose 2xx was accepted.
    pub fn accepted(&self) -> Option<&Session> {
        self.accepted.and_then(|i| self.sessions.get(i))
    }
    pub fn accepted_mut(&mut self) -> Option<&mut Session> {
        self.accepted.and_then(|i| self.sessions.get_mut(i))
    }

    /// A response to our INVITE. A tagged 1xx or 2xx from a new branch creates a dialog; the
    /// first 2xx is accepted; a 2xx from another branch afterwards is ACKed and BYEd
    /// (`Handled`); a final non-2xx ends the early dialogs.
    pub fn handle_response(
        &mut self,
        now: Instant,
        resp: &Message,
    ) -> Result<Inbound, DialogError> {
        if !self.matches(resp) {
            return Err(DialogError::WrongDialog);
        }
        let code = resp
            .status()
            .ok_or(DialogError::ApiMisuse("not a response"))?;
        let Some(tag) = resp.to_tag() else {
            if code >= 300 {
                self.fail();
            }
            return Ok(Inbound::Deliver);
        };
        let idx = match self
            .sessions
            .iter()
            .position(|s| &*s.id().remote_tag == tag)
        {
            Some(i) => i,
            None if (101..300).contains(&code) && !self.failed => {
                let seed = (u64::from(self.rng.next_u32()) << 32) | u64::from(self.rng.next_u32());
                let s = Session::uac(
                    self.cfg.clone(),
                    &self.invite,
                    resp,
                    Box::new(SeededRandom::new(seed)),
                )?;
                self.sessions.push(s);
                self.sessions.len() - 1
            }
            None => {
                if code >= 300 {
                    self.fail();
                }
                return Ok(Inbound::Deliver);
            }
        };
        let session = self
            .sessions
            .get_mut(idx)
            .ok_or(DialogError::ApiMisuse("session index"))?;
        let inbound = session.handle_response(now, resp)?;
        if (200..300).contains(&code) {
            match self.accepted {
                None => self.accepted = Some(idx),
                Some(a) if a != idx => {
                    if !session.is_terminated() {
                        session.bye(now)?;
                    }
                    return Ok(Inbound::Handled);
                }
                Some(_) => {}
            }
        } else if code >= 300 {
            self.fail();
        }
        Ok(inbound)
    }

    fn fail(&mut self) {
        self.failed = true;
        for s in &mut self.sessions {
            if s.dialog().state() == super::dialog::DialogState::Early {
                s.end_early();
            }
        }
    }

    /// The next output of any dialog of the set.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.sessions.iter_mut().find_map(Session::poll_output)
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        self.sessions.iter().filter_map(Session::poll_timeout).min()
    }

    pub fn handle_timeout(&mut self, now: Instant) -> Result<(), DialogError> {
        for s in &mut self.sessions {
            s.handle_timeout(now)?;
        }
        Ok(())
    }
}
