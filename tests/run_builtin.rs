//! The scenario engine against the built-in reference UA (`--target builtin`): the example
//! library passes over UDP and TCP within seconds, `act` steps drive the UA (in-process, or a
//! standalone UA through its control port), quirks fail runs by the checker's rules, and
//! digest authentication answers the UA's challenges.

use siptest::engine::{run_batch, run_scenario, Batch, RunConfig, RunResult, TargetSpec, Verdict};
use siptest::rule::Level;
use siptest::scenario::{load_dir, load_str, Scenario};
use siptest::trace::Transport;
use siptest::ua::{shell, UaConfig};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn examples() -> Vec<Arc<Scenario>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/examples");
    let (scenarios, errors) = load_dir(dir);
    assert!(errors.is_empty(), "{errors:?}");
    assert!(scenarios.len() >= 5);
    scenarios.into_iter().map(Arc::new).collect()
}

fn config(target: &str) -> RunConfig {
    RunConfig::new(TargetSpec::parse(target).unwrap())
}

fn explain(r: &RunResult) -> String {
    format!(
        "{} against {}: {} {}\n{:#?}",
        r.scenario,
        r.target,
        r.verdict.kind(),
        r.verdict.summary(),
        r.findings
    )
}

async fn run_examples(target: &str) -> (Vec<RunResult>, Duration) {
    let began = Instant::now();
    let batch = Batch {
        scenarios: examples(),
        config: config(target),
        jobs: 4,
        repeat: 1,
        rate: None,
    };
    let results = run_batch(batch, &mut []).await;
    (results, began.elapsed())
}

