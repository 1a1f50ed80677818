//! The read-only view the call path uses. Built from a [`Provisioning`] once per committed write
//! and swapped in atomically, so a call never waits on the database and never sees half a write.
//!
//! Building a snapshot is also where the provisioning invariants are checked (`rules.rs`): a
//! snapshot that exists is a data set that obeys every rule.

use std::collections::HashMap;
use std::sync::Arc;

use tether_dialplan::{
    AnalysisError, DialPlan, DialPlanBuilder, Entry, NumberKey, NumberingPlan,
    Pattern as DialPattern, RouteGroup as PlanRouteGroup, RouteList as PlanRouteList, Target,
    Transform,
};

use crate::error::{Code, Violation};
use crate::model::{Device, Line, PatternKind, RemoteDestination, Transformation, User};
use crate::provisioning::Provisioning;
use crate::rules::{self, Obj, RdKey};

/// Provisioning plus the indexes the call path looks things up by. Index values are shared
/// (`Arc`) so that each question is one hash probe and building the indexes copies nothing.
#[derive(Clone, Debug)]
pub struct Snapshot {
    data: Provisioning,
    numbering: NumberingPlan,
    plan: DialPlan,
    /// Equivalence key of every RD number → the RD.
    rd_by_number: HashMap<RdKey, Arc<RemoteDestination>>,
    /// Equivalence key of every DN and E.164 alias → the line.
    line_by_number: HashMap<NumberKey, Arc<Line>>,
    /// Directory URI (lower case) → the line.
    line_by_uri: HashMap<String, Arc<Line>>,
    /// Device → its lines, by position.
    lines_by_device: HashMap<String, Vec<Arc<Line>>>,
    /// Device → its RDs, by name.
    rds_by_device: HashMap<String, Vec<Arc<RemoteDestination>>>,
    /// SIP digest user name → device.
    device_by_sip_user: HashMap<String, String>,
    /// Dial rules by priority (then name).
    dial_rules: Vec<tether_dialplan::DialRule>,
    version: u64,
}

impl Snapshot {
    /// An empty data set.
    pub fn empty(numbering: NumberingPlan) -> Snapshot {
        // No external input reaches this: an empty data set breaks no rule.
        Snapshot::build(Provisioning::default(), numbering, 0)
            .expect("an empty provisioning data set is valid")
    }

