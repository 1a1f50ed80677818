//! The CTI core inside the SIP driver: client frames in, the core's outputs out to the
//! client connections, password checks on the blocking pool, provisioning writes on their own
//! tasks, their results back in. The engine is lent to the core for each input, as the
//! [`CallControl`] it drives.

use std::sync::Arc;
use std::time::Instant;

use foldhash::HashMap;
use tether_b2bua::control::DeviceCall;
use tether_b2bua::{Control, ControlError, ControlOk, DeviceEvent, Engine};
use tether_cti::{CallControl, Cti, CtiOutput, SessionId, Ticket};
use tether_store::model::User;
use tether_store::{Snapshot, Store, StoreError};
use tokio::sync::mpsc;

use super::{FromClient, ToClient};

/// What a task the runner started reports back.
#[derive(Debug)]
pub enum Done {
    Auth {
        ticket: Ticket,
        user: Option<User>,
    },
    Write {
        ticket: Ticket,
        result: Result<(), StoreError>,
        snapshot: Arc<Snapshot>,
    },
}

/// The engine as the CTI core sees it.
struct EngineControl<'a>(&'a mut Engine);

impl CallControl for EngineControl<'_> {
    fn control(&mut self, now: Instant, req: Control) -> Result<ControlOk, ControlError> {
        self.0.control(now, req)
    }
    fn device_calls(&self, device: &str) -> Vec<DeviceCall> {
        self.0.device_calls(device)
    }
}

pub struct Runner {
    core: Cti,
    clients: HashMap<SessionId, mpsc::Sender<ToClient>>,
    store: Arc<Store>,
    done_tx: mpsc::UnboundedSender<Done>,
}

impl Runner {
    /// A runner and the receiver its tasks report on (the driver polls it).
    pub fn new(core: Cti, store: Arc<Store>) -> (Runner, mpsc::UnboundedReceiver<Done>) {
        let (done_tx, done_rx) = mpsc::unbounded_channel();
        (
            Runner {
                core,
                clients: HashMap::default(),
                store,
                done_tx,
            },
            done_rx,
        )
    }

    pub fn sessions(&self) -> usize {
        self.clients.len()
    }

    pub fn on_client(&mut self, now: Instant, msg: FromClient, engine: &mut Engine) {
        match msg {
            FromClient::Open { outbound, reply } => {
                let session = self.core.connect(now);
                if reply.send(session).is_ok() {
                    self.clients.insert(session, outbound);
                } else {
                    self.core.disconnect(now, session);
                }
            }
            FromClient::Text { session, text } => {
                if self.clients.contains_key(&session) {
                    self.core
                        .handle_text(now, session, &text, &mut EngineControl(engine));
                }
            }
            FromClient::Activity { session } => self.core.activity(now, session),
            FromClient::Closed { session } => {
                if self.clients.remove(&session).is_some() {
                    self.core.disconnect(now, session);
                }
            }
        }
        self.flush(now);
    }

    pub fn on_done(&mut self, now: Instant, done: Done, engine: &mut Engine) {
        match done {
            Done::Auth { ticket, user } => {
                self.core
                    .auth_result(now, ticket, user, &EngineControl(engine))
            }
            Done::Write {
                ticket,
                result,
                snapshot,
            } => self.core.write_result(now, ticket, result, snapshot),
        }
        self.flush(now);
    }

    pub fn on_device_event(&mut self, now: Instant, ev: DeviceEvent) {
        self.core.handle_device_event(now, ev);
        self.flush(now);
    }

    pub fn on_snapshot(&mut self, now: Instant, snap: Arc<Snapshot>) {
        self.core.set_snapshot(now, snap);
        self.flush(now);
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        self.core.poll_timeout()
    }

    pub fn on_timeout(&mut self, now: Instant) {
        self.core.handle_timeout(now);
        self.flush(now);
    }

    /// Every session ends (the server is stopping).
    pub fn close_all(&mut self, reason: &str) {
        for (_, tx) in self.clients.drain() {
            let _ = tx.try_send(ToClient::Close(reason.to_owned()));
        }
    }

    /// Carries out what the core asked for.
    fn flush(&mut self, now: Instant) {
        while let Some(out) = self.core.poll_output() {
            match out {
                CtiOutput::Send { session, text } => {
                    self.queue_for(now, session, ToClient::Text(text))
                }
                CtiOutput::Ping { session } => self.queue_for(now, session, ToClient::Ping),
                CtiOutput::Close { session, reason } => {
                    if let Some(tx) = self.clients.remove(&session) {
                        let _ = tx.try_send(ToClient::Close(reason.to_string()));
                    }
                }
                CtiOutput::Authenticate {
                    ticket,
                    user,
                    password,
                } => {
                    let store = Arc::clone(&self.store);
                    let done = self.done_tx.clone();
                    tokio::task::spawn_blocking(move || {
                        let user = store.authenticate(&user, &password);
                        let _ = done.send(Done::Auth { ticket, user });
                    });
                }
                CtiOutput::Write {
                    ticket,
                    origin,
                    changes,
                } => {
                    let store = Arc::clone(&self.store);
                    let done = self.done_tx.clone();
                    tokio::spawn(async move {
                        let result = store.write(&origin, changes).await.map(|_| ());
                        let snapshot = store.snapshot();
                        let _ = done.send(Done::Write {
                            ticket,
                            result,
                            snapshot,
                        });
                    });
                }
            }
        }
    }

    /// Queues a frame for a client; a client whose queue is full is too slow and is dropped
    /// (its session ends as if it had disconnected).
    fn queue_for(&mut self, now: Instant, session: SessionId, frame: ToClient) {
        let Some(tx) = self.clients.get(&session) else {
            return;
        };
        match tx.try_send(frame) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                tracing::warn!(?session, "CTI client dropped: it does not read its events");
                if let Some(tx) = self.clients.remove(&session) {
                    let _ = tx.try_send(ToClient::Close("too slow".into()));
                }
                self.core.disconnect(now, session);
            }
            // The connection's task has ended; its Closed notice is on its way.
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }
}
