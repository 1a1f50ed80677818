//! The media task: `tether_rtp::MediaEngine` (sans-IO) on the network. It takes the call
//! engine's media commands (open a leg on a port, configure it from SDP, connect two legs,
//! close), binds the UDP sockets for each leg, feeds every datagram and timer tick to the engine
//! with the time, sends what the engine hands back, and reports what ends calls (a silent far
//! end, a port taken by another process) to the call engine. Only this room reads the clock for
//! the media engine.
//!
//! Recordings (music on hold, the zip tone, announcements) are played into one leg at a time,
//! paced at 20 ms by `tether_rtp::players` on the same clock; while one plays, what the relay
//! would send to that leg is replaced, and relaying resumes when it stops or ends.
//!
//! Conferences ([`rooms`]): a leg told to `Mix` leaves the relay, its received audio (the
//! engine's tap) feeds its room's mixer, and every 20 ms on the same clock it is sent the mix of
//! the room's other legs; `Unmix` gives it back to the relay. A recording playing into a leg
//! (or a peer holding) still takes precedence over the mix.
//!
//! One receiving task per socket moves datagrams onto a bounded queue; a full queue drops the
//! datagram (RTP is loss-tolerant, a stalled relay is not). Sends never wait: a full socket
//! buffer drops the packet.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tether_b2bua::{MediaCommand, MediaNotice, Playable};
use tether_rtp::announce::AnnouncementLibrary;
use tether_rtp::g711::Law;
use tether_rtp::player::{EndReason, PlayEvent, Repeat};
use tether_rtp::players::{PlayOutput, PlaybackId, Playbacks};
use tether_rtp::{
    DigitSource, EngineConfig, EngineTotals, Frame, LegConfig, LegId, LegStats, MediaEngine,
    MediaEvent, OutputSource, Remote, SendHow,
};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, watch};

use crate::announcements::LibraryUpdate;
use tokio::task::JoinHandle;

mod rooms;
use rooms::Rooms;

/// Datagrams waiting for the media task beyond which new ones are dropped.
const QUEUE: usize = 16_384;
/// Largest datagram read (RTP over Ethernet stays far below).
const MAX_DATAGRAM: usize = 2048;

/// How the media task runs.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Where legs' sockets are bound (the unspecified address: every interface).
    pub bind: IpAddr,
    pub port_min: u16,
    pub port_max: u16,
    /// Silence after which a leg's call is ended; `None` never.
    pub inactivity: Option<Duration>,
    /// A WAV file to play as music on hold instead of the built-in tune.
    pub music_on_hold: Option<std::path::PathBuf>,
}

/// What the rest of the server holds of the media task.
pub struct MediaHandle {
    pub commands: mpsc::UnboundedSender<MediaCommand>,
    /// Provisioned announcements for the library (`crate::announcements`).
    pub library: mpsc::UnboundedSender<LibraryUpdate>,
    /// The engine's figures, published every second (for `/metrics` and the call list).
    pub report: watch::Receiver<Option<Arc<MediaReport>>>,
}

/// What the media task publishes every second.
#[derive(Debug)]
pub struct MediaReport {
    pub totals: EngineTotals,
    /// Every open leg's counters and quality, by RTP port.
    pub legs: HashMap<u16, LegStats>,
    /// Recordings ready to play (built-ins and provisioned announcements).
    pub recordings: usize,
}

/// How often the media task publishes its figures.
const TOTALS_EVERY: Duration = Duration::from_secs(1);

struct Leg {
    id: LegId,
    /// The law Tether sends on this leg (recordings are played in it).
    law: Law,
    /// What plays into the leg now, if anything.
    playing: Option<PlaybackId>,
    /// The peer holds the call: nothing is sent to it.
    held: bool,
    /// The conference room the leg is mixed in, if any.
    room: Option<u64>,
    rtp: Arc<UdpSocket>,
    rtcp: Arc<UdpSocket>,
    readers: [JoinHandle<()>; 2],
}

impl Drop for Leg {
    fn drop(&mut self) {
        for r in &self.readers {
            r.abort();
        }
    }
}

struct Datagram {
    local_port: u16,
    from: SocketAddr,
    data: Vec<u8>,
}

