//! TCP for the endpoint shell: a listener, connections opened on demand (one per peer), and a
//! task per connection that moves bytes between the socket and the driver.
//!
//! RFC 3261 §18.1.1: the client transport opens a connection to send a request and may reuse
//! it; §18.2.2: responses go back over the connection the request came on. Outgoing
//! connections are opened from the listening address (SO_REUSEADDR and SO_REUSEPORT), as many
//! SIP stacks do, so that the peer sees the same address in Via sent-by and as the connection's
//! source and can send its own requests back over it; when that bind fails (the 4-tuple is in
//! TIME_WAIT), an ephemeral port is used.
//!
//! Nothing here waits on the peer without a bound: connects and writes have timeouts, the
//! read side only waits inside its own task (aborted with the endpoint), and the queues towards
//! the driver and towards each writer are bounded (a full writer queue drops the message and
//! counts it).

use super::endpoint::Input;
use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::timeout;

/// Messages queued for one connection's writer.
const WRITE_QUEUE: usize = 64;
/// Read buffer per connection.
const READ_CHUNK: usize = 16 * 1024;

/// Timeouts and sizes for the TCP side.
#[derive(Clone, Copy, Debug)]
pub(super) struct TcpSettings {
    pub connect_timeout: Duration,
    pub write_timeout: Duration,
    pub max_connections: usize,
}

/// The listener and the live connections of one endpoint.
pub(super) struct TcpHub {
    listener: TcpListener,
    local: SocketAddr,
    settings: TcpSettings,
    writers: HashMap<SocketAddr, mpsc::Sender<Vec<u8>>>,
    inputs_tx: mpsc::Sender<Input>,
    inputs_rx: mpsc::Receiver<Input>,
    tasks: JoinSet<()>,
    dropped: Arc<AtomicU64>,
}

/// A socket with address reuse set, bound to `addr`.
fn reusable_socket(addr: SocketAddr) -> io::Result<TcpSocket> {
    let s = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    s.set_reuseaddr(true)?;
    #[cfg(unix)]
    s.set_reuseport(true)?;
    s.bind(addr)?;
    Ok(s)
}

impl TcpHub {
    pub(super) fn bind(
        addr: SocketAddr,
        settings: TcpSettings,
        dropped: Arc<AtomicU64>,
    ) -> io::Result<Self> {
        let listener = reusable_socket(addr)?.listen(1024)?;
        let local = listener.local_addr()?;
        let (inputs_tx, inputs_rx) = mpsc::channel(256);
        Ok(TcpHub {
            listener,
            local,
            settings,
            writers: HashMap::new(),
            inputs_tx,
            inputs_rx,
            tasks: JoinSet::new(),
            dropped,
        })
    }

    pub(super) fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// The next thing that happened: a connection accepted, bytes read, a connection closed or
    /// failed. Cancel-safe (both branches are).
    pub(super) async fn next_input(&mut self) -> Input {
        loop {
            tokio::select! {
                accepted = self.listener.accept() => {
                    let Ok((stream, peer)) = accepted else { continue };
                    if self.writers.len() >= self.settings.max_connections
                        || self.writers.contains_key(&peer)
                    {
                        continue; // dropping the stream closes it
                    }
                    let local = stream.local_addr().unwrap_or(self.local);
                    let (tx, rx) = mpsc::channel(WRITE_QUEUE);
                    self.writers.insert(peer, tx);
                    let inputs = self.inputs_tx.clone();
                    let wt = self.settings.write_timeout;
                    self.tasks.spawn(connection(stream, peer, rx, inputs, wt));
                    return Input::Connected { peer, local };
                }
                Some(input) = self.inputs_rx.recv() => {
                    if let Input::Closed(peer) | Input::Failed(peer) = &input {
                        self.writers.remove(peer);
                    }
                    return input;
                }
            }
        }
    }

    /// Queues `bytes` for `to`, connecting first if there is no connection. Never waits: a
    /// full queue drops the message (counted).
    pub(super) fn send(&mut self, to: SocketAddr, bytes: Vec<u8>) {
        if !self.writers.contains_key(&to) {
            if self.writers.len() >= self.settings.max_connections {
                self.dropped.fetch_add(1, Ordering::Relaxed);
                return;
            }
            let (tx, rx) = mpsc::channel(WRITE_QUEUE);
            self.writers.insert(to, tx);
            let inputs = self.inputs_tx.clone();
            let (local, s) = (self.local, self.settings);
            self.tasks.spawn(async move {
                match timeout(s.connect_timeout, connect_from(local, to)).await {
                    Ok(Ok(stream)) => {
                        let local = stream.local_addr().unwrap_or(local);
                        let _ = inputs.send(Input::Connected { peer: to, local }).await;
                        connection(stream, to, rx, inputs, s.write_timeout).await;
                    }
                    _ => {
                        let _ = inputs.send(Input::Failed(to)).await;
                    }
                }
            });
        }
        if let Some(w) = self.writers.get(&to) {
            if w.try_send(bytes).is_err() {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// Connects to `to` from the listening address, or from an ephemeral port if that fails.
async fn connect_from(local: SocketAddr, to: SocketAddr) -> io::Result<TcpStream> {
    if let Ok(s) = reusable_socket(local) {
        if let Ok(stream) = s.connect(to).await {
            return Ok(stream);
        }
    }
    TcpStream::connect(to).await
}

/// One connection: reads go to the driver, queued messages are written with a timeout. Ends
/// when the peer closes, an I/O error or write timeout happens, or the hub drops the queue.
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    mut rx: mpsc::Receiver<Vec<u8>>,
    inputs: mpsc::Sender<Input>,
    write_timeout: Duration,
) {
    let _ = stream.set_nodelay(true);
    let (mut rd, mut wr) = stream.into_split();
    let mut buf = vec![0u8; READ_CHUNK];
    loop {
        tokio::select! {
            r = rd.read(&mut buf) => match r {
                Ok(0) | Err(_) => {
                    let _ = inputs.send(Input::Closed(peer)).await;
                    return;
                }
                Ok(n) => {
                    if inputs.send(Input::Stream(peer, buf[..n].to_vec())).await.is_err() {
                        return;
                    }
                }
            },
            msg = rx.recv() => {
                let Some(bytes) = msg else { return };
                let written = timeout(write_timeout, wr.write_all(&bytes)).await;
                if !matches!(written, Ok(Ok(()))) {
                    let _ = inputs.send(Input::Failed(peer)).await;
                    return;
                }
            }
        }
    }
}
