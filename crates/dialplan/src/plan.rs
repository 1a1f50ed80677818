//! A compiled, immutable dial plan: partitions, calling search spaces, patterns and route
//! lists from one provisioning snapshot, checked for dangling names and indexed for analysis.
//!
//! [`DialPlanBuilder`] collects the objects in any order; [`DialPlanBuilder::build`] checks
//! every reference and returns a [`DialPlan`] that is cheap to clone (one `Arc`) and shared
//! read-only between calls. A new snapshot means a new plan; nothing here mutates after build.
//! The lookup itself lives in `index.rs`, the analysis loop in `analysis.rs`.

use crate::analysis::ResolvedRoute;
use crate::error::{Party, PlanError, TransformError};
use crate::fast_hash::FastMap;
use crate::index::{Compiled, PartitionIndex};
use crate::pattern::Pattern;
use crate::transform::Transform;
use serde::{Deserialize, Serialize};
use std::collections::hash_map::Entry as Slot;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

/// Where a pattern sends a call.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Target {
    /// A directory number on a device.
    Line { device: String },
    /// A route pattern: out through a route list.
    Route { route_list: String },
    /// A translation pattern: transform, then analyze again through `css`.
    Translation { css: String },
    /// A blocking pattern.
    Block,
}

/// One pattern in one partition. Directory numbers are entries with [`Target::Line`] and a
/// literal pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub pattern: Pattern,
    pub partition: String,
    pub target: Target,
    /// Applied to the called number when this entry matches.
    pub called: Transform,
    /// Applied to the calling number when this entry matches (may not discard PreDot digits).
    pub calling: Transform,
}

/// Trunks in hunt order.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RouteGroup {
    pub name: String,
    pub trunks: Vec<String>,
}

/// Route group names in hunt order.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RouteList {
    pub name: String,
    pub groups: Vec<String>,
}

/// Collects a provisioning snapshot; see [`DialPlanBuilder::build`].
#[derive(Clone, Debug, Default)]
pub struct DialPlanBuilder {
    partitions: Vec<String>,
    css: Vec<(String, Vec<String>)>,
    entries: Vec<Entry>,
    groups: Vec<RouteGroup>,
    lists: Vec<RouteList>,
}

