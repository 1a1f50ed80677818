//! A small UAS built only on tether-sip: transports, the transaction layer and the dialog layer.
//! It answers every INVITE with 180 then 200 (SDP: PCMU), retransmits the 200 until the ACK
//! through the dialog layer, answers BYE 200, OPTIONS 200, anything else out of dialog 481 or
//! 405. It is the interop proof driven by `scripts/sipp-interop.sh` (SIPp's built-in `uac`).
//!
//! Run: `cargo run --release -p tether-sip --example uas -- --listen 127.0.0.1:5060`
//! (UDP and TCP on the same address). Prints `listening <addr>` once ready.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Instant;
use tether_sip::dialog::{DialogId, Output as DialogOut, SeededRandom, Session, SessionConfig};
use tether_sip::headers::NameAddr;
use tether_sip::transaction::{Config, Output as TxnOut, TransactionLayer, TuEvent, TxnId};
use tether_sip::transport::{TransportConfig, TransportLayer};
use tether_sip::{HeaderName, Message, Method, Peer, Uri};

const SDP: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

/// Everything the UAS knows; all protocol state lives in the sans-IO layers.
struct Uas {
    txns: TransactionLayer,
    sessions: HashMap<DialogId, Session>,
    /// The server transaction each dialog response goes through: (Call-ID, CSeq, method).
    server_txn: HashMap<(String, u32, String), TxnId>,
    txn_key: HashMap<TxnId, (String, u32, String)>,
    contact: NameAddr,
    seed: u64,
    tags: u64,
}

fn key_of(m: &Message) -> Option<(String, u32, String)> {
    let c = m.cseq()?;
    Some((m.call_id()?.to_string(), c.seq, c.method.to_string()))
}

impl Uas {
    fn on_event(&mut self, now: Instant, ev: TuEvent) {
        match ev {
            TuEvent::Request { txn, request, .. } => self.on_request(now, txn, request),
            TuEvent::AckFor2xx { ack, .. } | TuEvent::StrayAck { ack, .. } => {
                let id = DialogId::of_received(&ack);
                if let Some(s) = id.as_ref().and_then(|id| self.sessions.get_mut(id)) {
                    let _ = s.handle_request(now, &ack);
                }
            }
            TuEvent::Cancelled { invite, .. } => {
                if let Some(req) = self.txns.request(invite).cloned() {
                    let r =
                        Message::response_to(&req, 487, "Request Terminated", Some("cancelled"));
                    let _ = self.txns.respond(now, invite, r);
                }
            }
            TuEvent::Terminated { txn } => {
                if let Some(k) = self.txn_key.remove(&txn) {
                    self.server_txn.remove(&k);
                }
            }
            _ => {}
        }
    }

    fn on_request(&mut self, now: Instant, txn: TxnId, req: Message) {
        if let Some(k) = key_of(&req) {
            self.server_txn.insert(k.clone(), txn);
            self.txn_key.insert(txn, k);
        }
        let method = req.method().cloned();
        if req.to_tag().is_none() {
            match method {
                Some(Method::Invite) => self.new_call(now, txn, &req),
                Some(Method::Options) => {
                    let mut r = Message::response_to(&req, 200, "OK", Some("uas"));
                    let _ = r.push_header(HeaderName::Allow, "INVITE, ACK, BYE, CANCEL, OPTIONS");
                    let _ = self.txns.respond(now, txn, r);
                }
                _ => {
                    let _ = self.txns.respond(
                        now,
                        txn,
                        Message::response_to(&req, 405, "Method Not Allowed", Some("uas")),
                    );
                }
            }
            return;
        }
        let Some(id) = DialogId::of_received(&req) else {
            return;
        };
        let Some(s) = self.sessions.get_mut(&id) else {
            let r = Message::response_to(&req, 481, "Call/Transaction Does Not Exist", None);
            let _ = self.txns.respond(now, txn, r);
            return;
        };
        if let Ok(tether_sip::dialog::Inbound::Deliver) = s.handle_request(now, &req) {
            if let Ok(r) = s.create_response(&req, 200) {
                let _ = s.send_response(now, r);
            }
        }
        self.pump_session(now, &id);
    }

