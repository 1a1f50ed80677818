//! The simulation's scripted CTI client: MakeCalls from devices with an active RD, cleared
//! after a while; consultations from half of them, then transfer, conference (sometimes a
//! fourth party) or clearing; AnswerCall on one call in five ringing at a device. It keeps
//! what each CTI call's device saw at its end, so the run can check every one ended once.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use super::{Rng, TARGETS};
use crate::control::DeviceEvent;
use crate::Engine;

/// MakeCall targets: what the PSTN simulator does for each (none is an RD number).
const DVO_TARGETS: &[&str] = &[
    "+14155550111", // answers at once
    "+14155550222", // answers after 2 s
    "+14155550333", // busy
    "+14155550555", // unallocated
    "+14155550888", // answers, hangs up after 3 s
    "+14155551777", // rings 1 s, answers
];

/// The consulted party: answers after 0.5 s and hangs up 3 s later, so a transferred call ends.
const CONSULT_TARGET: &str = "+14155550888";

/// What the scripted CTI client asks, when its time comes.
enum CtiAction {
    Answer {
        call: u64,
        device: String,
    },
    Clear {
        call: u64,
        device: String,
    },
    Consult {
        call: u64,
        device: String,
    },
    Transfer {
        held: u64,
        active: u64,
        device: String,
    },
    Conference {
        held: u64,
        active: u64,
        device: String,
    },
}

/// The client's requests due, what it placed, and how each of its calls ended.
#[derive(Default)]
pub(super) struct CtiClient {
    actions: Vec<(Instant, CtiAction)>,
    /// MakeCall and ConsultationCall calls placed, with their device.
    pub make_calls: Vec<(u64, String)>,
    /// How often each call ended for its device (CallCleared, or its part in a transfer).
    endings: HashMap<u64, usize>,
    /// Conferences: their device may leave them (no CallCleared) while they go on.
    conferenced: HashSet<u64>,
    pub consults: usize,
    pub transfers: usize,
    pub conferences: usize,
    /// AnswerCalls refused ANSWER_NOT_SUPPORTED while the call rang.
    pub answers_refused: usize,
}

impl CtiClient {
    /// When the next request is due.
    pub fn next(&self) -> Option<Instant> {
        self.actions.iter().map(|(t, _)| *t).min()
    }

    /// A device event from the engine: schedules AnswerCalls and records endings.
    pub fn on_event(&mut self, now: Instant, e: DeviceEvent, rng: &mut Rng) {
        match e.kind {
            crate::control::DeviceEventKind::Delivered {
                party: crate::control::Party::Device,
                ..
            } if rng.chance(20) => {
                let at = now + Duration::from_millis(rng.below(1500));
                self.actions.push((
                    at,
                    CtiAction::Answer {
                        call: e.call,
                        device: e.device,
                    },
                ));
            }
            crate::control::DeviceEventKind::CallCleared { .. } => {
                *self.endings.entry(e.call).or_default() += 1;
            }
            crate::control::DeviceEventKind::Transferred { resulting_call, .. }
                if e.device.starts_with("CTRID") =>
            {
                *self.endings.entry(e.call).or_default() += 1;
                *self.endings.entry(resulting_call).or_default() += 1;
            }
            crate::control::DeviceEventKind::Conferenced { .. }
                if e.device.starts_with("CTRID") =>
            {
                *self.endings.entry(e.call).or_default() += 1;
            }
            _ => {}
        }
    }

    /// A MakeCall from a device with an active RD, cleared later, consulting first half the time.
    pub fn make_call(&mut self, now: Instant, engine: &mut Engine, rng: &mut Rng, seed: u64) {
        // A CTI client's MakeCall from a device with an active RD, cleared later.
        let (dn, _) = TARGETS[rng.below(TARGETS.len() as u64) as usize];
        let device = format!("CTRIDu{dn}");
        let to = DVO_TARGETS[rng.below(DVO_TARGETS.len() as u64) as usize];
        let r = engine.control(
            now,
            crate::control::Control::MakeCall {
                device: device.clone(),
                to: to.into(),
            },
        );
        let Ok(crate::control::ControlOk::Call(call)) = r else {
            panic!("seed {seed}: MakeCall refused: {r:?}");
        };
        let after = Duration::from_millis(500 + rng.below(20_000));
        if rng.chance(50) {
            let consult_at = Duration::from_millis(500 + rng.below(8_000));
            self.actions.push((
                now + consult_at,
                CtiAction::Consult {
                    call,
                    device: device.clone(),
                },
            ));
        }
        self.actions.push((
            now + after,
            CtiAction::Clear {
                call,
                device: device.clone(),
            },
        ));
        self.make_calls.push((call, device));
    }

