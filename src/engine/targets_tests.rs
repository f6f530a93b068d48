use super::*;
use crate::engine::device_driver::Channel;
use crate::scenario::load_str;

const FILE: &str = "- name: sipp\n  address: udp:127.0.0.1:5070\n  user: service\n  t1: 100\n  \
                    ready: { options_ping: true, timeout: 2s }\n  supports: [INVITE, BYE, 100rel]\n\
                    - name: bare\n  address: tcp:[::1]:5060\n";

#[test]
fn loads_named_targets() {
    let t = load_targets_str(FILE, "t.yaml").unwrap();
    assert_eq!(t.len(), 2);
    assert_eq!(t[0].name.value, "sipp");
    assert_eq!(t[0].spec.uri(), "sip:service@127.0.0.1:5070");
    assert_eq!(t[0].t1, Some(Duration::from_millis(100)));
    assert_eq!(t[0].ready.unwrap().timeout, Duration::from_secs(2));
    assert_eq!(t[0].supports.as_ref().unwrap().len(), 3);
    assert_eq!(t[1].supports, None);
    assert_eq!(t[1].spec.to_string(), "tcp:[::1]:5060");
}

#[test]
fn a_control_port_and_a_builtin_address() {
    let text = "- name: ua\n  address: udp:127.0.0.1:5070\n  control: 127.0.0.1:5071\n\
                - name: ref\n  address: builtin:tcp?quirk=no-to-tag\n";
    let t = load_targets_str(text, "t").unwrap();
    assert_eq!(t[0].spec.control(), Some("127.0.0.1:5071".parse().unwrap()));
    assert!(t[1].spec.is_builtin());
    let e = load_targets_str(
        "- name: a\n  address: udp:127.0.0.1:1\n  control: here\n",
        "t",
    )
    .unwrap_err();
    assert!(
        e[0].to_string()
            .starts_with("t:3:12: expected the control port"),
        "{}",
        e[0]
    );
}

#[test]
fn errors_are_located() {
    let cases = [
        (
            "- name: a\n  adress: udp:127.0.0.1:5060\n",
            "t:2:3: unknown key `adress`",
        ),
        (
            "- name: a\n  address: udp:localhost:5060\n",
            "t:2:12: bad target",
        ),
        (
            "- name: a\n  address: udp:127.0.0.1:1\n  ready: { timeout: 5 }\n",
            "t:3:21: expected a duration",
        ),
        (
            "- name: a\n  address: udp:127.0.0.1:1\n- name: a\n  address: udp:127.0.0.1:2\n",
            "t:3:9: target name `a` is used twice",
        ),
        (
            "- name: a\n  address: udp:127.0.0.1:1\n  supports: [INVITE, 100rell]\n",
            "t:3:",
        ),
        (
            "- name: a\n  address: udp:127.0.0.1:1\n  t1: 0\n",
            "t:3:7: ",
        ),
        ("- name: a\n", "missing required key `address`"),
    ];
    for (text, want) in cases {
        let e = load_targets_str(text, "t").unwrap_err();
        let got = e[0].to_string();
        assert!(
            got.starts_with(want) || got.contains(want),
            "{text:?}: {got}"
        );
    }
}

#[test]
fn missing_capabilities_are_named() {
    let t = load_targets_str(FILE, "t.yaml").unwrap();
    let sc = load_str(
        "name: r\nsummary: s\ntarget: { needs: [INVITE, REFER, event:refer] }\nagents: { a: {} }\nsteps:\n  - send: OPTIONS\n",
        "r.yaml",
    )
    .unwrap();
    let missing: Vec<String> = t[0].missing(&sc).iter().map(ToString::to_string).collect();
    assert_eq!(missing, ["REFER", "event:refer"]);
    assert!(t[1].missing(&sc).is_empty());
}

#[test]
fn a_device_driver_and_roles() {
    let text = "- name: phone\n  address: udp:127.0.0.1:5070\n  roles: [ua]\n  driver:\n    fifo: cmd\n    commands:\n      call: call {peer}\n      hold:sendonly: [pause]\n      answer: []\n";
    let t = load_targets_str(text, "t").unwrap();
    let TargetKind::Address {
        device: Some(d), ..
    } = &t[0].spec.kind
    else {
        panic!("no driver: {:?}", t[0].spec.kind)
    };
    assert_eq!(d.channel, Channel::Fifo(t[0].dir.join("cmd")));
    assert_eq!(d.commands["call"], ["call {peer}"]);
    assert!(d.commands["answer"].is_empty());
    let proxy = load_str(
        "name: p\nsummary: s\ntarget: { role: proxy }\nagents: { a: {} }\nsteps:\n  - send: OPTIONS\n",
        "p.yaml",
    )
    .unwrap();
    let why = t[0].unsuited(&proxy).unwrap();
    assert!(
        why.contains("plays ua") && why.contains("for a proxy"),
        "{why}"
    );
}

#[test]
fn driver_errors_are_located() {
    let cases = [
        (
            "  driver:\n    commands: { call: x }\n",
            "t:4:5: expected `ctrl_tcp",
        ),
        (
            "  driver:\n    ctrl_tcp: here\n    commands: {}\n",
            "t:4:15: expected baresip",
        ),
        (
            "  driver:\n    fifo: c\n    commands:\n      dial: x\n",
            "t:6:7: unknown action key `dial`",
        ),
        (
            "  driver:\n    fifo: c\n    commands:\n      call: x {who}\n",
            "t:6:7: `call`: unknown placeholder `{who}`",
        ),
        (
            "  control: 127.0.0.1:9\n  driver:\n    fifo: c\n    commands: {}\n",
            "t:5:5: `driver` is for",
        ),
    ];
    for (extra, want) in cases {
        let text = format!("- name: a\n  address: udp:127.0.0.1:5070\n{extra}");
        let e = load_targets_str(&text, "t").unwrap_err();
        let got = e[0].to_string();
        assert!(got.starts_with(want), "{extra}: {got}");
    }
}
