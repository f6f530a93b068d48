//! Drivers of real devices (`driver:` in a targets file; `docs/scenarios.md`, "Drivers of
//! real devices"): how siptest asks a SIP phone it did not write to place a call, hold, resume, hang up or transfer, through
//! the device's own control interface.
//!
//! Two channels cover the Debian user agents of the lab (`../shared/lab`):
//! - `ctrl_tcp: HOST:PORT`: baresip's `ctrl_tcp` module, one netstring per command
//!   (`LEN:{"command":"dial","params":"sip:..","token":"7"},`), answered by a netstring with
//!   `"response":true` and `"ok"`; event netstrings (`"event":true`) in between are skipped.
//! - `fifo: PATH`: one line per command written to a FIFO the device reads as its console
//!   (linphonec, twinkle-console). Relative paths are in the device's directory
//!   (`$SIPTEST_TARGET_DIR`, made by siptest for its `start` command). A console does not say
//!   whether a command worked: what the device then sends is the scenario's to judge.
//!
//! `commands` maps an action key ([`command_key`]) to the lines sent for it, with `{peer}`,
//! `{to}`, `{user}`, `{password}`, `{expires}`, `{method}` and `{event}` filled in. An action
//! whose key has no command is not something this device can be asked to do: the run is
//! inconclusive and says so (a phone that holds only with `a=sendonly` has no
//! `hold:inactive`). An empty list means there is nothing to send (an auto-answering phone
//! needs nothing for the default `answer`).

use super::driver::DriveError;
use crate::scenario::{LoadErrorKind, Located};
use crate::ua::{Action, AnswerPlan, HoldHow};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::time::Instant;

/// How commands reach the device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Channel {
    /// baresip's `ctrl_tcp`: netstring JSON over TCP.
    CtrlTcp(SocketAddr),
    /// Lines written to a FIFO the device reads (its console's stdin).
    Fifo(PathBuf),
}

/// A device's driver, as its targets file declares it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceDriver {
    pub channel: Channel,
    /// Action key -> the command lines to send, with placeholders.
    pub commands: BTreeMap<String, Vec<String>>,
}

/// The placeholders a command line may use.
pub const PLACEHOLDERS: &[&str] = &[
    "peer", "to", "user", "password", "expires", "method", "event",
];

/// Every action key a `commands` map may have (`request:METHOD`, `respond:METHOD:STATUS`,
/// `answer:STATUS` and `subscribe:EVENT` stand for families).
pub const KEYS: &[&str] = &[
    "answer",
    "answer:STATUS",
    "respond:METHOD:STATUS",
    "call",
    "call:late-offer",
    "call:100rel",
    "call:session-timer",
    "hold:sendonly",
    "hold:inactive",
    "hold:zero-connection",
    "unhold",
    "unhold:offerless",
    "hangup",
    "transfer",
    "request:METHOD",
    "register",
    "subscribe:EVENT",
];

/// Whether `key` is one of [`KEYS`] (a family's member counts).
pub fn is_known_key(key: &str) -> bool {
    let fixed = KEYS
        .iter()
        .any(|k| !k.contains(char::is_uppercase) && *k == key);
    let family = |prefix: &str, parts: usize| {
        key.strip_prefix(prefix)
            .is_some_and(|rest| !rest.is_empty() && rest.split(':').count() == parts)
    };
    fixed
        || family("answer:", 1)
        || family("respond:", 2)
        || family("request:", 1)
        || family("subscribe:", 1)
}

