use super::*;

#[test]
fn durations() {
    assert_eq!(parse_duration("200ms"), Ok(Duration::from_millis(200)));
    assert_eq!(parse_duration("4s"), Ok(Duration::from_secs(4)));
    assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
    assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
    assert_eq!(parse_duration("0.25ms"), Ok(Duration::from_micros(250)));
    assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
    for bad in [
        "5",
        "5 s",
        "s",
        "1.2.3s",
        "5h",
        "-1s",
        ".5s",
        "",
        "99999999999999999999m",
    ] {
        assert!(parse_duration(bad).is_err(), "{bad}");
    }
    assert!(parse_duration("5").unwrap_err().contains("without a unit"));
}

#[test]
fn methods() {
    assert!(check_method("INVITE").is_ok());
    assert!(
        check_method("XYZZY").is_ok(),
        "extension methods are tokens"
    );
    assert!(check_method("FOO").is_ok());
    let e = check_method("INVIT").unwrap_err();
    assert!(e.contains("did you mean `INVITE`?"), "{e}");
    assert!(check_method("invite").unwrap_err().contains("`INVITE`"));
    assert!(check_method("SUBSCRIBES")
        .unwrap_err()
        .contains("`SUBSCRIBE`"));
    assert!(check_method("IN VITE").unwrap_err().contains("token"));
}

#[test]
fn statuses_and_matchers() {
    assert_eq!(parse_status("200"), Ok(200));
    assert!(parse_status("700").is_err());
    assert!(parse_status("99").is_err());
    let m = |s: &str| matcher(Scalar::Str(s.into()));
    assert_eq!(m("2xx"), Ok(Matcher::Class(2)));
    assert_eq!(m("180-183"), Ok(Matcher::Range(180, 183)));
    assert_eq!(m("BYE"), Ok(Matcher::Method("BYE".into())));
    assert_eq!(matcher(Scalar::Int(486)), Ok(Matcher::Status(486)));
    assert!(m("7xx").is_err());
    assert!(m("183-180").is_err());
    assert!(m("486 Busy Here").unwrap_err().contains("write `486`"));
    assert!(matcher(Scalar::Int(99)).is_err());
    assert!(Matcher::Range(180, 183).matches_status(181));
    assert!(Matcher::Class(2).matches_status(202));
    assert!(!Matcher::Class(2).matches_status(180));
}

#[test]
fn send_values() {
    let s = |v: &str| send_what(Scalar::Str(v.into()));
    assert_eq!(
        s("486 Busy Here"),
        Ok(SendWhat::Response(486, Some("Busy Here".into())))
    );
    assert_eq!(s("OPTIONS"), Ok(SendWhat::Method("OPTIONS".into())));
    assert_eq!(
        send_what(Scalar::Int(180)),
        Ok(SendWhat::Response(180, None))
    );
    assert!(send_what(Scalar::Int(1000)).is_err());
    assert!(send_what(Scalar::Null).is_err());
}

#[test]
fn capabilities() {
    assert_eq!(capability("REFER"), Ok(Capability::Method("REFER".into())));
    assert_eq!(
        capability("100rel"),
        Ok(Capability::OptionTag("100rel".into()))
    );
    assert_eq!(
        capability("x-vendor"),
        Ok(Capability::OptionTag("x-vendor".into()))
    );
    assert_eq!(
        capability("event:dialog"),
        Ok(Capability::Event("dialog".into()))
    );
    assert!(capability("REFR").unwrap_err().contains("`REFER`"));
    assert!(capability("replace").unwrap_err().contains("`replaces`"));
    assert!(capability("event:").is_err());
}

#[test]
fn capture_paths_round_trip() {
    for (text, _) in CAPTURE_PATHS {
        assert_eq!(CapturePath::parse(text).unwrap().to_string(), *text);
    }
    for text in ["header.Contact", "header.Via.branch", "header.m"] {
        assert_eq!(CapturePath::parse(text).unwrap().to_string(), text);
    }
    assert!(CapturePath::parse("to.tga")
        .unwrap_err()
        .contains("`to.tag`"));
    assert!(CapturePath::parse("header.").is_err());
    assert!(CapturePath::parse("header.Via.branch.x").is_err());
}

#[test]
fn waits_in_multiples_of_t1() {
    use crate::scenario::{load_str, Delay, Step};
    let sc = |w: &str| {
        load_str(
            &format!("name: w\nsummary: s\nagents: {{ a: {{}} }}\nsteps:\n  - wait: {w}\n"),
            "w.yaml",
        )
    };
    let wait = |w: &str| match &sc(w).unwrap().steps[0].value {
        Step::Wait(d) => *d,
        other => panic!("{other:?}"),
    };
    assert_eq!(wait("6*T1"), Delay::T1Times(6));
    assert_eq!(wait("150ms"), Delay::Fixed(Duration::from_millis(150)));
    let t1 = Duration::from_millis(500);
    assert_eq!(Delay::T1Times(6).at(t1), Duration::from_secs(3));
    let e = sc("6*T2").unwrap_err().to_string();
    assert!(e.starts_with("w.yaml:5:11: expected a duration"), "{e}");
    for bad in ["0*T1", "1.5*T1", "x*T1", "1001*T1"] {
        let e = sc(bad).unwrap_err().to_string();
        assert!(
            e.starts_with(
                "w.yaml:5:11: expected a duration such as 150ms or 2s, or a multiple of T1"
            ),
            "{bad}: {e}"
        );
    }
}