/// Starts the media task; it ends when the command sender is dropped or `stop` turns true.
pub fn spawn(
    settings: Settings,
    notices: mpsc::Sender<MediaNotice>,
    stop: watch::Receiver<bool>,
) -> Result<(MediaHandle, JoinHandle<()>), String> {
    let now = Instant::now();
    let unix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let config = EngineConfig {
        port_min: settings.port_min,
        port_max: settings.port_max,
        leg: LegConfig {
            inactivity_timeout: settings.inactivity,
            ..LegConfig::default()
        },
        seed: rand::random(),
    };
    let engine = MediaEngine::new(config, now, unix).map_err(|e| {
        format!(
            "media port range {}-{}: {e:?}",
            settings.port_min, settings.port_max
        )
    })?;
    let mut library = AnnouncementLibrary::new();
    if let Some(path) = &settings.music_on_hold {
        // Read once, at start: a file that cannot be played stops the start, naming it.
        library
            .set_music_on_hold_wav(path)
            .map_err(|e| format!("[media] music_on_hold: {e}"))?;
    }
    let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
    let (lib_tx, lib_rx) = mpsc::unbounded_channel();
    let (totals_tx, totals_rx) = watch::channel(None);
    let io = TaskIo {
        commands: cmd_rx,
        library: lib_rx,
        report: totals_tx,
        notices,
        stop,
    };
    let task = tokio::spawn(run(engine, library, settings, io));
    Ok((
        MediaHandle {
            commands: cmd_tx,
            library: lib_tx,
            report: totals_rx,
        },
        task,
    ))
}

struct Driver {
    engine: MediaEngine,
    settings: Settings,
    legs: HashMap<u16, Leg>,
    by_id: HashMap<LegId, u16>,
    datagrams: mpsc::Sender<Datagram>,
    notices: mpsc::Sender<MediaNotice>,
    library: AnnouncementLibrary,
    playbacks: Playbacks<u16>,
    rooms: Rooms<u16>,
}

/// The media task's queues.
struct TaskIo {
    commands: mpsc::UnboundedReceiver<MediaCommand>,
    library: mpsc::UnboundedReceiver<LibraryUpdate>,
    report: watch::Sender<Option<Arc<MediaReport>>>,
    notices: mpsc::Sender<MediaNotice>,
    stop: watch::Receiver<bool>,
}

async fn run(engine: MediaEngine, library: AnnouncementLibrary, settings: Settings, io: TaskIo) {
    let TaskIo {
        mut commands,
        library: mut library_updates,
        report: totals,
        notices,
        mut stop,
    } = io;
    let (dg_tx, mut dg_rx) = mpsc::channel::<Datagram>(QUEUE);
    let mut d = Driver {
        engine,
        settings,
        legs: HashMap::new(),
        by_id: HashMap::new(),
        datagrams: dg_tx,
        notices,
        library,
        playbacks: Playbacks::new(Instant::now()),
        rooms: Rooms::default(),
    };
    let timer = tokio::time::sleep_until(tokio::time::Instant::now());
    tokio::pin!(timer);
    let mut armed: Option<Instant> = None;
    let mut publish = tokio::time::interval(TOTALS_EVERY);
    publish.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let next = [
            d.engine.poll_timeout(),
            d.playbacks.poll_timeout(),
            d.rooms.poll_timeout(),
        ]
        .into_iter()
        .flatten()
        .min();
        if next != armed {
            if let Some(at) = next {
                timer.as_mut().reset(at.into());
            }
            armed = next;
        }
        tokio::select! {
            cmd = commands.recv() => match cmd {
                Some(cmd) => d.command(cmd).await,
                None => break,
            },
            Some(dg) = dg_rx.recv() => {
                let now = Instant::now();
                d.engine.handle_datagram(now, dg.local_port, dg.from, &dg.data);
                d.engine.recycle(dg.data);
                // Whatever else is queued goes in before the sends are flushed.
                for _ in 0..64 {
                    let Ok(dg) = dg_rx.try_recv() else { break };
                    d.engine.handle_datagram(now, dg.local_port, dg.from, &dg.data);
                    d.engine.recycle(dg.data);
                }
            }
            () = &mut timer, if armed.is_some() => {
                armed = None;
                let now = Instant::now();
                d.engine.handle_timeout(now);
                d.playbacks.handle_timeout(now);
                d.play_out(now);
                d.rooms.handle_timeout(now);
                d.mix_out(now);
            }
            Some(update) = library_updates.recv() => match update {
                LibraryUpdate::Insert(audio) => {
                    d.library.insert(audio);
                }
                LibraryUpdate::Remove(name) => {
                    d.library.remove(&name);
                }
            },
            _ = publish.tick() => {
                totals.send_replace(Some(Arc::new(d.report())));
            }
            () = async { let _ = stop.wait_for(|s| *s).await; } => break,
        }
        d.flush();
    }
    let now = Instant::now();
    for (_, leg) in d.legs.drain() {
        let _ = d.engine.release_leg(now, leg.id);
    }
    d.flush();
}

