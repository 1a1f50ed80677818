//! The provisioning rules of SPEC.md §1, checked on every write path.
//!
//! Pure functions over a candidate data set: they list every violation they find, with the
//! object and field at fault. `snapshot.rs` runs the whole-set checks as it builds its indexes;
//! `Store::write` adds the end-user checks (ownership, RD reachability) for self-care writes.

use std::collections::HashMap;

use tether_dialplan::{NumberKey, NumberingPlan, Pattern as DialPattern, Transform};

use crate::error::{Code, Violation};
use crate::model::{DeviceKind, PatternKind, RemoteDestination};
use crate::provisioning::Provisioning;
use crate::snapshot::{dn_pattern, to_plan_rule, to_transform, Snapshot};

/// Most lines on one device.
pub const MAX_LINES_PER_DEVICE: usize = 5;
/// Highest `max_remote_destinations` a user may have.
pub const MAX_RDS_CEILING: u32 = 10;

/// Names an object in a violation (`line Internal/2000`); formatted only when something is wrong.
#[derive(Clone, Copy)]
pub(crate) struct Obj<'a>(pub &'static str, pub &'a str, pub Option<&'a str>);

impl std::fmt::Display for Obj<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.2 {
            Some(b) => write!(f, "{} {}/{}", self.0, self.1, b),
            None => write!(f, "{} {}", self.0, self.1),
        }
    }
}

fn missing(code: Code, field: &str, what: &str, name: &str) -> Violation {
    Violation::new(code, Some(field), format!("{what} {name} does not exist"))
}

/// A name used as a key: non-empty, no `/`, no control characters, at most 128 bytes.
fn check_name(field: &str, value: &str, object: &Obj, v: &mut Vec<Violation>) {
    let bad =
        value.is_empty() || value.len() > 128 || value.chars().any(|c| c == '/' || c.is_control());
    if bad {
        v.push(
            Violation::new(
                Code::InvalidField,
                Some(field),
                format!("{field} must be 1 to 128 characters without '/' or control characters"),
            )
            .on(object.to_string()),
        );
    }
}

/// What makes two remote destinations the same: an equivalent number, or the same URI.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RdKey {
    Number(NumberKey),
    /// Lower-cased, without a `sip:`/`sips:` scheme.
    Uri(String),
}

/// A remote destination's equivalence key: numbers under the numbering plan, URIs by lower case.
pub fn rd_number_key(numbering: &NumberingPlan, number: &str) -> Result<RdKey, Violation> {
    if is_uri(number) {
        let lower = number.trim().to_ascii_lowercase();
        let bare = lower
            .strip_prefix("sips:")
            .or_else(|| lower.strip_prefix("sip:"))
            .unwrap_or(&lower);
        return Ok(RdKey::Uri(bare.to_owned()));
    }
    numbering
        .equivalence_key(number)
        .map(RdKey::Number)
        .map_err(|e| Violation::new(Code::InvalidField, Some("number"), e.to_string()))
}

/// An off-cluster SIP URI rather than a number.
pub fn is_uri(number: &str) -> bool {
    number.contains('@') || number.starts_with("sip:") || number.starts_with("sips:")
}

fn check_transform(
    t: &crate::model::Transformation,
    field: &str,
    object: &Obj,
    v: &mut Vec<Violation>,
) {
    if let Err(e) = to_transform(t).validate() {
        v.push(
            Violation::new(Code::InvalidField, Some(field), e.to_string()).on(object.to_string()),
        );
    }
}

