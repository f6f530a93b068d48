//! A run's messages as an SVG ladder diagram in the style of sngrep: one column per party in
//! order of first appearance, one arrow per message from sender to receiver, labelled with
//! the method or status and reason, the time on the left; retransmissions dashed and marked,
//! the message the verdict points at highlighted. Every text from the trace goes through
//! [`super::html::esc`]; each arrow links to the raw message below it (`#r<run>-m<index>`).

use super::html::esc;
use super::model::TraceRecord;
use std::fmt::Write;

/// Width of a party's column.
const COL: usize = 210;
/// Left margin (message numbers and times).
const LEFT: usize = 120;
/// Height of a message row.
const ROW: usize = 30;
/// Top of the first arrow.
const TOP: usize = 62;
/// More messages than this are drawn up to this many; the raw list below has them all.
pub const MAX_ROWS: usize = 300;
/// Labels longer than this are cut (the arrow's tooltip has the whole start line).
const LABEL: usize = 34;

/// The label of an arrow: the method of a request, `status reason` of a response.
pub fn arrow_label(first_line: &str) -> String {
    let label = match first_line.strip_prefix("SIP/2.0 ") {
        Some(status) => status.to_string(),
        None => first_line
            .split_whitespace()
            .next()
            .unwrap_or("?")
            .to_string(),
    };
    cut(&label, LABEL)
}

fn cut(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n - 1).chain(std::iter::once('…')).collect()
    }
}

/// The SVG of a run's trace; `run` is the run's index (for the links), `bad` the index of the
/// message to highlight.
pub fn svg(trace: &TraceRecord, run: usize, bad: Option<usize>) -> String {
    let parties: Vec<&str> = trace.parties.iter().map(|p| p.name.as_str()).collect();
    let col = |name: &str| parties.iter().position(|p| *p == name).unwrap_or(0);
    let x = |i: usize| LEFT + COL / 2 + i * COL;
    let rows = trace.messages.len().min(MAX_ROWS);
    let width = LEFT + parties.len().max(1) * COL;
    let height = TOP + rows * ROW + 24;
    let mut s = String::with_capacity(512 + rows * 400);
    let _ = write!(
        s,
        r#"<svg class="ladder" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="ladder diagram">"#
    );
    s.push_str(concat!(
        r#"<defs><marker id="ah" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">"#,
        r##"<path d="M0,0L10,5L0,10z" fill="#2a4d8f"/></marker></defs>"##
    ));
    for (i, p) in trace.parties.iter().enumerate() {
        let cx = x(i);
        let _ = write!(
            s,
            r#"<g class="party"><title>{addr}</title><rect x="{rx}" y="6" width="{w}" height="26" rx="4"/><text x="{cx}" y="24" text-anchor="middle">{name}</text></g><line class="life" x1="{cx}" y1="32" x2="{cx}" y2="{bottom}"/>"#,
            addr = esc(&p.address),
            rx = cx - COL / 2 + 15,
            w = COL - 30,
            name = esc(&cut(&p.name, 24)),
            bottom = height - 8,
        );
    }
    for (k, m) in trace.messages.iter().take(rows).enumerate() {
        let y = TOP + k * ROW;
        let (a, b) = (col(&m.from), col(&m.to));
        let (x1, x2) = (x(a), x(b));
        let mut class = String::from("msg");
        if m.retransmission_of.is_some() {
            class.push_str(" rtx");
        }
        if bad == Some(k) {
            class.push_str(" bad");
        }
        let mut label = arrow_label(&m.first_line);
        if let Some(of) = m.retransmission_of {
            let _ = write!(label, " (retransmission of #{of})");
        }
        let _ = write!(
            s,
            r##"<a href="#r{run}-m{k}" class="{class}"><title>#{k} {first}</title>"##,
            first = esc(&m.first_line),
        );
        if bad == Some(k) {
            let _ = write!(
                s,
                r#"<rect class="hl" x="2" y="{}" width="{}" height="{}"/>"#,
                y - 19,
                width - 4,
                ROW - 2
            );
        }
        let _ = write!(
            s,
            r#"<text class="t" x="6" y="{y}">#{k} {time}</text>"#,
            time = time(m.time_us)
        );
        if a == b {
            // A message to itself: a small loop.
            let _ = write!(
                s,
                r#"<path class="arrow" d="M{x1},{y0} h30 v10 h-30" fill="none" marker-end="url(#ah)"/><text class="l" x="{lx}" y="{ly}">{l}</text>"#,
                y0 = y - 4,
                lx = x1 + 36,
                ly = y + 4,
                l = esc(&label),
            );
        } else {
            let _ = write!(
                s,
                r#"<line class="arrow" x1="{x1}" y1="{y}" x2="{x2}" y2="{y}" marker-end="url(#ah)"/><text class="l" x="{mx}" y="{ly}" text-anchor="middle">{l}</text>"#,
                mx = (x1 + x2) / 2,
                ly = y - 5,
                l = esc(&label),
            );
        }
        s.push_str("</a>");
    }
    if trace.messages.len() > rows {
        let _ = write!(
            s,
            r#"<text class="t" x="6" y="{}">… {} more messages: see the raw messages</text>"#,
            height - 6,
            trace.messages.len() - rows
        );
    }
    s.push_str("</svg>");
    s
}

/// `+1.250` (seconds, milliseconds).
pub fn time(us: u64) -> String {
    let ms = us / 1000;
    format!("+{}.{:03}", ms / 1000, ms % 1000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::{MessageRecord, Party};

    fn msg(from: &str, to: &str, first: &str, rtx: Option<usize>) -> MessageRecord {
        MessageRecord {
            time_us: 1_250_000,
            from: from.into(),
            to: to.into(),
            transport: "udp".into(),
            first_line: first.into(),
            retransmission_of: rtx,
            raw: String::new(),
        }
    }

    #[test]
    fn arrows_labels_and_marks() {
        let t = TraceRecord {
            parties: vec![
                Party {
                    name: "alice".into(),
                    address: "127.0.0.1:1".into(),
                },
                Party {
                    name: "target".into(),
                    address: "127.0.0.1:2".into(),
                },
            ],
            messages: vec![
                msg("alice", "target", "INVITE sip:x SIP/2.0", None),
                msg("alice", "target", "INVITE sip:x SIP/2.0", Some(0)),
                msg("target", "alice", "SIP/2.0 486 <b>Busy</b>", None),
            ],
        };
        let s = svg(&t, 7, Some(2));
        assert_eq!(s.matches("<line class=\"arrow\"").count(), 3);
        assert!(s.contains("class=\"msg rtx\""));
        assert!(s.contains("(retransmission of #0)"));
        assert!(s.contains("class=\"msg bad\""));
        assert!(s.contains("href=\"#r7-m2\""));
        assert!(s.contains("486 &lt;b&gt;Busy&lt;/b&gt;"), "{s}");
        assert!(!s.contains("<b>"));
        assert!(s.contains("+1.250"));
    }
}
