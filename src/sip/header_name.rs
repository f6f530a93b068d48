//! Header field names: the ones siptest understands, their compact forms (RFC 3261 §7.3.3 and
//! the extensions that define one), and case-insensitive lookup.

use serde::Serialize;
use std::fmt;

macro_rules! header_names {
    ($($variant:ident => $canonical:literal / $lower:literal $(, $compact:literal)?;)+) => {
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
                    let c = char::from(name[0].to_ascii_lowercase());
                    $($(if c == $compact { return (HeaderName::$variant, true); })?)+
                    return (HeaderName::Other, false);
                }
                // Lower-case into a stack buffer, then one `match` on the bytes: the compiler
                // turns it into a length switch and a few comparisons.
                let mut buf = [0u8; 24];
                if name.len() > buf.len() {
                    return (HeaderName::Other, false);
                }
                for (d, s) in buf.iter_mut().zip(name) {
                    *d = s.to_ascii_lowercase();
                }
                let variant = match &buf[..name.len()] {
                    $($lower => HeaderName::$variant,)+
                    _ => HeaderName::Other,
                };
                (variant, false)
            }

            /// Every known name, for catalogues and tests.
            pub const ALL: &'static [HeaderName] = &[$(HeaderName::$variant),+];
        }
    };
}

header_names! {
    Accept => "Accept" / b"accept";
    AcceptContact => "Accept-Contact" / b"accept-contact", 'a';
    AcceptEncoding => "Accept-Encoding" / b"accept-encoding";
    AcceptLanguage => "Accept-Language" / b"accept-language";
    AlertInfo => "Alert-Info" / b"alert-info";
    Allow => "Allow" / b"allow";
    AllowEvents => "Allow-Events" / b"allow-events", 'u';
    AuthenticationInfo => "Authentication-Info" / b"authentication-info";
    Authorization => "Authorization" / b"authorization";
    CallId => "Call-ID" / b"call-id", 'i';
    CallInfo => "Call-Info" / b"call-info";
    Contact => "Contact" / b"contact", 'm';
    ContentDisposition => "Content-Disposition" / b"content-disposition";
    ContentEncoding => "Content-Encoding" / b"content-encoding", 'e';
    ContentLanguage => "Content-Language" / b"content-language";
    ContentLength => "Content-Length" / b"content-length", 'l';
    ContentType => "Content-Type" / b"content-type", 'c';
    CSeq => "CSeq" / b"cseq";
    Date => "Date" / b"date";
    ErrorInfo => "Error-Info" / b"error-info";
    Event => "Event" / b"event", 'o';
    Expires => "Expires" / b"expires";
    From => "From" / b"from", 'f';
    Identity => "Identity" / b"identity", 'y';
    InReplyTo => "In-Reply-To" / b"in-reply-to";
    MaxForwards => "Max-Forwards" / b"max-forwards";
    MimeVersion => "MIME-Version" / b"mime-version";
    MinExpires => "Min-Expires" / b"min-expires";
    MinSe => "Min-SE" / b"min-se";
    Organization => "Organization" / b"organization";
    Path => "Path" / b"path";
    Priority => "Priority" / b"priority";
    ProxyAuthenticate => "Proxy-Authenticate" / b"proxy-authenticate";
    ProxyAuthorization => "Proxy-Authorization" / b"proxy-authorization";
    ProxyRequire => "Proxy-Require" / b"proxy-require";
    RAck => "RAck" / b"rack";
    Reason => "Reason" / b"reason";
    RecordRoute => "Record-Route" / b"record-route";
    ReferSub => "Refer-Sub" / b"refer-sub";
    ReferTo => "Refer-To" / b"refer-to", 'r';
    ReferredBy => "Referred-By" / b"referred-by", 'b';
    RejectContact => "Reject-Contact" / b"reject-contact", 'j';
    Replaces => "Replaces" / b"replaces";
    ReplyTo => "Reply-To" / b"reply-to";
    RequestDisposition => "Request-Disposition" / b"request-disposition", 'd';
    Require => "Require" / b"require";
    RetryAfter => "Retry-After" / b"retry-after";
    Route => "Route" / b"route";
    RSeq => "RSeq" / b"rseq";
    Server => "Server" / b"server";
    SessionExpires => "Session-Expires" / b"session-expires", 'x';
    Subject => "Subject" / b"subject", 's';
    SubscriptionState => "Subscription-State" / b"subscription-state";
    Supported => "Supported" / b"supported", 'k';
    Timestamp => "Timestamp" / b"timestamp";
    To => "To" / b"to", 't';
    Unsupported => "Unsupported" / b"unsupported";
    UserAgent => "User-Agent" / b"user-agent";
    Via => "Via" / b"via", 'v';
    Warning => "Warning" / b"warning";
    WwwAuthenticate => "WWW-Authenticate" / b"www-authenticate";
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
            assert_eq!(
                HeaderName::lookup(upper.as_bytes()),
                (name, true),
                "{upper}"
            );
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
