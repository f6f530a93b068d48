//! `act` steps (`docs/scenarios.md`, "act"): the step becomes a `ua::Action` naming the
//! agents by their URIs, and goes to the run's driver ([`super::driver`]).
//!
//! Verdicts: a target without a driver, or a driver that cannot be asked (its control port
//! does not answer), makes the run `inconclusive`: nothing is known about the target's
//! correctness. A driver that was asked and refused (the UA has no call with that agent, it
//! cannot register...) makes it `error`: the driver is siptest's own UA, and its refusal
//! means the scenario asked for something the run's state does not allow, or a bug in
//! siptest; it is never a judgement of the target.

use super::driver::DriveError;
use super::exec::Stop;
use super::run::Run;
use crate::scenario::{Act, ActKind};
use crate::sdp::HoldStyle;
use crate::ua::{Action, AnswerPlan, HoldHow, RespondPlan};

impl Run<'_> {
    pub(super) async fn act(&mut self, a: &Act) -> Result<(), Stop> {
        let action = self.action(a);
        let name = action.name();
        let until = self.deadline;
        let Some(driver) = self.driver.as_mut() else {
            return Err(Stop::Inconclusive(format!(
                "the target has no driver for `act: {name}` (a `builtin` target, one \
                 written ADDRESS?control=HOST:PORT, or a targets-file entry with `driver:` \
                 has one)"
            )));
        };
        match driver.act(action, until).await {
            Ok(()) => Ok(()),
            Err(DriveError::Unavailable(why)) => Err(Stop::Inconclusive(format!(
                "the driver could not be asked to `act: {name}`: {why}"
            ))),
            Err(DriveError::Refused(why)) => Err(Stop::Error(format!(
                "the driver refused `act: {name}`: {why}"
            ))),
            Err(DriveError::Unsupported(why)) => Err(Stop::Inconclusive(format!(
                "the target cannot be asked to `act: {name}`: {why}"
            ))),
            Err(DriveError::DeviceRefused(why)) => Err(Stop::Inconclusive(format!(
                "the target's control interface refused `act: {name}`: {why}"
            ))),
        }
    }

    /// The URI of agent `name`, as `[agent.NAME.uri]`.
    fn agent_uri(&self, name: &str) -> String {
        self.agents[self.agent_index(name)].uri()
    }

    /// The step as a driver action: the agent it concerns by URI; `answer` and `respond`
    /// concern every agent of the run.
    fn action(&self, a: &Act) -> Action {
        let peer = a
            .with
            .as_ref()
            .map(|w| self.agent_uri(w))
            .unwrap_or_default();
        let peers: Vec<String> = self.agents.iter().map(|x| x.uri()).collect();
        match &a.action {
            ActKind::Answer {
                provisional,
                reliable,
                early_media,
                ring,
                status,
            } => Action::Answer {
                peers,
                plan: AnswerPlan {
                    provisional: provisional.clone(),
                    reliable: *reliable,
                    early_media: *early_media,
                    ring_ms: millis(*ring),
                    status: *status,
                },
            },
            ActKind::Respond {
                method,
                delay,
                status,
            } => Action::Respond {
                peers,
                plan: RespondPlan {
                    method: method.clone(),
                    delay_ms: millis(*delay),
                    status: *status,
                },
            },
            ActKind::Call {
                late_offer,
                require_100rel,
                session_expires,
            } => Action::Call {
                peer,
                late_offer: *late_offer,
                require_100rel: *require_100rel,
                session_expires: *session_expires,
            },
            ActKind::Hold { style } => Action::Hold {
                peer,
                how: match style {
                    HoldStyle::SendOnly => HoldHow::Sendonly,
                    HoldStyle::Inactive => HoldHow::Inactive,
                    HoldStyle::ZeroConnection => HoldHow::ZeroConnection,
                },
            },
            ActKind::Unhold { offerless } => Action::Unhold {
                peer,
                offerless: *offerless,
            },
            ActKind::Hangup => Action::Hangup { peer },
            ActKind::Transfer { to } => Action::Transfer {
                peer,
                to: self.agent_uri(to),
            },
            ActKind::Request { method } => Action::Request {
                peer,
                method: method.clone(),
            },
            ActKind::Register {
                user,
                password,
                expires,
            } => Action::Register {
                peer,
                user: user.clone(),
                password: password.clone(),
                expires: *expires,
            },
            ActKind::Subscribe { event } => Action::Subscribe {
                peer,
                event: event.clone(),
            },
        }
    }
}

fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
