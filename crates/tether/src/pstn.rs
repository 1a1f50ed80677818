//! The built-in PSTN simulator on the network: `tether_trunk::pstn::PstnSimulator` (sans-IO)
//! driven on its own task with its own SIP transports at `[pstn] listen`, the same way the
//! call engine is driven (`sip::driver`). `tether serve` runs it behind the demo's trunks;
//! `tether pstn` runs it alone, for the lab.
//!
//! Echo numbers (`07xx` in the default plan) carry real media: once such a call is answered,
//! a UDP socket on the RTP port its SDP named sends every datagram back where it came from,
//! until the call ends.

use std::net::SocketAddr;
use std::time::Instant;

use std::collections::HashMap;
use tether_sip::transport::{Inbound, TransportConfig, TransportError, TransportLayer};
use tether_sip::{Peer, Transport};
use tether_trunk::pstn::{CallId, CallInfo, CallKind, CallState, PstnConfig, PstnSimulator};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::sip::sender::Sender;
use crate::sip::SipError;

/// The simulator bound to its address, ready to run.
pub struct Pstn {
    sim: PstnSimulator,
    transport: TransportLayer,
    inbound: mpsc::Receiver<Inbound>,
    udp_tcp_threshold: Option<usize>,
    /// Where it listens (UDP; TCP on the same port when free).
    pub addr: SocketAddr,
}

/// Port-0 picks tried before giving up: the UDP port picked may be taken for TCP (a client
/// connection's local port, say) or by another process before it is bound again.
const PORT_PICKS: usize = 16;

/// Binds UDP and TCP at `listen` (port 0: the UDP port picked is used for TCP too).
pub async fn bind(listen: SocketAddr, plan: PstnConfig) -> Result<Pstn, SipError> {
    let mut picks = 0;
    let (addr, transport, inbound, udp_tcp_threshold) = loop {
        // Port 0: let UDP pick a port, then take that port for both transports.
        let addr = if listen.port() == 0 {
            let (probe, _) = TransportLayer::bind(TransportConfig {
                udp: vec![listen],
                ..TransportConfig::default()
            })
            .await
            .map_err(SipError::Bind)?;
            let picked = probe.local_addr(Transport::Udp).unwrap_or(listen);
            probe.shutdown().await;
            picked
        } else {
            listen
        };
        let tc = TransportConfig {
            udp: vec![addr],
            tcp: vec![addr],
            ..TransportConfig::default()
        };
        let udp_tcp_threshold = tc.udp_tcp_threshold;
        match TransportLayer::bind(tc).await {
            Ok((transport, inbound)) => break (addr, transport, inbound, udp_tcp_threshold),
            Err(TransportError::Bind { source, .. })
                if listen.port() == 0
                    && source.kind() == std::io::ErrorKind::AddrInUse
                    && picks + 1 < PORT_PICKS =>
            {
                picks += 1;
                tracing::debug!(
                    port = addr.port(),
                    "picked port taken meanwhile; picking again"
                );
            }
            Err(e) => return Err(SipError::Bind(e)),
        }
    };
    let mut local = addr;
    if local.ip().is_unspecified() {
        local.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    let sim = PstnSimulator::new(plan, Peer::udp(local), rand::random())
        .map_err(|e| SipError::Engine(format!("PSTN simulator: {e}")))?;
    Ok(Pstn {
        sim,
        transport,
        inbound,
        udp_tcp_threshold,
        addr,
    })
}

impl Pstn {
    /// Serves until `stop` turns true (or its sender is dropped), then closes the transports.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let Pstn {
            mut sim,
            transport,
            mut inbound,
            udp_tcp_threshold,
            addr,
        } = self;
        let (failures_tx, mut failures) = mpsc::channel(1024);
        let mut sender = Sender::new(transport.clone(), failures_tx, udp_tcp_threshold);
        let mut echoes: HashMap<CallId, JoinHandle<()>> = HashMap::new();
        loop {
            let next = sim.poll_timeout();
            tokio::select! {
                msg = inbound.recv() => match msg {
                    Some(inb) => {
                        if let Err(e) = sim.handle_message(Instant::now(), inb.message, inb.from) {
                            tracing::debug!(from = %inb.from, error = %e, "PSTN simulator dropped a message");
                        }
                    }
                    None => break,
                },
                () = sleep_until(next) => sim.handle_timeout(Instant::now()),
                Some(peer) = failures.recv() => sim.handle_transport_error(Instant::now(), peer),
                _ = stop.wait_for(|s| *s) => break,
            }
            loop {
                while let Some(t) = sim.poll_output() {
                    if let Err(e) = sender.send(t.to, t.message).await {
                        tracing::debug!(peer = %t.to, error = %e, "PSTN simulator send failed");
                        sim.handle_transport_error(Instant::now(), t.to);
                    }
                }
                // What was gathered leaves together; a failure may give the simulator more to say.
                let failed = sender.send_batch().await;
                if failed.is_empty() {
                    break;
                }
                for peer in failed {
                    sim.handle_transport_error(Instant::now(), peer);
                }
            }
            let calls = (!echoes.is_empty() || sim.stats().active > 0).then(|| sim.calls());
            if let Some(calls) = calls {
                echo_media(calls, &mut echoes).await;
            }
        }
        for (_, e) in echoes.drain() {
            e.abort();
        }
        let stats = sim.stats();
        tracing::info!(
            address = %addr,
            offered = stats.offered,
            answered = stats.answered,
            active = stats.active,
            "PSTN simulator stopped"
        );
        sender.close(std::time::Duration::from_secs(2)).await;
        transport.shutdown().await;
    }
}

/// Starts the echo of answered echo calls and stops those of calls that ended.
async fn echo_media(calls: Vec<CallInfo>, echoes: &mut HashMap<CallId, JoinHandle<()>>) {
    echoes.retain(|id, task| {
        let live = calls.iter().any(|c| c.id == *id);
        if !live {
            task.abort();
        }
        live
    });
    for c in calls {
        if c.kind != CallKind::Echo || c.state == CallState::Ringing || echoes.contains_key(&c.id) {
            continue;
        }
        match UdpSocket::bind(c.media.local_rtp).await {
            Ok(socket) => {
                tracing::debug!(call = ?c.id, rtp = %c.media.local_rtp, "PSTN echo started");
                echoes.insert(c.id, tokio::spawn(echo(socket)));
            }
            Err(e) => {
                tracing::warn!(rtp = %c.media.local_rtp, error = %e, "PSTN echo cannot bind its RTP port");
                // Marked so it is not tried again for this call.
                echoes.insert(c.id, tokio::spawn(async {}));
            }
        }
    }
}

/// Sends every datagram back to where it came from.
async fn echo(socket: UdpSocket) {
    let mut buf = vec![0u8; 2048];
    loop {
        if let Ok((n, from)) = socket.recv_from(&mut buf).await {
            if let Some(data) = buf.get(..n) {
                let _ = socket.send_to(data, from).await;
            }
        }
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}