fn assert_all_pass(results: &[RunResult], target: &str) {
    for r in results {
        assert!(r.verdict.is_pass(), "{}", explain(r));
        assert_eq!(r.target, target);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_examples_pass_against_builtin_over_udp_within_seconds() {
    let (results, took) = run_examples("builtin").await;
    assert_all_pass(&results, "builtin");
    assert!(took < Duration::from_secs(10), "{took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_examples_pass_against_builtin_over_tcp_within_seconds() {
    let (results, took) = run_examples("builtin:tcp").await;
    assert_all_pass(&results, "builtin:tcp");
    assert!(took < Duration::from_secs(10), "{took:?}");
}

/// The target calls bob (siptest as UAS), then hangs up; answer plans set by `act: answer`.
const TARGET_CALLS: &str = "name: target-calls\nsummary: s\nagents:\n  alice: {}\n  bob: {}\n\
steps:
  - act: call
    with: bob
  - expect: INVITE
    dialog: call
    sdp: present
  - send: 180
  - send: 200
  - expect: ACK
    dialog: call
  - act: hangup
  - expect: BYE
    dialog: call
  - send: 200
  - act: answer
    provisional: [183]
    status: 486
  - send: INVITE
    from: alice
  - expect: 183
  - expect: 486
";

#[tokio::test]
async fn act_call_with_siptest_as_uas_passes_against_builtin() {
    let sc = load_str(TARGET_CALLS, "target-calls.yaml").unwrap();
    for target in ["builtin", "builtin:tcp"] {
        let r = run_scenario(&sc, &config(target), 1).await;
        assert!(r.verdict.is_pass(), "{}", explain(&r));
    }
}

#[tokio::test]
async fn a_standalone_ua_is_driven_through_its_control_port() {
    let cfg = UaConfig {
        t1: Duration::from_millis(25),
        t2: Duration::from_millis(200),
        ..UaConfig::default()
    };
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let ua = Arc::new(shell::start(any, Transport::Udp, cfg).await.unwrap());
    let listener = tokio::net::TcpListener::bind(any).await.unwrap();
    let control = listener.local_addr().unwrap();
    let _serving = ua.serve_control(listener);
    let target = format!("udp:ua@{}?control={control}", ua.local_addr());
    let mut c = config(&target);
    c.t1 = Some(Duration::from_millis(25));
    let sc = load_str(TARGET_CALLS, "target-calls.yaml").unwrap();
    let r = run_scenario(&sc, &c, 1).await;
    assert!(r.verdict.is_pass(), "{}", explain(&r));
    assert_eq!(r.target, target);
}

#[tokio::test]
async fn act_without_a_driver_is_inconclusive_and_a_refusal_is_an_error() {
    let sc = load_str(
        "name: t\nsummary: s\nagents: { bob: {} }\nsteps:\n  - act: call\n  - expect: INVITE\n",
        "t.yaml",
    )
    .unwrap();
    // Nothing listens there, and nothing is sent before the act step stops the run.
    let r = run_scenario(&sc, &config("udp:127.0.0.1:9"), 1).await;
    match &r.verdict {
        Verdict::Inconclusive { reason, step } => {
            assert!(
                reason.contains("the target has no driver for `act: call`"),
                "{reason}"
            );
            assert_eq!(step.as_ref().unwrap().kind, "act");
        }
        other => panic!("{other:?}"),
    }
    let sc = load_str(
        "name: t\nsummary: s\nagents: { bob: {} }\nsteps:\n  - act: hangup\n",
        "t.yaml",
    )
    .unwrap();
    let r = run_scenario(&sc, &config("builtin"), 1).await;
    match &r.verdict {
        Verdict::Error { reason } => {
            assert!(reason.contains("refused `act: hangup`"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn the_no_to_tag_quirk_fails_basic_calls_by_the_checkers_rule() {
    let all = examples();
    let find = |name: &str| all.iter().find(|s| s.name.value == name).unwrap().clone();
    // Every step of the OPTIONS query passes: the checker's finding decides the verdict.
    let r = run_scenario(
        &find("options-query"),
        &config("builtin?quirk=no-to-tag"),
        1,
    )
    .await;
    assert_eq!(r.target, "builtin?quirk=no-to-tag");
    let Verdict::Fail(f) = &r.verdict else {
        panic!("{}", explain(&r))
    };
    assert!(f.expected.contains("tx.response.no-to-tag"), "{f:?}");
    assert!(f.expected.contains("RFC 3261 §8.2.6.2"), "{f:?}");
    assert!(f.actual.contains("200 OK"), "{f:?}");
    // The basic call fails, with the rule among the findings.
    let r = run_scenario(
        &find("basic-call-uac"),
        &config("builtin?quirk=no-to-tag"),
        1,
    )
    .await;
    assert!(matches!(r.verdict, Verdict::Fail(_)), "{}", explain(&r));
    assert!(
        r.findings
            .iter()
            .any(|f| f.rule == "tx.response.no-to-tag" && f.severity == "error"),
        "{}",
        explain(&r)
    );
}

const REGISTER: &str = "name: register\nsummary: s\nagents: { alice: {} }\nsteps:
  - send: REGISTER
    uri: \"sip:[target.host]:[target.port]\"
  - expect: 401
    headers: { WWW-Authenticate: present }
  - send: REGISTER
    uri: \"sip:[target.host]:[target.port]\"
    auth: { user: alice, password: siptest, algorithm: ALG }
  - expect: 200
";

#[tokio::test]
async fn digest_authentication_answers_the_registrars_challenge() {
    for alg in ["MD5", "SHA-256"] {
        let sc = load_str(&REGISTER.replace("ALG", alg), "r.yaml").unwrap();
        let r = run_scenario(&sc, &config("builtin"), 1).await;
        assert!(r.verdict.is_pass(), "{alg}: {}", explain(&r));
        let auth = r
            .trace
            .messages
            .iter()
            .filter_map(|m| {
                m.message
                    .first_value(siptest::sip::HeaderName::Authorization)
            })
            .map(|v| v.into_owned())
            .next()
            .expect("an Authorization header");
        assert!(auth.contains(&format!("algorithm={alg}")), "{auth}");
        assert!(auth.contains("nc=00000001"), "{auth}");
    }
    // A registrar that offers MD5 only cannot satisfy a scenario that insists on SHA-256.
    let sc = load_str(&REGISTER.replace("ALG", "SHA-256"), "r.yaml").unwrap();
    let r = run_scenario(&sc, &config("builtin?quirk=sha256-unsupported"), 1).await;
    let Verdict::Fail(f) = &r.verdict else {
        panic!("{}", explain(&r))
    };
    assert!(f.expected.contains("SHA-256"), "{f:?}");
    // The classifier names what the target did: a spec-level finding (RFC 8760 §2.4).
    assert!(
        r.findings
            .iter()
            .any(|x| x.rule == "spec.auth.algorithm" && x.level == Some(Level::Spec)),
        "{}",
        explain(&r)
    );
}