/// Field values and references of every object.
pub fn check_objects(data: &Provisioning, numbering: &NumberingPlan, v: &mut Vec<Violation>) {
    for u in data.users.values() {
        let what = Obj("user", &u.id, None);
        check_name("id", &u.id, &what, v);
        if u.max_remote_destinations > MAX_RDS_CEILING {
            v.push(
                Violation::new(
                    Code::InvalidField,
                    Some("max_remote_destinations"),
                    format!(
                        "max_remote_destinations is {}; it must be between 0 and {MAX_RDS_CEILING}",
                        u.max_remote_destinations
                    ),
                )
                .on(what.to_string()),
            );
        }
        for (n, d) in u.associated_devices.iter().enumerate() {
            if !data.devices.contains_key(d) {
                v.push(
                    missing(Code::UnknownReference, "associated_devices", "device", d)
                        .on(what.to_string()),
                );
            } else if u.associated_devices[..n].contains(d) {
                v.push(
                    Violation::new(
                        Code::InvalidField,
                        Some("associated_devices"),
                        format!("device {d} is listed twice"),
                    )
                    .on(what.to_string()),
                );
            }
        }
    }
    for p in data.partitions.values() {
        check_name("name", &p.name, &Obj("partition", &p.name, None), v);
    }
    for c in data.css.values() {
        let what = Obj("css", &c.name, None);
        check_name("name", &c.name, &what, v);
        for p in &c.partitions {
            if !data.partitions.contains_key(p) {
                v.push(
                    missing(Code::UnknownReference, "partitions", "partition", p)
                        .on(what.to_string()),
                );
            }
        }
    }
    let css_ref = |field: &str, css: &Option<String>, what: &Obj, v: &mut Vec<Violation>| {
        if let Some(c) = css {
            if !data.css.contains_key(c) {
                v.push(
                    missing(Code::UnknownReference, field, "calling search space", c)
                        .on(what.to_string()),
                );
            }
        }
    };
    for d in data.devices.values() {
        let what = Obj("device", &d.name, None);
        check_name("name", &d.name, &what, v);
        css_ref("css", &d.css, &what, v);
        css_ref("reroute_css", &d.reroute_css, &what, v);
        match (&d.owner, data.users.get(d.owner.as_deref().unwrap_or(""))) {
            (Some(o), None) => v.push(missing(Code::UnknownReference, "owner", "user", o).on(what.to_string())),
            (Some(o), Some(user)) if d.kind == DeviceKind::CtiRemoteDevice && !user.mobility_enabled => v.push(
                Violation::new(
                    Code::MobilityNotEnabled,
                    Some("owner"),
                    format!("user {o} does not have mobility enabled, so cannot own a CTI remote device"),
                )
                .on(what.to_string()),
            ),
            (None, _) if d.kind == DeviceKind::CtiRemoteDevice => v.push(
                Violation::new(Code::InvalidField, Some("owner"), "a CTI remote device needs an owner")
                    .on(what.to_string()),
            ),
            _ => {}
        }
        if d.sip_username.is_some() != d.sip_password.is_some() {
            v.push(
                Violation::new(
                    Code::InvalidField,
                    Some("sip_password"),
                    "sip_username and sip_password are set together",
                )
                .on(what.to_string()),
            );
        }
        if d.kind == DeviceKind::CtiRemoteDevice && d.sip_username.is_some() {
            v.push(
                Violation::new(
                    Code::InvalidField,
                    Some("sip_username"),
                    "a CTI remote device does not register; only SIP phones have digest credentials",
                )
                .on(what.to_string()),
            );
        }
    }
    for ((partition, dn), l) in data.lines.iter() {
        let what = Obj("line", partition, Some(dn));
        if !data.partitions.contains_key(partition) {
            v.push(
                missing(Code::UnknownReference, "partition", "partition", partition)
                    .on(what.to_string()),
            );
        }
        if !data.devices.contains_key(&l.device) {
            v.push(
                missing(Code::UnknownReference, "device", "device", &l.device).on(what.to_string()),
            );
        }
        if !(1..=MAX_LINES_PER_DEVICE as u32).contains(&l.position) {
            v.push(
                Violation::new(
                    Code::InvalidField,
                    Some("position"),
                    format!(
                        "position is {}; a device has line positions 1 to {MAX_LINES_PER_DEVICE}",
                        l.position
                    ),
                )
                .on(what.to_string()),
            );
        }
        for (field, number) in std::iter::once(("dn", dn)).chain(l.e164.iter().map(|e| ("e164", e)))
        {
            let ok_chars = !number.is_empty()
                && number.char_indices().all(|(i, c)| {
                    c.is_ascii_digit() || c == '*' || c == '#' || (c == '+' && i == 0)
                });
            if !ok_chars || DialPattern::parse(&dn_pattern(number)).is_err() {
                v.push(
                    Violation::new(
                        Code::InvalidField,
                        Some(field),
                        format!(
                            "{number:?} is not a directory number (digits, *, # and a leading +)"
                        ),
                    )
                    .on(what.to_string()),
                );
            } else if field == "e164" && !number.starts_with('+') {
                v.push(
                    Violation::new(
                        Code::InvalidField,
                        Some("e164"),
                        format!("E.164 alias {number} must start with +"),
                    )
                    .on(what.to_string()),
                );
            }
        }
        let _ = numbering;
    }
    for ((device, name), rd) in data.remote_destinations.iter() {
        let what = Obj("remote_destination", device, Some(name));
        check_name("name", name, &what, v);
        match data.devices.get(device) {
            None => v.push(
                missing(Code::UnknownReference, "device", "device", device).on(what.to_string()),
            ),
            Some(d) if d.kind != DeviceKind::CtiRemoteDevice => v.push(
                Violation::new(
                    Code::InvalidField,
                    Some("device"),
                    format!("device {device} is not a CTI remote device"),
                )
                .on(what.to_string()),
            ),
            Some(_) => {}
        }
        check_rd_timers(rd, &what, v);
    }
    for t in data.trunks.values() {
        let what = Obj("trunk", &t.name, None);
        check_name("name", &t.name, &what, v);
        css_ref("inbound_css", &t.inbound_css, &what, v);
        if t.peer.trim().is_empty() {
            v.push(
                Violation::new(Code::InvalidField, Some("peer"), "peer must be host:port")
                    .on(what.to_string()),
            );
        }
        if t.channels == Some(0) {
            v.push(
                Violation::new(
                    Code::InvalidField,
                    Some("channels"),
                    "a trunk needs at least one channel",
                )
                .on(what.to_string()),
            );
        }
        for m in &t.cause_map {
            if !(1..=127).contains(&m.q850) || !(300..=699).contains(&m.sip) {
                v.push(
                    Violation::new(
                        Code::InvalidField,
                        Some("cause_map"),
                        format!(
                            "cause mapping {} -> {} is out of range (Q.850 1-127, SIP 300-699)",
                            m.q850, m.sip
                        ),
                    )
                    .on(what.to_string()),
                );
            }
        }
    }
    for g in data.route_groups.values() {
        let what = Obj("route_group", &g.name, None);
        check_name("name", &g.name, &what, v);
        for t in &g.trunks {
            if !data.trunks.contains_key(t) {
                v.push(missing(Code::UnknownReference, "trunks", "trunk", t).on(what.to_string()));
            }
        }
    }
    for l in data.route_lists.values() {
        let what = Obj("route_list", &l.name, None);
        check_name("name", &l.name, &what, v);
        for g in &l.groups {
            if !data.route_groups.contains_key(g) {
                v.push(
                    missing(Code::UnknownReference, "groups", "route group", g)
                        .on(what.to_string()),
                );
            }
        }
    }
    for ((partition, pattern), p) in data.patterns.iter() {
        let what = Obj("pattern", partition, Some(pattern));
        if !data.partitions.contains_key(partition) {
            v.push(
                missing(Code::UnknownReference, "partition", "partition", partition)
                    .on(what.to_string()),
            );
        }
        if let Err(e) = DialPattern::parse(pattern) {
            v.push(
                Violation::new(Code::InvalidField, Some("pattern"), e.to_string())
                    .on(what.to_string()),
            );
        }
        match p.kind {
            PatternKind::Route => match &p.route_list {
                None => v.push(
                    Violation::new(
                        Code::InvalidField,
                        Some("route_list"),
                        "a route pattern needs a route_list",
                    )
                    .on(what.to_string()),
                ),
                Some(rl) if !data.route_lists.contains_key(rl) => v.push(
                    missing(Code::UnknownReference, "route_list", "route list", rl)
                        .on(what.to_string()),
                ),
                Some(_) => {}
            },
            PatternKind::Translation => match &p.css {
                None => v.push(
                    Violation::new(
                        Code::InvalidField,
                        Some("css"),
                        "a translation pattern needs a css",
                    )
                    .on(what.to_string()),
                ),
                Some(c) if !data.css.contains_key(c) => v.push(
                    missing(Code::UnknownReference, "css", "calling search space", c)
                        .on(what.to_string()),
                ),
                Some(_) => {}
            },
            PatternKind::Block => {}
        }
        check_transform(&p.called, "called", &what, v);
        check_transform(&p.calling, "calling", &what, v);
    }
    for r in data.dial_rules.values() {
        let what = Obj("dial_rule", &r.name, None);
        check_name("name", &r.name, &what, v);
        if let Err(e) = to_plan_rule(r).validate() {
            v.push(Violation::new(Code::InvalidField, None, e.to_string()).on(what.to_string()));
        }
    }
    for a in data.announcements.values() {
        let what = Obj("announcement", &a.id, None);
        check_name("id", &a.id, &what, v);
        if a.file.trim().is_empty() {
            v.push(
                Violation::new(
                    Code::InvalidField,
                    Some("file"),
                    "file must name a WAV file",
                )
                .on(what.to_string()),
            );
        }
    }
    let _ = Transform::default;
}

