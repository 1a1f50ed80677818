//! # tether-sip
//!
//! The SIP stack Tether rides on: messages parsed once into a structure that keeps their bytes
//! ([`Message`]), typed lazy header access ([`headers`]), URIs ([`Uri`]), and an error taxonomy
//! that maps every failure to the response an element sends ([`error`]).
//!
//! Protocol logic here is sans-IO: nothing in this crate's message, transaction or dialog layers
//! reads a socket or a clock.

pub mod admission;
pub mod auth;
pub mod dialog;
pub mod digits;
pub mod error;
pub mod header_name;
pub mod headers;
pub mod message;
pub mod method;
pub mod peer;
pub mod text;
pub mod transaction;
pub mod transport;
pub mod uri;

pub use error::{Error, InvalidMessage, ParseError, PeerIncompatible};
pub use header_name::HeaderName;
pub use message::{Header, HeaderLines, Message, StartLine};
pub use method::Method;
pub use peer::{ConnectionId, Peer, Transport};
pub use uri::{Scheme, Uri};