impl Driver {
    async fn command(&mut self, cmd: MediaCommand) {
        let now = Instant::now();
        match cmd {
            MediaCommand::Open { port } => {
                if let Err(e) = self.open(port).await {
                    tracing::warn!(port, error = %e, "cannot open a media leg; its call ends");
                    let _ = self.notices.send(MediaNotice::OpenFailed { port }).await;
                }
            }
            MediaCommand::Configure {
                port,
                remote,
                codecs,
                hold,
            } => {
                let Some(leg) = self.legs.get_mut(&port) else {
                    return;
                };
                let id = leg.id;
                leg.law = codecs.send;
                if leg.room.is_some() {
                    self.rooms.set_law(now, port, codecs.send);
                }
                // A peer that holds the call does not want our media: nothing is sent to it
                // (fed output with nothing fed) until it resumes.
                if hold != leg.held {
                    leg.held = hold;
                    let source = if hold || leg.playing.is_some() || leg.room.is_some() {
                        OutputSource::Fed
                    } else {
                        OutputSource::Relay
                    };
                    let _ = self.engine.set_output(id, source);
                }
                if let Err(e) = self.engine.set_codecs(id, codecs) {
                    tracing::warn!(port, error = %e, "media leg: codecs refused");
                }
                if let Some(rtp) = remote {
                    let _ = self.engine.set_remote(
                        now,
                        id,
                        Remote {
                            rtp,
                            rtcp: None,
                            rtcp_mux: false,
                        },
                    );
                }
                // A peer that holds us sends nothing: its silence is not a vanished far end.
                let timeout = if hold { None } else { self.settings.inactivity };
                let _ = self.engine.set_inactivity_timeout(now, id, timeout);
            }
            MediaCommand::Connect { a, b } => {
                let (Some(la), Some(lb)) = (self.legs.get(&a), self.legs.get(&b)) else {
                    return;
                };
                let (ia, ib) = (la.id, lb.id);
                let _ = self.engine.disconnect(ia);
                let _ = self.engine.disconnect(ib);
                if let Err(e) = self.engine.connect(ia, ib) {
                    tracing::warn!(a, b, error = %e, "media legs not connected");
                }
            }
            MediaCommand::Disconnect { port } => {
                if let Some(l) = self.legs.get(&port) {
                    let _ = self.engine.disconnect(l.id);
                }
            }
            MediaCommand::Mix { room, port } => self.mix(now, room, port),
            MediaCommand::Unmix { port } => self.unmix(port),
            MediaCommand::Play { port, what, looped } => self.play(now, port, &what, looped),
            MediaCommand::SendDigits {
                port,
                digits,
                duration_ms,
                inband,
            } => {
                if let Some(leg) = self.legs.get(&port) {
                    let how = if inband {
                        SendHow::InBand
                    } else {
                        SendHow::Auto
                    };
                    if let Err(e) = self
                        .engine
                        .send_digits(now, leg.id, &digits, duration_ms, how)
                    {
                        tracing::warn!(port, %digits, error = %e, "DTMF not played");
                    }
                }
            }
            MediaCommand::DigitsByInfo { port } => {
                if let Some(leg) = self.legs.get(&port) {
                    let _ = self.engine.set_inband_conversion(leg.id, false);
                }
            }
            MediaCommand::StopPlaying { port } => {
                if let Some(pb) = self.legs.get_mut(&port).and_then(|l| l.playing.take()) {
                    self.playbacks.stop(pb);
                    self.resume_relay(port);
                }
            }
            MediaCommand::Close { port } => {
                if let Some(pb) = self.legs.get_mut(&port).and_then(|l| l.playing.take()) {
                    self.playbacks.stop(pb);
                }
                self.rooms.leave(port);
                if let Some(leg) = self.legs.remove(&port) {
                    self.by_id.remove(&leg.id);
                    if let Ok(stats) = self.engine.release_leg(now, leg.id) {
                        tracing::debug!(port, ?stats, "media leg closed");
                    }
                }
            }
            other => tracing::debug!(?other, "media command not handled"),
        }
    }

