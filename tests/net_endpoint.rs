//! Two real endpoints on loopback (IPv4 and IPv6, UDP and TCP) exchanging OPTIONS through
//! their transaction layers, with impairments, a silent peer, and a peer sending garbage.
//!
//! Real time with T1 = 10 ms (`TimerConfig::scaled`): Timer F is 640 ms. The pcap check runs
//! tshark, which is required (the test fails, with instructions, when it is missing).

use siptest::net::via::sent_by;
use siptest::net::{DropRule, Endpoint, EndpointConfig, EndpointEvent, Impairer, Impairment, TxId};
use siptest::pcap::LinkType;
use siptest::sip::builder::MessageBuilder;
use siptest::sip::parse::parse_message;
use siptest::sip::Message;
use siptest::trace::{Trace, Transport};
use siptest::txn::{TimerConfig, TimerName};
use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const WAIT: Duration = Duration::from_secs(2);

fn timers() -> TimerConfig {
    TimerConfig::scaled(Duration::from_millis(10))
}

fn config(ip: &str, transport: Transport) -> EndpointConfig {
    let bind: SocketAddr = format!("{ip}:0").parse().unwrap();
    EndpointConfig::new(bind, transport).timers(timers())
}

async fn endpoint(cfg: EndpointConfig) -> Endpoint {
    Endpoint::bind(cfg).await.expect("bind on loopback")
}

fn options(ep: &Endpoint, to: SocketAddr) -> Message {
    let uri = format!("sip:b@{}", sent_by(to));
    let from = format!(
        "<sip:a@{}>;tag={}",
        sent_by(ep.local_addr()),
        ep.unique_token()
    );
    let bytes = MessageBuilder::request("OPTIONS", &uri)
        .header("Via", &ep.new_via())
        .header("Max-Forwards", "70")
        .header("From", &from)
        .header("To", &format!("<{uri}>"))
        .header("Call-ID", &ep.unique_token())
        .header("CSeq", "1 OPTIONS")
        .build();
    parse_message(&bytes)
}

async fn next(ep: &Endpoint) -> EndpointEvent {
    ep.recv_timeout(WAIT)
        .await
        .unwrap_or_else(|| panic!("no event within {WAIT:?} at {}", ep.local_addr()))
}

/// B answers the next request with 200; returns its server transaction.
async fn answer_200(b: &Endpoint) -> TxId {
    match next(b).await {
        EndpointEvent::Request { tx, msg, .. } => {
            assert_eq!(msg.method().as_deref(), Some("OPTIONS"));
            b.respond(tx, 200, "OK").unwrap();
            tx
        }
        other => panic!("B expected a request, got {other:?}"),
    }
}

/// Messages of a trace sent by `src`, as summaries.
fn sent_by_addr(trace: &Trace, src: SocketAddr) -> Vec<String> {
    trace
        .messages
        .iter()
        .filter(|m| m.src.port() == src.port())
        .map(|m| m.message.summary())
        .collect()
}

fn received_at(trace: &Trace, dst: SocketAddr) -> Vec<String> {
    trace
        .messages
        .iter()
        .filter(|m| m.dst.port() == dst.port())
        .map(|m| m.message.summary())
        .collect()
}

/// OPTIONS from A to B, 200 back: A sees exactly one Response.
async fn options_round_trip(ip: &str, transport: Transport) {
    let a = endpoint(config(ip, transport)).await;
    let b = endpoint(config(ip, transport)).await;
    let tx = a.send_request(options(&a, b.local_addr())).unwrap();
    answer_200(&b).await;
    match next(&a).await {
        EndpointEvent::Response { tx: got, msg } => {
            assert_eq!(got, tx);
            assert_eq!(msg.status(), Some(200));
            // RFC 3261 §18.2.1 / RFC 3581 §4: B stamped received and rport.
            let via = msg.top_via().unwrap();
            assert!(via.received().is_some(), "{transport} {ip}: {via:?}");
        }
        other => panic!("A expected a response, got {other:?}"),
    }
    // Exactly one: no duplicate from retransmissions (Timer K absorbs them over UDP).
    let extra = a.recv_timeout(Duration::from_millis(60)).await;
    assert!(extra.is_none(), "{transport} {ip}: unexpected {extra:?}");
    let trace = a.trace();
    assert_eq!(sent_by_addr(&trace, a.local_addr()).len(), 1, "{trace:?}");
    assert!(trace.messages.iter().all(|m| m.transport == transport));
    assert!(trace.messages.windows(2).all(|w| w[0].time <= w[1].time));
}

#[tokio::test]
async fn options_over_udp_ipv4() {
    options_round_trip("127.0.0.1", Transport::Udp).await;
}

