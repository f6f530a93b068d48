//! A lossless SDP model (RFC 8866, formerly RFC 4566) with the offer/answer relations of
//! RFC 3264.
//!
//! [`parse()`] never fails: it returns an [`Sdp`] that keeps the exact bytes (every line with its
//! span) plus the [`Violation`](crate::rule::Violation)s found. [`offer_answer`] checks an answer
//! against its offer and a new description against the previous one; [`builder`] writes the
//! descriptions siptest sends, and the hold/unhold variants of an existing one.

pub mod builder;
pub mod fields;
pub mod model;
pub mod offer_answer;
pub mod parse;
pub mod rules;

pub use builder::{hold, unhold, with_direction, Codec, MediaSpec, SdpBuilder};
pub use model::{
    Attribute, Bandwidth, Connection, Direction, HoldStyle, Line, LineEnding, MediaDescription,
    Origin, RtpMap, Sdp, Timing,
};
pub use offer_answer::{
    allowed_answer_directions, check_answer, check_reoffer, OfferAnswerProblem, ProblemKind,
};
pub use parse::parse;
pub use rules::RULES;

#[cfg(test)]
pub(crate) mod tests;