fn check_rd_timers(rd: &RemoteDestination, what: &Obj, v: &mut Vec<Violation>) {
    if rd.answer_too_soon_ms >= rd.answer_too_late_ms {
        v.push(
            Violation::new(
                Code::InvalidField,
                Some("answer_too_soon_ms"),
                format!(
                    "answer_too_soon_ms ({}) must be less than answer_too_late_ms ({})",
                    rd.answer_too_soon_ms, rd.answer_too_late_ms
                ),
            )
            .on(what.to_string()),
        );
    }
    if rd.number.trim().is_empty() {
        v.push(
            Violation::new(Code::InvalidField, Some("number"), "number is empty")
                .on(what.to_string()),
        );
    }
}

/// At most five lines per device, each at its own position.
pub fn check_lines_per_device(
    lines_by_device: &HashMap<String, Vec<std::sync::Arc<crate::model::Line>>>,
    v: &mut Vec<Violation>,
) {
    for (device, lines) in lines_by_device {
        if lines.len() > MAX_LINES_PER_DEVICE {
            v.push(
                Violation::new(
                    Code::LineLimitExceeded,
                    Some("device"),
                    format!(
                        "device {device} would have {} lines; a device has at most {MAX_LINES_PER_DEVICE}",
                        lines.len()
                    ),
                )
                .on(format!("device {device}")),
            );
        }
        // Sorted by position: a repeat is next to its twin.
        for pair in lines.windows(2) {
            if pair[0].position == pair[1].position {
                v.push(
                    Violation::new(
                        Code::InvalidField,
                        Some("position"),
                        format!(
                            "device {device} already has a line at position {}",
                            pair[1].position
                        ),
                    )
                    .on(Obj("line", &pair[1].partition, Some(&pair[1].dn)).to_string()),
                );
            }
        }
    }
}

