//! Typed, lazy access to the headers a B2BUA reads: each accessor parses the header's text when
//! asked and names the header in its error, so a malformed optional header fails only the code
//! that needs it.

use super::Message;
use crate::error::InvalidMessage;
use crate::header_name::HeaderName;
use crate::headers::{
    misc, ContactValue, ContentType, NameAddr, RAck, Reason, Replaces, SessionExpires, Via,
};

use crate::text::{split_commas, unfold};

type Res<T> = Result<T, InvalidMessage>;

impl Message {
    fn typed_list<T>(
        &self,
        name: HeaderName,
        f: impl Fn(&str) -> Result<Vec<T>, &'static str>,
    ) -> Res<Vec<T>> {
        let mut out = Vec::new();
        for h in self.headers_named(&name) {
            out.extend(f(h.value()).map_err(|why| InvalidMessage::Header(name.clone(), why))?);
        }
        Ok(out)
    }

    fn typed_one<T>(
        &self,
        name: HeaderName,
        f: impl Fn(&str) -> Result<T, &'static str>,
    ) -> Res<Option<T>> {
        match self.header(&name) {
            None => Ok(None),
            Some(h) => f(h.value())
                .map(Some)
                .map_err(|why| InvalidMessage::Header(name.clone(), why)),
        }
    }