#[tokio::test]
async fn options_over_tcp_ipv4() {
    options_round_trip("127.0.0.1", Transport::Tcp).await;
}

/// Whether [::1] can be bound here; prints why not when it cannot.
fn ipv6_loopback() -> bool {
    match std::net::UdpSocket::bind("[::1]:0") {
        Ok(_) => true,
        Err(e) => {
            eprintln!(
                "skipping the IPv6 case: cannot bind [::1] ({e}); check `ip -6 addr show lo`"
            );
            false
        }
    }
}

#[tokio::test]
async fn options_over_udp_and_tcp_ipv6() {
    if !ipv6_loopback() {
        return;
    }
    options_round_trip("[::1]", Transport::Udp).await;
    options_round_trip("[::1]", Transport::Tcp).await;
}

/// B's first 200 never leaves: A's Timer E retransmits the OPTIONS, B's server transaction
/// (Completed) sends the 200 again (RFC 3261 §17.2.2), and A completes with one Response.
#[tokio::test]
async fn a_dropped_200_is_recovered_by_retransmission() {
    let a = endpoint(config("127.0.0.1", Transport::Udp)).await;
    let drop_200 = Impairer::new(Impairment::none(), 1).with_rule(DropRule::status(200, 1));
    let b = endpoint(config("127.0.0.1", Transport::Udp).outbound(drop_200)).await;
    let tx = a.send_request(options(&a, b.local_addr())).unwrap();
    answer_200(&b).await;
    let EndpointEvent::Response { tx: got, msg } = next(&a).await else {
        panic!("A expected a response")
    };
    assert_eq!((got, msg.status()), (tx, Some(200)));
    assert!(a.recv_timeout(Duration::from_millis(50)).await.is_none());
    let (ta, tb) = (a.trace(), b.trace());
    let a_sent = sent_by_addr(&ta, a.local_addr());
    assert!(a_sent.len() >= 2, "A retransmitted the OPTIONS: {a_sent:?}");
    assert!(a_sent.iter().all(|s| s.starts_with("OPTIONS")));
    assert_eq!(received_at(&ta, a.local_addr()), ["200 OK"]);
    // B's trace holds what actually left: only the re-sent 200.
    assert_eq!(sent_by_addr(&tb, b.local_addr()), ["200 OK"]);
    assert!(received_at(&tb, b.local_addr()).len() >= 2);
    assert_eq!(b.stats().outbound.dropped_by_rule, 1);
    // The retransmission came T1 (10 ms) after the first send, give or take scheduling.
    let times: Vec<Duration> = ta
        .messages
        .iter()
        .filter(|m| m.src.port() == a.local_addr().port())
        .map(|m| m.time)
        .collect();
    let gap = times[1] - times[0];
    assert!(
        gap >= Duration::from_millis(9) && gap < Duration::from_millis(200),
        "{gap:?}"
    );
    pcap_has_the_exchange(&a, &ta);
}

/// The pcap of A's run opens in tshark with every message.
fn pcap_has_the_exchange(a: &Endpoint, trace: &Trace) {
    let path = std::env::temp_dir().join(format!("siptest-net-{}.pcap", std::process::id()));
    a.write_pcap(&path, LinkType::Ethernet).unwrap();
    let out = Command::new("tshark")
        .arg("-r")
        .arg(&path)
        .args([
            "-Y",
            "sip",
            "-T",
            "fields",
            "-e",
            "sip.Method",
            "-e",
            "sip.Status-Code",
        ])
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "this test requires tshark ({e}); install it with \
                 `apt-get install -y --no-install-recommends tshark`"
            )
        });
    std::fs::remove_file(&path).ok();
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), trace.messages.len(), "{lines:?}");
    assert_eq!(lines.last(), Some(&"\t200"));
    assert!(
        lines[..lines.len() - 1].iter().all(|l| *l == "OPTIONS\t"),
        "{lines:?}"
    );
}

/// A peer that never answers: Timer F (64*T1 = 640 ms) ends the transaction.
async fn silent_peer(transport: Transport, to: SocketAddr) {
    let a = endpoint(config("127.0.0.1", transport)).await;
    let tx = a.send_request(options(&a, to)).unwrap();
    match next(&a).await {
        EndpointEvent::Timeout { tx: got, timer } => {
            assert_eq!((got, timer), (tx, TimerName::F), "{transport}");
        }
        other => panic!("{transport}: expected Timeout(F), got {other:?}"),
    }
    assert!(a.now() >= Duration::from_millis(640));
    let sent = sent_by_addr(&a.trace(), a.local_addr()).len();
    match transport {
        // 0, 1, 3, 7, 15, 23, ... 63 T1 on a perfect clock: 11. Timer E is re-armed from the
        // moment it fired, so real-time lateness can push the last one past F.
        Transport::Udp => assert!((9..=11).contains(&sent), "Timer E schedule: {sent}"),
        _ => assert_eq!(sent, 1, "no retransmission over TCP (RFC 3261 §17.1.2.2)"),
    }
}

