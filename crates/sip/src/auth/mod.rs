//! SIP digest authentication (RFC 3261 §22, RFC 2617, RFC 7616, RFC 8760): server and client.
//!
//! This room works on header *values* only: it parses the value of a `WWW-Authenticate`,
//! `Proxy-Authenticate`, `Authorization` or `Proxy-Authorization` header (`&str`) and produces
//! such values (`String`). Which header name carries the value (401/`WWW-` vs 407/`Proxy-`) is the
//! caller's choice; the syntax is the same.
//!
//! It must not depend on a SIP message type, read a clock, draw randomness or do I/O: time,
//! the client nonce and the stored password or HA1 are passed in (sans-IO, see DESIGN.md).
//!
//! - [`params`]: the auth-param list (`Digest a=b, c="d"`) grammar, lenient but never panicking.
//! - [`challenge`]: [`Challenge`], a `WWW-Authenticate` / `Proxy-Authenticate` value.
//! - [`credentials`]: [`Credentials`], an `Authorization` / `Proxy-Authorization` value.
//! - [`digest`]: [`Algorithm`], [`Qop`], [`NonceCount`] and the response computation.
//! - [`server`]: [`DigestServer`], stateless HMAC nonces, verification, `stale=true`.
//! - [`client`]: answering one or several challenges.

pub mod challenge;
pub mod client;
pub mod credentials;
pub mod digest;
mod error;
pub mod params;
pub mod server;

pub use challenge::Challenge;
pub use client::{answer, answer_best, ClientRequest};
pub use credentials::Credentials;
pub use digest::{Algorithm, NonceCount, Qop};
pub use error::AuthError;
pub use params::AuthParam;
pub use server::{DigestServer, ServerConfig, UserSecret, Verified};
