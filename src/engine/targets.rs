//! Named targets (`siptest run --targets FILE`): a YAML list of devices under test, each with
//! its address and, optionally, how to start it, how to know it is ready, how to stop it, and
//! what it supports. The same scenarios then run against each of them (hickory-dns's
//! "the implementation under test is picked at run time", `../shared/STYLE.md`).
//!
//! ```yaml
//! - name: sipp
//!   address: udp:127.0.0.1:5070
//!   user: service
//!   t1: 100
//!   start: timeout 60 sipp -sn uas -aa -i 127.0.0.1 -p 5070 -nostdin
//!   ready: { options_ping: true, timeout: 5s }
//!   supports: [INVITE, BYE, ACK]
//! ```
//!
//! Loading is like the scenarios': serde-saphyr with positions, unknown keys are errors, and
//! every error is a [`LoadError`] (`file:line:column: message`). The lifecycle of a started
//! device ([`Device`]) is the edge: a process group killed when the device is dropped.

use super::device_driver::RawDeviceDriver;
use super::target::{TargetKind, TargetSpec};
use crate::scenario::{
    parse_duration, Capability, LoadError, LoadErrorKind, Located, Role, Scenario,
};
use serde::Deserialize;
use serde_saphyr::Error as YamlError;
use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long readiness is awaited when `ready` gives no `timeout`.
pub const DEFAULT_READY_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a `stop` command may take before siptest goes on.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// One named target, checked.
#[derive(Clone, Debug, PartialEq)]
pub struct NamedTarget {
    /// Unique within the file; the results name the target by it.
    pub name: Located<String>,
    pub spec: TargetSpec,
    /// The target's T1, used unless `--t1` is given (and then winning over the scenarios').
    pub t1: Option<Duration>,
    /// A shell command (`sh -c`) that starts the device; its process group is killed at the end.
    pub start: Option<String>,
    pub ready: Option<Ready>,
    /// A shell command run after the scenarios, before the started process is killed.
    pub stop: Option<String>,
    /// What the device supports; `None` when not said (then every scenario runs).
    pub supports: Option<Vec<Capability>>,
    /// The roles the device plays (`ua`, `proxy`, `b2bua`, `registrar`); `None`: any (the built-in UA
    /// plays both a UA and a proxy). A scenario for another role (`target.role`) is not run.
    pub roles: Option<Vec<Role>>,
    /// The device's own directory (`$SIPTEST_TARGET_DIR` for `start` and `stop`): made empty
    /// before `start`, removed after `stop`.
    pub dir: PathBuf,
    /// When the started device is started again.
    pub restart: Restart,
}

/// How long one start of a device serves (`restart:` in a targets file).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Restart {
    /// One start for all the target's runs, played `--jobs` at once.
    #[default]
    PerTarget,
    /// A fresh start for each scenario (its repetitions share it), one scenario at a time:
    /// a call, subscription or busy line a failed run leaves behind cannot change the next
    /// scenario's result.
    PerScenario,
}