    fn new_call(&mut self, now: Instant, _txn: TxnId, invite: &Message) {
        self.tags += 1;
        let tag = format!("uas{:x}", self.tags);
        let rng = Box::new(SeededRandom::new(self.seed ^ self.tags));
        let Ok(mut s) = Session::uas(
            SessionConfig::default(),
            invite,
            &tag,
            self.contact.clone(),
            rng,
        ) else {
            return;
        };
        if let Ok(r180) = s.create_response(invite, 180) {
            let _ = s.send_response(now, r180);
        }
        if let Ok(mut ok) = s.create_response(invite, 200) {
            let _ = ok.set_body(Some("application/sdp"), SDP.as_bytes().to_vec());
            let _ = s.send_response(now, ok);
        }
        let id = s.id().clone();
        self.sessions.insert(id.clone(), s);
        self.pump_session(now, &id);
    }

    /// Moves a session's outputs into the transaction layer; forgets ended sessions.
    fn pump_session(&mut self, now: Instant, id: &DialogId) {
        let Some(s) = self.sessions.get_mut(id) else {
            return;
        };
        while let Some(out) = s.poll_output() {
            if let DialogOut::Response(r) = out {
                if let Some(txn) = key_of(&r).and_then(|k| self.server_txn.get(&k).copied()) {
                    let _ = self.txns.respond(now, txn, r);
                }
            }
        }
        if s.is_terminated() && s.poll_timeout().is_none() {
            self.sessions.remove(id);
        }
    }

    fn next_deadline(&self) -> Option<Instant> {
        let sessions = self
            .sessions
            .values()
            .filter_map(Session::poll_timeout)
            .min();
        match (self.txns.poll_timeout(), sessions) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn on_timeout(&mut self, now: Instant) {
        self.txns.handle_timeout(now);
        let due: Vec<DialogId> = self
            .sessions
            .iter()
            .filter(|(_, s)| s.poll_timeout().is_some_and(|t| t <= now))
            .map(|(id, _)| id.clone())
            .collect();
        for id in due {
            if let Some(s) = self.sessions.get_mut(&id) {
                let _ = s.handle_timeout(now);
            }
            self.pump_session(now, &id);
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut listen: SocketAddr = "127.0.0.1:5060".parse()?;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--listen" => listen = args.next().ok_or("--listen needs an address")?.parse()?,
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let cfg = TransportConfig {
        udp: vec![listen],
        tcp: vec![listen],
        ..TransportConfig::default()
    };
    let (transport, mut inbound) = TransportLayer::bind(cfg).await?;
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_nanos() as u64;
    let mut uas = Uas {
        txns: TransactionLayer::new(Config::default(), seed),
        sessions: HashMap::new(),
        server_txn: HashMap::new(),
        txn_key: HashMap::new(),
        contact: NameAddr::new(Uri::sip(
            Some("uas"),
            &listen.ip().to_string(),
            Some(listen.port()),
        )),
        seed,
        tags: 0,
    };
    println!("listening {listen}");
    let mut shutdown = std::pin::pin!(tokio::signal::ctrl_c());
    loop {
        let deadline = uas.next_deadline();
        tokio::select! {
            msg = inbound.recv() => {
                let Some(inb) = msg else { break };
                let _ = uas.txns.handle_message(Instant::now(), inb.message, inb.from);
            }
            _ = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d.into()).await,
                    None => std::future::pending().await,
                }
            } => uas.on_timeout(Instant::now()),
            _ = &mut shutdown => break,
        }
        // Drain the transaction layer: transmit, and hand events to the TU.
        while let Some(out) = uas.txns.poll_output() {
            match out {
                TxnOut::Transmit { to, message } => send(&transport, &mut uas, message, to).await,
                TxnOut::Event(ev) => uas.on_event(Instant::now(), ev),
            }
        }
    }
    transport.shutdown().await;
    Ok(())
}

async fn send(transport: &TransportLayer, uas: &mut Uas, message: Message, to: Peer) {
    if let Err(e) = transport.send(message, to).await {
        eprintln!("send to {to} failed: {e}");
        uas.txns.handle_transport_error(
            Instant::now(),
            tether_sip::transaction::TransportFailure::Peer(to),
        );
    }
}
