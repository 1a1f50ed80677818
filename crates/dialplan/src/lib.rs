//! `tether-dialplan`: digit analysis for Tether — Cisco route patterns, partitions, calling
//! search spaces, translation patterns, route lists, application dial rules and remote
//! destination number equivalence.
//!
//! This crate is pure: no I/O, no async, no clock, no panics on any input. It must not know
//! where the provisioning comes from (the store builds a [`DialPlan`] from each snapshot) nor
//! what happens to a call after analysis (the call engine hunts the trunks of the
//! [`ResolvedRoute`]).
//!
//! - [`Pattern`] parses and matches route-pattern syntax and ranks itself for closest match
//!   ([`Specificity`]).
//! - [`DialPlanBuilder`] checks a snapshot and compiles it; [`DialPlan::analyze`] finds the
//!   closest match through a calling search space, follows translation patterns and applies
//!   [`Transform`]s, returning an [`Analysis`] or an [`AnalysisError`] that says why not.
//! - [`apply_dial_rules`] rewrites remote-destination numbers; [`NumberingPlan`] gives
//!   numbers that differ only by dialing prefix the same [`NumberKey`].
//!
//! ```
//! use tether_dialplan::{DialPlanBuilder, Entry, Pattern, RouteGroup, RouteList, Target, Transform};
//!
//! let mut b = DialPlanBuilder::new();
//! b.partition("internal").partition("pstn");
//! b.css("phones", vec!["internal".into(), "pstn".into()]);
//! b.route_group(RouteGroup { name: "pri".into(), trunks: vec!["pri-1".into(), "pri-2".into()] });
//! b.route_list(RouteList { name: "local".into(), groups: vec!["pri".into()] });
//! b.entry(Entry {
//!     pattern: Pattern::parse("2000").unwrap(),
//!     partition: "internal".into(),
//!     target: Target::Line { device: "CTRIDalice".into() },
//!     called: Transform::default(),
//!     calling: Transform::default(),
//! });
//! b.entry(Entry {
//!     pattern: Pattern::parse("9.XXXX").unwrap(),
//!     partition: "pstn".into(),
//!     target: Target::Route { route_list: "local".into() },
//!     called: Transform { discard_predot: true, ..Transform::default() },
//!     calling: Transform::default(),
//! });
//! let plan = b.build().unwrap();
//!
//! let a = plan.analyze("phones", "2000", "91000").unwrap();
//! assert_eq!(a.pattern, "9.XXXX");
//! assert_eq!(a.called, "1000");
//! assert_eq!(a.route.unwrap().trunks().collect::<Vec<_>>(), ["pri-1", "pri-2"]);
//! assert!(plan.analyze("phones", "2000", "81000").is_err());
//! ```

mod alphabet;
mod analysis;
mod dial_rule;
mod error;
mod fast_hash;
mod index;
mod matcher;
mod number;
mod pattern;
mod plan;
mod specificity;
mod transform;

pub use analysis::{Analysis, ResolvedRoute, TranslationStep, MAX_TRANSLATIONS};
pub use dial_rule::{apply_dial_rules, select_dial_rule, DialRule};
pub use error::{
    AnalysisError, DialRuleError, DialRuleField, NumberError, Party, PatternError,
    PatternErrorKind, PlanError, TransformError, TransformField,
};
pub use matcher::MAX_DIALED_LEN;
pub use number::{strip_separators, NumberKey, NumberingPlan};
pub use pattern::{Pattern, PatternMatch, MAX_PATTERN_LEN};
pub use plan::{DialPlan, DialPlanBuilder, Entry, RouteGroup, RouteList, Target};
pub use specificity::Specificity;
pub use transform::Transform;

#[cfg(test)]
mod proptests;
