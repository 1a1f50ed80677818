//! Typed views of the header values a B2BUA reads. Each type parses from a header value string
//! and prints back in canonical form; the message keeps the original bytes, so parsing a header
//! never changes what is relayed.

pub mod cseq;
pub mod misc;
pub mod name_addr;
pub mod params;
pub mod via;

pub use cseq::CSeq;
pub use misc::{ContentType, RAck, Reason, Refresher, Replaces, SessionExpires};
pub use name_addr::{ContactValue, NameAddr};
pub use params::Params;
pub use via::Via;
