//! The dialog layer of tether-sip (RFC 3261 §12-14, RFC 3262, RFC 3311, RFC 4028), sans-IO.
//!
//! It sits between the transaction layer and the TU (the B2BUA engine). The TU feeds it the
//! requests and responses that belong to dialogs, after the transaction layer matched them, and
//! sends what it polls out through the transaction layer (requests, responses) or straight to
//! the transport (ACKs for 2xx). Nothing here reads a socket or a clock: every input carries
//! `now`, and timer-driven work (2xx and reliable 1xx retransmission, re-ACKs, glare retries,
//! session refreshes, BYE on expiry) happens in `handle_timeout(now)` at the instant
//! `poll_timeout()` names. Requests leave without a Via: the caller prepends one.
//!
//! Rooms: [`id`] (dialog ids), [`dialog`] (dialog state), [`request`] / [`response`] (building
//! messages in a dialog), [`session`] (one dialog with its timers), [`dialog_set`] (the dialogs
//! of one forked INVITE), [`uas_2xx`], [`uac_ack`], [`reinvite`], [`prack`], [`update`],
//! [`session_timer`], [`offer_answer`], and plain data in [`config`], [`output`], [`random`].
//!
//! # Driving it
//!
//! UAC (we send the INVITE):
//!
//! ```ignore
//! let mut set = DialogSet::new(invite.clone(), SessionConfig::default(), Box::new(SeededRandom::new(seed)));
//! // for every response the INVITE client transaction passes up (2xx retransmissions too):
//! set.handle_response(now, &resp)?;
//! while let Some(out) = set.poll_output() {
//!     match out {
//!         Output::Request(mut r) => { /* prepend Via, start a client transaction */ }
//!         Output::Ack(mut a) => { /* prepend Via (new branch), send to the transport */ }
//!         Output::Response(r) => { /* hand to the server transaction */ }
//!         Output::Event(e) => { /* AckTimeout, PrackTimeout, SessionExpired, ... */ }
//!         _ => {}
//!     }
//! }
//! // arm a timer for set.poll_timeout(); when it fires: set.handle_timeout(now)?, then poll again.
//! ```
//!
//! Before the INVITE leaves, [`session_timer::add_request_headers`] adds `Supported: timer`,
//! Session-Expires and Min-SE; a 422 to it is retried with [`session_timer::retry_after_422`]
//! (a new client transaction: the set is made for the retried INVITE).
//!
//! UAS (we receive the INVITE): check [`session_timer::too_small`] (answer 422 with
//! [`session_timer::reject_422`]), then create the [`Session`] with [`Session::uas`] when
//! sending the first tagged response, build responses with [`Session::create_response`] and
//! send them with [`Session::send_response`]. In-dialog requests from the peer go to
//! [`Session::handle_request`], which answers what the layer owns (ACK, PRACK, 491, 500, 422,
//! 481) and returns [`Inbound::Deliver`] for the rest. New requests: [`Session::create_request`]
//! then [`Session::send_request`].

pub mod config;
// Named `dialog.rs` for what it holds: the state of one dialog.
#[allow(clippy::module_inception)]
pub mod dialog;
pub mod dialog_set;
pub mod error;
pub mod id;
pub mod offer_answer;
pub mod output;
pub mod prack;
pub mod random;
pub mod reinvite;
pub mod request;
pub mod response;
pub mod session;
pub mod session_timer;
pub mod uac_ack;
pub mod uas_2xx;
pub mod update;

#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;

pub use config::{SessionConfig, SessionTimerConfig, Timers};
pub use dialog::{Dialog, DialogState};
pub use dialog_set::DialogSet;
pub use error::DialogError;
pub use id::{DialogId, Role};
pub use offer_answer::{OaKind, OfferAnswer};
pub use output::{Event, Output};
pub use random::{RandomSource, SeededRandom};
pub use request::{cancel_for, route_request, MAX_FORWARDS};
pub use session::{Inbound, Session};
