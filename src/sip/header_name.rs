//! Header field names: the ones siptest understands, their compact forms (RFC 3261 §7.3.3 and
//! the extensions that define one), and case-insensitive lookup.

use serde::Serialize;
use std::fmt;

macro_rules! header_names {
    ($($variant:ident => $canonical:literal $(, $compact:literal)?;)+) => {
        /// A header name siptest knows, or `Other` for an extension header.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
        pub enum HeaderName {
            $($variant,)+
            /// Any other header; compare by the name's bytes, case-insensitively.
            Other,
        }

        impl HeaderName {
            /// The canonical spelling (`Other` has none).
            pub const fn canonical(self) -> &'static str {
                match self {
                    $(HeaderName::$variant => $canonical,)+
                    HeaderName::Other => "",
                }
            }

            /// The compact form, when the name has one.
            pub const fn compact(self) -> Option<char> {
                match self {
                    $($(HeaderName::$variant => Some($compact),)?)+
                    _ => None,
                }
            }

            /// Looks a name up case-insensitively. Returns the name and whether the compact
            /// form was used.
            pub fn lookup(name: &[u8]) -> (HeaderName, bool) {
                if name.len() == 1 {
                    let c = name[0].to_ascii_lowercase();
                    $($(if c == $compact as u8 { return (HeaderName::$variant, true); })?)+
                    return (HeaderName::Other, false);
                }
                $(if name.eq_ignore_ascii_case($canonical.as_bytes()) {
                    return (HeaderName::$variant, false);
                })+
                (HeaderName::Other, false)
            }

            /// Every known name, for catalogues and tests.
            pub const ALL: &'static [HeaderName] = &[$(HeaderName::$variant),+];
        }
    };
}

header_names! {
    Accept => "Accept";
    AcceptContact => "Accept-Contact", 'a';
    AcceptEncoding => "Accept-Encoding";
    AcceptLanguage => "Accept-Language";
    AlertInfo => "Alert-Info";
    Allow => "Allow";
    AllowEvents => "Allow-Events", 'u';
    AuthenticationInfo => "Authentication-Info";
    Authorization => "Authorization";
    CallId => "Call-ID", 'i';
    CallInfo => "Call-Info";
    Contact => "Contact", 'm';
    ContentDisposition => "Content-Disposition";
    ContentEncoding => "Content-Encoding", 'e';
    ContentLanguage => "Content-Language";
    ContentLength => "Content-Length", 'l';
    ContentType => "Content-Type", 'c';
    CSeq => "CSeq";
    Date => "Date";
    ErrorInfo => "Error-Info";
    Event => "Event", 'o';
    Expires => "Expires";
    From => "From", 'f';
    Identity => "Identity", 'y';
    InReplyTo => "In-Reply-To";
    MaxForwards => "Max-Forwards";
    MimeVersion => "MIME-Version";
    MinExpires => "Min-Expires";
    MinSe => "Min-SE";
    Organization => "Organization";
    Path => "Path";
    Priority => "Priority";
    ProxyAuthenticate => "Proxy-Authenticate";
    ProxyAuthorization => "Proxy-Authorization";
    ProxyRequire => "Proxy-Require";
    RAck => "RAck";
    Reason => "Reason";
    RecordRoute => "Record-Route";
    ReferSub => "Refer-Sub";
    ReferTo => "Refer-To", 'r';
    ReferredBy => "Referred-By", 'b';
    RejectContact => "Reject-Contact", 'j';
    Replaces => "Replaces";
    ReplyTo => "Reply-To";
    RequestDisposition => "Request-Disposition", 'd';
    Require => "Require";
    RetryAfter => "Retry-After";
    Route => "Route";
    RSeq => "RSeq";
    Server => "Server";
    SessionExpires => "Session-Expires", 'x';
    Subject => "Subject", 's';
    SubscriptionState => "Subscription-State";
    Supported => "Supported", 'k';
    Timestamp => "Timestamp";
    To => "To", 't';
    Unsupported => "Unsupported";
    UserAgent => "User-Agent";
    Via => "Via", 'v';
    Warning => "Warning";
    WwwAuthenticate => "WWW-Authenticate";
}

/// How a header's value may be split into elements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueShape {
    /// Exactly one value per header field; a comma is part of the value (Date, Call-ID, auth).
    Single,
    /// A comma-separated list (RFC 3261 §7.3.1); several fields of this name may be combined.
    List,
}

impl HeaderName {
    /// Whether values of this header are comma lists. Headers whose grammar contains commas
    /// that do not separate elements (dates, credentials, challenges) are `Single`.
    pub const fn shape(self) -> ValueShape {
        use HeaderName::*;
        match self {
            Accept | AcceptContact | AcceptEncoding | AcceptLanguage | AlertInfo | Allow
            | AllowEvents | CallInfo | Contact | ContentEncoding | ContentLanguage | ErrorInfo
            | InReplyTo | Path | ProxyRequire | Reason | RecordRoute | RejectContact
            | RequestDisposition | Require | Route | Supported | Unsupported | Via | Warning => {
                ValueShape::List
            }
            _ => ValueShape::Single,
        }
    }

    /// Headers that RFC 3261 §20 (and the extensions defining them) allow only once.
    pub const fn single_instance(self) -> bool {
        use HeaderName::*;
        matches!(
            self,
            CallId
                | ContentLength
                | ContentType
                | CSeq
                | From
                | To
                | MaxForwards
                | Expires
                | MinExpires
                | RSeq
                | RAck
                | SessionExpires
                | MinSe
                | Event
                | ReferTo
                | ReferredBy
                | Replaces
                | Date
                | Timestamp
                | RetryAfter
                | SubscriptionState
        )
    }
}

impl fmt::Display for HeaderName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.canonical())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_forms_from_rfc_3261_and_extensions() {
        for (c, name) in [
            ("i", HeaderName::CallId),
            ("m", HeaderName::Contact),
            ("e", HeaderName::ContentEncoding),
            ("l", HeaderName::ContentLength),
            ("f", HeaderName::From),
            ("s", HeaderName::Subject),
            ("k", HeaderName::Supported),
            ("t", HeaderName::To),
            ("v", HeaderName::Via),
            ("o", HeaderName::Event),
            ("u", HeaderName::AllowEvents),
            ("r", HeaderName::ReferTo),
            ("b", HeaderName::ReferredBy),
            ("x", HeaderName::SessionExpires),
            ("y", HeaderName::Identity),
            ("c", HeaderName::ContentType),
        ] {
            assert_eq!(HeaderName::lookup(c.as_bytes()), (name, true), "{c}");
            let upper = c.to_ascii_uppercase();
            assert_eq!(HeaderName::lookup(upper.as_bytes()), (name, true), "{upper}");
            assert_eq!(
                HeaderName::lookup(name.canonical().as_bytes()),
                (name, false)
            );
        }
    }

    #[test]
    fn lookup_is_case_insensitive_and_exact() {
        assert_eq!(HeaderName::lookup(b"cAlL-iD").0, HeaderName::CallId);
        assert_eq!(HeaderName::lookup(b"C%6Fntact").0, HeaderName::Other);
        assert_eq!(HeaderName::lookup(b"NewFangledHeader").0, HeaderName::Other);
        assert_eq!(HeaderName::lookup(b"z").0, HeaderName::Other);
    }
}
