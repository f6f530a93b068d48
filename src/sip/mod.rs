//! The SIP message core: a lossless parser that keeps every byte it saw, typed views over the
//! parsed header fields, stream framing for connection-oriented transports, and a builder for the
//! messages siptest sends.

pub mod addr;
pub mod builder;
pub mod fastcheck;
pub mod framing;
pub mod header_name;
pub mod headers;
pub mod host;
pub mod lex;
pub mod message;
pub mod multipart;
pub mod parse;
pub mod uri;
pub mod validate;
pub mod validate_body;
pub mod views;

pub use header_name::HeaderName;
pub use message::{Header, Message, StartLine};
pub use parse::{parse_datagram, parse_message, Datagram};