/// The key under which a device's `commands` give the lines for `action`: the action's name,
/// qualified by what changes what the device must be told (`hold:inactive`, `call:late-offer`,
/// `answer:486`). `answer` alone is the default plan (180 then 200, nothing reliable).
pub fn command_key(action: &Action) -> String {
    match action {
        Action::Answer { plan, .. } => answer_key(plan),
        Action::Respond { plan, .. } => match plan.status {
            Some(s) => format!("respond:{}:{s}", plan.method),
            None => format!("respond:{}:none", plan.method),
        },
        Action::Call {
            late_offer,
            require_100rel,
            session_expires,
            ..
        } => match (late_offer, require_100rel, session_expires) {
            (false, false, None) => "call".into(),
            (true, false, None) => "call:late-offer".into(),
            (false, true, None) => "call:100rel".into(),
            (false, false, Some(_)) => "call:session-timer".into(),
            _ => "call:combined".into(),
        },
        Action::Hold { how, .. } => match how {
            HoldHow::Sendonly => "hold:sendonly".into(),
            HoldHow::Inactive => "hold:inactive".into(),
            HoldHow::ZeroConnection => "hold:zero-connection".into(),
        },
        Action::Unhold { offerless, .. } => {
            if *offerless {
                "unhold:offerless".into()
            } else {
                "unhold".into()
            }
        }
        Action::Hangup { .. } => "hangup".into(),
        Action::Transfer { .. } => "transfer".into(),
        Action::Request { method, .. } => format!("request:{method}"),
        Action::Register { .. } => "register".into(),
        Action::Subscribe { event, .. } => format!("subscribe:{event}"),
    }
}

fn answer_key(plan: &AnswerPlan) -> String {
    let plain = !plan.reliable && !plan.early_media;
    match plan.status {
        _ if *plan == AnswerPlan::default() => "answer".into(),
        Some(s) if plain => format!("answer:{s}"),
        Some(s) => format!("answer:{s}:custom"),
        None => "answer:none".into(),
    }
}

/// The values of the placeholders for `action`.
fn values(action: &Action) -> Vec<(&'static str, String)> {
    let mut v = Vec::new();
    match action {
        Action::Answer { .. } | Action::Respond { .. } => {}
        Action::Call { peer, .. }
        | Action::Hold { peer, .. }
        | Action::Unhold { peer, .. }
        | Action::Hangup { peer } => v.push(("peer", peer.clone())),
        Action::Transfer { peer, to } => {
            v.push(("peer", peer.clone()));
            v.push(("to", to.clone()));
        }
        Action::Request { peer, method } => {
            v.push(("peer", peer.clone()));
            v.push(("method", method.clone()));
        }
        Action::Register {
            peer,
            user,
            password,
            expires,
        } => {
            v.push(("peer", peer.clone()));
            v.push(("user", user.clone()));
            v.push(("password", password.clone()));
            v.push(("expires", expires.to_string()));
        }
        Action::Subscribe { peer, event } => {
            v.push(("peer", peer.clone()));
            v.push(("event", event.clone()));
        }
    }
    v
}

/// `line` with every `{name}` replaced; `Err` names a placeholder this action has no value
/// for.
pub fn fill(line: &str, action: &Action) -> Result<String, String> {
    let vals = values(action);
    let mut out = String::with_capacity(line.len() + 32);
    let mut rest = line;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            out.push_str(&rest[open..]);
            return Ok(out);
        };
        let name = &after[..close];
        match vals.iter().find(|(n, _)| *n == name) {
            Some((_, v)) => out.push_str(v),
            None => {
                return Err(format!(
                    "`{{{name}}}` has no value for `act: {}`",
                    action.name()
                ))
            }
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The placeholders `line` uses that are not in [`PLACEHOLDERS`].
pub fn unknown_placeholders(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else { break };
        let name = &after[..close];
        if !PLACEHOLDERS.contains(&name) {
            out.push(name.to_string());
        }
        rest = &after[close + 1..];
    }
    out
}

