//! Where a call goes: digit analysis over the provisioning snapshot, from the caller's calling
//! search space to a line, a trunk route, or a refusal with the SIP status and Q.850 cause to
//! answer. Pure: takes the snapshot and the numbers, returns a decision.

use std::time::Duration;

use tether_dialplan::{AnalysisError, Target};
use tether_store::model::{Device, DeviceKind, Line, RemoteDestination};
use tether_store::Snapshot;

/// Why a call cannot go anywhere: the response to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub reason: &'static str,
    /// Q.850 cause for the `Reason` header and the CDR.
    pub cause: u8,
    pub detail: String,
}

impl Refusal {
    pub fn new(status: u16, reason: &'static str, cause: u8, detail: impl Into<String>) -> Refusal {
        Refusal {
            status,
            reason,
            cause,
            detail: detail.into(),
        }
    }
}

/// One remote destination to ring: the number to dial and the trunks to try, in hunt order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RdTarget {
    pub rd: String,
    /// The RD number as provisioned (for the CDR; never shown to a party).
    pub number: String,
    /// The digits sent to the trunk, after dial rules and the route pattern's transformations.
    pub dialed: String,
    pub trunks: Vec<String>,
    pub delay_before_ringing: Duration,
    pub answer_too_soon: Duration,
    pub answer_too_late: Duration,
}

/// Where an analyzed call goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Destination {
    /// A line on a CTI remote device: ring its remote destinations. `fork` when the device has
    /// no active RD and routes to all of them.
    RemoteDestinations {
        device: String,
        line: Line,
        targets: Vec<RdTarget>,
        fork: bool,
    },
    /// A line on a SIP phone: ring its registered contacts.
    Phone { device: String, line: Line },
    /// Out through a trunk route.
    Trunk { called: String, trunks: Vec<String> },
}

/// A line's Call Forward All sent the call elsewhere.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Forwarded {
    /// The DN the call was for (the first line that forwarded it).
    pub dn: String,
    /// That line's device.
    pub device: String,
    /// The line's forward target, as provisioned.
    pub to: String,
}

/// The decision for a call to `called` from `calling`, analyzed through `css`, and the
/// forwarding that led there, if a line forwarded it.
pub fn route(
    snap: &Snapshot,
    css: &str,
    calling: &str,
    called: &str,
) -> Result<(Destination, Option<Forwarded>), Refusal> {
    route_inner(snap, css, calling, called, 0)
}

fn route_inner(
    snap: &Snapshot,
    css: &str,
    calling: &str,
    called: &str,
    depth: u8,
) -> Result<(Destination, Option<Forwarded>), Refusal> {
    let a = snap
        .analyze(css, calling, called)
        .map_err(analysis_refusal)?;
    match a.target {
        Target::Route { .. } => {
            let trunks: Vec<String> = a
                .route
                .iter()
                .flat_map(|r| r.trunks())
                .map(str::to_owned)
                .collect();
            if trunks.is_empty() {
                return Err(Refusal::new(
                    503,
                    "Service Unavailable",
                    34,
                    "the route list has no trunks",
                ));
            }
            Ok((
                Destination::Trunk {
                    called: a.called,
                    trunks,
                },
                None,
            ))
        }
        Target::Line { device } => {
            let Some(dev) = snap.device(&device) else {
                return Err(Refusal::new(
                    404,
                    "Not Found",
                    1,
                    format!("device {device} is gone"),
                ));
            };
            let line = find_line(snap, &a.partition, &a.pattern, &device)
                .ok_or_else(|| {
                    Refusal::new(
                        404,
                        "Not Found",
                        1,
                        format!("no line {} on {device}", a.pattern),
                    )
                })?
                .clone();
            if let Some(cfa) = line.call_forward_all.as_deref().filter(|c| !c.is_empty()) {
                if depth >= 4 {
                    return Err(Refusal::new(
                        482,
                        "Loop Detected",
                        25,
                        "call forward all loops",
                    ));
                }
                let css = dev.css.as_deref().unwrap_or(css);
                let (d, _) = route_inner(snap, css, calling, cfa, depth + 1)?;
                let fwd = Forwarded {
                    dn: line.dn.clone(),
                    device: device.clone(),
                    to: cfa.to_owned(),
                };
                return Ok((d, Some(fwd)));
            }
            if line.dnd {
                return Err(Refusal::new(
                    486,
                    "Busy Here",
                    17,
                    format!("line {} is in do-not-disturb", line.dn),
                ));
            }
            match dev.kind {
                DeviceKind::SipPhone => Ok((Destination::Phone { device, line }, None)),
                DeviceKind::CtiRemoteDevice => {
                    rd_destination(snap, dev, line, calling).map(|d| (d, None))
                }
            }
        }
        Target::Block | Target::Translation { .. } => Err(Refusal::new(
            403,
            "Forbidden",
            21,
            format!("blocked by pattern {}", a.pattern),
        )),
    }
}

