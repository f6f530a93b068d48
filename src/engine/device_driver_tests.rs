use super::*;
use crate::ua::RespondPlan;

fn hold(how: HoldHow) -> Action {
    Action::Hold {
        peer: "sip:alice@127.0.0.1:5062".into(),
        how,
    }
}

#[test]
fn keys_say_what_the_device_must_be_told() {
    assert_eq!(command_key(&hold(HoldHow::Sendonly)), "hold:sendonly");
    assert_eq!(
        command_key(&hold(HoldHow::ZeroConnection)),
        "hold:zero-connection"
    );
    let answer = |plan| Action::Answer {
        peers: vec![],
        plan,
    };
    assert_eq!(command_key(&answer(AnswerPlan::default())), "answer");
    let busy = AnswerPlan {
        provisional: vec![],
        status: Some(486),
        ..AnswerPlan::default()
    };
    assert_eq!(command_key(&answer(busy)), "answer:486");
    let slow = Action::Respond {
        peers: vec![],
        plan: RespondPlan {
            method: "MESSAGE".into(),
            delay_ms: 0,
            status: None,
        },
    };
    assert_eq!(command_key(&slow), "respond:MESSAGE:none");
    for k in [
        "answer",
        "answer:486",
        "request:INFO",
        "respond:MESSAGE:200",
        "hold:inactive",
    ] {
        assert!(is_known_key(k), "{k}");
    }
    for k in ["hold", "answer:", "request", "respond:MESSAGE", "dial"] {
        assert!(!is_known_key(k), "{k}");
    }
}

#[test]
fn placeholders_are_filled_and_checked() {
    let t = Action::Transfer {
        peer: "sip:alice@127.0.0.1:5062".into(),
        to: "sip:carol@127.0.0.1:5064".into(),
    };
    assert_eq!(
        fill("transfer {to}", &t).unwrap(),
        "transfer sip:carol@127.0.0.1:5064"
    );
    assert!(fill("transfer {user}", &t)
        .unwrap_err()
        .contains("`{user}`"));
    assert_eq!(unknown_placeholders("dial {peer} {nope}"), vec!["nope"]);
}

#[tokio::test]
async fn netstrings_are_read_and_bounded() {
    let mut ok: &[u8] = b"11:{\"a\":\"bcd\"},";
    assert_eq!(read_netstring(&mut ok).await.unwrap(), b"{\"a\":\"bcd\"}");
    let mut no_comma: &[u8] = b"2:ab;";
    assert!(read_netstring(&mut no_comma)
        .await
        .unwrap_err()
        .contains("`,`"));
    let mut huge: &[u8] = b"99999999:";
    assert!(read_netstring(&mut huge)
        .await
        .unwrap_err()
        .contains("too long"));
    let mut junk: &[u8] = b"x";
    assert!(read_netstring(&mut junk).await.is_err());
}

/// A stand-in for baresip's ctrl_tcp: an event first, then the response to the command.
#[tokio::test]
async fn ctrl_tcp_waits_for_its_response() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let mut r = BufReader::new(&mut s);
        let req = read_netstring(&mut r).await.unwrap();
        let v: serde_json::Value = serde_json::from_slice(&req).unwrap();
        assert_eq!(v["command"], "dial");
        assert_eq!(v["params"], "sip:alice@127.0.0.1:5062");
        let ev = r#"{"event":true,"type":"CALL_RINGING"}"#;
        let resp = format!(
            r#"{{"response":true,"ok":{},"data":"busy","token":"{}"}}"#,
            v["params"] != "",
            v["token"].as_str().unwrap()
        );
        let out = format!("{}:{ev},{}:{resp},", ev.len(), resp.len());
        s.write_all(out.as_bytes()).await.unwrap();
    });
    ctrl_tcp_send(addr, "dial sip:alice@127.0.0.1:5062")
        .await
        .unwrap();
    server.await.unwrap();
}

#[tokio::test]
async fn a_missing_command_is_unsupported_and_a_fifo_without_reader_unavailable() {
    let dir = std::env::temp_dir().join(format!("siptest-dd-{}", std::process::id()));
    let d = DeviceDriver {
        channel: Channel::Fifo(dir.join("cmd")),
        commands: BTreeMap::from([("hold:sendonly".to_string(), vec!["hold".to_string()])]),
    };
    let until = Instant::now() + std::time::Duration::from_secs(2);
    let e = d.act(&hold(HoldHow::Inactive), until).await.unwrap_err();
    assert!(matches!(e, DriveError::Unsupported(m) if m.contains("`hold:inactive`")));
    let e = d.act(&hold(HoldHow::Sendonly), until).await.unwrap_err();
    assert!(matches!(e, DriveError::Unavailable(_)));
}