    /// Checks every rule and builds the indexes and the dial plan; lists every violation found.
    pub fn build(
        data: Provisioning,
        numbering: NumberingPlan,
        version: u64,
    ) -> Result<Snapshot, Vec<Violation>> {
        let mut v = Vec::new();
        rules::check_objects(&data, &numbering, &mut v);

        let mut lines_by_device: HashMap<String, Vec<Arc<Line>>> = HashMap::new();
        let mut line_by_number: HashMap<NumberKey, Arc<Line>> =
            HashMap::with_capacity(data.lines.len() * 2);
        let mut line_by_uri: HashMap<String, Arc<Line>> = HashMap::new();
        for line in data.lines.values() {
            let line = Arc::new(line.clone());
            lines_by_device
                .entry(line.device.clone())
                .or_default()
                .push(line.clone());
            // The same DN in two partitions is allowed (partitions exist for that); the same
            // E.164 alias on two lines is not.
            if let Ok(k) = numbering.equivalence_key(&line.dn) {
                line_by_number.entry(k).or_insert_with(|| line.clone());
            }
            if let Some(e164) = &line.e164 {
                if let Ok(k) = numbering.equivalence_key(e164) {
                    match line_by_number.get(&k) {
                        Some(other) if other.e164.as_deref() == Some(e164.as_str()) => v.push(
                            Violation::new(
                                Code::DuplicateDirectoryNumber,
                                Some("e164"),
                                format!(
                                    "E.164 alias {e164} is already used by line {}/{}",
                                    other.partition, other.dn
                                ),
                            )
                            .on(Obj(
                                "line",
                                &line.partition,
                                Some(&line.dn),
                            )
                            .to_string()),
                        ),
                        _ => {
                            line_by_number.insert(k, line.clone());
                        }
                    }
                }
            }
            if let Some(uri) = &line.directory_uri {
                if let Some(other) = line_by_uri.insert(uri.to_ascii_lowercase(), line.clone()) {
                    v.push(
                        Violation::new(
                            Code::DuplicateDirectoryNumber,
                            Some("directory_uri"),
                            format!(
                                "directory URI {uri} is already used by line {}/{}",
                                other.partition, other.dn
                            ),
                        )
                        .on(Obj("line", &line.partition, Some(&line.dn)).to_string()),
                    );
                }
            }
        }
        for lines in lines_by_device.values_mut() {
            lines.sort_by_key(|l| l.position);
        }
        rules::check_lines_per_device(&lines_by_device, &mut v);

        let mut rds_by_device: HashMap<String, Vec<Arc<RemoteDestination>>> = HashMap::new();
        let mut rd_by_number: HashMap<RdKey, Arc<RemoteDestination>> =
            HashMap::with_capacity(data.remote_destinations.len());
        for rd in data.remote_destinations.values() {
            let rd = Arc::new(rd.clone());
            rds_by_device
                .entry(rd.device.clone())
                .or_default()
                .push(rd.clone());
            let what = Obj("remote_destination", &rd.device, Some(&rd.name));
            let number_key = match rules::rd_number_key(&numbering, &rd.number) {
                Ok(k) => k,
                Err(e) => {
                    v.push(e.on(what.to_string()));
                    continue;
                }
            };
            let line = match &number_key {
                RdKey::Number(k) => line_by_number.get(k),
                RdKey::Uri(_) => None,
            };
            if let Some(line) = line {
                v.push(
                    Violation::new(
                        Code::RdIsDirectoryNumber,
                        Some("number"),
                        format!(
                            "{} is directory number {} in partition {}; a DN can never be a remote destination",
                            rd.number, line.dn, line.partition
                        ),
                    )
                    .on(what.to_string()),
                );
            }
            match rd_by_number.get(&number_key) {
                Some(other) => v.push(
                    Violation::new(
                        Code::DuplicateRemoteDestination,
                        Some("number"),
                        format!(
                            "{} is the same number as remote destination {} of device {}",
                            rd.number, other.name, other.device
                        ),
                    )
                    .on(what.to_string()),
                ),
                None => {
                    rd_by_number.insert(number_key, rd.clone());
                }
            }
        }
        rules::check_rds_per_device(&data, &rds_by_device, &mut v);

        let mut device_by_sip_user = HashMap::new();
        for d in data.devices.values() {
            if let Some(u) = &d.sip_username {
                if let Some(other) = device_by_sip_user.insert(u.clone(), d.name.clone()) {
                    v.push(
                        Violation::new(
                            Code::AlreadyExists,
                            Some("sip_username"),
                            format!("SIP user name {u} is already used by device {other}"),
                        )
                        .on(Obj("device", &d.name, None).to_string()),
                    );
                }
            }
        }

        let plan = build_plan(&data, &mut v);
        let mut dial_rules: Vec<_> = data.dial_rules.values().map(to_plan_rule).collect();
        dial_rules.sort_by(|a, b| {
            a.priority
                .cmp(&b.priority)
                .then_with(|| a.name.cmp(&b.name))
        });

        if !v.is_empty() {
            return Err(v);
        }
        let Some(plan) = plan else {
            return Err(vec![Violation::new(
                Code::InvalidField,
                None,
                "the dial plan does not build",
            )]);
        };
        Ok(Snapshot {
            data,
            numbering,
            plan,
            rd_by_number,
            line_by_number,
            line_by_uri,
            lines_by_device,
            rds_by_device,
            device_by_sip_user,
            dial_rules,
            version,
        })
    }

    pub fn data(&self) -> &Provisioning {
        &self.data
    }
    pub fn plan(&self) -> &DialPlan {
        &self.plan
    }
    pub fn numbering(&self) -> &NumberingPlan {
        &self.numbering
    }
    /// Increases by one with every committed write.
    pub fn version(&self) -> u64 {
        self.version
    }

    pub fn user(&self, id: &str) -> Option<&User> {
        self.data.users.get(id)
    }
    pub fn device(&self, name: &str) -> Option<&Device> {
        self.data.devices.get(name)
    }
    pub fn line(&self, partition: &str, dn: &str) -> Option<&Line> {
        self.data.lines.get(&(partition.to_owned(), dn.to_owned()))
    }
    /// The device's lines by button position.
    pub fn lines_of<'a>(&'a self, device: &str) -> impl Iterator<Item = &'a Line> + 'a {
        self.lines_by_device
            .get(device)
            .into_iter()
            .flatten()
            .map(|l| &**l)
    }
    /// The device's remote destinations, by name.
    pub fn remote_destinations_of<'a>(
        &'a self,
        device: &str,
    ) -> impl Iterator<Item = &'a RemoteDestination> + 'a {
        self.rds_by_device
            .get(device)
            .into_iter()
            .flatten()
            .map(|r| &**r)
    }
    /// The remote destination whose number is equivalent to `number` (any dialing form).
    pub fn remote_destination_by_number(&self, number: &str) -> Option<&RemoteDestination> {
        let key = rules::rd_number_key(&self.numbering, number).ok()?;
        self.rd_by_number.get(&key).map(|r| &**r)
    }
    /// The line whose DN or E.164 alias is equivalent to `number`.
    pub fn line_by_number(&self, number: &str) -> Option<&Line> {
        let key = self.numbering.equivalence_key(number).ok()?;
        self.line_by_number.get(&key).map(|l| &**l)
    }
    /// The line with directory URI `uri` (case-insensitive).
    pub fn line_by_uri(&self, uri: &str) -> Option<&Line> {
        self.line_by_uri
            .get(&uri.to_ascii_lowercase())
            .map(|l| &**l)
    }
    /// The SIP phone that authenticates as `user`.
    pub fn device_by_sip_user(&self, user: &str) -> Option<&Device> {
        self.data.devices.get(self.device_by_sip_user.get(user)?)
    }
    /// Applies the application dial rules to an RD number.
    pub fn apply_dial_rules(&self, number: &str) -> String {
        tether_dialplan::apply_dial_rules(&self.dial_rules, number)
    }
    /// Digit analysis through `css`.
    pub fn analyze(
        &self,
        css: &str,
        calling: &str,
        called: &str,
    ) -> Result<tether_dialplan::Analysis, AnalysisError> {
        self.plan.analyze(css, calling, called)
    }
    pub fn password_hash(&self, user: &str) -> Option<&str> {
        self.data.password_hashes.get(user).map(String::as_str)
    }
}

