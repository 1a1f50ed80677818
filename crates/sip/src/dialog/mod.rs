//! The dialog layer (RFC 3261 §12-14, RFC 3262, RFC 3311, RFC 4028), sans-IO.
pub mod dialog;
pub mod error;
pub mod id;
pub mod request;
pub mod response;
#[cfg(test)]
mod test_support;

pub use dialog::{Dialog, DialogState};
pub use error::DialogError;
pub use id::{DialogId, Role};
pub use request::{cancel_for, route_request, MAX_FORWARDS};