impl DialPlanBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn partition(&mut self, name: &str) -> &mut Self {
        self.partitions.push(name.to_owned());
        self
    }

    /// A calling search space: its partitions in search order (earlier wins ties).
    pub fn css(&mut self, name: &str, partitions: Vec<String>) -> &mut Self {
        self.css.push((name.to_owned(), partitions));
        self
    }

    pub fn entry(&mut self, e: Entry) -> &mut Self {
        self.entries.push(e);
        self
    }

    pub fn route_group(&mut self, g: RouteGroup) -> &mut Self {
        self.groups.push(g);
        self
    }

    pub fn route_list(&mut self, l: RouteList) -> &mut Self {
        self.lists.push(l);
        self
    }

    /// Checks and indexes the snapshot. Fails, naming the object, on: a name defined twice; a
    /// calling search space listing an unknown partition; an entry in an unknown partition,
    /// routing to an unknown route list or translating through an unknown calling search space;
    /// a route list naming an unknown route group; two patterns in one partition that are the
    /// same (spelled the same, or literals that spell the same digits); a malformed
    /// transformation. Errors come in that order, first failing object first.
    pub fn build(self) -> Result<DialPlan, PlanError> {
        let mut partition_ids: HashMap<String, u32> = HashMap::new();
        let mut partitions = Vec::with_capacity(self.partitions.len());
        for name in self.partitions {
            match partition_ids.entry(name.clone()) {
                Slot::Occupied(_) => return Err(PlanError::DuplicatePartition(name)),
                Slot::Vacant(v) => {
                    v.insert(partitions.len() as u32);
                    partitions.push(PartitionIndex::new(name));
                }
            }
        }

        let mut css: FastMap<String, Box<[u32]>> = FastMap::default();
        let mut css_names = Vec::with_capacity(self.css.len());
        for (name, members) in self.css {
            let ids = members
                .into_iter()
                .map(|p| match partition_ids.get(&p) {
                    Some(&id) => Ok(id),
                    None => Err(PlanError::UnknownPartition {
                        css: name.clone(),
                        partition: p,
                    }),
                })
                .collect::<Result<Box<[u32]>, _>>()?;
            match css.entry(name.clone()) {
                Slot::Occupied(_) => return Err(PlanError::DuplicateCss(name)),
                Slot::Vacant(v) => {
                    v.insert(ids);
                    css_names.push(name);
                }
            }
        }

        let mut groups: HashMap<String, RouteGroup> = HashMap::new();
        for g in self.groups {
            match groups.entry(g.name.clone()) {
                Slot::Occupied(_) => return Err(PlanError::DuplicateRouteGroup(g.name)),
                Slot::Vacant(v) => {
                    v.insert(g);
                }
            }
        }
        let mut routes: HashMap<String, ResolvedRoute> = HashMap::new();
        for l in self.lists {
            let resolved = l
                .groups
                .iter()
                .map(|g| match groups.get(g) {
                    Some(group) => Ok(group.clone()),
                    None => Err(PlanError::UnknownRouteGroup {
                        route_list: l.name.clone(),
                        group: g.clone(),
                    }),
                })
                .collect::<Result<Vec<_>, _>>()?;
            match routes.entry(l.name.clone()) {
                Slot::Occupied(_) => return Err(PlanError::DuplicateRouteList(l.name)),
                Slot::Vacant(v) => {
                    v.insert(ResolvedRoute {
                        route_list: l.name,
                        groups: resolved,
                    });
                }
            }
        }

        let mut entries: Vec<Compiled> = Vec::with_capacity(self.entries.len());
        for e in self.entries {
            let Some(&pid) = partition_ids.get(&e.partition) else {
                return Err(PlanError::EntryInUnknownPartition {
                    pattern: e.pattern.as_str().to_owned(),
                    partition: e.partition,
                });
            };
            check_transforms(&e)?;
            let route = match &e.target {
                Target::Route { route_list } => match routes.get(route_list) {
                    Some(r) => Some(r.clone()),
                    None => {
                        return Err(PlanError::UnknownRouteList {
                            pattern: e.pattern.as_str().to_owned(),
                            partition: e.partition.clone(),
                            route_list: route_list.clone(),
                        })
                    }
                },
                Target::Translation { css: name } if !css.contains_key(name) => {
                    return Err(PlanError::UnknownCss {
                        pattern: e.pattern.as_str().to_owned(),
                        partition: e.partition.clone(),
                        css: name.clone(),
                    })
                }
                _ => None,
            };
            let id = entries.len() as u32;
            let compiled = Compiled::new(e, route);
            let partition = &mut partitions[pid as usize];
            if let Some(existing) = partition.insert(id, &compiled, &entries) {
                return Err(PlanError::DuplicatePattern {
                    pattern: compiled.entry.pattern.as_str().to_owned(),
                    partition: compiled.entry.partition,
                    existing,
                });
            }
            entries.push(compiled);
        }
        for p in &mut partitions {
            p.finish();
        }

        Ok(DialPlan {
            inner: Arc::new(Inner {
                partitions,
                css,
                css_names,
                entries,
            }),
        })
    }
}

fn check_transforms(e: &Entry) -> Result<(), PlanError> {
    let fail = |party, error| PlanError::InvalidTransform {
        pattern: e.pattern.as_str().to_owned(),
        partition: e.partition.clone(),
        party,
        error,
    };
    e.called
        .validate()
        .map_err(|err| fail(Party::Called, err))?;
    e.calling
        .validate()
        .map_err(|err| fail(Party::Calling, err))?;
    if e.calling.discard_predot {
        return Err(fail(
            Party::Calling,
            TransformError::DiscardPredotOnCallingParty,
        ));
    }
    Ok(())
}

/// A compiled dial plan. `Send + Sync`; cloning copies one `Arc`.
#[derive(Clone)]
pub struct DialPlan {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) partitions: Vec<PartitionIndex>,
    pub(crate) css: FastMap<String, Box<[u32]>>,
    pub(crate) css_names: Vec<String>,
    pub(crate) entries: Vec<Compiled>,
}

impl DialPlan {
    /// Calling search space names, in the order they were defined.
    pub fn css_names(&self) -> impl Iterator<Item = &str> {
        self.inner.css_names.iter().map(String::as_str)
    }

    pub fn has_css(&self, css: &str) -> bool {
        self.inner.css.contains_key(css)
    }

    /// Number of entries (patterns of every kind).
    pub fn len(&self) -> usize {
        self.inner.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.inner.entries.is_empty()
    }
}

impl fmt::Debug for DialPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DialPlan")
            .field(
                "partitions",
                &self
                    .inner
                    .partitions
                    .iter()
                    .map(|p| p.name.as_str())
                    .collect::<Vec<_>>(),
            )
            .field("css", &self.inner.css_names)
            .field("entries", &self.inner.entries.len())
            .finish()
    }
}

#[cfg(test)]
pub(crate) mod tests;