/// When a target counts as ready.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ready {
    /// Wait until it answers an OPTIONS with any response (RFC 3261 §11).
    pub options_ping: bool,
    pub timeout: Duration,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTarget {
    name: Located<String>,
    address: Located<String>,
    user: Option<Located<String>>,
    /// The control port of a `siptest ua --control` acting for the target (`act` steps).
    control: Option<Located<String>>,
    t1: Option<Located<u64>>,
    start: Option<String>,
    ready: Option<Located<RawReady>>,
    stop: Option<String>,
    supports: Option<Vec<Capability>>,
    roles: Option<Vec<Role>>,
    /// How a real device is asked to act (`docs/scenarios.md`, "Drivers of real devices").
    driver: Option<Located<RawDeviceDriver>>,
    #[serde(default)]
    restart: Restart,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReady {
    #[serde(default)]
    options_ping: bool,
    timeout: Option<Located<String>>,
}

impl NamedTarget {
    /// The needs of `sc` this target does not support (none when `supports` is not given).
    pub fn missing(&self, sc: &Scenario) -> Vec<Capability> {
        let Some(supports) = &self.supports else {
            return Vec::new();
        };
        let has = |c: &Capability| supports.iter().any(|s| same_capability(s, c));
        sc.target
            .needs
            .iter()
            .filter(|c| !has(c))
            .cloned()
            .collect()
    }
}

impl NamedTarget {
    /// Why `sc` is not for this target, or `None`: the scenario is for another role
    /// (`target.role`), or needs what the target does not support (`target.needs`).
    pub fn unsuited(&self, sc: &Scenario) -> Option<String> {
        let name = &self.name.value;
        if let Some(roles) = &self.roles {
            if !roles.contains(&sc.target.role) {
                let plays: Vec<&str> = roles.iter().map(|r| role_name(*r)).collect();
                return Some(format!(
                    "target `{name}` plays {} (its `roles`); this scenario is for a {} \
                     (target.role)",
                    plays.join(", "),
                    role_name(sc.target.role)
                ));
            }
        }
        let m = self.missing(sc);
        (!m.is_empty()).then(|| {
            let list: Vec<String> = m.iter().map(ToString::to_string).collect();
            format!(
                "target `{name}` does not support {} (target.needs; its `supports` lacks it)",
                list.join(", ")
            )
        })
    }
}

fn role_name(r: Role) -> &'static str {
    match r {
        Role::Ua => "ua",
        Role::Proxy => "proxy",
        Role::B2bua => "b2bua",
        Role::Registrar => "registrar",
    }
}

/// Methods compare exactly (RFC 3261 §7.1: case-sensitive); option tags and event packages
/// without regard to case (RFC 3261 §19.2, RFC 6665 §8.2.1: tokens compared case-insensitively).
fn same_capability(a: &Capability, b: &Capability) -> bool {
    match (a, b) {
        (Capability::Method(x), Capability::Method(y)) => x == y,
        (Capability::OptionTag(x), Capability::OptionTag(y))
        | (Capability::Event(x), Capability::Event(y)) => x.eq_ignore_ascii_case(y),
        _ => false,
    }
}

/// Loads a targets file.
pub fn load_targets_file(path: &Path) -> Result<Vec<NamedTarget>, Vec<LoadError>> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| vec![crate::scenario::load::io_error(&file, &e)])?;
    load_targets_str(&text, &file)
}

