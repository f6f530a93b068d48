//! placeholder: being written
crate::declare_rules! {
    PLACEHOLDER = ("msg.placeholder", Transaction, Info, "RFC 3261 §7", "placeholder");
}
pub struct Datagram;
pub fn parse_datagram(_b: &[u8]) -> Datagram { Datagram }
pub fn parse_message(_b: &[u8]) {}
