//! UPDATE (RFC 3311) as the session sees it: allowed in early and confirmed dialogs; an UPDATE
//! offer that collides with our outstanding offer is answered 491, one that arrives while the
//! peer's earlier offer is unanswered gets 500 with Retry-After (§5.2); its Contact refreshes
//! the target (done by the dialog). This room only decides; the session answers.

use super::error::DialogError;
use super::offer_answer::{OaKind, OfferAnswer};
use super::random::RandomSource;
use crate::message::Message;

/// The decision on an UPDATE the peer sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IncomingUpdate {
    /// Hand it to the TU; `offer` says whether its 2xx must carry an answer.
    Accept { offer: bool },
    /// 491 Request Pending: our offer is outstanding (glare).
    Glare,
    /// 500 with this Retry-After (seconds): the peer's previous offer is unanswered.
    Overlap { retry_after: u32 },
}

/// Classifies an incoming UPDATE against the offer/answer state, recording its offer when
/// accepted.
pub fn on_update_received(
    oa: &mut OfferAnswer,
    req: &Message,
    rng: &mut dyn RandomSource,
) -> Result<IncomingUpdate, DialogError> {
    match oa.on_receive(req) {
        Ok(kind) => Ok(IncomingUpdate::Accept {
            offer: kind == OaKind::Offer,
        }),
        Err(DialogError::RequestPending) => Ok(IncomingUpdate::Glare),
        Err(DialogError::PreviousPending) => Ok(IncomingUpdate::Overlap {
            retry_after: rng.in_range(0, 10),
        }),
        Err(e) => Err(e),
    }
}
