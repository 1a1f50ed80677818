//! Where the headers every layer reads (top Via, From, To, Call-ID, CSeq) sit in a message, found
//! once when the message is parsed or edited, and their typed values, built on first read.
//!
//! Parsing only checks these headers' grammar and remembers which header line holds each (and
//! where the From and To tags are in their text); the typed `Via` and `NameAddr` values, which
//! own copies of their parts, are built when someone asks for them and kept. This room holds no
//! header text of its own: everything points into the message's header lines.

use super::Header;
use crate::error::Error;
use crate::header_name::HeaderName;
use crate::headers::via::ViaSpans;
use crate::headers::{CSeq, NameAddr, Via};
use crate::text::unfold;
use std::borrow::Cow;
use std::sync::OnceLock;

/// Where a From or To tag is, in the text of its header's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Tag {
    /// The header has no `tag` parameter with a value.
    Absent,
    /// The tag value is `value()[start..end]`.
    At(u32, u32),
    /// Not located (a folded header value): read it from the typed value.
    Unknown,
}

/// A From or To header: its line, and its tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct AddrAt {
    pub(super) index: usize,
    pub(super) tag: Tag,
}

/// The core headers of one message. Invariant: every index names a header line of that name
/// whose value checked, and it is the first line of that name.
#[derive(Clone, Debug, Default)]
pub(super) struct Core {
    pub(super) via: Option<usize>,
    /// Where the parts of the top via-parm are in the first Via line's value (`None` when that
    /// value is folded, or not known): the top Via is built from them without a second scan.
    pub(super) via_spans: Option<ViaSpans>,
    pub(super) from: Option<AddrAt>,
    pub(super) to: Option<AddrAt>,
    pub(super) call_id: Option<usize>,
    pub(super) cseq: Option<CSeq>,
    /// Every Contact line checked (set by the parser, cleared when Contact lines change).
    pub(super) contacts_checked: bool,
    /// Typed values, boxed: most messages never build them, and a message stays small.
    top_via: OnceLock<Option<Box<Via>>>,
    from_value: OnceLock<Option<Box<NameAddr>>>,
    to_value: OnceLock<Option<Box<NameAddr>>>,
}

/// Checks a From or To value as `NameAddr::parse` does and finds its tag, building nothing.
/// `maybe_folded` false says the value has no continuation lines (nothing to unfold).
pub(super) fn scan_addr(value: &str, maybe_folded: bool) -> Result<Tag, &'static str> {
    let text = if maybe_folded {
        unfold(value)
    } else {
        Cow::Borrowed(value)
    };
    let mut tag = None;
    crate::headers::name_addr::NameAddrScan::scan(&text, |name, v| {
        if tag.is_none() && name.eq_ignore_ascii_case("tag") {
            tag = Some(v);
        }
    })?;
    Ok(match (tag.flatten(), &text) {
        (None, _) => Tag::Absent,
        // Unfolding borrowed: the offsets are offsets in `value`.
        (Some((a, b)), Cow::Borrowed(_)) => match (u32::try_from(a), u32::try_from(b)) {
            (Ok(a), Ok(b)) => Tag::At(a, b),
            _ => Tag::Unknown,
        },
        (Some(_), Cow::Owned(_)) => Tag::Unknown,
    })
}

/// What a header line going into a message tells the core index, found by checking it once.
pub(super) enum Checked {
    /// A Via line, and where its first via-parm's parts are (`None` when folded).
    Via(Option<ViaSpans>),
    /// A From or To line, and its tag.
    Addr(Tag),
    CSeq(CSeq),
    /// A Contact line, and whether it is known to check.
    Contact(bool),
    Other,
}

impl Checked {
    /// Checks a line before it goes in: a core header (Via, From, To, CSeq) that does not
    /// check is refused.
    pub(super) fn of(h: &Header) -> Result<Checked, Error> {
        let bad = |_| Error::ApiMisuse("invalid value for a core header");
        let value = h.value();
        Ok(match h.name() {
            HeaderName::Via => {
                let text = unfold(value);
                let spans = Via::check_unfolded_list_spans(&text).map_err(bad)?;
                Checked::Via(matches!(text, Cow::Borrowed(_)).then_some(spans))
            }
            HeaderName::From | HeaderName::To => {
                Checked::Addr(scan_addr(value, true).map_err(bad)?)
            }
            HeaderName::CSeq => Checked::CSeq(CSeq::parse(value).map_err(bad)?),
            // Checked when first read (`contact()`): most built messages are sent, not read.
            HeaderName::Contact => Checked::Contact(false),
            _ => Checked::Other,
        })
    }

    /// Whether a line of this name may change the core (and so whether it matters that it is
    /// the first of its name).
    pub(super) fn is_core(&self, name: &HeaderName) -> bool {
        !matches!(self, Checked::Other | Checked::Contact(_)) || *name == HeaderName::CallId
    }
}

impl Core {
    /// Every line at or after `at` moved down one: a line is being inserted there.
    pub(super) fn shift(&mut self, at: usize) {
        let bump = |i: &mut usize| {
            if *i >= at {
                *i += 1;
            }
        };
        for i in [&mut self.via, &mut self.call_id].into_iter().flatten() {
            bump(i);
        }
        for a in [&mut self.from, &mut self.to].into_iter().flatten() {
            bump(&mut a.index);
        }
    }