impl DeviceDriver {
    /// Sends the commands for `action`, waiting at most until `until`.
    pub async fn act(&self, action: &Action, until: Instant) -> Result<(), DriveError> {
        let key = command_key(action);
        let Some(lines) = self.commands.get(&key) else {
            return Err(DriveError::Unsupported(format!(
                "its driver has no command for `{key}` (targets file, `driver.commands`)"
            )));
        };
        for line in lines {
            let cmd = fill(line, action).map_err(DriveError::Unsupported)?;
            let sent = tokio::time::timeout_at(until, self.send(&cmd)).await;
            match sent {
                Ok(r) => r?,
                Err(_) => {
                    return Err(DriveError::Unavailable(format!(
                        "`{cmd}` was not taken before the run's deadline"
                    )))
                }
            }
        }
        Ok(())
    }

    async fn send(&self, cmd: &str) -> Result<(), DriveError> {
        match &self.channel {
            Channel::CtrlTcp(addr) => ctrl_tcp_send(*addr, cmd).await,
            Channel::Fifo(path) => fifo_send(path, cmd).await,
        }
    }
}

/// One line to the device's console FIFO. Opening for writing without a reader fails at
/// once (`ENXIO`): the device is not running or not reading.
async fn fifo_send(path: &std::path::Path, cmd: &str) -> Result<(), DriveError> {
    let gone = |e: std::io::Error| {
        DriveError::Unavailable(format!("cannot write to {}: {e}", path.display()))
    };
    let mut tx = tokio::net::unix::pipe::OpenOptions::new()
        .open_sender(path)
        .map_err(gone)?;
    let mut line = cmd.to_string();
    line.push('\n');
    tx.write_all(line.as_bytes()).await.map_err(gone)?;
    tx.flush().await.map_err(gone)
}

static TOKEN: AtomicU64 = AtomicU64::new(1);

/// One command to baresip's `ctrl_tcp`: the first word is the command, the rest its
/// parameters. Waits for the response with the same token.
async fn ctrl_tcp_send(addr: SocketAddr, cmd: &str) -> Result<(), DriveError> {
    let gone = |e: String| DriveError::Unavailable(format!("ctrl_tcp {addr}: {e}"));
    let (command, params) = cmd.split_once(' ').unwrap_or((cmd, ""));
    let token = TOKEN.fetch_add(1, Ordering::Relaxed).to_string();
    let body = serde_json::json!({ "command": command, "params": params, "token": token });
    let body = body.to_string();
    let mut stream = TcpStream::connect(addr)
        .await
        .map_err(|e| gone(format!("cannot connect: {e}")))?;
    let framed = format!("{}:{body},", body.len());
    stream
        .write_all(framed.as_bytes())
        .await
        .map_err(|e| gone(e.to_string()))?;
    let mut reader = BufReader::new(stream);
    loop {
        let msg = read_netstring(&mut reader).await.map_err(gone)?;
        let v: serde_json::Value = serde_json::from_slice(&msg)
            .map_err(|e| gone(format!("not JSON in a netstring: {e}")))?;
        let is_response = v.get("response").and_then(serde_json::Value::as_bool) == Some(true);
        let same_token = v.get("token").and_then(serde_json::Value::as_str) == Some(&token);
        if !(is_response && same_token) {
            continue; // an event, or an answer to someone else's command
        }
        if v.get("ok").and_then(serde_json::Value::as_bool) == Some(true) {
            return Ok(());
        }
        let data = v
            .get("data")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("");
        return Err(DriveError::DeviceRefused(format!(
            "baresip answered `{cmd}` with ok=false: {}",
            data.trim()
        )));
    }
}

/// The longest netstring accepted from a device (baresip's answers are a few hundred octets).
const MAX_NETSTRING: usize = 1 << 20;

