//! The run's driver: what carries out `act` steps on the target (`docs/scenarios.md`, "act").
//! For a `builtin` target it is the run's own in-process reference UA; for a target written
//! `udp:HOST:PORT?control=HOST:PORT` it is a standalone `siptest ua --control` reached over
//! TCP, one JSON [`Action`] per line and one answer line (`{"ok":true}` or
//! `{"ok":false,"error":"..."}`, `src/ua/shell.rs`); for a real device with a `driver:` in
//! its targets file it is that device's own control interface ([`super::device_driver`]).
//! Other targets have none.

use super::device_driver::DeviceDriver;
use super::plan::RunConfig;
use super::target::TargetKind;
use crate::scenario::Scenario;
use crate::txn::TimerConfig;
use crate::ua::shell::{self, UaHandle};
use crate::ua::{Action, Quirks, UaConfig};
use std::borrow::Cow;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::time::Instant;

/// Why a driver did not carry an action out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DriveError {
    /// The driver could not be asked (its control port does not answer, the connection
    /// broke, it took too long): nothing is known about the target.
    Unavailable(String),
    /// The driver was asked and refused (`ua::ActError`): the action made no sense in the
    /// state the run is in, or siptest's own UA failed.
    Refused(String),
    /// A real device's driver has no command for this action: the device cannot be asked to
    /// do it (nothing is known about how it would do it).
    Unsupported(String),
    /// A real device's control interface refused the command (baresip's `ok: false`): the
    /// device was not in a state to do it; what it did on the wire is in the run.
    DeviceRefused(String),
}

/// The driver of one run.
pub enum Driver {
    /// The in-process reference UA of a `builtin` target (it stops when the run ends).
    Builtin(UaHandle),
    /// A standalone `siptest ua --control`, connected on first use.
    Control {
        addr: SocketAddr,
        conn: Option<Box<ControlConn>>,
    },
    /// A real device, through its own control interface.
    Device(Arc<DeviceDriver>),
}

/// An open control connection (boxed: the driver stays small).
pub struct ControlConn {
    lines: Lines<BufReader<OwnedReadHalf>>,
    write: OwnedWriteHalf,
}

impl Driver {
    /// Carries `action` out, waiting at most until `until` for the driver's answer.
    pub async fn act(&mut self, action: Action, until: Instant) -> Result<(), DriveError> {
        match self {
            Driver::Builtin(ua) => ua
                .act(action)
                .await
                .map_err(|e| DriveError::Refused(e.to_string())),
            Driver::Device(d) => d.act(&action, until).await,
            Driver::Control { addr, conn } => {
                let addr = *addr;
                let limit = tokio::time::timeout_at(until, control_act(addr, conn, &action));
                match limit.await {
                    Ok(r) => r,
                    Err(_) => {
                        *conn = None;
                        Err(DriveError::Unavailable(format!(
                            "the control port {addr} did not answer `act: {}` before the \
                             run's deadline",
                            action.name()
                        )))
                    }
                }
            }
        }
    }
}

async fn control_act(
    addr: SocketAddr,
    conn: &mut Option<Box<ControlConn>>,
    action: &Action,
) -> Result<(), DriveError> {
    let gone = |e: String| DriveError::Unavailable(format!("control port {addr}: {e}"));
    if conn.is_none() {
        let stream = TcpStream::connect(addr)
            .await
            .map_err(|e| gone(format!("cannot connect: {e}")))?;
        let (r, write) = stream.into_split();
        *conn = Some(Box::new(ControlConn {
            lines: BufReader::new(r).lines(),
            write,
        }));
    }
    let c = conn.as_mut().expect("connected");
    let mut line = serde_json::to_string(action).map_err(|e| gone(e.to_string()))?;
    line.push('\n');
    let answer = async {
        c.write.write_all(line.as_bytes()).await?;
        c.lines.next_line().await
    }
    .await;
    let answer = match answer {
        Ok(Some(a)) => a,
        Ok(None) => {
            *conn = None;
            return Err(gone("the connection was closed".into()));
        }
        Err(e) => {
            *conn = None;
            return Err(gone(e.to_string()));
        }
    };
    parse_answer(&answer).map_err(|e| match e {
        DriveError::Unavailable(m) => gone(m),
        other => other,
    })
}

/// `{"ok":true}` or `{"ok":false,"error":"..."}`.
fn parse_answer(line: &str) -> Result<(), DriveError> {
    let v: serde_json::Value = serde_json::from_str(line)
        .map_err(|_| DriveError::Unavailable(format!("not a JSON answer: `{line}`")))?;
    match v.get("ok").and_then(serde_json::Value::as_bool) {
        Some(true) => Ok(()),
        Some(false) => Err(DriveError::Refused(
            v.get("error")
                .and_then(serde_json::Value::as_str)
                .unwrap_or("refused, without a reason")
                .to_string(),
        )),
        None => Err(DriveError::Unavailable(format!(
            "an answer without `ok`: `{line}`"
        ))),
    }
}

/// Gets a run's target ready: a `builtin` target's UA is started now (on 127.0.0.1, any
/// port, the run's T1 and T2) and the returned configuration names its address; a target
/// with a control port gets its (not yet connected) driver.
pub async fn prepare<'c>(
    sc: &Scenario,
    cfg: &'c RunConfig,
) -> Result<(Cow<'c, RunConfig>, Option<Driver>), String> {
    match &cfg.target.kind {
        TargetKind::Address {
            control: None,
            device: None,
        } => Ok((Cow::Borrowed(cfg), None)),
        TargetKind::Address {
            device: Some(d), ..
        } => Ok((Cow::Borrowed(cfg), Some(Driver::Device(d.clone())))),
        TargetKind::Address {
            control: Some(addr),
            device: None,
        } => Ok((
            Cow::Borrowed(cfg),
            Some(Driver::Control {
                addr: *addr,
                conn: None,
            }),
        )),
        TargetKind::Builtin {
            quirks, variations, ..
        } => {
            let timers = super::plan::timers(sc, cfg);
            let ua = start_builtin(cfg, quirks, variations, &timers).await?;
            let mut c = cfg.clone();
            c.target = cfg.target.at(ua.local_addr());
            Ok((Cow::Owned(c), Some(Driver::Builtin(ua))))
        }
    }
}

async fn start_builtin(
    cfg: &RunConfig,
    quirks: &[crate::ua::Quirk],
    variations: &[crate::ua::Variation],
    timers: &TimerConfig,
) -> Result<UaHandle, String> {
    let ua_cfg = UaConfig {
        user: cfg.target.user.clone(),
        quirks: Quirks::new(quirks.iter().copied()),
        variations: crate::ua::Variations::new(variations.iter().copied()),
        t1: timers.t1,
        t2: timers.t2,
        ..UaConfig::default()
    };
    let bind = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    shell::start(bind, cfg.target.transport, ua_cfg)
        .await
        .map_err(|e| {
            format!(
                "cannot start the built-in UA on {bind} ({}): {e}",
                cfg.target.transport
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_answers() {
        assert_eq!(parse_answer(r#"{"ok":true}"#), Ok(()));
        assert_eq!(
            parse_answer(r#"{"ok":false,"error":"cannot call: no"}"#),
            Err(DriveError::Refused("cannot call: no".into()))
        );
        assert!(matches!(
            parse_answer("garbage"),
            Err(DriveError::Unavailable(_))
        ));
    }
}
