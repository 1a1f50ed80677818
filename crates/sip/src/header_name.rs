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
                let b = name.as_bytes();
                if b.len() == 1 {
                    match b[0].to_ascii_lowercase() {
                        $( $( x if x == $compact => return HeaderName::$variant, )? )*
                        _ => {}
                    }
                }
                let first = b.first().map_or(0, u8::to_ascii_lowercase);
                $(
                    if b.len() == $canon.len()
                        && first == $canon.as_bytes()[0].to_ascii_lowercase()
                        && b.eq_ignore_ascii_case($canon.as_bytes())
                    {
                        return HeaderName::$variant;
                    }
                )*
                HeaderName::Other(name.into())
            }
        }
    };
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
}
