//! Digit analysis: from (calling search space, calling number, dialed digits) to a final
//! destination, following translation patterns, as CUCM's Dialed Number Analyzer reports it.
//!
//! Each hop finds the closest match visible through the current calling search space. A
//! translation pattern transforms both numbers and sends the called digits round again through
//! its own calling search space, at most [`MAX_TRANSLATIONS`] times; a blocking pattern stops
//! the call; a directory number or route pattern ends the analysis after its own
//! transformations. The result types serialize to the JSON the admin API returns.

use crate::error::AnalysisError;
use crate::matcher::Input;
use crate::pattern::PatternMatch;
use crate::plan::{DialPlan, RouteGroup, Target};
use serde::Serialize;
use std::borrow::Cow;

/// The most translation patterns one analysis may apply; one more is a
/// [`AnalysisError::TranslationLoop`].
pub const MAX_TRANSLATIONS: usize = 8;

/// The outcome of a successful analysis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Analysis {
    /// The final matched pattern, as written.
    pub pattern: String,
    /// Its partition.
    pub partition: String,
    /// Where the call goes: never [`Target::Translation`] or [`Target::Block`].
    pub target: Target,
    /// The called number after every transformation.
    pub called: String,
    /// The calling number after every transformation.
    pub calling: String,
    /// Translation patterns applied, in order.
    pub translations: Vec<TranslationStep>,
    /// The route list with its groups and trunks, for [`Target::Route`].
    pub route: Option<ResolvedRoute>,
}

/// One translation pattern applied during analysis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TranslationStep {
    pub pattern: String,
    pub partition: String,
    /// The calling search space the translated digits were analyzed through next (the
    /// translation pattern's own).
    pub css: String,
    pub called_before: String,
    pub called_after: String,
}

/// A route list with its route groups resolved, in hunt order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ResolvedRoute {
    pub route_list: String,
    pub groups: Vec<RouteGroup>,
}

impl ResolvedRoute {
    /// Every trunk in hunt order: the first group's trunks in order, then the next group's. A
    /// trunk listed in two groups is offered twice, as provisioned.
    pub fn trunks(&self) -> impl Iterator<Item = &str> {
        self.groups
            .iter()
            .flat_map(|g| g.trunks.iter().map(String::as_str))
    }
}

/// Calling-party transformations never discard PreDot digits (the plan builder rejects it), so
/// they are applied with no split.
const NO_SPLIT: PatternMatch = PatternMatch { predot: 0 };

impl DialPlan {
    /// Analyzes `called` dialed by `calling` through calling search space `css`. `called` must
    /// be 1 to [`crate::MAX_DIALED_LEN`] characters of `0`–`9`, `*`, `#`, `+`; `calling` may be
    /// anything (it is only transformed).
    pub fn analyze(
        &self,
        css: &str,
        calling: &str,
        called: &str,
    ) -> Result<Analysis, AnalysisError> {
        let inner = &*self.inner;
        let mut css_name = css;
        // Borrowed until a translation rewrites them: the common case copies nothing here.
        let mut called = Cow::Borrowed(called);
        let mut calling = Cow::Borrowed(calling);
        let mut translations = Vec::new();
        loop {
            let Some(partitions) = inner.css.get(css_name) else {
                return Err(AnalysisError::UnknownCss(css_name.to_owned()));
            };
            let Some(input) = Input::new(&called) else {
                return Err(AnalysisError::InvalidDigits(called.into_owned()));
            };
            let Some((id, m)) = inner.closest(partitions, &called, &input) else {
                return Err(AnalysisError::NoMatch {
                    css: css_name.to_owned(),
                    digits: called.into_owned(),
                });
            };
            let compiled = &inner.entries[id as usize];
            let entry = &compiled.entry;
            match &entry.target {
                Target::Block => {
                    return Err(AnalysisError::Blocked {
                        pattern: entry.pattern.as_str().to_owned(),
                        partition: entry.partition.clone(),
                    })
                }
                Target::Translation { css: next } => {
                    if translations.len() == MAX_TRANSLATIONS {
                        return Err(AnalysisError::TranslationLoop {
                            pattern: entry.pattern.as_str().to_owned(),
                        });
                    }
                    let after = entry.called.apply(&called, &m);
                    calling = Cow::Owned(entry.calling.apply(&calling, &NO_SPLIT));
                    let before = std::mem::replace(&mut called, Cow::Owned(after.clone()));
                    translations.push(TranslationStep {
                        pattern: entry.pattern.as_str().to_owned(),
                        partition: entry.partition.clone(),
                        css: next.clone(),
                        called_before: before.into_owned(),
                        called_after: after,
                    });
                    css_name = next;
                }
                Target::Line { .. } | Target::Route { .. } => {
                    return Ok(Analysis {
                        pattern: entry.pattern.as_str().to_owned(),
                        partition: entry.partition.clone(),
                        target: entry.target.clone(),
                        called: entry.called.apply(&called, &m),
                        calling: entry.calling.apply(&calling, &NO_SPLIT),
                        translations,
                        route: compiled.route.clone(),
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
