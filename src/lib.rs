//! siptest: a SIP interoperability test harness.
//!
//! The library is a sans-IO core: the lossless SIP and SDP message model ([`sip`], [`sdp`]) and
//! the rule catalogue ([`rule`]). Adapters (sockets, capture files, the command line) live at the
//! edges and only feed bytes, events and the current time in.

pub mod capture;
pub mod catalogue;
pub mod check;
pub mod classify;
pub mod cli;
pub mod dialog;
pub mod engine;
pub mod net;
pub mod pcap;
pub mod report;
pub mod rule;
pub mod scenario;
pub mod sdp;
pub mod sip;
pub mod trace;
pub mod transcript;
pub mod txn;
pub mod ua;
