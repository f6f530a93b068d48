//! The reference UA on tokio: an [`Endpoint`] on a real socket, the [`UaCore`] fed from it,
//! and a channel for driver actions. The shell does nothing but move events, time and
//! actions into the core.
//!
//! A control port (`siptest ua --control`) takes actions as JSON lines
//! (`{"act":"call","peer":"sip:bob@127.0.0.1:5080"}`) and answers each with one line:
//! `{"ok":true}` or `{"ok":false,"error":"..."}`.

use super::{ActError, Action, UaConfig, UaCore};
use crate::net::{Endpoint, EndpointConfig};
use crate::trace::{Trace, Transport};
use crate::txn::TimerConfig;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;

enum Command {
    Act(Action, oneshot::Sender<Result<(), ActError>>),
    Notes(oneshot::Sender<Vec<String>>),
}

/// A running UA. Dropping it stops the UA and closes its socket.
pub struct UaHandle {
    local: SocketAddr,
    transport: Transport,
    endpoint: Arc<Endpoint>,
    commands: mpsc::Sender<Command>,
    task: JoinHandle<()>,
}

impl Drop for UaHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts a UA listening on `bind` over `transport`.
pub async fn start(bind: SocketAddr, transport: Transport, cfg: UaConfig) -> io::Result<UaHandle> {
    let mut timers = TimerConfig::scaled(cfg.t1);
    timers.t2 = cfg.t2;
    if cfg.variations.has(super::Variation::No100) {
        // Variation `no-100`: the INVITE server transaction never sends its own 100 Trying
        // (RFC 3261 §17.2.1 lets the TU answer instead; its timer is set beyond any run).
        timers.trying_delay = std::time::Duration::from_secs(24 * 3600);
    }
    let ec = EndpointConfig::new(bind, transport).timers(timers);
    let endpoint = Arc::new(Endpoint::bind(ec).await?);
    let local = endpoint.local_addr();
    let (tx, rx) = mpsc::channel(64);
    let core = UaCore::new(cfg, endpoint.clone());
    let task = tokio::spawn(run(core, endpoint.clone(), rx));
    Ok(UaHandle {
        local,
        transport,
        endpoint,
        commands: tx,
        task,
    })
}

async fn run(mut core: UaCore, endpoint: Arc<Endpoint>, mut commands: mpsc::Receiver<Command>) {
    loop {
        let wake = core.poll_timeout();
        tokio::select! {
            ev = endpoint.recv() => {
                core.on_event(Instant::now(), ev);
                while let Some(ev) = endpoint.try_recv() {
                    core.on_event(Instant::now(), ev);
                }
            }
            _ = sleep_until(wake) => {}
            cmd = commands.recv() => match cmd {
                None => return,
                Some(Command::Act(a, reply)) => {
                    let _ = reply.send(core.act(Instant::now(), a));
                }
                Some(Command::Notes(reply)) => {
                    let _ = reply.send(core.notes.clone());
                }
            },
        }
        // What already arrived goes first: after a stall, an ACK that came before an
        // overdue retransmission timer must stop that retransmission (RFC 3261 §13.3.1.4).
        while let Some(ev) = endpoint.try_recv() {
            core.on_event(Instant::now(), ev);
        }
        core.handle_timeout(Instant::now());
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

impl UaHandle {
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    pub fn transport(&self) -> Transport {
        self.transport
    }

    /// Carries out a driver action.
    pub async fn act(&self, action: Action) -> Result<(), ActError> {
        let name = action.name();
        let (tx, rx) = oneshot::channel();
        let gone = || ActError {
            action: name,
            reason: "the UA has stopped".into(),
        };
        self.commands
            .send(Command::Act(action, tx))
            .await
            .map_err(|_| gone())?;
        rx.await.map_err(|_| gone())?
    }

    /// What the UA noticed about the messages it received.
    pub async fn notes(&self) -> Vec<String> {
        let (tx, rx) = oneshot::channel();
        if self.commands.send(Command::Notes(tx)).await.is_err() {
            return Vec::new();
        }
        rx.await.unwrap_or_default()
    }

    /// Everything the UA sent and received so far.
    pub fn trace(&self) -> Trace {
        self.endpoint.trace()
    }

    /// Serves the control port on `listener` until the UA stops: one JSON action per line,
    /// one JSON answer per line.
    pub fn serve_control(self: &Arc<Self>, listener: TcpListener) -> JoinHandle<()> {
        let ua = self.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let ua = ua.clone();
                tokio::spawn(async move {
                    let (r, mut w) = stream.into_split();
                    let mut lines = BufReader::new(r).lines();
                    while let Ok(Some(line)) = lines.next_line().await {
                        if line.trim().is_empty() {
                            continue;
                        }
                        let answer = match serde_json::from_str::<Action>(&line) {
                            Err(e) => {
                                serde_json::json!({"ok": false, "error": format!("bad action: {e}")})
                            }
                            Ok(a) => match ua.act(a).await {
                                Ok(()) => serde_json::json!({"ok": true}),
                                Err(e) => serde_json::json!({"ok": false, "error": e.to_string()}),
                            },
                        };
                        let mut out = answer.to_string();
                        out.push('\n');
                        if w.write_all(out.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                });
            }
        })
    }
}
