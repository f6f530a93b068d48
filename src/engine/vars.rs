//! Variables as templates see them (`docs/scenarios.md`, "Templates and variables"): the
//! built-ins of the run and of the sending step, the addresses of the target and the agents,
//! and user variables (initial `variables` and captures). Rendering is a pure function of
//! this state; `[branch]` draws from a generator the caller supplies.

use crate::scenario::{Template, UnsetVariable};
use std::collections::BTreeMap;

/// Stands for `[len]` while a raw message is rendered; replaced by the body length once the
/// whole text is known. Contains a NUL, so it cannot come from a scenario file.
pub const LEN_MARKER: &str = "\u{0}len\u{0}";

/// An address as `[x.host]`, `[x.port]`, `[x.user]` and `[x.uri]` give it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddrVars {
    pub user: String,
    /// As written in a URI: IPv6 in brackets.
    pub host: String,
    pub port: u16,
}

impl AddrVars {
    /// `sip:user@host:port`.
    pub fn uri(&self) -> String {
        format!("sip:{}@{}:{}", self.user, self.host, self.port)
    }

    fn field(&self, part: &str) -> Option<String> {
        Some(match part {
            "user" => self.user.clone(),
            "host" => self.host.clone(),
            "port" => self.port.to_string(),
            "uri" => self.uri(),
            _ => return None,
        })
    }
}

/// The variables of one run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunVars {
    pub call_id: String,
    pub run_id: String,
    pub target: Option<AddrVars>,
    /// Agent name -> its address.
    pub agents: BTreeMap<String, AddrVars>,
    /// User variables: initial values, then captures.
    pub user: BTreeMap<String, String>,
}

/// What only the step being rendered knows.
pub struct StepScope<'a> {
    /// The sending (or receiving) agent: `[local.*]`.
    pub agent: &'a str,
    /// `[transport]` as in Via: `UDP`, `TCP`.
    pub transport: &'a str,
    /// `[cseq]`.
    pub next_cseq: u32,
    /// A fresh branch per `[branch]`.
    pub branch: &'a mut dyn FnMut() -> String,
    /// `[len]` is available (raw messages only).
    pub raw: bool,
}

impl RunVars {
    /// The value of a reference (`call_id`, `target.host`, `agent.bob.uri`, a user variable).
    pub fn lookup(&self, name: &str, step: &mut StepScope<'_>) -> Option<String> {
        let parts: Vec<&str> = name.split('.').collect();
        match parts.as_slice() {
            ["call_id"] => Some(self.call_id.clone()),
            ["run_id"] => Some(self.run_id.clone()),
            ["branch"] => Some((step.branch)()),
            ["cseq"] => Some(step.next_cseq.to_string()),
            ["transport"] => Some(step.transport.to_string()),
            ["len"] if step.raw => Some(LEN_MARKER.to_string()),
            ["target", part] => self.target.as_ref()?.field(part),
            ["local", part] => self.agents.get(step.agent)?.field(part),
            ["agent", agent, part] => self.agents.get(*agent)?.field(part),
            [single] => self.user.get(*single).cloned(),
            _ => None,
        }
    }

    /// Renders a template in the scope of a step.
    pub fn render(&self, t: &Template, step: &mut StepScope<'_>) -> Result<String, UnsetVariable> {
        t.render(|name| self.lookup(name, step))
    }

    /// Renders a template that may only use what does not change between uses (assertions):
    /// `[branch]` and `[cseq]` are not meaningful there and render as the empty text.
    pub fn render_plain(&self, t: &Template, agent: &str) -> Result<String, UnsetVariable> {
        let mut none = String::new;
        let mut scope = StepScope {
            agent,
            transport: "",
            next_cseq: 0,
            branch: &mut none,
            raw: false,
        };
        self.render(t, &mut scope)
    }
}

/// A raw message as it goes on the wire (`docs/scenarios.md`, "Raw messages"): every line end
/// becomes CRLF, and `[len]` becomes the length of what follows the first empty line. A text
/// without any empty line gets one at its end (YAML's `|` keeps a single final line break, so
/// the header section could not be ended otherwise; write `|+` to control it exactly).
pub fn finish_raw(rendered: &str) -> Vec<u8> {
    let mut text = String::with_capacity(rendered.len() + 16);
    for (i, line) in rendered.split('\n').enumerate() {
        if i > 0 {
            text.push_str("\r\n");
        }
        text.push_str(line.strip_suffix('\r').unwrap_or(line));
    }
    if !text.contains("\r\n\r\n") {
        if !text.ends_with("\r\n") {
            text.push_str("\r\n");
        }
        text.push_str("\r\n");
    }
    let body_len = text
        .find("\r\n\r\n")
        .map_or(0, |i| text.len() - i - 4 - marker_bytes_after(&text, i + 4));
    text.replace(LEN_MARKER, &body_len.to_string()).into_bytes()
}

/// The bytes of `[len]` markers inside the body (they are replaced too, so the body length
/// is measured without them; a marker in the body is unusual but possible).
fn marker_bytes_after(text: &str, body_start: usize) -> usize {
    text[body_start..].matches(LEN_MARKER).count() * LEN_MARKER.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> RunVars {
        let mut v = RunVars {
            call_id: "c1@siptest".into(),
            run_id: "r1".into(),
            target: Some(AddrVars {
                user: "service".into(),
                host: "[::1]".into(),
                port: 5060,
            }),
            ..RunVars::default()
        };
        v.agents.insert(
            "alice".into(),
            AddrVars {
                user: "alice".into(),
                host: "127.0.0.1".into(),
                port: 40000,
            },
        );
        v.user.insert("subject".into(), "hi".into());
        v
    }

    #[test]
    fn built_ins_addresses_and_user_variables() {
        let v = vars();
        let mut n = 0;
        let mut branch = || {
            n += 1;
            format!("z9hG4bK{n}")
        };
        let mut scope = StepScope {
            agent: "alice",
            transport: "UDP",
            next_cseq: 7,
            branch: &mut branch,
            raw: false,
        };
        let t = Template::parse(
            "[call_id] [branch] [branch] [cseq] [transport] [target.uri] [local.port] \
             [agent.alice.uri] [subject]",
        );
        assert_eq!(
            v.render(&t, &mut scope).unwrap(),
            "c1@siptest z9hG4bK1 z9hG4bK2 7 UDP sip:service@[::1]:5060 40000 \
             sip:alice@127.0.0.1:40000 hi"
        );
        let missing = Template::parse("[remote_tag]");
        assert_eq!(
            v.render(&missing, &mut scope),
            Err(UnsetVariable("remote_tag".into()))
        );
        assert!(v.render(&Template::parse("[len]"), &mut scope).is_err());
    }

    #[test]
    fn raw_text_gets_crlf_and_its_length() {
        let out = finish_raw(&format!(
            "OPTIONS x SIP/2.0\nContent-Length: {LEN_MARKER}\n\nhello"
        ));
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "OPTIONS x SIP/2.0\r\nContent-Length: 5\r\n\r\nhello"
        );
        let out = finish_raw("OPTIONS x SIP/2.0\r\nContent-Length: -999\n");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "OPTIONS x SIP/2.0\r\nContent-Length: -999\r\n\r\n"
        );
    }
}
