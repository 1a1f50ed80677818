//! Media direction (`a=sendrecv|sendonly|recvonly|inactive`) and the rules that combine it:
//! session- vs media-level precedence, the answerer's rules of RFC 3264 §6.1 and the hold rules of
//! RFC 6337.
//!
//! Pure value logic only: this room never looks at lines or addresses (the `c=0.0.0.0` legacy hold
//! is recognized in `offer_answer`, which then feeds the result through these rules).

use std::fmt;

/// The direction of a media stream, always from the point of view of the side that wrote it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Direction {
    /// Send and receive (the default when no direction attribute is present).
    #[default]
    SendRecv,
    /// Send only: the writer will not receive (the usual "hold" offer).
    SendOnly,
    /// Receive only.
    RecvOnly,
    /// Neither send nor receive.
    Inactive,
}

impl Direction {
    /// All four directions, handy for exhaustive tests.
    pub const ALL: [Direction; 4] = [
        Direction::SendRecv,
        Direction::SendOnly,
        Direction::RecvOnly,
        Direction::Inactive,
    ];

    /// Build from the two capabilities.
    pub const fn from_flags(sends: bool, receives: bool) -> Self {
        match (sends, receives) {
            (true, true) => Self::SendRecv,
            (true, false) => Self::SendOnly,
            (false, true) => Self::RecvOnly,
            (false, false) => Self::Inactive,
        }
    }

    /// The attribute name (`sendrecv`, ...), as written after `a=`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::SendRecv => "sendrecv",
            Self::SendOnly => "sendonly",
            Self::RecvOnly => "recvonly",
            Self::Inactive => "inactive",
        }
    }

    /// Recognize a direction attribute name (exact, lowercase, as RFC 8866 defines them).
    pub fn from_attribute(name: &str) -> Option<Self> {
        match name {
            "sendrecv" => Some(Self::SendRecv),
            "sendonly" => Some(Self::SendOnly),
            "recvonly" => Some(Self::RecvOnly),
            "inactive" => Some(Self::Inactive),
            _ => None,
        }
    }

    /// Whether the writer sends media.
    pub const fn sends(self) -> bool {
        matches!(self, Self::SendRecv | Self::SendOnly)
    }

    /// Whether the writer receives media.
    pub const fn receives(self) -> bool {
        matches!(self, Self::SendRecv | Self::RecvOnly)
    }

    /// The same stream seen from the other end: sendonly ↔ recvonly.
    pub const fn reversed(self) -> Self {
        Self::from_flags(self.receives(), self.sends())
    }

    /// Both restrictions at once: sends only if both send, receives only if both receive.
    pub const fn intersect(self, other: Self) -> Self {
        Self::from_flags(
            self.sends() && other.sends(),
            self.receives() && other.receives(),
        )
    }

    /// Whether this direction puts the stream on hold from the writer's point of view
    /// (it will not receive media).
    pub const fn is_hold(self) -> bool {
        !self.receives()
    }

    /// Effective direction of a media stream: the media-level attribute wins over the
    /// session-level one, and with neither the stream is `sendrecv` (RFC 8866 §6.7).
    pub fn effective(session: Option<Self>, media: Option<Self>) -> Self {
        media.or(session).unwrap_or_default()
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The direction to put in our own hold offer, given the direction we currently have
/// (RFC 6337 §5.1): `sendrecv` → `sendonly`, `recvonly` (we are held) → `inactive`; an already held
/// stream stays as it is. Never yields `recvonly`: holding must never ask the peer to send to us
/// while we stop sending.
pub fn hold_offer(current: Direction) -> Direction {
    match current {
        Direction::SendRecv | Direction::SendOnly => Direction::SendOnly,
        Direction::RecvOnly | Direction::Inactive => Direction::Inactive,
    }
}

/// The direction to put in our resume (retrieve) offer: `sendrecv`, unless the peer is still holding
/// us, which the answer will tell; offering `sendrecv` is always correct (RFC 6337 §5.2).
pub fn resume_offer() -> Direction {
    Direction::SendRecv
}

/// The direction of our answer to an offered direction (RFC 3264 §6.1): `sendonly` → `recvonly`,
/// `recvonly` → `sendonly`, `inactive` → `inactive`, `sendrecv` → whatever we prefer; `local`
/// can only restrict further.
pub fn answer_direction(offer: Direction, local: Direction) -> Direction {
    offer.reversed().intersect(local)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_names_round_trip() {
        for d in Direction::ALL {
            assert_eq!(Direction::from_attribute(d.as_str()), Some(d));
            assert_eq!(d.to_string(), d.as_str());
        }
        assert_eq!(Direction::from_attribute("SENDONLY"), None);
        assert_eq!(Direction::from_attribute("rtpmap"), None);
    }

    #[test]
    fn answer_rules_of_rfc3264() {
        use Direction::*;
        assert_eq!(answer_direction(SendOnly, SendRecv), RecvOnly);
        assert_eq!(answer_direction(RecvOnly, SendRecv), SendOnly);
        assert_eq!(answer_direction(Inactive, SendRecv), Inactive);
        assert_eq!(answer_direction(SendRecv, SendRecv), SendRecv);
        // Local preference restricts further.
        assert_eq!(answer_direction(SendRecv, SendOnly), SendOnly);
        assert_eq!(answer_direction(SendOnly, SendOnly), Inactive);
        assert_eq!(answer_direction(RecvOnly, Inactive), Inactive);
    }

    #[test]
    fn answer_is_never_wider_than_offer_allows() {
        for offer in Direction::ALL {
            for local in Direction::ALL {
                let a = answer_direction(offer, local);
                assert!(!a.sends() || offer.receives());
                assert!(!a.receives() || offer.sends());
            }
        }
    }

    #[test]
    fn hold_never_invents_recvonly() {
        use Direction::*;
        assert_eq!(hold_offer(SendRecv), SendOnly);
        assert_eq!(hold_offer(RecvOnly), Inactive);
        assert_eq!(hold_offer(SendOnly), SendOnly);
        assert_eq!(hold_offer(Inactive), Inactive);
        for d in Direction::ALL {
            assert_ne!(hold_offer(d), RecvOnly);
            assert!(hold_offer(d).is_hold());
        }
        assert_eq!(resume_offer(), SendRecv);
    }

    #[test]
    fn media_level_wins() {
        use Direction::*;
        assert_eq!(Direction::effective(None, None), SendRecv);
        assert_eq!(Direction::effective(Some(SendOnly), None), SendOnly);
        assert_eq!(
            Direction::effective(Some(SendOnly), Some(Inactive)),
            Inactive
        );
        assert_eq!(Direction::effective(None, Some(RecvOnly)), RecvOnly);
    }

    #[test]
    fn reversed_is_an_involution() {
        for d in Direction::ALL {
            assert_eq!(d.reversed().reversed(), d);
        }
        assert_eq!(Direction::SendOnly.reversed(), Direction::RecvOnly);
    }
}
