//! REGISTER for internal SIP phones (RFC 3261 §10): digest authentication against the phone
//! device's SIP credentials, bindings with expiry, several contacts per address of record,
//! un-REGISTER (`Expires: 0`, `Contact: *`). Requests to a phone's line go to every binding.
//!
//! The registrar answers from what it is given; it keeps no clock: `now` arrives with each
//! input and expired bindings are dropped by [`Registrar::expire`].

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tether_sip::auth::{DigestServer, ServerConfig, UserSecret};
use tether_sip::headers::ContactValue;
use tether_sip::peer::Peer;
use tether_sip::{HeaderName, Message, Uri};
use tether_store::Snapshot;

/// One registered contact of a phone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    pub contact: Uri,
    /// Where the REGISTER came from: requests to this binding go there (NAT-safe).
    pub peer: Peer,
    pub expires_at: Instant,
    pub call_id: String,
    pub cseq: u32,
}

pub struct Registrar {
    digest: DigestServer,
    /// Device name → its bindings.
    bindings: HashMap<String, Vec<Binding>>,
    /// Source address → the devices with a binding from it, each once, in the order they
    /// registered from it: every call asks which phone it comes from, so this must not be a
    /// walk over every binding.
    by_addr: HashMap<SocketAddr, Vec<String>>,
    min_expires: u32,
    max_expires: u32,
    default_expires: u32,
    /// Digest nonces carry time as seconds since this instant.
    epoch: Instant,
}

impl std::fmt::Debug for Registrar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registrar")
            .field("bindings", &self.bindings)
            .finish_non_exhaustive()
    }
}

impl Registrar {
    pub fn new(
        realm: &str,
        secret: &[u8],
        nonce_lifetime: Duration,
        (min_expires, max_expires, default_expires): (u32, u32, u32),
        epoch: Instant,
    ) -> Result<Registrar, tether_sip::auth::AuthError> {
        let mut cfg = ServerConfig::new(realm, secret.to_vec());
        cfg.nonce_lifetime = nonce_lifetime;
        Ok(Registrar {
            digest: DigestServer::new(cfg)?,
            by_addr: HashMap::new(),
            bindings: HashMap::new(),
            min_expires,
            max_expires,
            default_expires,
            epoch,
        })
    }

    /// The live bindings of `device`.
    pub fn bindings(&self, device: &str, now: Instant) -> Vec<Binding> {
        self.bindings
            .get(device)
            .map(|b| b.iter().filter(|b| b.expires_at > now).cloned().collect())
            .unwrap_or_default()
    }

    /// The phone device a request from `from` comes from: one with a live binding at that address.
    pub fn device_at(&self, from: Peer, now: Instant) -> Option<&str> {
        self.by_addr.get(&from.addr)?.iter().find_map(|dev| {
            self.bindings
                .get(dev)?
                .iter()
                .any(|b| b.peer.addr == from.addr && b.expires_at > now)
                .then_some(dev.as_str())
        })
    }

    /// Drops expired bindings; returns the earliest expiry still pending.
    pub fn expire(&mut self, now: Instant) -> Option<Instant> {
        let expired: Vec<String> = self
            .bindings
            .iter()
            .filter(|(_, bs)| bs.iter().any(|b| b.expires_at <= now))
            .map(|(dev, _)| dev.clone())
            .collect();
        for dev in expired {
            let before = self.addrs(&dev);
            if let Some(bs) = self.bindings.get_mut(&dev) {
                bs.retain(|b| b.expires_at > now);
                if bs.is_empty() {
                    self.bindings.remove(&dev);
                }
            }
            self.reindex(&dev, &before);
        }
        self.bindings.values().flatten().map(|b| b.expires_at).min()
    }

    /// The source addresses of `device`'s bindings, each once.
    fn addrs(&self, device: &str) -> Vec<SocketAddr> {
        let mut v: Vec<SocketAddr> = Vec::new();
        for b in self.bindings.get(device).into_iter().flatten() {
            if !v.contains(&b.peer.addr) {
                v.push(b.peer.addr);
            }
        }
        v
    }

    /// Brings the address index up to date for `device`, whose bindings came from `before`.
    fn reindex(&mut self, device: &str, before: &[SocketAddr]) {
        let now = self.addrs(device);
        for a in before.iter().filter(|a| !now.contains(a)) {
            if let Some(devs) = self.by_addr.get_mut(a) {
                devs.retain(|d| d != device);
                if devs.is_empty() {
                    self.by_addr.remove(a);
                }
            }
        }
        for a in now {
            let devs = self.by_addr.entry(a).or_default();
            if !devs.iter().any(|d| d == device) {
                devs.push(device.to_owned());
            }
        }
    }

    pub fn count(&self) -> usize {
        self.bindings.values().map(Vec::len).sum()
    }

