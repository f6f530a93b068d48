//! The HTML compatibility matrix: one self-contained file (inline CSS, one small inline
//! script, no request of any kind), targets down the side and scenarios across (scenario
//! names are the longer list and are written vertically), each cell coloured by its run's
//! class ([`super::model::RunRecord::class`]) and linked to the run's details below the
//! matrix: the verdict, the findings, the ladder diagram, the golden diff and the raw
//! messages, in `<details>` elements that work without script.
//!
//! Escaping: every text that reaches the page goes through [`esc`] (the one escaping
//! function; element content and quoted attribute values alike), and the page's Content
//! Security Policy allows no source at all except its own inline script, by hash: a value
//! that escaped anyway could still not run script or load anything.
//!
//! The script only filters (by class and by text) and opens the `<details>` a link or the
//! URL's fragment points at (`index.html#r12` opens run 12), so that a cell's details are
//! one click away; without script a cell's link scrolls to the closed details.

use super::ladder;
use super::model::{ResultSet, RunRecord, CLASSES};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fmt::Write;

/// Escapes text for HTML element content and quoted attribute values (and for SVG/XML):
/// `&`, `<`, `>`, `"`, `'`. Control characters other than tab, CR and LF become U+FFFD
/// (they are not allowed in HTML text).
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c.is_control() => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// What the page says beyond the result set.
#[derive(Clone, Debug, Default)]
pub struct PageOptions {
    pub title: String,
    /// Lines shown under the title (missing shards, anonymised, inputs).
    pub notes: Vec<String>,
}

/// The letter a cell shows for a class.
fn letter(class: &str) -> &'static str {
    match class {
        "pass" => "✓",
        "transaction" => "T",
        "sequence" => "Q",
        "spec" => "S",
        "unclassified" => "F",
        "inconclusive" => "?",
        "error" => "E",
        _ => "·",
    }
}

const STYLE: &str = include_str!("report.css");
const SCRIPT: &str = include_str!("report.js");

/// The whole page.
pub fn render(set: &ResultSet, opts: &PageOptions) -> String {
    let mut h = String::with_capacity(64 * 1024);
    let script_hash = {
        let digest = Sha256::digest(SCRIPT.as_bytes());
        base64(&digest)
    };
    let _ = write!(
        h,
        concat!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; ",
            "style-src 'unsafe-inline'; script-src 'sha256-{hash}'; img-src data:\">",
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
            "<title>{title}</title><style>{style}</style></head><body>\n"
        ),
        hash = script_hash,
        title = esc(&opts.title),
        style = STYLE
    );
    let _ = write!(h, "<header><h1>{}</h1>", esc(&opts.title));
    let _ = write!(
        h,
        "<p class=\"meta\">{} runs, {} targets, {} scenarios · {}</p>",
        set.runs.len(),
        set.targets.len(),
        set.scenarios.len(),
        esc(&set.generator)
    );
    for n in &opts.notes {
        let _ = write!(h, "<p class=\"note\">{}</p>", esc(n));
    }
    h.push_str("</header>\n");
    totals(&mut h, set);
    filters(&mut h, set);
    matrix(&mut h, set);
    h.push_str("<div id=\"focus\"></div>\n<section id=\"runs\"><h2>Runs</h2>\n");
    for (i, r) in set.runs.iter().enumerate() {
        run_details(&mut h, set, i, r);
    }
    h.push_str("</section>\n");
    let _ = write!(h, "<script>{SCRIPT}</script>\n</body></html>\n");
    h
}