/// Reads `LEN:PAYLOAD,` (D. J. Bernstein's netstrings).
async fn read_netstring<R: tokio::io::AsyncRead + Unpin>(r: &mut R) -> Result<Vec<u8>, String> {
    let mut len: usize = 0;
    let mut digits = 0;
    loop {
        let b = r.read_u8().await.map_err(|e| e.to_string())?;
        match b {
            b'0'..=b'9' if digits < 8 => {
                len = len * 10 + usize::from(b - b'0');
                digits += 1;
            }
            b':' if digits > 0 => break,
            other => {
                return Err(format!(
                    "expected a netstring length, found octet {other:#04x}"
                ))
            }
        }
    }
    if len > MAX_NETSTRING {
        return Err(format!("a netstring of {len} octets is too long"));
    }
    let mut buf = vec![0; len];
    r.read_exact(&mut buf).await.map_err(|e| e.to_string())?;
    match r.read_u8().await.map_err(|e| e.to_string())? {
        b',' => Ok(buf),
        other => Err(format!(
            "expected `,` after a netstring, found octet {other:#04x}"
        )),
    }
}

/// `driver:` as written in a targets file.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDeviceDriver {
    ctrl_tcp: Option<Located<String>>,
    fifo: Option<Located<String>>,
    commands: Located<BTreeMap<String, Lines>>,
}

/// One command line or several.
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum Lines {
    One(String),
    Many(Vec<String>),
}

/// A problem in a `driver:` entry: line, column, kind, message.
pub type DriverError = (u32, u32, LoadErrorKind, String);

impl RawDeviceDriver {
    /// Checks the entry; relative FIFO paths are taken in `dir` (the device's directory).
    pub fn check(
        self,
        at: (u32, u32),
        dir: &std::path::Path,
    ) -> Result<DeviceDriver, Vec<DriverError>> {
        let mut errors = Vec::new();
        let channel = match (self.ctrl_tcp, self.fifo) {
            (Some(c), None) => match c.value.parse::<SocketAddr>() {
                Ok(a) if a.port() != 0 => Some(Channel::CtrlTcp(a)),
                _ => {
                    let msg = format!(
                        "expected baresip's ctrl_tcp address as IP:PORT, e.g. \
                         127.0.0.1:4444, found `{}`",
                        c.value
                    );
                    errors.push((c.line, c.column, LoadErrorKind::InvalidValue, msg));
                    None
                }
            },
            (None, Some(f)) if !f.value.is_empty() => Some(Channel::Fifo(dir.join(&f.value))),
            (None, Some(f)) => {
                let msg = "expected the path of the device's command FIFO".to_string();
                errors.push((f.line, f.column, LoadErrorKind::InvalidValue, msg));
                None
            }
            (Some(_), Some(f)) => {
                let msg = "a driver has one channel: `ctrl_tcp` or `fifo`, not both".to_string();
                errors.push((f.line, f.column, LoadErrorKind::Conflict, msg));
                None
            }
            (None, None) => {
                let msg = "expected `ctrl_tcp: IP:PORT` (baresip) or `fifo: PATH` (a console \
                           reading commands from a FIFO)"
                    .to_string();
                errors.push((at.0, at.1, LoadErrorKind::MissingKey, msg));
                None
            }
        };
        let (line, column) = (self.commands.line, self.commands.column);
        let mut commands = BTreeMap::new();
        for (key, lines) in self.commands.value {
            let lines = match lines {
                Lines::One(l) if l.is_empty() => Vec::new(),
                Lines::One(l) => vec![l],
                Lines::Many(v) => v,
            };
            if !is_known_key(&key) {
                let msg = format!(
                    "unknown action key `{key}`, expected one of: {}",
                    KEYS.join(", ")
                );
                errors.push((line, column, LoadErrorKind::UnknownKey, msg));
            }
            for name in lines.iter().flat_map(|l| unknown_placeholders(l)) {
                let msg = format!(
                    "`{key}`: unknown placeholder `{{{name}}}`, expected one of: {}",
                    PLACEHOLDERS.join(", ")
                );
                errors.push((line, column, LoadErrorKind::Undefined, msg));
            }
            commands.insert(key, lines);
        }
        match channel {
            Some(channel) if errors.is_empty() => Ok(DeviceDriver { channel, commands }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
#[path = "device_driver_tests.rs"]
mod tests;
