//! The tokio shell around [`EndpointCore`]: one driver task moves datagrams and stream bytes
//! from the sockets into the core, the core's transmissions onto the sockets, and wakes the
//! core at its deadlines. Everything SIP happens in the core.
//!
//! The core sits behind a `std::sync::Mutex` that is never held across an `.await`; the
//! [`Endpoint`] handle locks it to send and to take events. Time is the real time since the
//! endpoint was bound (`tokio::time::Instant`), so the trace has real time stamps. Waiting
//! for events is bounded by the caller: `recv` is cancel-safe (select! it against a deadline)
//! and `recv_timeout` takes one.

use super::core::{
    CoreConfig, EndpointCore, EndpointEvent, EndpointStats, Limits, SendError, Transmit, TxId,
};
use super::impair::Impairer;
use super::tcp::{TcpHub, TcpSettings};
use crate::pcap::{self, LinkType, PcapOptions};
use crate::sip::message::Message;
use crate::trace::{Trace, Transport};
use crate::txn::{Time, TimerConfig};
use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};
use tokio::net::UdpSocket;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// The largest UDP datagram (65,535 octets less the IPv4 and UDP headers, rounded up).
const MAX_DATAGRAM: usize = 65_536;

/// How to set up an [`Endpoint`].
#[derive(Clone, Debug)]
pub struct EndpointConfig {
    /// Address to bind (port 0: any free port).
    pub bind: SocketAddr,
    /// UDP or TCP.
    pub transport: Transport,
    pub timers: TimerConfig,
    pub limits: Limits,
    pub outbound: Option<Impairer>,
    pub inbound: Option<Impairer>,
    pub connect_timeout: Duration,
    pub write_timeout: Duration,
    /// Salt for branches and tags; derived from the clock when `None`.
    pub seed: Option<u64>,
}

impl EndpointConfig {
    pub fn new(bind: SocketAddr, transport: Transport) -> Self {
        EndpointConfig {
            bind,
            transport,
            timers: TimerConfig::default(),
            limits: Limits::default(),
            outbound: None,
            inbound: None,
            connect_timeout: Duration::from_secs(2),
            write_timeout: Duration::from_secs(2),
            seed: None,
        }
    }

    pub fn timers(mut self, timers: TimerConfig) -> Self {
        self.timers = timers;
        self
    }

    /// Impairs what this endpoint sends.
    pub fn outbound(mut self, imp: Impairer) -> Self {
        self.outbound = Some(imp);
        self
    }

    /// Impairs what this endpoint receives.
    pub fn inbound(mut self, imp: Impairer) -> Self {
        self.inbound = Some(imp);
        self
    }
}

/// What the socket side hands the driver.
#[derive(Debug)]
pub(super) enum Input {
    Datagram(SocketAddr, Vec<u8>),
    Stream(SocketAddr, Vec<u8>),
    Connected { peer: SocketAddr, local: SocketAddr },
    Closed(SocketAddr),
    Failed(SocketAddr),
}

/// State shared by the handle and the driver task.
struct Shared {
    core: Mutex<EndpointCore>,
    /// The handle queued something: the driver must drain and re-arm its sleep.
    wake_driver: Notify,
    /// The core has events.
    events_ready: Notify,
    started: Instant,
    /// Messages the TCP writers could not queue.
    dropped_writes: Arc<AtomicU64>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, EndpointCore> {
        // A panic while the lock was held cannot leave the core half-updated in a way that
        // matters more than losing the endpoint; keep going with its state.
        self.core.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn now(&self) -> Time {
        self.started.elapsed()
    }
}

/// The sockets of one endpoint.
enum Io {
    Udp(UdpSocket),
    Tcp(TcpHub),
}

impl Io {
    /// The next input; `buf` is scratch space of capacity [`MAX_DATAGRAM`], never zeroed
    /// (an endpoint lives for one run: zeroing 64 KiB each time cost more than its messages).
    async fn next_input(&mut self, buf: &mut Vec<u8>) -> Input {
        match self {
            Io::Udp(s) => loop {
                buf.clear();
                // Errors (an ICMP port unreachable reported on some systems) are not fatal.
                if let Ok((n, from)) = s.recv_buf_from(buf).await {
                    return Input::Datagram(from, buf[..n].to_vec());
                }
            },
            Io::Tcp(hub) => hub.next_input().await,
        }
    }

