//! The HTML report in headless Chromium (Debian's `chromium`; `ci/test` installs it). Never
//! skipped: without Chromium these tests fail and say so.
//!
//! Chromium is driven by its command-line flags, which suffice here: `--dump-dom` prints the
//! DOM after the page loaded and its script ran, `--screenshot` writes a PNG. A click on a
//! cell is what its link does: the URL fragment `#r<N>` (the page's script opens the details
//! the fragment names; `#open=r<N>` opens them under the matrix without scrolling, for the
//! screenshot). No network: a fresh profile, every background service off, and the page's
//! Content Security Policy allows no source but its own inline script.
//!
//! The screenshot goes to `target/tmp/report_browser/report.png`; with
//! `SIPTEST_SCREENSHOT=docs/report.png` it is also copied there (how `docs/report.png` was made).

use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const SIPTEST: &str = env!("CARGO_BIN_EXE_siptest");

fn work(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("report_browser")
        .join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn chromium_binary() -> String {
    for c in ["chromium", "chromium-browser"] {
        if Command::new(c)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
        {
            return c.to_string();
        }
    }
    panic!(
        "headless Chromium is needed for this test and was not found: install Debian's \
         `chromium` (apt-get install -y --no-install-recommends chromium; ci/test does)"
    );
}

/// Runs headless Chromium on `url` with `extra` flags; returns stdout. A fresh profile each
/// time; killed after 90 s.
fn chromium(dir: &Path, url: &str, extra: &[&str]) -> String {
    let profile = dir.join(format!(
        "profile-{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    let mut child = Command::new(chromium_binary())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--virtual-time-budget=5000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || std::io::read_to_string(stdout).unwrap_or_default());
    let until = std::time::Instant::now() + Duration::from_secs(90);
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if std::time::Instant::now() > until {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within 90 s on {url}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = std::fs::remove_dir_all(&profile);
    reader.join().unwrap()
}

fn file_url(p: &Path) -> String {
    format!("file://{}", p.canonicalize().unwrap().display())
}

fn siptest(args: &[&str], dir: &Path) {
    let out = Command::new(SIPTEST)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "siptest {args:?} in {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A report from real runs: the reference UA, and with two quirks.
fn real_report(dir: &Path) -> PathBuf {
    let targets = dir.join("targets.yaml");
    std::fs::write(
        &targets,
        "- name: reference\n  address: builtin\n\
         - name: no-to-tag\n  address: \"builtin?quirk=no-to-tag\"\n\
         - name: hold-sendrecv\n  address: \"builtin?quirk=hold-answered-sendrecv\"\n",
    )
    .unwrap();
    let reports = dir.join("reports");
    let (t, r) = (targets.display().to_string(), reports.display().to_string());
    let golden = dir.join("no-golden").display().to_string();
    siptest(
        &[
            "run",
            "--targets",
            &t,
            "--report-dir",
            &r,
            "--golden-dir",
            &golden,
            "--format",
            "json",
            "scenarios/examples",
        ],
        dir,
    );
    let html = dir.join("index.html");
    let results = reports.join("results.json").display().to_string();
    let h = html.display().to_string();
    siptest(&["report", &results, "-o", &h], dir);
    html
}

/// The index of the first run of a class, from the page's cells.
fn run_of_class(html: &str, class: &str) -> usize {
    let at = html
        .find(&format!("data-class=\"{class}\" data-run=\""))
        .unwrap_or_else(|| panic!("no {class} cell"));
    let rest = &html[at..];
    let start = rest.find("data-run=\"").unwrap() + 10;
    let end = start + rest[start..].find('"').unwrap();
    rest[start..end].parse().unwrap()
}

#[test]
fn chromium_opens_the_matrix_and_a_cells_details() {
    let dir = work("real");
    let html_path = real_report(&dir);
    let html = std::fs::read_to_string(&html_path).unwrap();
    let run = run_of_class(&html, "sequence");
    let url = format!("{}#open=r{run}", file_url(&html_path));
    let dom = chromium(&dir, &url, &["--dump-dom"]);
    assert!(
        dom.contains("<table id=\"matrix\">"),
        "no matrix in the DOM"
    );
    // The script ran (its CSP hash is right) and opened the cell's details under the matrix.
    assert!(
        dom.contains("data-ready=\"1\""),
        "the page's script did not run"
    );
    let focus = dom.find("<div id=\"focus\">").unwrap();
    let details = format!("<details class=\"run\" id=\"r{run}\" data-t=");
    let at = dom.find(&details).expect("the run's details");
    assert!(at > focus && at < dom.find("<section id=\"runs\">").unwrap());
    let tag_end = at + dom[at..].find('>').unwrap();
    assert!(dom[at..tag_end].contains(" open="), "{}", &dom[at..tag_end]);
    assert!(
        dom.contains("class=\"cell c-sequence sel\""),
        "the cell is marked"
    );
    assert!(dom.contains("<svg class=\"ladder\""));
    // A cell's own link (`#rN`) opens it too.
    let dom = chromium(
        &dir,
        &format!("{}#r{run}", file_url(&html_path)),
        &["--dump-dom"],
    );
    let at = dom.find(&details).unwrap();
    let tag_end = at + dom[at..].find('>').unwrap();
    assert!(dom[at..tag_end].contains(" open="));

    let png = dir.join("report.png");
    chromium(
        &dir,
        &url,
        &[
            "--window-size=1300,1500",
            &format!("--screenshot={}", png.display()),
        ],
    );
    let bytes = std::fs::read(&png).expect("a screenshot");
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.len() > 20_000);
    let kept = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report_browser/report.png");
    std::fs::copy(&png, &kept).unwrap();
    if let Ok(to) = std::env::var("SIPTEST_SCREENSHOT") {
        std::fs::copy(&png, Path::new(env!("CARGO_MANIFEST_DIR")).join(to)).unwrap();
    }
}

/// Payloads a device might send in any value: each would change the page's title if it ran.
const SCRIPT: &str = "<script>document.title='XSS-script'</script>";
const IMG: &str = "\"><img src=x onerror=\"document.title='XSS-img'\">";
const IMG1: &str = "'><img src=x onerror=document.title='XSS-img1'>";
const SVG: &str = "</text><script>document.title='XSS-svg'</script><text>";

#[test]
fn device_values_cannot_run_script_in_the_report() {
    let dir = work("xss");
    let all = format!("{SCRIPT}{IMG}{IMG1}{SVG}");
    let raw = format!(
        "SIP/2.0 486 {all}\r\nVia: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK{IMG}\r\n\
         From: \"{IMG}\" <sip:a@x>;tag=1\r\nTo: <sip:b@y>;tag={SCRIPT}\r\nCall-ID: {IMG1}\r\n\
         CSeq: 1 INVITE\r\nUser-Agent: {all}\r\nServer: {all}\r\nContent-Type: application/sdp\r\n\r\n\
         v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns={all}\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na={SVG}\r\n"
    );
    let msg = |from: &str, to: &str, first: &str, raw: &str| {
        json!({"time_us": 1000, "from": from, "to": to, "transport": "udp",
               "first_line": first, "retransmission_of": null, "raw": raw})
    };
    let finding = json!({"level": "transaction", "source": "checker", "rule": format!("tx.{IMG}"),
        "rfc": SCRIPT, "severity": "error", "step": null, "expected": IMG, "actual": all,
        "evidence": [1, 0]});
    let run = json!({
        "scenario": format!("sc{IMG1}"), "source": format!("s/{SCRIPT}.yaml"), "target": all,
        "repetition": 1, "call_id": IMG, "verdict": "fail",
        "step": {"index": 1, "line": 1, "column": 1, "kind": SCRIPT},
        "expected": IMG, "actual": all, "reason": SVG, "level": "transaction",
        "rule": format!("tx.{IMG}"), "findings": [finding], "duration_ms": 5, "messages": 2,
        "started_at_ms": 0,
        "trace": {"parties": [{"name": format!("alice{IMG}"), "address": SCRIPT},
                               {"name": all, "address": IMG}],
                  "messages": [msg(&format!("alice{IMG}"), &all, &format!("INVITE {IMG} SIP/2.0"), IMG),
                               msg(&all, &format!("alice{IMG}"), &format!("SIP/2.0 486 {all}"), &raw)]},
        "golden": {"file": SCRIPT, "equal": false, "diff": all, "aligned": ""},
        "transcript": all
    });
    let doc = json!({
        "format": "siptest-results/1", "generator": IMG, "shard": null,
        "targets": [all], "scenarios": [{"name": format!("sc{IMG1}"), "source": format!("s/{SCRIPT}.yaml")}],
        "runs": [run], "summary": {}, "classes": {}
    });
    let input = dir.join("results.json");
    std::fs::write(&input, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    for anon in [false, true] {
        let html_path = dir.join(format!("index-{anon}.html"));
        let (i, h) = (input.display().to_string(), html_path.display().to_string());
        let mut args = vec!["report", &i, "-o", &h, "--title", SCRIPT];
        if anon {
            args.push("--anonymise");
        }
        siptest(&args, &dir);
        let html = std::fs::read_to_string(&html_path).unwrap();
        // Exactly the page's own script element and no other markup from the payloads.
        assert_eq!(html.matches("<script").count(), 1);
        assert!(!html.contains("<img"));
        for url in [
            format!("{}#open=r0", file_url(&html_path)),
            format!("{}#r0-m1", file_url(&html_path)),
        ] {
            let dom = chromium(&dir, &url, &["--dump-dom"]);
            assert!(dom.contains("data-ready=\"1\""), "the page's script ran");
            let title = &dom[dom.find("<title>").unwrap() + 7..dom.find("</title>").unwrap()];
            // The title is the (escaped) text given; a payload that ran would have set it to
            // `XSS-...`.
            assert_eq!(
                title, "&lt;script&gt;document.title='XSS-script'&lt;/script&gt;",
                "a payload ran"
            );
            assert!(!dom.contains("<img"), "a payload became an element");
            assert_eq!(dom.matches("<script").count(), 1, "one script element");
            // The payloads are on the page, as text.
            assert!(dom.contains("&lt;img src=x onerror="), "payload text shown");
            assert!(dom.contains("id=\"r0\" data-t=\"0\""));
        }
    }
}