    /// Every Via value in order (several per line and several lines).
    pub fn vias(&self) -> Res<Vec<Via>> {
        self.typed_list(HeaderName::Via, Via::parse_list)
    }
    /// Contact values; `Ok(None)` when there is no Contact, `Some(Star)` for `Contact: *`.
    pub fn contacts(&self) -> Res<Option<ContactValue>> {
        if self.header(&HeaderName::Contact).is_none() {
            return Ok(None);
        }
        let mut list = Vec::new();
        for h in self.headers_named(&HeaderName::Contact) {
            match ContactValue::parse(h.value())
                .map_err(|w| InvalidMessage::Header(HeaderName::Contact, w))?
            {
                ContactValue::Star => return Ok(Some(ContactValue::Star)),
                ContactValue::List(l) => list.extend(l),
            }
        }
        Ok(Some(ContactValue::List(list)))
    }
    /// The first Contact's name-addr, the remote target of a dialog.
    pub fn contact(&self) -> Res<Option<NameAddr>> {
        if !self.p.core.contacts_checked {
            return Ok(match self.contacts()? {
                Some(ContactValue::List(l)) => l.into_iter().next(),
                _ => None,
            });
        }
        // Every line parses (the parser checked them): the answer is `None` when any line is
        // `*`, else the first value of the first line, and only that one is built.
        let mut first = None;
        for h in self.headers_named(&HeaderName::Contact) {
            let v = h.value();
            if v.trim() == "*" {
                return Ok(None);
            }
            first = first.or(Some(v));
        }
        let Some(v) = first else {
            return Ok(None);
        };
        let v = unfold(v);
        let first = split_commas(&v).next().unwrap_or_default();
        NameAddr::parse(first)
            .map(Some)
            .map_err(|w| InvalidMessage::Header(HeaderName::Contact, w))
    }
    pub fn routes(&self) -> Res<Vec<NameAddr>> {
        self.typed_list(HeaderName::Route, NameAddr::parse_list)
    }
    pub fn record_routes(&self) -> Res<Vec<NameAddr>> {
        self.typed_list(HeaderName::RecordRoute, NameAddr::parse_list)
    }
    pub fn p_asserted_identity(&self) -> Res<Vec<NameAddr>> {
        self.typed_list(HeaderName::PAssertedIdentity, NameAddr::parse_list)
    }
    pub fn diversion(&self) -> Res<Vec<NameAddr>> {
        self.typed_list(HeaderName::Diversion, NameAddr::parse_list)
    }
    pub fn history_info(&self) -> Res<Vec<NameAddr>> {
        self.typed_list(HeaderName::HistoryInfo, NameAddr::parse_list)
    }
    pub fn refer_to(&self) -> Res<Option<NameAddr>> {
        self.typed_one(HeaderName::ReferTo, NameAddr::parse)
    }
    pub fn referred_by(&self) -> Res<Option<NameAddr>> {
        self.typed_one(HeaderName::ReferredBy, NameAddr::parse)
    }
    pub fn replaces(&self) -> Res<Option<Replaces>> {
        self.typed_one(HeaderName::Replaces, Replaces::parse)
    }
    pub fn require(&self) -> Res<Vec<String>> {
        self.typed_list(HeaderName::Require, misc::parse_tokens)
    }
    pub fn proxy_require(&self) -> Res<Vec<String>> {
        self.typed_list(HeaderName::ProxyRequire, misc::parse_tokens)
    }
    pub fn supported(&self) -> Res<Vec<String>> {
        self.typed_list(HeaderName::Supported, misc::parse_tokens)
    }
    pub fn unsupported(&self) -> Res<Vec<String>> {
        self.typed_list(HeaderName::Unsupported, misc::parse_tokens)
    }
    pub fn allow(&self) -> Res<Vec<String>> {
        self.typed_list(HeaderName::Allow, misc::parse_tokens)
    }
    pub fn privacy(&self) -> Res<Vec<String>> {
        // Privacy values are separated by ';' (RFC 3323) or ',' in practice.
        self.typed_list(HeaderName::Privacy, |v| {
            misc::parse_tokens(&v.replace(';', ","))
        })
    }
    /// Whether `Supported` or `Require` lists the option tag.
    pub fn supports(&self, tag: &str) -> bool {
        let has = |r: Res<Vec<String>>| {
            r.map(|v| v.iter().any(|t| t.eq_ignore_ascii_case(tag)))
                .unwrap_or(false)
        };
        has(self.supported()) || has(self.require())
    }
    pub fn requires(&self, tag: &str) -> bool {
        self.require()
            .map(|v| v.iter().any(|t| t.eq_ignore_ascii_case(tag)))
            .unwrap_or(false)
    }
    pub fn max_forwards(&self) -> Res<Option<u8>> {
        self.typed_one(HeaderName::MaxForwards, misc::parse_max_forwards)
    }
    pub fn expires(&self) -> Res<Option<u32>> {
        self.typed_one(HeaderName::Expires, misc::parse_number)
    }
    pub fn min_expires(&self) -> Res<Option<u32>> {
        self.typed_one(HeaderName::MinExpires, misc::parse_number)
    }
    pub fn retry_after(&self) -> Res<Option<u32>> {
        self.typed_one(HeaderName::RetryAfter, misc::parse_retry_after)
    }
    pub fn content_type(&self) -> Res<Option<ContentType>> {
        self.typed_one(HeaderName::ContentType, ContentType::parse)
    }
    pub fn accept(&self) -> Res<Option<Vec<ContentType>>> {
        if self.header(&HeaderName::Accept).is_none() {
            return Ok(None);
        }
        self.typed_list(HeaderName::Accept, misc::parse_accept)
            .map(Some)
    }
    pub fn rseq(&self) -> Res<Option<u32>> {
        self.typed_one(HeaderName::RSeq, misc::parse_number)
    }
    pub fn rack(&self) -> Res<Option<RAck>> {
        self.typed_one(HeaderName::RAck, RAck::parse)
    }
    pub fn session_expires(&self) -> Res<Option<SessionExpires>> {
        self.typed_one(HeaderName::SessionExpires, SessionExpires::parse)
    }
    pub fn min_se(&self) -> Res<Option<u32>> {
        // Min-SE may carry parameters after the number.
        self.typed_one(HeaderName::MinSE, |v| {
            misc::parse_number(v.split(';').next().unwrap_or(""))
        })
    }
    pub fn reasons(&self) -> Res<Vec<Reason>> {
        self.typed_list(HeaderName::Reason, Reason::parse_list)
    }
    /// Raw values of WWW-Authenticate / Proxy-Authenticate / (Proxy-)Authorization, one per line
    /// (these are not comma lists: their parameters contain commas).
    pub fn auth_values<'a>(&'a self, name: &'a HeaderName) -> impl Iterator<Item = &'a str> + 'a {
        self.headers_named(name).map(|h| h.value())
    }
}