    async fn open(&mut self, port: u16) -> std::io::Result<()> {
        if self.legs.contains_key(&port) {
            return Err(std::io::Error::other("leg already open"));
        }
        let rtp = Arc::new(UdpSocket::bind(SocketAddr::new(self.settings.bind, port)).await?);
        let rtcp = Arc::new(UdpSocket::bind(SocketAddr::new(self.settings.bind, port + 1)).await?);
        let id = self
            .engine
            .create_leg_at(port)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let readers = [
            tokio::spawn(read(Arc::clone(&rtp), port, self.datagrams.clone())),
            tokio::spawn(read(Arc::clone(&rtcp), port + 1, self.datagrams.clone())),
        ];
        self.by_id.insert(id, port);
        self.legs.insert(
            port,
            Leg {
                id,
                law: Law::Ulaw,
                playing: None,
                held: false,
                room: None,
                rtp,
                rtcp,
                readers,
            },
        );
        Ok(())
    }

    fn report(&self) -> MediaReport {
        let legs = self
            .engine
            .legs()
            .filter_map(|(id, stats)| self.by_id.get(&id).map(|&port| (port, stats)))
            .collect();
        MediaReport {
            totals: self.engine.totals(),
            legs,
            recordings: self.library.len(),
        }
    }

    /// Starts playing `what` into the leg at `port`, replacing what is relayed to it.
    fn play(&mut self, now: Instant, port: u16, what: &Playable, looped: bool) {
        let audio = match what {
            Playable::MusicOnHold => self.library.music_on_hold(),
            Playable::ZipTone => self.library.zip_tone(),
            Playable::Announcement(name) => self.library.get(name),
            other => {
                tracing::warn!(?other, "nothing to play for this");
                None
            }
        };
        let Some(audio) = audio else {
            tracing::warn!(port, ?what, "no such recording; nothing played");
            return;
        };
        let Some(leg) = self.legs.get_mut(&port) else {
            return;
        };
        if let Some(old) = leg.playing.take() {
            self.playbacks.stop(old);
        }
        let repeat = if looped {
            Repeat::Forever
        } else {
            Repeat::ONCE
        };
        leg.playing = Some(self.playbacks.play(now, port, audio, leg.law, repeat));
        let _ = self.engine.set_output(leg.id, OutputSource::Fed);
        tracing::debug!(port, ?what, "playing into the leg");
    }

    /// The leg joins conference `room`: off the relay, its audio tapped for the mixer, its
    /// output fed with the mix.
    fn mix(&mut self, now: Instant, room: u64, port: u16) {
        let Some(leg) = self.legs.get_mut(&port) else {
            return;
        };
        if let Err(e) = self.rooms.join(now, room, port, leg.law) {
            tracing::warn!(port, room, error = %e, "media leg not mixed");
            return;
        }
        leg.room = Some(room);
        let id = leg.id;
        let _ = self.engine.disconnect(id);
        let _ = self.engine.set_tap(id, true);
        let _ = self.engine.set_output(id, OutputSource::Fed);
        tracing::debug!(port, room, "media leg mixed");
    }

    /// The leg leaves its conference; relaying may take it back.
    fn unmix(&mut self, port: u16) {
        self.rooms.leave(port);
        let Some(leg) = self.legs.get_mut(&port) else {
            return;
        };
        if leg.room.take().is_some() {
            let _ = self.engine.set_tap(leg.id, false);
            self.resume_relay(port);
        }
    }

    /// Sends each mixed frame due to its leg (not to one a recording plays into, nor to a peer
    /// that holds).
    fn mix_out(&mut self, now: Instant) {
        while let Some(m) = self.rooms.poll_output() {
            let Some(leg) = self.legs.get(&m.to) else {
                continue;
            };
            if leg.held || leg.playing.is_some() {
                continue;
            }
            let frame = Frame::Audio {
                law: m.law,
                codes: &m.codes,
            };
            if let Err(e) = self.engine.feed_frame(now, leg.id, frame) {
                tracing::trace!(port = m.to, error = %e, "mixed frame not sent");
            }
        }
    }

    /// Relaying takes the leg's output back once nothing plays into it (unless its peer holds
    /// or it is mixed in a conference).
    fn resume_relay(&mut self, port: u16) {
        if let Some(leg) = self.legs.get(&port) {
            if !leg.held && leg.playing.is_none() && leg.room.is_none() {
                let _ = self.engine.set_output(leg.id, OutputSource::Relay);
            }
        }
    }

