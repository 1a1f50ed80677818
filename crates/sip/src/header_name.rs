//! Header field names: the ones Tether reads are an enum, compact forms (RFC 3261 §7.3.3 and the
//! later RFCs' single-letter forms) map to them, comparison is case-insensitive, and any other
//! name is carried as text.

use std::fmt;

macro_rules! known_headers {
    ($( $variant:ident => $canon:literal $(, $compact:literal)? ;)*) => {
        /// A header field name.
        #[derive(Clone, Debug, Eq)]
        #[non_exhaustive]
        pub enum HeaderName {
            $( $variant, )*
            /// A header Tether has no typed access for; kept with its original spelling.
            Other(Box<str>),
        }

        impl HeaderName {
            /// The canonical long form (for `Other`, the name as received).
            pub fn as_str(&self) -> &str {
                match self {
                    $( HeaderName::$variant => $canon, )*
                    HeaderName::Other(s) => s,
                }
            }

            /// Classifies a header name as written on the wire (long or compact form).
            pub fn from_wire(name: &str) -> HeaderName {
                HeaderName::known(name.as_bytes()).unwrap_or_else(|| HeaderName::Other(name.into()))
            }

            /// The known header a name (long or compact form, any case) stands for.
            fn known(b: &[u8]) -> Option<HeaderName> {
                if b.len() == 1 {
                    match b[0].to_ascii_lowercase() {
                        $( $( x if x == $compact => return Some(HeaderName::$variant), )? )*
                        _ => {}
                    }
                }
                if b.len() > LONGEST {
                    return None;
                }
                let name = lowercase_words(b);
                // Only the known names with the same length and first letter are compared.
                let mut i = BUCKETS[bucket(b)];
                while let Some(lower) = LOWER.get(usize::from(i).wrapping_sub(1)) {
                    let k = usize::from(i) - 1;
                    if b.len() == KNOWN[k].0.len() && name == *lower {
                        return Some(KNOWN[k].1.clone());
                    }
                    i = CHAIN[k];
                }
                None
            }
        }

        /// Every known name in its canonical form.
        const KNOWN: &[(&str, HeaderName)] = &[$( ($canon, HeaderName::$variant), )*];
    };
}

/// Names that are equal ignoring ASCII case fall in the same bucket.
const fn bucket(name: &[u8]) -> usize {
    match name.first() {
        Some(&c) => (name.len() & 31) << 5 | (c | 0x20) as usize & 31,
        None => 0,
    }
}

/// The longest known name fits.
const LONGEST: usize = 24;
const WORDS: usize = LONGEST / 8;

/// A name of at most `LONGEST` bytes, ASCII-lowercased, zero-padded, as little-endian words:
/// two names of the same length are equal ignoring ASCII case when their words are equal.
#[inline]
fn lowercase_words(name: &[u8]) -> [u64; WORDS] {
    let mut bytes = [0u8; LONGEST];
    let n = name.len().min(LONGEST);
    bytes[..n].copy_from_slice(&name[..n]);
    let mut words = [0u64; WORDS];
    for (w, chunk) in words.iter_mut().zip(bytes.chunks_exact(8)) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        *w = lowercase_word(u64::from_le_bytes(word));
    }
    words
}

/// ASCII-lowercases the eight bytes of a word at once (other bytes are left alone).
#[inline]
const fn lowercase_word(x: u64) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let low7 = x & LOW7;
    // Per byte, the high bit says: at least 'A', above 'Z' (no carry crosses a byte).
    let from_a = low7 + 0x3f3f_3f3f_3f3f_3f3f;
    let past_z = low7 + 0x2525_2525_2525_2525;
    let upper = (from_a ^ past_z) & !x & HIGH;
    x | (upper >> 2)
}

/// `KNOWN`'s names as `lowercase_words` gives them.
static LOWER: [[u64; WORDS]; KNOWN.len()] = {
    let mut out = [[0u64; WORDS]; KNOWN.len()];
    let mut i = 0;
    while i < KNOWN.len() {
        let name = KNOWN[i].0.as_bytes();
        assert!(name.len() <= LONGEST);
        let mut j = 0;
        while j < name.len() {
            out[i][j / 8] |= (name[j].to_ascii_lowercase() as u64) << (8 * (j % 8));
            j += 1;
        }
        i += 1;
    }
    out
};

/// `BUCKETS[bucket(name)]` is 1 + the index in `KNOWN` of the first known name in that bucket
/// (0 for none); `CHAIN[i]` links `KNOWN[i]` to the next one the same way.
static BUCKETS: [u8; 1024] = index_known().0;
static CHAIN: [u8; KNOWN.len()] = index_known().1;

const fn index_known() -> ([u8; 1024], [u8; KNOWN.len()]) {
    assert!(KNOWN.len() < 255);
    let mut buckets = [0u8; 1024];
    let mut chain = [0u8; KNOWN.len()];
    let mut i = KNOWN.len();
    while i > 0 {
        i -= 1;
        let b = bucket(KNOWN[i].0.as_bytes());
        chain[i] = buckets[b];
        buckets[b] = i as u8 + 1;
    }
    (buckets, chain)
}