/// Loads targets from text; `file` names it in errors. Every error found, in file order.
pub fn load_targets_str(text: &str, file: &str) -> Result<Vec<NamedTarget>, Vec<LoadError>> {
    let options = serde_saphyr::options! {
        strict_booleans: true,
    };
    let raw: Located<Vec<RawTarget>> = serde_saphyr::from_str_with_options(text, options)
        .map_err(|e| vec![yaml_error(&e, text, file)])?;
    let err = |line, column, kind, message: String| LoadError {
        file: file.to_string(),
        line,
        column,
        kind,
        message,
    };
    if raw.value.is_empty() {
        let msg = "expected a list of targets (`- name: ...` entries), found none".to_string();
        return Err(vec![err(
            raw.line.max(1),
            raw.column.max(1),
            LoadErrorKind::MissingKey,
            msg,
        )]);
    }
    let mut errors = Vec::new();
    let mut names = HashSet::new();
    let mut out = Vec::new();
    for t in raw.value {
        let at = |l: &Located<String>| (l.line, l.column);
        let name_ok = !t.name.is_empty()
            && t.name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
        if !name_ok {
            let (l, c) = at(&t.name);
            let msg = format!(
                "expected a target name of letters, digits, `-`, `_` and `.`, found `{}`",
                t.name.value
            );
            errors.push(err(l, c, LoadErrorKind::InvalidValue, msg));
        } else if !names.insert(t.name.value.clone()) {
            let (l, c) = at(&t.name);
            let msg = format!("target name `{}` is used twice", t.name.value);
            errors.push(err(l, c, LoadErrorKind::Duplicate, msg));
        }
        let mut spec = match TargetSpec::parse(&t.address) {
            Ok(s) => Some(s),
            Err(e) => {
                let (l, c) = at(&t.address);
                errors.push(err(l, c, LoadErrorKind::InvalidValue, e.to_string()));
                None
            }
        };
        if let (Some(spec), Some(user)) = (spec.as_mut(), &t.user) {
            let bad = |b: u8| b.is_ascii_whitespace() || b"@:[]<>;?".contains(&b);
            if user.is_empty() || user.bytes().any(bad) {
                let msg = format!(
                    "expected the user part of a SIP URI, found `{}`",
                    user.value
                );
                errors.push(err(
                    user.line,
                    user.column,
                    LoadErrorKind::InvalidValue,
                    msg,
                ));
            } else {
                spec.user = user.value.clone();
            }
        }
        if let (Some(spec), Some(c)) = (spec.as_mut(), &t.control) {
            match (c.parse::<SocketAddr>(), &spec.kind) {
                (Ok(addr), super::target::TargetKind::Address { .. }) if addr.port() != 0 => {
                    spec.kind = super::target::TargetKind::Address {
                        control: Some(addr),
                        device: None,
                    };
                }
                (_, super::target::TargetKind::Builtin { .. }) => {
                    let msg = "a builtin target is driven in-process; `control` is for \
                               targets at an address"
                        .to_string();
                    errors.push(err(c.line, c.column, LoadErrorKind::Conflict, msg));
                }
                _ => {
                    let msg = format!(
                        "expected the control port as HOST:PORT with an IP address, e.g. \
                         127.0.0.1:5071, found `{}`",
                        c.value
                    );
                    errors.push(err(c.line, c.column, LoadErrorKind::InvalidValue, msg));
                }
            }
        }
        let dir = device_dir(&t.name);
        if let Some(d) = t.driver {
            let at = (d.line, d.column);
            match (d.value.check(at, &dir), spec.as_mut()) {
                (Ok(driver), Some(spec)) => match &mut spec.kind {
                    TargetKind::Address {
                        control: None,
                        device,
                    } => {
                        *device = Some(std::sync::Arc::new(driver));
                    }
                    _ => {
                        let msg = "`driver` is for a real device at an address, without \
                                   `control` (a builtin target is driven in-process)"
                            .to_string();
                        errors.push(err(at.0, at.1, LoadErrorKind::Conflict, msg));
                    }
                },
                (Ok(_), None) => {}
                (Err(es), _) => {
                    errors.extend(es.into_iter().map(|(l, c, k, m)| err(l, c, k, m)));
                }
            }
        }
        let t1 = match &t.t1 {
            Some(ms) if ms.value == 0 => {
                let msg = "expected T1 in milliseconds, greater than 0 (RFC 3261 §17.1.1.1)";
                errors.push(err(
                    ms.line,
                    ms.column,
                    LoadErrorKind::InvalidValue,
                    msg.into(),
                ));
                None
            }
            other => other.as_ref().map(|ms| Duration::from_millis(ms.value)),
        };
        let ready = t.ready.map(|r| {
            let timeout = match &r.timeout {
                None => DEFAULT_READY_TIMEOUT,
                Some(d) => match parse_duration(d) {
                    Ok(d) if !d.is_zero() => d,
                    Ok(_) => {
                        let msg = "expected a timeout greater than 0".to_string();
                        errors.push(err(d.line, d.column, LoadErrorKind::InvalidValue, msg));
                        DEFAULT_READY_TIMEOUT
                    }
                    Err(e) => {
                        errors.push(err(d.line, d.column, LoadErrorKind::InvalidValue, e));
                        DEFAULT_READY_TIMEOUT
                    }
                },
            };
            Ready {
                options_ping: r.value.options_ping,
                timeout,
            }
        });
        if let Some(spec) = spec {
            out.push(NamedTarget {
                name: t.name,
                spec,
                t1,
                start: t.start,
                ready,
                stop: t.stop,
                supports: t.supports,
                roles: t.roles,
                dir,
                restart: t.restart,
            });
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        errors.sort_by_key(|e| (e.line, e.column));
        Err(errors)
    }
}

/// A serde-saphyr error in a targets file, located.
fn yaml_error(e: &YamlError, text: &str, file: &str) -> LoadError {
    crate::scenario::load::yaml_error_in(e, text, file, "a list of targets (`- name: ...` entries)")
}

/// The directory of the device named `name` for this siptest process.
fn device_dir(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("siptest-{}-target-{name}", std::process::id()))
}