    /// Feeds every frame due into its leg, and ends playbacks that are over.
    fn play_out(&mut self, now: Instant) {
        while let Some(out) = self.playbacks.poll_output() {
            match out {
                PlayOutput::Frame(f) => {
                    let Some(leg) = self.legs.get(&f.target) else {
                        continue;
                    };
                    if leg.held {
                        continue;
                    }
                    let frame = Frame::Audio {
                        law: f.law,
                        codes: f.payload(),
                    };
                    if let Err(e) = self.engine.feed_frame(now, leg.id, frame) {
                        tracing::trace!(port = f.target, error = %e, "played frame not sent");
                    }
                }
                PlayOutput::Event(ev) => {
                    if let PlayEvent::Ended(reason) = ev.event {
                        let port = ev.target;
                        if let Some(leg) = self.legs.get_mut(&port) {
                            if leg.playing == Some(ev.id) {
                                leg.playing = None;
                            }
                        }
                        if reason == EndReason::Completed {
                            self.resume_relay(port);
                        }
                    }
                }
            }
        }
    }

    /// Sends what the engine queued and passes on what ends calls.
    fn flush(&mut self) {
        // What the mixed legs heard goes to their rooms.
        while let Some(h) = self.engine.poll_heard() {
            if let Some(&port) = self.by_id.get(&h.leg) {
                self.rooms.hear(port, h.law, &h.payload);
            }
            self.engine.recycle(h.payload);
        }
        while let Some(t) = self.engine.poll_transmit() {
            let base = t.from_port & !1;
            if let Some(leg) = self.legs.get(&base) {
                let socket = if t.from_port == base {
                    &leg.rtp
                } else {
                    &leg.rtcp
                };
                if let Err(e) = socket.try_send_to(&t.contents, t.to) {
                    tracing::trace!(to = %t.to, error = %e, "RTP send dropped");
                }
            }
            self.engine.recycle(t.contents);
        }
        while let Some(ev) = self.engine.poll_event() {
            match ev {
                MediaEvent::Inactive { leg, reason } => {
                    let Some(&port) = self.by_id.get(&leg) else {
                        continue;
                    };
                    let silent_for = match reason {
                        tether_rtp::InactivityReason::MediaTimeout { silent_for } => silent_for,
                        #[allow(unreachable_patterns)]
                        _ => Duration::ZERO,
                    };
                    tracing::info!(
                        port,
                        reason = reason.as_str(),
                        ?silent_for,
                        "media inactivity: the call ends"
                    );
                    if self
                        .notices
                        .try_send(MediaNotice::Inactive { port, silent_for })
                        .is_err()
                    {
                        tracing::warn!(
                            port,
                            "media notice dropped: the call engine is not reading"
                        );
                    }
                }
                MediaEvent::Digit {
                    leg,
                    digit,
                    duration,
                    how,
                } => {
                    let Some(&port) = self.by_id.get(&leg) else {
                        continue;
                    };
                    let notice = MediaNotice::Digit {
                        port,
                        digit: digit.to_char(),
                        duration,
                        inband: how == DigitSource::InBand,
                    };
                    if self.notices.try_send(notice).is_err() {
                        tracing::warn!(port, "DTMF notice dropped: the call engine is not reading");
                    }
                }
                MediaEvent::Latched { leg, peer } => {
                    tracing::debug!(port = self.by_id.get(&leg), %peer, "media latched");
                }
                other => tracing::trace!(?other, "media event"),
            }
        }
    }
}

/// Moves datagrams from one socket to the media task until the socket's leg is closed.
async fn read(socket: Arc<UdpSocket>, local_port: u16, to: mpsc::Sender<Datagram>) {
    loop {
        let mut buf = vec![0u8; MAX_DATAGRAM];
        match socket.recv_from(&mut buf).await {
            Ok((n, from)) => {
                buf.truncate(n);
                if to
                    .try_send(Datagram {
                        local_port,
                        from,
                        data: buf,
                    })
                    .is_err()
                    && to.is_closed()
                {
                    return;
                }
            }
            // ICMP port unreachable for an earlier send surfaces here on Linux; keep reading.
            Err(e) => tracing::trace!(local_port, error = %e, "RTP receive error"),
        }
    }
}