#[tokio::test]
async fn a_silent_peer_gives_timeout_f_over_udp_and_tcp() {
    let silent_udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let silent_tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    tokio::join!(
        silent_peer(Transport::Udp, silent_udp.local_addr().unwrap()),
        silent_peer(Transport::Tcp, silent_tcp.local_addr().unwrap()),
    );
}

#[tokio::test]
async fn a_refused_tcp_connection_is_a_transport_error() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let to = closed.local_addr().unwrap();
    drop(closed);
    let a = endpoint(config("127.0.0.1", Transport::Tcp)).await;
    let tx = a.send_request(options(&a, to)).unwrap();
    match next(&a).await {
        EndpointEvent::TransportError { tx: got, peer } => assert_eq!((got, peer), (tx, to)),
        other => panic!("expected a transport error, got {other:?}"),
    }
}

/// Garbage and a flood over UDP: reported, bounded, and the endpoint still answers.
#[tokio::test]
async fn garbage_and_a_flood_leave_the_endpoint_working() {
    let mut cfg = config("127.0.0.1", Transport::Udp);
    cfg.limits.max_events = 32;
    let b = endpoint(cfg).await;
    let peer = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    peer.send_to(b"\xff\xfe not SIP at all\r\n\r\n", b.local_addr())
        .unwrap();
    match next(&b).await {
        EndpointEvent::Garbage { bytes, from, .. } => {
            assert_eq!(from, peer.local_addr().unwrap());
            assert_eq!(bytes[0], 0xff);
        }
        other => panic!("expected garbage, got {other:?}"),
    }
    for i in 0..5000 {
        let _ = peer.send_to(format!("junk {i}\r\n\r\n").as_bytes(), b.local_addr());
    }
    let a = endpoint(config("127.0.0.1", Transport::Udp)).await;
    let tx = a.send_request(options(&a, b.local_addr())).unwrap();
    // The OPTIONS lands behind the flood; drain until it shows up.
    let deadline = tokio::time::Instant::now() + WAIT;
    let server_tx = loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match b.recv_timeout(left).await {
            Some(EndpointEvent::Request { tx, .. }) => break tx,
            Some(EndpointEvent::Garbage { .. }) => continue,
            other => panic!("expected garbage then the request, got {other:?}"),
        }
    };
    b.respond(server_tx, 200, "OK").unwrap();
    assert!(matches!(next(&a).await, EndpointEvent::Response { tx: t, .. } if t == tx));
    let s = b.stats();
    assert!(s.garbage > 32, "{s:?}");
    assert!(s.dropped > 0, "the bounded queue dropped the oldest: {s:?}");
}

/// A raw TCP client: a message split over two writes is framed; the response comes back on
/// the same connection (RFC 3261 §18.2.2); a cut message at close is reported as garbage.
#[tokio::test]
async fn tcp_framing_and_responses_on_the_same_connection() {
    let b = endpoint(config("127.0.0.1", Transport::Tcp)).await;
    let mut client = tokio::net::TcpStream::connect(b.local_addr())
        .await
        .unwrap();
    let local = client.local_addr().unwrap();
    let req = format!(
        "OPTIONS sip:b@{} SIP/2.0\r\nVia: SIP/2.0/TCP {};branch=z9hG4bKraw1\r\nMax-Forwards: 70\r\nFrom: <sip:a@x>;tag=r\r\nTo: <sip:b@x>\r\nCall-ID: raw-1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
        sent_by(b.local_addr()),
        sent_by(local)
    );
    let (head, tail) = req.as_bytes().split_at(40);
    client.write_all(head).await.unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    client.write_all(tail).await.unwrap();
    answer_200(&b).await;
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(WAIT, client.read(&mut buf))
        .await
        .expect("the 200 within the wait")
        .unwrap();
    let resp = parse_message(&buf[..n]);
    assert_eq!(
        resp.status(),
        Some(200),
        "{}",
        String::from_utf8_lossy(&buf[..n])
    );
    assert_eq!(resp.branch().as_deref(), Some("z9hG4bKraw1"));
    client
        .write_all(b"OPTIONS sip:cut SIP/2.0\r\nVia: SIP/2.0/T")
        .await
        .unwrap();
    drop(client);
    match next(&b).await {
        EndpointEvent::Garbage { violation, .. } => {
            assert_eq!(violation.rule.id, "msg.stream.incomplete")
        }
        other => panic!("expected the cut message as garbage, got {other:?}"),
    }
}