    /// Carries out one request that is due; false when none is.
    pub fn act(&mut self, now: Instant, engine: &mut Engine, rng: &mut Rng, seed: u64) -> bool {
        let Some(k) = self.actions.iter().position(|(t, _)| *t <= now) else {
            return false;
        };
        use crate::control::{Control, ControlError as E, ControlOk};
        let (_, action) = self.actions.swap_remove(k);
        // The call may have ended already (a failure, the far end hanging up), not be
        // answered yet, or wait for a re-INVITE's answer: the client is refused.
        let refused = |r: &Result<ControlOk, E>| {
            matches!(
                r,
                Err(E::InvalidCallId | E::InvalidCallState | E::RequestInProgress)
            )
        };
        match action {
            // No PSTN phone offers remote answer: the client is told so, or finds the call
            // gone or answered already.
            CtiAction::Answer { call, device } => {
                match engine.control(now, Control::AnswerCall { call, device }) {
                    Err(E::AnswerNotSupported) => self.answers_refused += 1,
                    r => assert!(
                        matches!(r, Err(E::InvalidCallId | E::InvalidCallState)),
                        "seed {seed}: {r:?}"
                    ),
                }
            }
            CtiAction::Clear { call, device } => {
                let r = engine.control(now, Control::ClearConnection { call, device });
                assert!(
                    matches!(r, Ok(ControlOk::Done) | Err(E::InvalidCallId)),
                    "seed {seed}: {r:?}"
                );
            }
            CtiAction::Consult { call, device } => {
                let r = engine.control(
                    now,
                    Control::ConsultationCall {
                        call,
                        device: device.clone(),
                        to: CONSULT_TARGET.into(),
                    },
                );
                match r {
                    Ok(ControlOk::Call(active)) => {
                        self.consults += 1;
                        self.make_calls.push((active, device.clone()));
                        let after = Duration::from_millis(300 + rng.below(3000));
                        let roll = rng.below(100);
                        let next = if roll < 40 {
                            CtiAction::Transfer {
                                held: call,
                                active,
                                device,
                            }
                        } else if roll < 70 {
                            CtiAction::Conference {
                                held: call,
                                active,
                                device,
                            }
                        } else {
                            CtiAction::Clear {
                                call: active,
                                device,
                            }
                        };
                        self.actions.push((now + after, next));
                    }
                    // Not answered yet (or a hold still waiting): try again a bit later.
                    Err(E::InvalidCallState | E::RequestInProgress) => self.actions.push((
                        now + Duration::from_secs(1),
                        CtiAction::Consult { call, device },
                    )),
                    r => assert!(refused(&r), "seed {seed}: {r:?}"),
                }
            }
            CtiAction::Conference {
                held,
                active,
                device,
            } => {
                let r = engine.control(
                    now,
                    Control::ConferenceCall {
                        held_call: held,
                        active_call: active,
                        device: device.clone(),
                    },
                );
                // Once conferenced the device leaves after a while (or clears what is
                // left of it); otherwise it clears the consultation.
                let after = if r.is_ok() {
                    self.conferences += 1;
                    self.conferenced.insert(active);
                    if rng.chance(50) {
                        // A fourth party, consulted from the conference.
                        self.actions.push((
                            now + Duration::from_millis(300 + rng.below(2_000)),
                            CtiAction::Consult {
                                call: active,
                                device: device.clone(),
                            },
                        ));
                    }
                    Duration::from_millis(500 + rng.below(6_000))
                } else {
                    assert!(refused(&r), "seed {seed}: {r:?}");
                    Duration::from_millis(500)
                };
                self.actions.push((
                    now + after,
                    CtiAction::Clear {
                        call: active,
                        device,
                    },
                ));
            }
            CtiAction::Transfer {
                held,
                active,
                device,
            } => {
                let r = engine.control(
                    now,
                    Control::TransferCall {
                        held_call: held,
                        active_call: active,
                        device: device.clone(),
                    },
                );
                match r {
                    Ok(ControlOk::Done) => self.transfers += 1,
                    // Not possible now: the consultation is cleared instead.
                    r if refused(&r) => self.actions.push((
                        now + Duration::from_millis(500),
                        CtiAction::Clear {
                            call: active,
                            device,
                        },
                    )),
                    r => panic!("seed {seed}: {r:?}"),
                }
            }
        }
        true
    }

    /// Every call the client placed ended once for its device and left nothing behind.
    pub fn check_ended(&self, engine: &Engine, seed: u64) {
        for (call, device) in &self.make_calls {
            if self.conferenced.contains(call) {
                assert!(
                    self.endings.get(call).copied().unwrap_or(0) <= 1,
                    "seed {seed}: conference {call} ends at most once for its device"
                );
            } else {
                assert_eq!(
                    self.endings.get(call),
                    Some(&1),
                    "seed {seed}: CTI call {call} ends once for its device"
                );
            }
            assert!(
                engine.device_calls(device).is_empty(),
                "seed {seed}: {device} still has calls"
            );
        }
    }
}