/// Runs per class over the whole set (`id="total-<class>"`).
fn totals(h: &mut String, set: &ResultSet) {
    h.push_str("<section id=\"totals\"><h2>Totals per level</h2><table class=\"totals\"><tr>");
    for c in CLASSES {
        let _ = write!(h, "<th class=\"c-{c}\">{c}</th>");
    }
    h.push_str("<th>runs</th></tr><tr>");
    for c in CLASSES {
        let n = set.runs.iter().filter(|r| r.class() == c).count();
        let _ = write!(h, "<td id=\"total-{c}\">{n}</td>");
    }
    let _ = write!(
        h,
        "<td id=\"total-runs\">{}</td></tr></table>",
        set.runs.len()
    );
    h.push_str(concat!(
        "<p class=\"legend\">A failed run is coloured by the level of the finding its verdict ",
        "leads with: <b>transaction</b> (the SIP stack reads RFC 3261 differently), ",
        "<b>sequence</b> (the feature is realised with another call flow), <b>spec</b> ",
        "(a capability is claimed and not delivered); <b>unclassified</b>: a failure no ",
        "finding about the target explains. <b>inconclusive</b> never counts as a pass.</p>",
        "</section>\n"
    ));
}

fn filters(h: &mut String, set: &ResultSet) {
    h.push_str("<section id=\"filters\"><form id=\"filter-form\">");
    for c in CLASSES {
        let n = set.runs.iter().filter(|r| r.class() == c).count();
        let _ = write!(
            h,
            "<label class=\"c-{c}\"><input type=\"checkbox\" class=\"f-class\" value=\"{c}\" checked> {c} ({n})</label> "
        );
    }
    h.push_str(concat!(
        "<input id=\"q\" type=\"search\" placeholder=\"filter targets and scenarios\" ",
        "aria-label=\"filter targets and scenarios\"></form></section>\n"
    ));
}

/// The runs of each (target, scenario) cell, by index into `set.runs`.
fn cells(set: &ResultSet) -> HashMap<(usize, usize), Vec<usize>> {
    let t: HashMap<&str, usize> = set
        .targets
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    let s: HashMap<(&str, &str), usize> = set
        .scenarios
        .iter()
        .enumerate()
        .map(|(i, sc)| ((sc.name.as_str(), sc.source.as_str()), i))
        .collect();
    let mut out: HashMap<(usize, usize), Vec<usize>> = HashMap::new();
    for (i, r) in set.runs.iter().enumerate() {
        if let (Some(&ti), Some(&si)) = (
            t.get(r.target.as_str()),
            s.get(&(r.scenario.as_str(), r.source.as_str())),
        ) {
            out.entry((ti, si)).or_default().push(i);
        }
    }
    out
}