fn find_line<'a>(
    snap: &'a Snapshot,
    partition: &str,
    pattern: &str,
    device: &str,
) -> Option<&'a Line> {
    if let Some(l) = snap.line(partition, pattern) {
        return Some(l);
    }
    // An E.164 alias matched (its pattern is the escaped `\+…` form).
    let e164 = pattern.strip_prefix('\\').unwrap_or(pattern);
    snap.lines_of(device)
        .find(|l| l.e164.as_deref() == Some(e164))
}

fn analysis_refusal(e: AnalysisError) -> Refusal {
    match e {
        AnalysisError::Blocked { pattern, .. } => {
            Refusal::new(403, "Forbidden", 21, format!("blocked by {pattern}"))
        }
        AnalysisError::InvalidDigits(d) => Refusal::new(
            484,
            "Address Incomplete",
            28,
            format!("not a dialable number: {d}"),
        ),
        other => Refusal::new(404, "Not Found", 1, other.to_string()),
    }
}

/// The remote destinations a call to `line` on CTI remote device `dev` rings.
fn rd_destination(
    snap: &Snapshot,
    dev: &Device,
    line: Line,
    calling: &str,
) -> Result<Destination, Refusal> {
    let rds: Vec<&RemoteDestination> = snap.remote_destinations_of(&dev.name).collect();
    let active: Vec<&RemoteDestination> = rds.iter().copied().filter(|r| r.active).collect();
    let (chosen, fork) = if !active.is_empty() {
        (active, false)
    } else if dev.route_to_all_rds_when_none_active && !rds.is_empty() {
        (rds, true)
    } else {
        return Err(Refusal::new(
            486,
            "Busy Here",
            17,
            format!("device {} has no active remote destination", dev.name),
        ));
    };
    let Some(css) = dev.reroute_css.as_deref() else {
        return Err(Refusal::new(
            480,
            "Temporarily Unavailable",
            18,
            format!("device {} has no reroute CSS", dev.name),
        ));
    };
    let mut targets = Vec::new();
    let mut last_error = None;
    for rd in chosen {
        match rd_target(snap, css, rd, calling, fork) {
            Ok(t) => targets.push(t),
            Err(e) => last_error = Some(e),
        }
    }
    if targets.is_empty() {
        return Err(Refusal::new(
            480,
            "Temporarily Unavailable",
            3,
            last_error.unwrap_or_else(|| "no routable remote destination".into()),
        ));
    }
    Ok(Destination::RemoteDestinations {
        device: dev.name.clone(),
        line,
        targets,
        fork,
    })
}

/// How remote destination `rd` is reached through `reroute_css`: its number after the
/// application dial rules, analysed like any call, to a route with trunks. `fork` gives it its
/// delay before ringing. The error says why, naming the RD (never its number).
pub fn rd_target(
    snap: &Snapshot,
    reroute_css: &str,
    rd: &RemoteDestination,
    calling: &str,
    fork: bool,
) -> Result<RdTarget, String> {
    let dialed = snap.apply_dial_rules(&rd.number);
    let digits = dialable(&dialed);
    let a = snap
        .analyze(reroute_css, calling, &digits)
        .map_err(|e| format!("{}: {}", rd.name, analysis_refusal(e).reason))?;
    let trunks: Vec<String> = a
        .route
        .iter()
        .flat_map(|r| r.trunks())
        .map(str::to_owned)
        .collect();
    if trunks.is_empty() {
        return Err(format!("{} routes to no trunk", rd.name));
    }
    Ok(RdTarget {
        rd: rd.name.clone(),
        number: rd.number.clone(),
        dialed: a.called,
        trunks,
        delay_before_ringing: if fork {
            Duration::from_millis(rd.delay_before_ringing_ms.into())
        } else {
            Duration::ZERO
        },
        answer_too_soon: Duration::from_millis(rd.answer_too_soon_ms.into()),
        answer_too_late: Duration::from_millis(rd.answer_too_late_ms.into()),
    })
}

/// A number as dialed, without the separators people write (`91-408 555.0100`).
pub fn dialable(number: &str) -> String {
    number
        .chars()
        .filter(|c| !matches!(c, '-' | ' ' | '.' | '(' | ')'))
        .collect()
}