known_headers! {
    Via => "Via", b'v';
    From => "From", b'f';
    To => "To", b't';
    CallId => "Call-ID", b'i';
    CSeq => "CSeq";
    Contact => "Contact", b'm';
    MaxForwards => "Max-Forwards";
    ContentLength => "Content-Length", b'l';
    ContentType => "Content-Type", b'c';
    ContentEncoding => "Content-Encoding", b'e';
    ContentDisposition => "Content-Disposition";
    Route => "Route";
    RecordRoute => "Record-Route";
    Require => "Require";
    ProxyRequire => "Proxy-Require";
    Supported => "Supported", b'k';
    Unsupported => "Unsupported";
    Allow => "Allow";
    AllowEvents => "Allow-Events", b'u';
    Accept => "Accept";
    RSeq => "RSeq";
    RAck => "RAck";
    SessionExpires => "Session-Expires", b'x';
    MinSE => "Min-SE";
    ReferTo => "Refer-To", b'r';
    ReferredBy => "Referred-By", b'b';
    Replaces => "Replaces";
    PAssertedIdentity => "P-Asserted-Identity";
    PPreferredIdentity => "P-Preferred-Identity";
    Privacy => "Privacy";
    Reason => "Reason";
    Diversion => "Diversion";
    HistoryInfo => "History-Info";
    WwwAuthenticate => "WWW-Authenticate";
    ProxyAuthenticate => "Proxy-Authenticate";
    Authorization => "Authorization";
    ProxyAuthorization => "Proxy-Authorization";
    Expires => "Expires";
    MinExpires => "Min-Expires";
    RetryAfter => "Retry-After";
    Event => "Event", b'o';
    SubscriptionState => "Subscription-State";
    Subject => "Subject", b's';
    UserAgent => "User-Agent";
    Server => "Server";
    Warning => "Warning";
    Date => "Date";
    Timestamp => "Timestamp";
    ReferSub => "Refer-Sub";
    TargetDialog => "Target-Dialog";
    RemotePartyId => "Remote-Party-ID";
}

impl HeaderName {
    /// Classifies a header name already checked to be a token (so ASCII), as the parser cuts it.
    pub(crate) fn from_token(name: &[u8]) -> HeaderName {
        HeaderName::known(name).unwrap_or_else(|| {
            HeaderName::Other(std::str::from_utf8(name).unwrap_or_default().into())
        })
    }

    /// Headers whose values may be combined into one line with commas (RFC 3261 §7.3.1).
    /// WWW-Authenticate and friends carry commas inside one value and are not lists.
    pub fn is_list(&self) -> bool {
        use HeaderName::*;
        matches!(
            self,
            Via | Contact
                | Route
                | RecordRoute
                | Require
                | ProxyRequire
                | Supported
                | Unsupported
                | Allow
                | AllowEvents
                | Accept
                | PAssertedIdentity
                | PPreferredIdentity
                | Privacy
                | Reason
                | Diversion
                | HistoryInfo
                | ContentEncoding
                | Warning
        )
    }
}

impl PartialEq for HeaderName {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (HeaderName::Other(a), HeaderName::Other(b)) => a.eq_ignore_ascii_case(b),
            (a, b) => std::mem::discriminant(a) == std::mem::discriminant(b),
        }
    }
}

impl std::hash::Hash for HeaderName {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        std::mem::discriminant(self).hash(state);
        if let HeaderName::Other(s) = self {
            for b in s.bytes() {
                state.write_u8(b.to_ascii_lowercase());
            }
        }
    }
}

impl From<&str> for HeaderName {
    fn from(s: &str) -> Self {
        HeaderName::from_wire(s)
    }
}

impl fmt::Display for HeaderName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_and_case_insensitive() {
        assert_eq!(HeaderName::from_wire("v"), HeaderName::Via);
        assert_eq!(
            HeaderName::from_wire("MaX-fOrWaRdS"),
            HeaderName::MaxForwards
        );
        assert_eq!(HeaderName::from_wire("L"), HeaderName::ContentLength);
        assert_eq!(
            HeaderName::from_wire("x-foo"),
            HeaderName::from_wire("X-Foo")
        );
        assert_ne!(HeaderName::from_wire("C%6Fntact"), HeaderName::Contact);
        assert_eq!(HeaderName::from_wire("k").as_str(), "Supported");
    }

    #[test]
    fn word_lowercasing_is_ascii_lowercasing() {
        for b in 0..=255u8 {
            for pos in 0..8 {
                let x = u64::from(b) << (8 * pos) | 0x4141_4141_4141_4141 & !(0xff << (8 * pos));
                let want = u64::from_le_bytes(x.to_le_bytes().map(|c| c.to_ascii_lowercase()));
                assert_eq!(lowercase_word(x), want, "{b:#x} at {pos}");
            }
        }
    }

    #[test]
    fn every_known_name_is_found_in_any_case() {
        for (canon, known) in KNOWN {
            assert_eq!(&HeaderName::from_wire(canon), known, "{canon}");
            assert!(!matches!(
                HeaderName::from_wire(canon),
                HeaderName::Other(_)
            ));
            assert_eq!(&HeaderName::from_wire(&canon.to_ascii_uppercase()), known);
            assert_eq!(&HeaderName::from_wire(&canon.to_ascii_lowercase()), known);
            assert_eq!(HeaderName::from_wire(canon).as_str(), *canon);
        }
        assert_eq!(HeaderName::from_token(b"X-Foo").as_str(), "X-Foo");
        assert_eq!(HeaderName::from_token(b"cOnTaCt"), HeaderName::Contact);
        for other in [
            "",
            "X-Foo",
            "Vias",
            "Fro",
            "-",
            "Call_ID",
            "Contact-",
            "Via\0",
            "P-Preferred-Identity-And-More",
        ] {
            assert!(
                matches!(HeaderName::from_wire(other), HeaderName::Other(_)),
                "{other}"
            );
        }
    }
}
