//! Interop with SIPp (an independent SIP implementation): OPTIONS from a siptest endpoint to
//! SIPp and from SIPp to a siptest endpoint, over UDP and TCP on 127.0.0.1.
//!
//! SIPp's built-in `uas` scenario only handles INVITE, so the two small scenarios below are
//! written to a temporary directory. SIPp is required (package `sip-tester`); the test fails
//! with instructions when it is missing.

use siptest::net::via::sent_by;
use siptest::net::{Endpoint, EndpointConfig, EndpointEvent};
use siptest::sip::builder::MessageBuilder;
use siptest::sip::parse::parse_message;
use siptest::trace::Transport;
use siptest::txn::TimerConfig;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const UAS: &str = r#"<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="siptest options uas">
  <recv request="OPTIONS"/>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
</scenario>
"#;

const UAC: &str = r#"<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="siptest options uac">
  <send retrans="50">
    <![CDATA[
      OPTIONS sip:siptest@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:siptest@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 OPTIONS
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200"/>
</scenario>
"#;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("siptest-sipp-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Removes the scratch directory, unless `SIPTEST_KEEP` is set (to read SIPp's log).
fn cleanup(dir: &Path) {
    if std::env::var_os("SIPTEST_KEEP").is_none() {
        std::fs::remove_dir_all(dir).ok();
    }
}

fn sipp_flag(transport: Transport) -> &'static str {
    match transport {
        Transport::Udp => "u1",
        _ => "t1",
    }
}

/// Starts SIPp with `args` in `dir`, output to `dir/sipp.log`.
fn spawn_sipp(dir: &Path, args: &[String]) -> Child {
    let log = std::fs::File::create(dir.join("sipp.log")).unwrap();
    Command::new("sipp")
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "this test requires SIPp ({e}); install it with \
                 `apt-get install -y --no-install-recommends sip-tester`"
            )
        })
}

/// Waits for SIPp to exit (polling, so the runtime keeps driving the endpoint); kills it after
/// `limit`. Returns whether it exited with success, and its log.
async fn wait_sipp(mut child: Child, dir: &Path, limit: Duration) -> (bool, String) {
    let deadline = tokio::time::Instant::now() + limit;
    let ok = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.success();
        }
        if tokio::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let log = std::fs::read_to_string(dir.join("sipp.log")).unwrap_or_default();
    (ok, log)
}

fn free_port(transport: Transport) -> u16 {
    match transport {
        Transport::Udp => std::net::UdpSocket::bind("127.0.0.1:0")
            .unwrap()
            .local_addr(),
        _ => std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr(),
    }
    .unwrap()
    .port()
}

fn common_args(scenario: &Path, transport: Transport, port: u16) -> Vec<String> {
    [
        "-sf",
        &scenario.display().to_string(),
        "-t",
        sipp_flag(transport),
        "-i",
        "127.0.0.1",
        "-p",
        &port.to_string(),
        "-m",
        "1",
        "-nostdin",
        "-timeout",
        "5s",
        "-timeout_error",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// siptest sends OPTIONS to a SIPp UAS and gets its 200 through the client transaction.
async fn siptest_to_sipp(transport: Transport) {
    let dir = scratch(&format!("uas-{transport}"));
    let scenario = dir.join("uas.xml");
    std::fs::write(&scenario, UAS).unwrap();
    let port = free_port(transport);
    let child = spawn_sipp(&dir, &common_args(&scenario, transport, port));
    let cfg = EndpointConfig::new("127.0.0.1:0".parse().unwrap(), transport)
        .timers(TimerConfig::scaled(Duration::from_millis(50)));
    let a = Endpoint::bind(cfg).await.unwrap();
    let to: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    // SIPp needs a moment to bind; over UDP Timer E covers that, over TCP retry the connect.
    let mut result = None;
    for _ in 0..20 {
        let uri = format!("sip:sipp@{}", sent_by(to));
        let bytes = MessageBuilder::request("OPTIONS", &uri)
            .header("Via", &a.new_via())
            .header("Max-Forwards", "70")
            .header(
                "From",
                &format!("<sip:a@{}>;tag=t1", sent_by(a.local_addr())),
            )
            .header("To", &format!("<{uri}>"))
            .header("Call-ID", &a.unique_token())
            .header("CSeq", "1 OPTIONS")
            .build();
        let tx = a.send_request(parse_message(&bytes)).unwrap();
        match a.recv_timeout(Duration::from_secs(5)).await {
            Some(EndpointEvent::TransportError { .. }) => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            other => {
                result = Some((tx, other));
                break;
            }
        }
    }
    let (ok, log) = wait_sipp(child, &dir, Duration::from_secs(8)).await;
    match result {
        Some((tx, Some(EndpointEvent::Response { tx: got, msg }))) => {
            assert_eq!((got, msg.status()), (tx, Some(200)), "{transport}");
        }
        other => panic!("{transport}: expected SIPp's 200, got {other:?}\nSIPp log:\n{log}"),
    }
    assert!(ok, "{transport}: SIPp did not finish cleanly:\n{log}");
    cleanup(&dir);
}

/// A SIPp UAC sends OPTIONS to siptest, which answers 200 through its server transaction.
async fn sipp_to_siptest(transport: Transport) {
    let dir = scratch(&format!("uac-{transport}"));
    let scenario = dir.join("uac.xml");
    std::fs::write(&scenario, UAC).unwrap();
    let cfg = EndpointConfig::new("127.0.0.1:0".parse().unwrap(), transport)
        .timers(TimerConfig::scaled(Duration::from_millis(50)));
    let b = Endpoint::bind(cfg).await.unwrap();
    let mut args = common_args(&scenario, transport, free_port(transport));
    args.insert(0, b.local_addr().to_string());
    let child = spawn_sipp(&dir, &args);
    let event = b.recv_timeout(Duration::from_secs(5)).await;
    let request_ok = match &event {
        Some(EndpointEvent::Request { tx, msg, .. }) => {
            assert_eq!(msg.method().as_deref(), Some("OPTIONS"));
            b.respond(*tx, 200, "OK").unwrap();
            true
        }
        _ => false,
    };
    let (ok, log) = wait_sipp(child, &dir, Duration::from_secs(8)).await;
    assert!(
        request_ok,
        "{transport}: expected SIPp's OPTIONS, got {event:?}\n{log}"
    );
    assert!(ok, "{transport}: SIPp did not get its 200:\n{log}");
    cleanup(&dir);
}

#[tokio::test]
async fn siptest_and_sipp_exchange_options_over_udp() {
    tokio::join!(
        siptest_to_sipp(Transport::Udp),
        sipp_to_siptest(Transport::Udp)
    );
}

#[tokio::test]
async fn siptest_and_sipp_exchange_options_over_tcp() {
    tokio::join!(
        siptest_to_sipp(Transport::Tcp),
        sipp_to_siptest(Transport::Tcp)
    );
}
