//! The wire protocol: JSON texts in ([`request`]), JSON texts out ([`response`], [`event`]),
//! the error codes ([`error`]) and timestamps ([`time`]). No state lives here.

pub mod error;
pub mod event;
pub mod request;
pub mod response;
pub mod time;
