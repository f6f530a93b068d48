//! Typed views over single header-field values (RFC 3261 §20, §25.1 and extensions).
//!
//! Every parser takes ONE header element's text (already unfolded; for list headers already split
//! on commas with [`crate::sip::lex::split_commas`]) and returns a typed value or a
//! [`HeaderError`]. The `parse_*_list` functions split a whole value themselves. Parsers never
//! panic. A value that is syntactically valid but breaks a SHOULD parses fine; the fact is visible
//! in the typed value (for example [`Via::branch_has_cookie`]).
//!
//! Parameter values are kept as written (quoted strings keep their quotes) unless a field's
//! documentation says otherwise, so callers can check quoting rules.

pub mod auth;
pub mod call_id;
mod common;
pub mod content_type;
pub mod cseq;
mod cursor;
pub mod date;
mod digest;
pub mod event;
pub mod misc;
pub mod replaces;
pub mod scalar;
pub mod session_timer;
pub mod tokens;
pub mod via;

pub use auth::{
    digest_response, parse_challenge, parse_credentials, AuthParam, Challenge, Credentials,
    DigestAlgorithm,
};
pub use common::Params;
pub use content_type::{
    is_known_body_type, parse_accept_range, parse_content_disposition, parse_content_type,
    ContentDisposition, Handling, MediaType, KNOWN_BODY_TYPES,
};
pub use cseq::{parse_cseq, CSeq, CSEQ_MAX};
pub use date::{parse_date, SipDate};
pub use event::{
    parse_event, parse_event_type, parse_refer_sub, parse_subscription_state, Event, EventType,
    ReferSub, SubState, SubscriptionState,
};
pub use misc::{
    parse_priority, parse_reason, parse_subject, parse_warning, Priority, Reason, Warning,
};
pub use replaces::{parse_replaces, parse_replaces_escaped, Replaces};
pub use scalar::{
    is_word_char, parse_call_id, parse_content_length, parse_expires, parse_max_forwards,
    parse_min_expires, parse_rack, parse_retry_after, parse_rseq, parse_timestamp, CallId, RAck,
    RetryAfter, Timestamp,
};
pub use session_timer::{
    parse_min_se, parse_session_expires, MinSe, Refresher, SessionExpires, MIN_SESSION_INTERVAL,
};
pub use tokens::{
    is_known_method, is_known_option_tag, parse_accept_list, parse_event_type_list, parse_method,
    parse_method_list, parse_option_tag, parse_option_tag_list, KNOWN_METHODS, KNOWN_OPTION_TAGS,
};
pub use via::{parse_via, parse_via_list, Via, BRANCH_COOKIE};

#[cfg(test)]
mod test_support;

/// What kind of problem a [`HeaderError`] is, so callers can map it to a rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HeaderErrorKind {
    /// The value does not match the field's grammar.
    Syntax,
    /// A number is well formed but larger (or smaller) than the field allows.
    OutOfRange,
    /// The value, or one element of a list, is empty.
    Empty,
    /// A protocol version other than `SIP/2.0` (RFC 3261 §20.42, RFC 4475 §3.1.2.16 badvers).
    BadVersion,
    /// A date whose zone is not `GMT` (RFC 3261 §20.17, RFC 4475 §3.1.2.12 baddate).
    NotGmt,
    /// A host, address or port that does not parse (RFC 3261 §25.1, RFC 5118).
    BadHost,
    /// A `;` with no parameter name after it (`;;`, trailing `;`), RFC 3261 §25.1 generic-param.
    EmptyParam,
}

/// Why a header value did not parse. `offset` is a byte offset into the text given to the parser.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} at offset {offset}")]
pub struct HeaderError {
    pub offset: usize,
    /// What was expected or found, in words.
    pub what: String,
    pub kind: HeaderErrorKind,
}

impl HeaderError {
    pub fn new(kind: HeaderErrorKind, offset: usize, what: impl Into<String>) -> Self {
        HeaderError {
            offset,
            what: what.into(),
            kind,
        }
    }

    pub fn syntax(offset: usize, what: impl Into<String>) -> Self {
        Self::new(HeaderErrorKind::Syntax, offset, what)
    }

    /// The same error with its offset moved by `base` bytes (for errors found in a sub-slice).
    pub fn shifted(mut self, base: usize) -> Self {
        self.offset += base;
        self
    }
}
