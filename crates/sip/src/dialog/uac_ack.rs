//! The UAC core's memory of the ACK it sent for a 2xx (RFC 3261 §13.2.2.4): every
//! retransmission of that 2xx is answered by the same ACK again, since the 2xx is retransmitted
//! end to end by the UAS core until an ACK reaches it. This room sends nothing itself.

use crate::message::Message;
use crate::method::Method;

#[derive(Clone, Debug, Default)]
pub struct UacAck {
    /// The CSeq number of the INVITE and the ACK sent for its 2xx.
    last: Option<(u32, Message)>,
}

impl UacAck {
    pub fn remember(&mut self, invite_seq: u32, ack: Message) {
        self.last = Some((invite_seq, ack));
    }

    /// The ACK to send again when `resp` is a 2xx to an INVITE we already acknowledged.
    pub fn ack_for_retransmission(&self, resp: &Message) -> Option<&Message> {
        let code = resp.status()?;
        let cseq = resp.cseq()?;
        match &self.last {
            Some((seq, ack))
                if (200..300).contains(&code)
                    && cseq.method == Method::Invite
                    && cseq.seq == *seq =>
            {
                Some(ack)
            }
            _ => None,
        }
    }

    /// Whether a 2xx to the INVITE numbered `seq` was already acknowledged.
    pub fn acked(&self, seq: u32) -> bool {
        matches!(&self.last, Some((s, _)) if *s == seq)
    }
}