/// At most the owner's `max_remote_destinations` RDs per device.
pub fn check_rds_per_device(
    data: &Provisioning,
    rds_by_device: &HashMap<String, Vec<std::sync::Arc<RemoteDestination>>>,
    v: &mut Vec<Violation>,
) {
    for (device, rds) in rds_by_device {
        let Some(owner) = data
            .devices
            .get(device)
            .and_then(|d| d.owner.as_ref())
            .and_then(|o| data.users.get(o))
        else {
            continue; // reported as a reference error
        };
        let max = owner.max_remote_destinations.min(MAX_RDS_CEILING) as usize;
        if rds.len() > max {
            v.push(
                Violation::new(
                    Code::RemoteDestinationLimitExceeded,
                    Some("device"),
                    format!(
                        "device {device} would have {} remote destinations; its owner {} may have at most {max}",
                        rds.len(),
                        owner.id
                    ),
                )
                .on(format!("device {device}")),
            );
        }
    }
}

/// The end-user path: an RD is only accepted if, after the application dial rules, its number
/// matches a route through the device's reroute CSS. Verification is by pattern, not by calling.
pub fn check_reachable(snapshot: &Snapshot, rd: &RemoteDestination) -> Result<(), Violation> {
    let what = format!("remote_destination {}/{}", rd.device, rd.name);
    if is_uri(&rd.number) {
        return Ok(()); // off-cluster URIs are routed by domain, not by digit analysis
    }
    let Some(device) = snapshot.device(&rd.device) else {
        return Err(missing(Code::UnknownReference, "device", "device", &rd.device).on(what));
    };
    let Some(css) = &device.reroute_css else {
        return Err(Violation::new(
            Code::RdNotReachable,
            Some("number"),
            format!(
                "device {} has no reroute calling search space, so no number is reachable",
                device.name
            ),
        )
        .on(what));
    };
    let dialed = snapshot.apply_dial_rules(&rd.number);
    let digits: String = dialed
        .chars()
        .filter(|c| !matches!(c, '-' | ' ' | '.' | '(' | ')'))
        .collect();
    match snapshot.analyze(css, "", &digits) {
        Ok(a) if a.route.is_some() => Ok(()),
        Ok(a) => Err(Violation::new(
            Code::RdNotReachable,
            Some("number"),
            format!(
                "{} (dialed as {digits}) matches {} in partition {}, which is not a route to a trunk",
                rd.number, a.pattern, a.partition
            ),
        )
        .on(what)),
        Err(e) => Err(Violation::new(
            Code::RdNotReachable,
            Some("number"),
            format!("{} (dialed as {digits}) is not reachable through {css}: {e}", rd.number),
        )
        .on(what)),
    }
}
