//! What a server transport does with the top Via: stamp `received` and `rport` on a request
//! that arrived (RFC 3261 §18.2.1, RFC 3581 §4), and work out where the response to it goes
//! (RFC 3261 §18.2.2, RFC 3581 §4).
//!
//! Pure functions over a [`Message`] and the packet's source; no sockets, no name resolution
//! (a host name comes back as [`Destination::Host`] for the caller to resolve).

use crate::error::Error;
use crate::header_name::HeaderName;
use crate::headers::Via;
use crate::peer::{ConnectionId, Peer, Transport};
use crate::Message;
use std::fmt;
use std::net::{IpAddr, SocketAddr};

/// Adds `received=<source ip>` to the top Via of a request when its sent-by host is not that
/// address (a domain name or another IP), and fills in an empty `rport` with the source port
/// (adding `received` even when it equals sent-by, as RFC 3581 §4 requires).
/// Returns whether the message changed; a message without a Via is left alone.
pub fn stamp_received(msg: &mut Message, source: SocketAddr) -> Result<bool, Error> {
    let Some(top) = msg.top_via() else {
        return Ok(false);
    };
    let mut via = top.clone();
    let ip = source.ip().to_string();
    // An empty `rport` (or one whose value is not a port) asks for the source port.
    let wants_rport = via.rport() == Some(None);
    let sent_by_matches = parse_host_ip(&via.host).is_some_and(|h| same_ip(h, source.ip()));
    let mut changed = false;
    if !sent_by_matches || wants_rport {
        via.params.set("received", Some(&ip));
        changed = true;
    }
    if wants_rport {
        via.params.set("rport", Some(&source.port().to_string()));
        changed = true;
    }
    if changed {
        replace_top_via(msg, &via)?;
    }
    Ok(changed)
}

/// Rewrites the top Via value, keeping any other values of the same header line as they were.
pub fn replace_top_via(msg: &mut Message, via: &Via) -> Result<(), Error> {
    let Some(first) = msg.header(&HeaderName::Via) else {
        return Err(Error::ApiMisuse("no Via to replace"));
    };
    let unfolded = crate::text::unfold(first.value()).into_owned();
    let rest: Vec<&str> = crate::text::split_commas(&unfolded)
        .skip(1)
        .map(str::trim)
        .collect();
    let mut value = via.to_string();
    for r in rest {
        value.push_str(", ");
        value.push_str(r);
    }
    msg.remove_first(&HeaderName::Via);
    msg.prepend_header(HeaderName::Via, &value)
}

/// Where to send a response: first the connection its request came on (reliable transports,
/// while that connection is open), else the destination.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResponseRoute {
    pub connection: Option<ConnectionId>,
    pub destination: Destination,
}

/// An address to send to, or a host name to resolve first (RFC 3263 §5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Destination {
    Addr(Peer),
    Host {
        transport: Transport,
        host: String,
        port: u16,
    },
}

/// Why a response cannot be routed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RouteError {
    /// The response has no Via.
    NoVia,
    /// The top Via names a transport this layer does not speak.
    UnsupportedTransport(String),
}

impl fmt::Display for RouteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RouteError::NoVia => f.write_str("response has no Via"),
            RouteError::UnsupportedTransport(t) => write!(f, "unsupported Via transport {t}"),
        }
    }
}

impl std::error::Error for RouteError {}

/// Where a response goes, from its top Via and the connection its request arrived on
/// (`request_conn`, for TCP and TLS).
///
/// Reliable transports: that connection, else `received` (or the sent-by host) at the sent-by
/// port. UDP: `maddr` at the sent-by port when present; else the `received` address (or the
/// sent-by host) at the `rport` port when the request asked for rport; else at the sent-by port.
/// Missing ports are the transport's default.
pub fn response_route(
    response: &Message,
    request_conn: Option<ConnectionId>,
) -> Result<ResponseRoute, RouteError> {
    let via = response.top_via().ok_or(RouteError::NoVia)?;
    let transport = Transport::from_token(&via.transport)
        .ok_or_else(|| RouteError::UnsupportedTransport(via.transport.to_string()))?;
    let sent_by_port = via.port.unwrap_or(transport.default_port());
    let received = via.received().filter(|r| !r.is_empty());
    let to_host = |host: &str, port: u16| match parse_host_ip(host) {
        Some(ip) => Destination::Addr(Peer::new(transport, SocketAddr::new(ip, port))),
        None => Destination::Host {
            transport,
            host: host.to_string(),
            port,
        },
    };
    if transport.is_reliable() {
        let destination = to_host(received.unwrap_or(&via.host), sent_by_port);
        return Ok(ResponseRoute {
            connection: request_conn,
            destination,
        });
    }
    let destination =
        if let Some(maddr) = via.params.get("maddr").flatten().filter(|m| !m.is_empty()) {
            to_host(maddr, sent_by_port)
        } else if let Some(Some(rport)) = via.rport() {
            to_host(received.unwrap_or(&via.host), rport)
        } else {
            to_host(received.unwrap_or(&via.host), sent_by_port)
        };
    Ok(ResponseRoute {
        connection: None,
        destination,
    })
}

/// The IP address a Via host or `received` value holds (IPv6 with or without brackets).
fn parse_host_ip(host: &str) -> Option<IpAddr> {
    let h = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    h.parse().ok()
}

/// Compares addresses, treating an IPv4-mapped IPv6 address as its IPv4 form.
fn same_ip(a: IpAddr, b: IpAddr) -> bool {
    let canon = |ip: IpAddr| match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    canon(a) == canon(b)
}

#[cfg(test)]
#[path = "received_tests.rs"]
mod tests;