    /// Sends; returns the peer when the transport reports a failure at once.
    async fn send(&mut self, t: Transmit) -> Option<SocketAddr> {
        match self {
            Io::Udp(s) => s.send_to(&t.bytes, t.to).await.is_err().then_some(t.to),
            Io::Tcp(hub) => {
                hub.send(t.to, t.bytes);
                None
            }
        }
    }
}

/// A SIP endpoint on a real socket. Dropping it stops its driver and closes its sockets.
pub struct Endpoint {
    shared: Arc<Shared>,
    driver: JoinHandle<()>,
    local: SocketAddr,
    transport: Transport,
    started_wall: SystemTime,
}

impl Endpoint {
    /// Binds the socket(s) and starts the driver task.
    pub async fn bind(cfg: EndpointConfig) -> io::Result<Endpoint> {
        let dropped_writes = Arc::new(AtomicU64::new(0));
        let io = match cfg.transport {
            Transport::Udp => Io::Udp(UdpSocket::bind(cfg.bind).await?),
            Transport::Tcp => {
                let settings = TcpSettings {
                    connect_timeout: cfg.connect_timeout,
                    write_timeout: cfg.write_timeout,
                    max_connections: cfg.limits.max_connections,
                };
                Io::Tcp(TcpHub::bind(cfg.bind, settings, dropped_writes.clone())?)
            }
            other => {
                return Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    format!("{other} endpoints are not supported yet (UDP and TCP are)"),
                ))
            }
        };
        let local = match &io {
            Io::Udp(s) => s.local_addr()?,
            Io::Tcp(h) => h.local_addr(),
        };
        let started_wall = SystemTime::now();
        let seed = cfg.seed.unwrap_or_else(|| clock_seed(started_wall, local));
        let core = EndpointCore::new(CoreConfig {
            local,
            transport: cfg.transport,
            timers: cfg.timers,
            limits: cfg.limits,
            outbound: cfg.outbound,
            inbound: cfg.inbound,
            seed,
        });
        let shared = Arc::new(Shared {
            core: Mutex::new(core),
            wake_driver: Notify::new(),
            events_ready: Notify::new(),
            started: Instant::now(),
            dropped_writes,
        });
        let driver = tokio::spawn(drive(shared.clone(), io));
        Ok(Endpoint {
            shared,
            driver,
            local,
            transport: cfg.transport,
            started_wall,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    pub fn transport(&self) -> Transport {
        self.transport
    }

    /// Time since the endpoint was bound: the clock of its trace.
    pub fn now(&self) -> Time {
        self.shared.now()
    }

    /// Wall-clock time of the trace's time zero.
    pub fn started_at(&self) -> SystemTime {
        self.started_wall
    }

    /// A Via value for a new request: this endpoint's transport and address, a fresh branch,
    /// `rport`.
    pub fn new_via(&self) -> String {
        self.shared.lock().new_via()
    }

    /// A fresh token (for tags and Call-IDs).
    pub fn unique_token(&self) -> String {
        self.shared.lock().unique_token()
    }

    /// Sends a request through a client transaction to its Request-URI's (or top Route's)
    /// address.
    pub fn send_request(&self, msg: Message) -> Result<TxId, SendError> {
        self.command(|core, now| core.send_request(now, msg))
    }

    pub fn send_request_to(&self, to: SocketAddr, msg: Message) -> Result<TxId, SendError> {
        self.command(|core, now| core.send_request_to(now, to, msg))
    }

    pub fn send_response(&self, tx: TxId, resp: Message) -> Result<(), SendError> {
        self.command(|core, now| core.send_response(now, tx, resp))
    }

    /// Answers server transaction `tx` with a bodiless response (RFC 3261 §8.2.6).
    pub fn respond(&self, tx: TxId, code: u16, reason: &str) -> Result<(), SendError> {
        self.command(|core, now| core.respond(now, tx, code, reason))
    }

    /// Sends bytes with no transaction (stateless; malformed on purpose, or an ACK to a 2xx).
    pub fn send_raw(&self, to: SocketAddr, bytes: Vec<u8>) {
        self.command(|core, now| core.send_raw(now, to, bytes))
    }

    /// The next event. Cancel-safe: select! it against a deadline, or use `recv_timeout`.
    pub async fn recv(&self) -> EndpointEvent {
        loop {
            let notified = self.shared.events_ready.notified();
            if let Some(ev) = self.try_recv() {
                return ev;
            }
            notified.await;
        }
    }

    /// The next event, or `None` when `timeout` passes first.
    pub async fn recv_timeout(&self, timeout: Duration) -> Option<EndpointEvent> {
        tokio::time::timeout(timeout, self.recv()).await.ok()
    }

    pub fn try_recv(&self) -> Option<EndpointEvent> {
        self.shared.lock().poll_event()
    }

    /// A copy of the trace so far.
    pub fn trace(&self) -> Trace {
        self.shared.lock().trace().clone()
    }

    pub fn stats(&self) -> EndpointStats {
        let mut s = self.shared.lock().stats();
        s.dropped_transmits += self.shared.dropped_writes.load(Ordering::Relaxed);
        s
    }

    /// Writes the trace so far as a pcap file with real time stamps.
    pub fn write_pcap(&self, path: &Path, link: LinkType) -> io::Result<()> {
        let opts = PcapOptions {
            link,
            ..PcapOptions::starting_at(self.started_wall)
        };
        pcap::write_file(path, &self.trace(), opts)
    }

    fn command<R>(&self, f: impl FnOnce(&mut EndpointCore, Time) -> R) -> R {
        let r = {
            let mut core = self.shared.lock();
            let now = self.shared.now();
            f(&mut core, now)
        };
        self.shared.wake_driver.notify_one();
        r
    }
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

fn clock_seed(t: SystemTime, local: SocketAddr) -> u64 {
    let nanos = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    nanos ^ (u64::from(local.port()) << 48)
}

/// The driver: after every input, drain the core; then wait for the next input, the next
/// deadline or a wake-up from the handle.
async fn drive(shared: Arc<Shared>, mut io: Io) {
    let mut buf = Vec::with_capacity(MAX_DATAGRAM);
    loop {
        let (transmits, deadline) = {
            let mut core = shared.lock();
            if core.poll_timeout().is_some_and(|t| t <= shared.now()) {
                core.handle_timeout(shared.now());
            }
            let t: Vec<Transmit> = std::iter::from_fn(|| core.poll_transmit()).collect();
            if core.queued_events() > 0 {
                shared.events_ready.notify_one();
            }
            (t, core.poll_timeout())
        };
        let mut failed = false;
        for t in transmits {
            if let Some(peer) = io.send(t).await {
                shared.lock().handle_transport_error(shared.now(), peer);
                failed = true;
            }
        }
        if failed {
            continue; // the core has news: drain it before waiting
        }
        let sleep_until = deadline.map_or_else(
            || Instant::now() + Duration::from_secs(3600),
            |d| shared.started + d,
        );
        tokio::select! {
            input = io.next_input(&mut buf) => feed(&shared, input),
            _ = tokio::time::sleep_until(sleep_until) => {}
            _ = shared.wake_driver.notified() => {}
        }
    }
}

/// Hands one input to the core.
fn feed(shared: &Shared, input: Input) {
    let now = shared.now();
    let mut core = shared.lock();
    match input {
        Input::Datagram(from, bytes) => core.handle_datagram(now, from, &bytes),
        Input::Stream(from, bytes) => core.handle_stream(now, from, &bytes),
        Input::Connected { peer, local } => core.handle_connected(peer, local),
        Input::Closed(peer) => core.handle_stream_closed(now, peer),
        Input::Failed(peer) => core.handle_transport_error(now, peer),
    }
}