pub(crate) fn to_plan_rule(r: &crate::model::DialRule) -> tether_dialplan::DialRule {
    tether_dialplan::DialRule {
        name: r.name.clone(),
        begins_with: r.begins_with.clone(),
        num_digits: r.num_digits,
        digits_to_remove: r.digits_to_remove,
        prefix: r.prefix.clone(),
        priority: r.priority,
    }
}

pub(crate) fn to_transform(t: &Transformation) -> Transform {
    Transform {
        discard_predot: t.discard_predot,
        prefix: t.prefix.clone(),
        mask: t.mask.clone(),
    }
}

/// A DN or E.164 alias as a literal pattern (`+` is a pattern operator, so it is escaped).
pub(crate) fn dn_pattern(dn: &str) -> String {
    match dn.strip_prefix('+') {
        Some(rest) => format!("\\+{rest}"),
        None => dn.to_owned(),
    }
}

fn build_plan(data: &Provisioning, v: &mut Vec<Violation>) -> Option<DialPlan> {
    let mut b = DialPlanBuilder::new();
    for p in data.partitions.keys() {
        b.partition(p);
    }
    for css in data.css.values() {
        b.css(&css.name, css.partitions.clone());
    }
    for g in data.route_groups.values() {
        b.route_group(PlanRouteGroup {
            name: g.name.clone(),
            trunks: g.trunks.clone(),
        });
    }
    for l in data.route_lists.values() {
        b.route_list(PlanRouteList {
            name: l.name.clone(),
            groups: l.groups.clone(),
        });
    }
    // Route and translation patterns first, so a DN that collides with one is the one reported.
    let mut taken = std::collections::HashSet::new();
    for p in data.patterns.values() {
        let Ok(pattern) = DialPattern::parse(&p.pattern) else {
            continue; // reported by rules::check_objects
        };
        let target = match p.kind {
            PatternKind::Route => match &p.route_list {
                Some(rl) => Target::Route {
                    route_list: rl.clone(),
                },
                None => continue,
            },
            PatternKind::Translation => match &p.css {
                Some(css) => Target::Translation { css: css.clone() },
                None => continue,
            },
            PatternKind::Block => Target::Block,
        };
        taken.insert((p.partition.clone(), pattern.as_str().to_owned()));
        b.entry(Entry {
            pattern,
            partition: p.partition.clone(),
            target,
            called: to_transform(&p.called),
            calling: to_transform(&p.calling),
        });
    }
    for line in data.lines.values() {
        for number in std::iter::once(&line.dn).chain(line.e164.iter()) {
            let text = dn_pattern(number);
            let Ok(pattern) = DialPattern::parse(&text) else {
                continue; // reported by rules::check_objects
            };
            if !taken.insert((line.partition.clone(), pattern.as_str().to_owned())) {
                v.push(
                    Violation::new(
                        Code::DuplicateDirectoryNumber,
                        Some("dn"),
                        format!(
                            "{number} is already a directory number or pattern in partition {}",
                            line.partition
                        ),
                    )
                    .on(format!("line {}/{}", line.partition, line.dn)),
                );
                continue;
            }
            b.entry(Entry {
                pattern,
                partition: line.partition.clone(),
                target: Target::Line {
                    device: line.device.clone(),
                },
                called: Transform::default(),
                calling: Transform::default(),
            });
        }
    }
    match b.build() {
        Ok(plan) => Some(plan),
        Err(e) => {
            if v.is_empty() {
                v.push(Violation::new(
                    Code::InvalidField,
                    None,
                    format!("dial plan: {e}"),
                ));
            }
            None
        }
    }
}