    /// A line named `name`, checked as `checked`, goes in at `index`; `first` says it is
    /// (now) the first line of its name.
    pub(super) fn added(&mut self, name: &HeaderName, index: usize, checked: Checked, first: bool) {
        match checked {
            Checked::Contact(ok) => self.contacts_checked &= ok,
            _ if !first => {}
            Checked::Via(spans) => {
                self.via = Some(index);
                self.via_spans = spans;
                self.top_via = OnceLock::new();
            }
            Checked::Addr(tag) => {
                let at = Some(AddrAt { index, tag });
                if *name == HeaderName::From {
                    self.from = at;
                    self.from_value = OnceLock::new();
                } else {
                    self.to = at;
                    self.to_value = OnceLock::new();
                }
            }
            Checked::CSeq(c) => self.cseq = Some(c),
            Checked::Other => {
                if *name == HeaderName::CallId {
                    self.call_id = Some(index);
                }
            }
        }
    }

    pub(super) fn new(
        via: Option<(usize, Option<ViaSpans>)>,
        from: Option<AddrAt>,
        to: Option<AddrAt>,
        call_id: Option<usize>,
        cseq: Option<CSeq>,
    ) -> Core {
        Core {
            via: via.map(|v| v.0),
            via_spans: via.and_then(|v| v.1),
            from,
            to,
            call_id,
            cseq,
            contacts_checked: true,
            ..Core::default()
        }
    }

    /// The same positions, spans and tags without the typed values built so far (for a
    /// message made of the same core lines, which builds its own when asked).
    pub(super) fn positions(&self) -> Core {
        Core {
            via: self.via,
            via_spans: self.via_spans,
            from: self.from,
            to: self.to,
            call_id: self.call_id,
            cseq: self.cseq.clone(),
            contacts_checked: self.contacts_checked,
            ..Core::default()
        }
    }

    /// Finds the first line of each core header again after lines moved, keeping what was
    /// learned about their values (the lines themselves did not change).
    pub(super) fn reindex(&mut self, headers: &[Header]) {
        let (mut via, mut from, mut to, mut call_id) = (None, None, None, None);
        for (i, h) in headers.iter().enumerate() {
            let slot = match h.name() {
                HeaderName::Via => &mut via,
                HeaderName::From => &mut from,
                HeaderName::To => &mut to,
                HeaderName::CallId => &mut call_id,
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(i);
            }
        }
        self.via = via;
        self.call_id = call_id;
        let moved = |old: Option<AddrAt>, index: Option<usize>| {
            index.map(|index| AddrAt {
                index,
                tag: old.map_or(Tag::Unknown, |a| a.tag),
            })
        };
        self.from = moved(self.from, from);
        self.to = moved(self.to, to);
    }

    /// Re-reads the core header `name` after its lines changed (and finds every core line
    /// again). Returns false when its first line does not check, which leaves it unset.
    pub(super) fn refresh(&mut self, headers: &[Header], name: &HeaderName) -> bool {
        self.reindex(headers);
        let value = |i: Option<usize>| i.and_then(|i| headers.get(i)).map(Header::value);
        match name {
            HeaderName::Via => {
                self.top_via = OnceLock::new();
                self.via_spans = None;
                if let Some(v) = value(self.via) {
                    let text = unfold(v);
                    match Via::check_unfolded_list_spans(&text) {
                        Ok(spans) => {
                            if let Cow::Borrowed(_) = text {
                                self.via_spans = Some(spans);
                            }
                        }
                        Err(_) => {
                            self.via = None;
                            return false;
                        }
                    }
                }
            }
            HeaderName::From | HeaderName::To => {
                let (slot, cache) = if *name == HeaderName::From {
                    (&mut self.from, &mut self.from_value)
                } else {
                    (&mut self.to, &mut self.to_value)
                };
                *cache = OnceLock::new();
                if let Some(at) = slot {
                    match value(Some(at.index)).map(|v| scan_addr(v, true)) {
                        Some(Ok(tag)) => at.tag = tag,
                        _ => {
                            *slot = None;
                            return false;
                        }
                    }
                }
            }
            HeaderName::Contact => self.contacts_checked = false,
            HeaderName::CSeq => {
                let first = headers.iter().find(|h| *h.name() == HeaderName::CSeq);
                self.cseq = None;
                if let Some(h) = first {
                    match CSeq::parse(h.value()) {
                        Ok(c) => self.cseq = Some(c),
                        Err(_) => return false,
                    }
                }
            }
            _ => {}
        }
        true
    }

    pub(super) fn top_via<'a>(&'a self, headers: &[Header]) -> Option<&'a Via> {
        self.top_via
            .get_or_init(|| {
                let v = headers.get(self.via?)?.value();
                self.via_spans
                    .and_then(|spans| Via::from_spans(v, &spans))
                    .or_else(|| Via::parse_first(v).ok())
                    .map(Box::new)
            })
            .as_deref()
    }

    pub(super) fn from<'a>(&'a self, headers: &[Header]) -> Option<&'a NameAddr> {
        typed_addr(&self.from_value, self.from, headers)
    }

    pub(super) fn to<'a>(&'a self, headers: &[Header]) -> Option<&'a NameAddr> {
        typed_addr(&self.to_value, self.to, headers)
    }
}

fn typed_addr<'a>(
    cache: &'a OnceLock<Option<Box<NameAddr>>>,
    at: Option<AddrAt>,
    headers: &[Header],
) -> Option<&'a NameAddr> {
    cache
        .get_or_init(|| {
            let h = headers.get(at?.index)?;
            NameAddr::parse(h.value()).ok().map(Box::new)
        })
        .as_deref()
}