/// A started device: its `sh -c` process leads its own process group, which is killed (TERM,
/// then KILL) when the device is dropped, so that `timeout sipp ...` goes with it.
pub struct Device {
    child: Option<Child>,
    stop: Option<String>,
    dir: PathBuf,
}

impl Device {
    /// Runs `start` (if any) with stdout and stderr written to `log`: a new file, or after
    /// what it holds when `append` (a device started again, `restart: per-scenario`).
    pub fn start(t: &NamedTarget, log: &Path, append: bool) -> Result<Device, String> {
        let mut dev = Device {
            child: None,
            stop: t.stop.clone(),
            dir: t.dir.clone(),
        };
        let _ = std::fs::remove_dir_all(&t.dir);
        std::fs::create_dir_all(&t.dir)
            .map_err(|e| format!("cannot create {}: {e}", t.dir.display()))?;
        if let Some(cmd) = &t.start {
            if let Some(dir) = log.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            let out = std::fs::OpenOptions::new()
                .create(true)
                .write(true)
                .append(append)
                .truncate(!append)
                .open(log)
                .map_err(|e| format!("cannot create {}: {e}", log.display()))?;
            let err = out.try_clone().map_err(|e| e.to_string())?;
            let child = Command::new("sh")
                .arg("-c")
                .arg(cmd)
                .env("SIPTEST_TARGET_DIR", &t.dir)
                .stdin(Stdio::null())
                .stdout(out)
                .stderr(err)
                .process_group(0)
                .spawn()
                .map_err(|e| format!("cannot run `sh -c {cmd}`: {e}"))?;
            dev.child = Some(child);
        }
        Ok(dev)
    }

    /// Waits until the target is ready as `ready` says; `Err` says why it is not.
    pub fn wait_ready(&mut self, t: &NamedTarget) -> Result<(), String> {
        let Some(ready) = t.ready.filter(|r| r.options_ping) else {
            return Ok(());
        };
        let until = Instant::now() + ready.timeout;
        let mut n = 0;
        while Instant::now() < until {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                return Err(format!(
                    "its start command ended ({status}) before it was ready"
                ));
            }
            n += 1;
            let left = until.saturating_duration_since(Instant::now());
            if options_ping(&t.spec, n, left.min(Duration::from_millis(250))) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50).min(left));
        }
        Err(format!(
            "it did not answer OPTIONS within {} ms (ready.timeout)",
            ready.timeout.as_millis()
        ))
    }
}