/// The matrix: a row per target, a column per scenario, the target's totals per class.
fn matrix(h: &mut String, set: &ResultSet) {
    let cells = cells(set);
    h.push_str("<section id=\"matrix-section\"><h2>Matrix</h2><div class=\"scroll\"><table id=\"matrix\"><thead><tr><th class=\"corner\">target \\ scenario</th>");
    for (j, sc) in set.scenarios.iter().enumerate() {
        let _ = write!(
            h,
            "<th class=\"sc\" data-s=\"{j}\" data-name=\"{n}\" title=\"{src}\"><span>{n}</span></th>",
            n = esc(&sc.name),
            src = esc(&sc.source)
        );
    }
    for c in CLASSES {
        let _ = write!(h, "<th class=\"sc tot c-{c}\"><span>{c}</span></th>");
    }
    h.push_str("</tr></thead><tbody>\n");
    for (i, t) in set.targets.iter().enumerate() {
        let _ = write!(
            h,
            "<tr data-t=\"{i}\"><th class=\"target\" data-name=\"{n}\">{n}</th>",
            n = esc(t)
        );
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for (j, sc) in set.scenarios.iter().enumerate() {
            let runs = cells.get(&(i, j)).map(Vec::as_slice).unwrap_or(&[]);
            for &k in runs {
                *counts.entry(set.runs[k].class()).or_insert(0) += 1;
            }
            cell(h, set, i, j, &sc.name, runs);
        }
        for c in CLASSES {
            let _ = write!(
                h,
                "<td class=\"tot\" data-class=\"{c}\">{}</td>",
                counts.get(c).copied().unwrap_or(0)
            );
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody></table></div></section>\n");
}

/// One cell: coloured by its first run that did not pass (all repetitions passed: pass),
/// linked to that run's details; `-` when no run of the pair is in the set.
fn cell(h: &mut String, set: &ResultSet, t: usize, s: usize, scenario: &str, runs: &[usize]) {
    let Some(&shown) = runs
        .iter()
        .find(|&&k| set.runs[k].verdict != "pass")
        .or(runs.first())
    else {
        let _ = write!(
            h,
            "<td class=\"cell c-none\" data-t=\"{t}\" data-s=\"{s}\" data-class=\"none\" title=\"not run\">–</td>"
        );
        return;
    };
    let r = &set.runs[shown];
    let class = r.class();
    let mut title = format!("{} × {}: {}", r.target, scenario, class);
    if let Some(rule) = &r.rule {
        let _ = write!(title, " ({rule})");
    }
    let mut text = letter(class).to_string();
    if runs.len() > 1 {
        let passed = runs
            .iter()
            .filter(|&&k| set.runs[k].verdict == "pass")
            .count();
        text = format!("{text}<small>{passed}/{}</small>", runs.len());
        let _ = write!(title, ", {passed} of {} runs passed", runs.len());
    }
    let _ = write!(
        h,
        "<td class=\"cell c-{class}\" data-t=\"{t}\" data-s=\"{s}\" data-class=\"{class}\" data-run=\"{shown}\" title=\"{title}\"><a href=\"#r{shown}\">{text}</a></td>",
        title = esc(&title)
    );
}

/// The message a run's verdict points at: the lead finding's decisive message, else the
/// decisive message of the first finding with evidence.
fn decisive(r: &RunRecord) -> Option<usize> {
    r.lead()
        .and_then(|f| f.evidence.first())
        .or_else(|| r.findings.iter().find_map(|f| f.evidence.first()))
        .copied()
}

fn run_details(h: &mut String, set: &ResultSet, i: usize, r: &RunRecord) {
    let class = r.class();
    let t = set.targets.iter().position(|x| *x == r.target);
    let s = set
        .scenarios
        .iter()
        .position(|x| x.name == r.scenario && x.source == r.source);
    let rep = if r.repetition > 1 {
        format!(" #{}", r.repetition)
    } else {
        String::new()
    };
    let _ = write!(
        h,
        "<details class=\"run\" id=\"r{i}\" data-t=\"{}\" data-s=\"{}\" data-class=\"{class}\"><summary><span class=\"badge c-{class}\">{class}</span> <b>{}</b> × {}{rep}",
        t.map_or(String::new(), |t| t.to_string()),
        s.map_or(String::new(), |s| s.to_string()),
        esc(&r.target),
        esc(&r.scenario),
    );
    if let Some(rule) = &r.rule {
        let _ = write!(h, " · <code>{}</code>", esc(rule));
    }
    h.push_str("</summary><div class=\"body\">");
    let _ = write!(
        h,
        "<p class=\"facts\">verdict <b>{}</b> · {} · Call-ID <code>{}</code> · {} ms · {} messages</p>",
        esc(&r.verdict),
        esc(&r.source),
        esc(&r.call_id),
        r.duration_ms,
        r.messages
    );
    if let Some(step) = &r.step {
        let _ = write!(
            h,
            "<p>at step {} ({}, {}:{})</p>",
            step.index,
            esc(&step.kind),
            step.line,
            step.column
        );
    }
    if r.expected.is_some() || r.actual.is_some() {
        let _ = write!(
            h,
            "<dl class=\"ea\"><dt>expected</dt><dd>{}</dd><dt>actual</dt><dd>{}</dd></dl>",
            esc(r.expected.as_deref().unwrap_or("")),
            esc(r.actual.as_deref().unwrap_or(""))
        );
    }
    if let Some(reason) = &r.reason {
        let _ = write!(h, "<p class=\"reason\">{}</p>", esc(reason));
    }
    findings(h, i, r);
    let bad = decisive(r);
    if let Some(trace) = &r.trace {
        if !trace.messages.is_empty() {
            let _ = write!(
                h,
                "<h4>Ladder</h4><div class=\"scroll\">{}</div>",
                ladder::svg(trace, i, bad)
            );
        }
    }
    golden(h, r);
    if let Some(trace) = &r.trace {
        if !trace.messages.is_empty() {
            let _ = write!(
                h,
                "<details class=\"raw\"><summary>raw messages ({})</summary>",
                trace.messages.len()
            );
            for (k, m) in trace.messages.iter().enumerate() {
                let mut c = String::from("msg");
                if m.retransmission_of.is_some() {
                    c.push_str(" rtx");
                }
                if bad == Some(k) {
                    c.push_str(" bad");
                }
                let _ = write!(
                    h,
                    "<details class=\"{c}\" id=\"r{i}-m{k}\"><summary>#{k} {} {} → {} ({}) {}</summary><pre>{}</pre></details>",
                    ladder::time(m.time_us),
                    esc(&m.from),
                    esc(&m.to),
                    esc(&m.transport),
                    esc(&m.first_line),
                    esc(&m.raw)
                );
            }
            h.push_str("</details>");
        }
    }
    h.push_str("</div></details>\n");
}

fn findings(h: &mut String, i: usize, r: &RunRecord) {
    if r.findings.is_empty() {
        return;
    }
    h.push_str("<h4>Findings</h4><table class=\"findings\"><tr><th>level</th><th>severity</th><th>rule</th><th>RFC</th><th>expected</th><th>actual</th><th>messages</th></tr>");
    for f in &r.findings {
        let level = f.level.as_deref().unwrap_or("-");
        let class = match level {
            "transaction" | "sequence" | "spec" => level,
            _ => "none",
        };
        let mut ev = String::new();
        for e in &f.evidence {
            let _ = write!(ev, "<a href=\"#r{i}-m{e}\">#{e}</a> ");
        }
        let _ = write!(
            h,
            "<tr><td class=\"c-{class}\">{}</td><td>{}</td><td><code>{}</code>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{ev}</td></tr>",
            esc(level),
            esc(&f.severity),
            esc(&f.rule),
            f.cause
                .as_deref()
                .map_or(String::new(), |c| format!("<br><small>explains {}</small>", esc(c))),
            esc(f.rfc.as_deref().unwrap_or("-")),
            esc(&f.expected),
            esc(&f.actual),
        );
    }
    h.push_str("</table>");
}

/// The golden comparison, when the run had one: its file and the differences.
fn golden(h: &mut String, r: &RunRecord) {
    let Some(g) = &r.golden else { return };
    let text = |k: &str| g.get(k).and_then(|v| v.as_str()).unwrap_or("");
    let equal = g.get("equal").and_then(|v| v.as_bool()).unwrap_or(false);
    let _ = write!(
        h,
        "<h4>Golden transcript</h4><p><code>{}</code>: {}</p>",
        esc(text("file")),
        if equal {
            "equal within the tolerances"
        } else {
            "differs"
        }
    );
    let diff = if text("aligned").is_empty() {
        text("diff")
    } else {
        text("aligned")
    };
    if !diff.is_empty() {
        let _ = write!(h, "<pre class=\"diff\">{}</pre>", esc(diff));
    }
}

/// Standard base64 with padding (RFC 4648 §4), for the script's CSP hash.
fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(A[(n >> (18 - 6 * k)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_quotes_and_controls() {
        assert_eq!(
            esc(r#""><img src=x onerror='a()'>&"#),
            "&quot;&gt;&lt;img src=x onerror=&#39;a()&#39;&gt;&amp;"
        );
        assert_eq!(esc("<script>\u{0}\r\n"), "&lt;script&gt;\u{FFFD}\r\n");
    }

    #[test]
    fn base64_matches_rfc4648() {
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(i.as_bytes()), o);
        }
    }
}