    /// Answers a REGISTER. The response is complete but for the To tag, which the caller adds.
    pub fn handle(&mut self, now: Instant, snap: &Snapshot, req: &Message, from: Peer) -> Message {
        let since = now.saturating_duration_since(self.epoch);
        let Some(user) = req.to_hdr().and_then(|t| t.uri.user()).map(str::to_owned) else {
            return Message::response_to(req, 400, "Bad Request (To has no user)", None);
        };
        let Some(device) = snap.device_by_sip_user(&user).cloned() else {
            return Message::response_to(req, 404, "Not Found", None);
        };
        // Digest authentication: challenge until the request proves the device's password.
        let creds = req
            .header_value(&HeaderName::Authorization)
            .map(str::to_owned);
        let Some(creds) = creds else {
            return self.challenge(req, since, false);
        };
        let password = device.sip_password.clone();
        let verified = self.digest.verify(since, "REGISTER", &creds, |name, _alg| {
            (name == user)
                .then(|| password.map(UserSecret::Password))
                .flatten()
        });
        match verified {
            Ok(v) if v.username == user => {}
            Ok(_) => return Message::response_to(req, 403, "Forbidden", None),
            Err(e) if e.is_stale() => return self.challenge(req, since, true),
            Err(_) => return self.challenge(req, since, false),
        }

        let before = self.addrs(&device.name);
        let refused = self.update(req, &device.name, from, now);
        if self.bindings.get(&device.name).is_some_and(Vec::is_empty) {
            self.bindings.remove(&device.name);
        }
        self.reindex(&device.name, &before);
        if let Some(r) = refused {
            return r;
        }
        let mut ok = Message::response_to(req, 200, "OK", None);
        for b in self.bindings(&device.name, now) {
            let left = b.expires_at.saturating_duration_since(now).as_secs();
            let _ = ok.push_header(
                HeaderName::Contact,
                &format!("<{}>;expires={left}", b.contact),
            );
        }
        ok
    }

    /// Applies a REGISTER's contacts to `device`'s bindings; `Some` is the error response
    /// that stopped it.
    fn update(&mut self, req: &Message, device: &str, from: Peer, now: Instant) -> Option<Message> {
        let default = match req.expires() {
            Ok(Some(e)) => e,
            Ok(None) => self.default_expires,
            Err(_) => {
                return Some(Message::response_to(
                    req,
                    400,
                    "Bad Request (Expires)",
                    None,
                ))
            }
        };
        let call_id = req.call_id().unwrap_or_default();
        let cseq = req.cseq().map(|c| c.seq).unwrap_or(0);
        match req.contacts() {
            Err(_) => {
                return Some(Message::response_to(
                    req,
                    400,
                    "Bad Request (Contact)",
                    None,
                ))
            }
            Ok(None) => {} // a query: answer with the current bindings
            Ok(Some(ContactValue::Star)) => {
                if default != 0 {
                    return Some(Message::response_to(
                        req,
                        400,
                        "Bad Request (Contact: * needs Expires: 0)",
                        None,
                    ));
                }
                self.bindings.remove(device);
            }
            Ok(Some(ContactValue::List(list))) => {
                let entry = self.bindings.entry(device.to_owned()).or_default();
                for c in list {
                    let asked = c.expires().unwrap_or(default);
                    if asked != 0 && asked < self.min_expires {
                        let mut r = Message::response_to(req, 423, "Interval Too Brief", None);
                        let _ = r.push_header(
                            HeaderName::Other("Min-Expires".into()),
                            &self.min_expires.to_string(),
                        );
                        return Some(r);
                    }
                    let uri = c.uri.to_string();
                    let existing = entry.iter().position(|b| b.contact.to_string() == uri);
                    if let Some(i) = existing {
                        let b = &entry[i];
                        // RFC 3261 §10.3 step 7: an older CSeq from the same Call-ID is stale.
                        if b.call_id == call_id && cseq <= b.cseq {
                            continue;
                        }
                        entry.remove(i);
                    }
                    if asked == 0 {
                        continue;
                    }
                    let secs = asked.min(self.max_expires);
                    entry.push(Binding {
                        contact: c.uri.clone(),
                        peer: from,
                        expires_at: now + Duration::from_secs(secs.into()),
                        call_id: call_id.to_owned(),
                        cseq,
                    });
                }
                if entry.is_empty() {
                    self.bindings.remove(device);
                }
            }
        }
        None
    }

    fn challenge(&mut self, req: &Message, since: Duration, stale: bool) -> Message {
        let mut r = Message::response_to(req, 401, "Unauthorized", None);
        for value in self.digest.challenge(since, stale) {
            let _ = r.push_header(HeaderName::WwwAuthenticate, &value);
        }
        r
    }
}