impl Drop for Device {
    fn drop(&mut self) {
        if let Some(cmd) = &self.stop {
            if let Ok(c) = Command::new("sh")
                .arg("-c")
                .arg(cmd)
                .env("SIPTEST_TARGET_DIR", &self.dir)
                .stdin(Stdio::null())
                .process_group(0)
                .spawn()
            {
                end_tree(c, STOP_TIMEOUT);
            }
        }
        if let Some(c) = self.child.take() {
            end_tree(c, Duration::ZERO);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Ends a child and everything it started: after `grace` (for a `stop` command to finish
/// by itself), TERM to its process group and to each descendant (a `timeout` in the command
/// moves itself into a group of its own), then KILL to what is left after two seconds.
/// Returns when none of them is left.
fn end_tree(mut child: Child, grace: Duration) {
    let until = Instant::now() + grace;
    while child.try_wait().ok().flatten().is_none() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut tree = descendants(child.id());
    signal(&format!("-{}", child.id()), "TERM");
    for pid in &tree {
        signal(&pid.to_string(), "TERM");
    }
    let _ = child.try_wait();
    let until = Instant::now() + Duration::from_secs(2);
    loop {
        let _ = child.try_wait();
        tree.retain(|pid| alive(*pid));
        if tree.is_empty() && child.try_wait().ok().flatten().is_some() {
            return;
        }
        if Instant::now() >= until {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    signal(&format!("-{}", child.id()), "KILL");
    for pid in &tree {
        signal(&pid.to_string(), "KILL");
    }
    let _ = child.wait();
    let until = Instant::now() + Duration::from_secs(1);
    while tree.iter().any(|p| alive(*p)) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Sends a signal to a pid, or to a process group as `-PGID`, through kill(1) (siptest links
/// no libc).
fn signal(target: &str, sig: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg("--")
        .arg(target)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// A process that exists and is not a zombie.
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| stat_fields(&s).map(|(state, _)| state != 'Z'))
        .unwrap_or(false)
}

/// State and parent pid from `/proc/PID/stat` (the command name, in parentheses, may hold
/// spaces).
fn stat_fields(stat: &str) -> Option<(char, u32)> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut f = rest.split_whitespace();
    let state = f.next()?.chars().next()?;
    let ppid = f.next()?.parse().ok()?;
    Some((state, ppid))
}

/// Every live descendant of `root` (Linux `/proc`; none elsewhere).
fn descendants(root: u32) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let parents: Vec<(u32, u32)> = dir
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            Some((pid, stat_fields(&stat)?.1))
        })
        .collect();
    let mut out = Vec::new();
    let mut frontier = vec![root];
    while let Some(p) = frontier.pop() {
        for (pid, _) in parents.iter().filter(|(_, pp)| *pp == p) {
            out.push(*pid);
            frontier.push(*pid);
        }
    }
    out
}

/// One OPTIONS to the target; true when any SIP response came back within `wait`.
fn options_ping(target: &TargetSpec, n: u32, wait: Duration) -> bool {
    let wait = wait.max(Duration::from_millis(10));
    let local_any: SocketAddr = match target.addr {
        SocketAddr::V4(_) => ([0, 0, 0, 0], 0).into(),
        SocketAddr::V6(_) => (std::net::Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let is_response = |buf: &[u8]| buf.starts_with(b"SIP/2.0 ");
    match target.transport {
        crate::trace::Transport::Udp => {
            let Ok(sock) = UdpSocket::bind(local_any) else {
                return false;
            };
            if sock.connect(target.addr).is_err() {
                return false;
            }
            let Ok(local) = sock.local_addr() else {
                return false;
            };
            let msg = options_request(target, local, "UDP", n);
            if sock.send(msg.as_bytes()).is_err() || sock.set_read_timeout(Some(wait)).is_err() {
                return false;
            }
            let mut buf = [0u8; 4096];
            matches!(sock.recv(&mut buf), Ok(len) if is_response(&buf[..len]))
        }
        crate::trace::Transport::Tcp => {
            let Ok(mut s) = TcpStream::connect_timeout(&target.addr, wait) else {
                return false;
            };
            let Ok(local) = s.local_addr() else {
                return false;
            };
            let msg = options_request(target, local, "TCP", n);
            if s.write_all(msg.as_bytes()).is_err() || s.set_read_timeout(Some(wait)).is_err() {
                return false;
            }
            let mut buf = [0u8; 4096];
            matches!(s.read(&mut buf), Ok(len) if is_response(&buf[..len]))
        }
        // TargetSpec::parse accepts only UDP and TCP.
        _ => false,
    }
}

/// An OPTIONS request (RFC 3261 §11.1) from `local` to the target.
fn options_request(target: &TargetSpec, local: SocketAddr, transport: &str, n: u32) -> String {
    let host = super::target::uri_host(local.ip());
    let port = local.port();
    let uri = target.uri();
    let pid = std::process::id();
    format!(
        "OPTIONS {uri} SIP/2.0\r\n\
         Via: SIP/2.0/{transport} {host}:{port};branch=z9hG4bK-siptest-ready-{pid}-{n};rport\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:siptest@{host}>;tag=ready-{pid}\r\n\
         To: <{uri}>\r\n\
         Call-ID: siptest-ready-{pid}-{n}@{host}\r\n\
         CSeq: {n} OPTIONS\r\n\
         Contact: <sip:siptest@{host}:{port};transport={t}>\r\n\
         Accept: application/sdp\r\n\
         Content-Length: 0\r\n\r\n",
        t = transport.to_ascii_lowercase()
    )
}

#[cfg(test)]
#[path = "targets_tests.rs"]
mod tests;
