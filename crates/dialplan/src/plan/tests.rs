//! Building plans: every dangling or duplicate name is refused with an error that names it.

use super::*;

/// An entry with identity transformations.
pub(crate) fn entry(pattern: &str, partition: &str, target: Target) -> Entry {
    Entry {
        pattern: Pattern::parse(pattern).unwrap_or_else(|e| panic!("{e}")),
        partition: partition.into(),
        target,
        called: Transform::default(),
        calling: Transform::default(),
    }
}

pub(crate) fn line(device: &str) -> Target {
    Target::Line {
        device: device.into(),
    }
}

pub(crate) fn route(list: &str) -> Target {
    Target::Route {
        route_list: list.into(),
    }
}

pub(crate) fn names(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn base() -> DialPlanBuilder {
    let mut b = DialPlanBuilder::new();
    b.partition("a").partition("b");
    b.css("ab", names(&["a", "b"]));
    b.route_group(RouteGroup {
        name: "g".into(),
        trunks: names(&["t1"]),
    });
    b.route_list(RouteList {
        name: "l".into(),
        groups: names(&["g"]),
    });
    b
}

fn build_err(b: DialPlanBuilder) -> PlanError {
    match b.build() {
        Ok(_) => panic!("the plan should be refused"),
        Err(e) => e,
    }
}

#[test]
fn a_consistent_plan_builds() {
    let mut b = base();
    b.css("empty", vec![]);
    b.entry(entry("2000", "a", line("d")))
        .entry(entry("2000", "b", line("d2")))
        .entry(entry("9.XXXX", "b", route("l")))
        .entry(entry(
            "8.XXXX",
            "a",
            Target::Translation { css: "ab".into() },
        ))
        .entry(entry("9.1900!", "a", Target::Block));
    let plan = b.build().unwrap();
    assert_eq!(plan.len(), 5);
    assert_eq!(plan.css_names().collect::<Vec<_>>(), ["ab", "empty"]);
    assert!(plan.has_css("ab") && !plan.has_css("AB"));
    let debug = format!("{plan:?}");
    assert!(debug.contains("entries: 5"), "{debug}");
}

#[test]
fn duplicate_names() {
    let mut b = base();
    b.partition("a");
    assert_eq!(build_err(b), PlanError::DuplicatePartition("a".into()));
    let mut b = base();
    b.css("ab", vec![]);
    assert_eq!(build_err(b), PlanError::DuplicateCss("ab".into()));
    let mut b = base();
    b.route_group(RouteGroup {
        name: "g".into(),
        trunks: vec![],
    });
    assert_eq!(build_err(b), PlanError::DuplicateRouteGroup("g".into()));
    let mut b = base();
    b.route_list(RouteList {
        name: "l".into(),
        groups: vec![],
    });
    assert_eq!(build_err(b), PlanError::DuplicateRouteList("l".into()));
}

#[test]
fn unknown_references_name_both_ends() {
    let mut b = base();
    b.css("x", names(&["a", "nowhere"]));
    let e = build_err(b);
    assert_eq!(
        e,
        PlanError::UnknownPartition {
            css: "x".into(),
            partition: "nowhere".into()
        }
    );
    assert_eq!(
        e.to_string(),
        r#"calling search space "x" lists unknown partition "nowhere""#
    );

    let mut b = base();
    b.entry(entry("2000", "nowhere", line("d")));
    assert_eq!(
        build_err(b),
        PlanError::EntryInUnknownPartition {
            pattern: "2000".into(),
            partition: "nowhere".into()
        }
    );

    let mut b = base();
    b.entry(entry("9.!", "a", route("missing")));
    let e = build_err(b);
    assert!(
        e.to_string()
            .contains(r#"route pattern "9.!" in partition "a""#)
            && e.to_string().contains(r#"unknown route list "missing""#),
        "{e}"
    );

    let mut b = base();
    b.entry(entry("8!", "a", Target::Translation { css: "cx".into() }));
    assert_eq!(
        build_err(b),
        PlanError::UnknownCss {
            pattern: "8!".into(),
            partition: "a".into(),
            css: "cx".into()
        }
    );

    let mut b = base();
    b.route_list(RouteList {
        name: "l2".into(),
        groups: names(&["g", "g9"]),
    });
    assert_eq!(
        build_err(b),
        PlanError::UnknownRouteGroup {
            route_list: "l2".into(),
            group: "g9".into()
        }
    );
}

#[test]
fn duplicate_patterns_in_one_partition() {
    let mut b = base();
    b.entry(entry("2XXX", "a", line("d")))
        .entry(entry("2XXX", "b", line("d")))
        .entry(entry("2XXX", "a", route("l")));
    let e = build_err(b);
    assert_eq!(
        e,
        PlanError::DuplicatePattern {
            pattern: "2XXX".into(),
            partition: "a".into(),
            existing: "2XXX".into()
        }
    );
    assert_eq!(
        e.to_string(),
        r#"pattern "2XXX" duplicates "2XXX" in partition "a""#
    );

    // Literals that spell the same digits are the same pattern.
    let mut b = base();
    b.entry(entry("91000", "a", line("d")))
        .entry(entry("9.1000", "a", route("l")));
    assert_eq!(
        build_err(b),
        PlanError::DuplicatePattern {
            pattern: "9.1000".into(),
            partition: "a".into(),
            existing: "91000".into()
        }
    );
}

#[test]
fn transformations_are_checked() {
    let mut b = base();
    let mut e = entry("9.!", "a", route("l"));
    e.called.prefix = "9a".into();
    b.entry(e);
    let err = build_err(b);
    assert!(
        matches!(
            &err,
            PlanError::InvalidTransform {
                party: Party::Called,
                error: TransformError::InvalidCharacter { character: 'a', .. },
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with(r#"called-party transformation of pattern "9.!" in partition "a": invalid character 'a'"#),
        "{err}"
    );

    let mut b = base();
    let mut e = entry("9.!", "a", route("l"));
    e.calling.discard_predot = true;
    b.entry(e);
    assert!(matches!(
        build_err(b),
        PlanError::InvalidTransform {
            party: Party::Calling,
            error: TransformError::DiscardPredotOnCallingParty,
            ..
        }
    ));

    let mut b = base();
    let mut e = entry("9.!", "a", route("l"));
    e.calling.mask = Some(String::new());
    b.entry(e);
    assert!(matches!(
        build_err(b),
        PlanError::InvalidTransform {
            party: Party::Calling,
            error: TransformError::EmptyMask,
            ..
        }
    ));
}

#[test]
fn plans_are_shareable() {
    fn send_sync<T: Send + Sync + Clone>() {}
    send_sync::<DialPlan>();
    let plan = base().build().unwrap();
    let copy = plan.clone();
    assert!(
        Arc::ptr_eq(&plan.inner, &copy.inner),
        "a clone shares the index"
    );
    assert!(plan.is_empty());
}

#[test]
fn targets_serialize_with_a_kind_tag() {
    let json = serde_json::to_string(&route("l")).unwrap();
    assert_eq!(json, r#"{"kind":"route","route_list":"l"}"#);
    assert_eq!(
        serde_json::to_string(&Target::Block).unwrap(),
        r#"{"kind":"block"}"#
    );
    let back: Target = serde_json::from_str(r#"{"kind":"line","device":"d"}"#).unwrap();
    assert_eq!(back, line("d"));
}
