//! Building `act` steps (`docs/scenarios.md`, "act"): the action, the keys it takes, and its
//! values (statuses, methods, styles, agents).

use super::build::undefined_agent_message;
use super::doc::{AnyScalar, KeyAt, RawStep};
use super::keys::{ACT_KEYS, HOLD_STYLES};
use super::load::LoadErrorKind as K;
use super::located::Located;
use super::model::{Act, ActKind};
use super::steps::StepBuilder;
use super::suggest::did_you_mean;
use super::values::{check_method, Scalar};
use crate::sdp::HoldStyle;
use std::time::Duration;

/// `expires` of `act: register` when not given (RFC 3261 §10.2.1.1 leaves it to the UA).
const DEFAULT_EXPIRES: u32 = 3600;

impl StepBuilder<'_> {
    pub(crate) fn build_act(&mut self, raw: Located<RawStep>, keys: &[KeyAt]) -> Option<Act> {
        let pos = raw.with(());
        let r = raw.value;
        let name = r.act.as_ref()?;
        let Some(&(action, allowed)) = ACT_KEYS.iter().find(|(n, _)| *n == name.value) else {
            let names: Vec<&str> = ACT_KEYS.iter().map(|(n, _)| *n).collect();
            let hint = did_you_mean(name, names.iter().copied());
            let msg = format!(
                "unknown action `{}`; expected one of: {}{hint}",
                name.value,
                names.join(", ")
            );
            self.errs.at(name, K::InvalidValue, msg);
            return None;
        };
        self.check_keys(keys, allowed, &format!("an `act: {action}` step"));
        let with = allowed
            .contains(&"with")
            .then(|| self.agent_ref(r.with.as_ref(), &pos, "with"));
        let kind = match action {
            "answer" => self.act_answer(&r),
            "respond" => self.act_respond(&r, &pos)?,
            "call" => ActKind::Call {
                late_offer: flag(&r.late_offer),
                require_100rel: flag(&r.require_100rel),
                session_expires: r.session_expires.as_ref().map(|s| s.value),
            },
            "hold" => ActKind::Hold {
                style: self.hold_style(r.style.as_ref()),
            },
            "unhold" => ActKind::Unhold {
                offerless: flag(&r.offerless),
            },
            "hangup" => ActKind::Hangup,
            "transfer" => ActKind::Transfer {
                to: self.transfer_to(r.to.as_ref(), &pos)?,
            },
            "request" => ActKind::Request {
                method: self.act_method(r.method.as_ref(), &pos, "request", &["ACK", "CANCEL"])?,
            },
            "register" => self.act_register(&r, &pos)?,
            _ => ActKind::Subscribe {
                event: self.act_event(r.event.as_ref(), &pos)?,
            },
        };
        if let Some(w) = &with {
            self.set_current(&w.value);
        }
        Some(Act { with, action: kind })
    }

    fn act_answer(&mut self, r: &RawStep) -> ActKind {
        let mut provisional = Vec::new();
        match &r.provisional {
            None => provisional.push(180),
            Some(list) => {
                for p in &list.value {
                    if let Some(s) = self.status_in(p, 101..=199, "a provisional status") {
                        provisional.push(s);
                    }
                }
            }
        }
        let status = match &r.status {
            None => Some(200),
            Some(s) => self.final_status(s),
        };
        ActKind::Answer {
            provisional,
            reliable: flag(&r.reliable),
            early_media: flag(&r.early_media),
            ring: r.ring.as_ref().map_or(Duration::ZERO, |d| d.value.0),
            status,
        }
    }

    fn act_respond(&mut self, r: &RawStep, pos: &Located<()>) -> Option<ActKind> {
        let method = self.act_method(
            r.method.as_ref(),
            pos,
            "respond",
            &["INVITE", "ACK", "CANCEL"],
        )?;
        let status = match &r.status {
            None => Some(200),
            Some(s) => self.final_status(s),
        };
        Some(ActKind::Respond {
            method,
            delay: r.delay.as_ref().map_or(Duration::ZERO, |d| d.value.0),
            status,
        })
    }

    fn act_register(&mut self, r: &RawStep, pos: &Located<()>) -> Option<ActKind> {
        let (Some(user), Some(password)) = (&r.user, &r.password) else {
            let msg = "`act: register` needs `user` and `password` (the credentials it \
                       registers with, RFC 3261 §22.4)";
            self.errs.at(pos, K::MissingKey, msg);
            return None;
        };
        Some(ActKind::Register {
            user: user.value.clone(),
            password: password.value.clone(),
            expires: r.expires.as_ref().map_or(DEFAULT_EXPIRES, |e| e.value),
        })
    }

    /// A final status (200..=699), or `none`: never answers.
    fn final_status(&mut self, s: &Located<AnyScalar>) -> Option<u16> {
        if matches!(&s.value.0, Scalar::Str(w) if w == "none") {
            return None;
        }
        self.status_in(s, 200..=699, "a final status").or(Some(200))
    }

    fn status_in(
        &mut self,
        s: &Located<AnyScalar>,
        range: std::ops::RangeInclusive<u16>,
        what: &str,
    ) -> Option<u16> {
        let n = match &s.value.0 {
            Scalar::Int(i) => u16::try_from(*i).ok(),
            Scalar::Str(t) => t.parse::<u16>().ok(),
            _ => None,
        };
        match n {
            Some(n) if range.contains(&n) => Some(n),
            _ => {
                let none = if *range.start() >= 200 {
                    ", or `none`"
                } else {
                    ""
                };
                let msg = format!(
                    "expected {what} from {} to {}{none}, found {}",
                    range.start(),
                    range.end(),
                    s.value.0.describe()
                );
                self.errs.at(s, K::InvalidValue, msg);
                None
            }
        }
    }

    fn act_method(
        &mut self,
        m: Option<&Located<String>>,
        pos: &Located<()>,
        action: &str,
        refused: &[&str],
    ) -> Option<String> {
        let Some(m) = m else {
            let msg = format!("`act: {action}` needs `method`, e.g. `method: INFO`");
            self.errs.at(pos, K::MissingKey, msg);
            return None;
        };
        if let Err(e) = check_method(m) {
            self.errs.at(m, K::InvalidValue, e);
            return None;
        }
        if refused.contains(&m.as_str()) {
            let how = if m.value == "INVITE" {
                "INVITEs are answered as `act: answer` says"
            } else {
                "it is not a request of its own"
            };
            let msg = format!("`act: {action}` cannot take {}: {how}", m.value);
            self.errs.at(m, K::InvalidValue, msg);
            return None;
        }
        Some(m.value.clone())
    }

    fn hold_style(&mut self, s: Option<&Located<String>>) -> HoldStyle {
        match s.map(|s| s.as_str()) {
            None | Some("sendonly") => HoldStyle::SendOnly,
            Some("inactive") => HoldStyle::Inactive,
            Some("zero-connection") => HoldStyle::ZeroConnection,
            Some(other) => {
                let hint = did_you_mean(other, HOLD_STYLES.iter().copied());
                let msg = format!(
                    "expected a hold style, one of {}, found `{other}`{hint}",
                    HOLD_STYLES.join(", ")
                );
                self.errs.at(s.expect("given"), K::InvalidValue, msg);
                HoldStyle::SendOnly
            }
        }
    }

    fn transfer_to(
        &mut self,
        to: Option<&Located<String>>,
        pos: &Located<()>,
    ) -> Option<Located<String>> {
        let Some(to) = to else {
            let msg = "`act: transfer` needs `to`: the agent the call is transferred to";
            self.errs.at(pos, K::MissingKey, msg);
            return None;
        };
        if !self.is_agent(to) {
            let msg = undefined_agent_message(to, self.agents, "to");
            self.errs.at(to, K::Undefined, msg);
        }
        Some(to.clone())
    }

    fn act_event(&mut self, e: Option<&Located<String>>, pos: &Located<()>) -> Option<String> {
        let Some(e) = e else {
            let msg = "`act: subscribe` needs `event`: the event package, e.g. `event: dialog`";
            self.errs.at(pos, K::MissingKey, msg);
            return None;
        };
        let token = !e.is_empty()
            && e.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b));
        if !token {
            let msg = format!(
                "expected an event package (a token, RFC 6665 §8.2.1), found `{}`",
                e.value
            );
            self.errs.at(e, K::InvalidValue, msg);
            return None;
        }
        Some(e.value.clone())
    }
}

fn flag(b: &Option<Located<bool>>) -> bool {
    b.as_ref().is_some_and(|b| b.value)
}
