//! The rule catalogue: every rule every module declares, in one list.

use crate::rule::Rule;

/// All rules siptest knows, grouped by the module that declares them.
pub fn all_rules() -> Vec<&'static Rule> {
    let mut v: Vec<&'static Rule> = Vec::new();
    v.extend_from_slice(crate::sip::parse::RULES);
    v
}
