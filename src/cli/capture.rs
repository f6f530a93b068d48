//! `siptest capture FILE`: the calls in a pcap/pcapng capture, and a ladder diagram of one.
//!
//! The capture is streamed: only a summary per Call-ID is kept (and the messages of the call
//! given with `--call`), so a capture of any size is summarised in bounded memory per call.

use super::{Format, EXIT_USAGE};
use crate::capture::fields::{self, Fields};
use crate::capture::{CaptureReader, Stats};
use crate::sip::header_name::HeaderName;
use crate::sip::message::Message;
use crate::trace::TracedMessage;
use clap::Args;
use serde::Serialize;
use std::borrow::Cow;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Args, Debug)]
pub struct CaptureArgs {
    /// A pcap or pcapng file.
    file: PathBuf,
    /// Print a ladder diagram of the call with this Call-ID.
    #[arg(long = "call", value_name = "CALL-ID")]
    call: Option<String>,
    #[arg(long, default_value = "text")]
    format: Format,
}

/// What is kept of one call while the capture streams by.
#[derive(Debug, Serialize)]
struct CallSummary {
    call_id: String,
    from: String,
    to: String,
    /// Seconds since the first packet of the capture.
    start: f64,
    /// Seconds from the first to the last message.
    duration: f64,
    methods: Vec<Cow<'static, str>>,
    outcome: String,
    messages: usize,
    #[serde(skip)]
    first: Duration,
    #[serde(skip)]
    last: Duration,
    #[serde(skip)]
    track: Outcome,
}

/// The facts the outcome is decided from.
#[derive(Debug, Default)]
struct Outcome {
    invite: bool,
    invite_2xx: Option<u16>,
    invite_final: Option<u16>,
    cancel: bool,
    /// The first request's method and the last final response to it.
    first_method: Option<Cow<'static, str>>,
    first_final: Option<u16>,
}

impl Outcome {
    fn describe(&self) -> String {
        if self.invite {
            return match (self.invite_2xx, self.invite_final, self.cancel) {
                (Some(c), _, _) => format!("{c} INVITE"),
                (None, Some(487), _) | (None, None, true) => "CANCELLED".into(),
                (None, Some(c), _) => format!("{c} INVITE"),
                (None, None, false) => "no final response".into(),
            };
        }
        match (&self.first_method, self.first_final) {
            (Some(m), Some(c)) => format!("{c} {m}"),
            _ => "no final response".into(),
        }
    }
}

impl CallSummary {
    /// A summary whose `call_id` is filled in at the end (see [`summarise`]).
    fn new(f: &Fields<'_>, time: Duration) -> Self {
        CallSummary {
            call_id: String::new(),
            from: party(f.from),
            to: party(f.to),
            start: 0.0,
            duration: 0.0,
            methods: Vec::new(),
            outcome: String::new(),
            messages: 0,
            first: time,
            last: time,
            track: Outcome::default(),
        }
    }

    fn add(&mut self, f: &Fields<'_>, time: Duration) {
        self.messages += 1;
        self.first = self.first.min(time);
        self.last = self.last.max(time);
        if let Some(method) = f.method {
            if !self.methods.iter().any(|x| x == method) {
                self.methods.push(method_name(method));
            }
            let t = &mut self.track;
            match method {
                "INVITE" => t.invite = true,
                "CANCEL" => t.cancel = true,
                _ => {}
            }
            if t.first_method.is_none() {
                t.first_method = Some(method_name(method));
            }
        } else if let Some(code) = f.status {
            if code < 200 {
                return;
            }
            let Some(cseq) = f.cseq_method else { return };
            let t = &mut self.track;
            if cseq == "INVITE" {
                if (200..300).contains(&code) {
                    t.invite_2xx.get_or_insert(code);
                }
                t.invite_final = Some(code);
            }
            if t.first_method.as_deref() == Some(cseq) {
                t.first_final = Some(code);
            }
        }
    }

    fn finish(&mut self) {
        self.start = self.first.as_secs_f64();
        self.duration = (self.last - self.first).as_secs_f64();
        self.outcome = self.track.describe();
    }
}

/// A request method as a summary keeps it: the methods of RFC 3261 and its extensions are not
/// allocated again for every call.
fn method_name(method: &str) -> Cow<'static, str> {
    const KNOWN: [&str; 14] = [
        "INVITE",
        "ACK",
        "BYE",
        "CANCEL",
        "REGISTER",
        "OPTIONS",
        "PRACK",
        "SUBSCRIBE",
        "NOTIFY",
        "PUBLISH",
        "INFO",
        "REFER",
        "MESSAGE",
        "UPDATE",
    ];
    match KNOWN.iter().find(|&&k| k == method) {
        Some(&k) => Cow::Borrowed(k),
        None => Cow::Owned(method.to_string()),
    }
}

/// The URI of a From or To header (inside `<>` when there are brackets, else up to the
/// parameters), or `-`.
fn party(value: Option<&str>) -> String {
    let Some(v) = value else {
        return "-".into();
    };
    let v = v.trim();
    let uri = match (v.find('<'), v.find('>')) {
        (Some(a), Some(b)) if a < b => &v[a + 1..b],
        _ => v.split(';').next().unwrap_or(v),
    };
    uri.trim().to_string()
}

#[derive(Serialize)]
struct LadderRow {
    time: f64,
    src: SocketAddr,
    dst: SocketAddr,
    transport: crate::trace::Transport,
    summary: String,
}

#[derive(Serialize)]
struct JsonOut<'a> {
    file: String,
    messages: u64,
    calls: &'a [CallSummary],
    /// Wall-clock time of the first packet, seconds since the Unix epoch.
    start_time: Option<f64>,
    stats: Stats,
    #[serde(skip_serializing_if = "Option::is_none")]
    ladder: Option<Vec<LadderRow>>,
    error: Option<String>,
}

pub fn run(args: &CaptureArgs) -> i32 {
    let mut reader = match CaptureReader::open(&args.file) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("siptest capture: {}: {e}", args.file.display());
            return EXIT_USAGE;
        }
    };
    let s = summarise(&mut reader, args.call.as_deref());
    let error = reader
        .error()
        .map(|e| format!("{}: {e}", args.file.display()));
    let (stats, start) = (reader.stats(), reader.start());
    let mut code = if error.is_some() { EXIT_USAGE } else { 0 };
    if let Some(id) = &args.call {
        if s.ladder.is_empty() {
            eprintln!(
                "siptest capture: no message with Call-ID {id} in {}",
                args.file.display()
            );
            code = EXIT_USAGE;
        }
    }
    match args.format {
        Format::Json => {
            let out = JsonOut {
                file: args.file.display().to_string(),
                messages: s.total,
                calls: &s.calls,
                start_time: start.map(|s| s.as_secs_f64()),
                stats,
                ladder: args.call.as_ref().map(|_| ladder_rows(&s.ladder)),
                error: error.clone(),
            };
            if let Err(e) = write_json(&out) {
                eprintln!("siptest capture: {e}");
                return EXIT_USAGE;
            }
        }
        Format::Text if args.call.is_some() => {
            if !s.ladder.is_empty() {
                print!("{}", render_ladder(&s.ladder));
            }
        }
        Format::Text => print_calls(args, s.total, &s.calls, start, &stats),
    }
    if let Some(e) = error {
        eprintln!("siptest capture: {e} (the messages before it are shown)");
    }
    code
}

/// What is kept of a capture: the number of messages, one summary per Call-ID in order of
/// appearance, and the messages of the call asked for.
struct Summary {
    total: u64,
    calls: Vec<CallSummary>,
    ladder: Vec<TracedMessage>,
}

fn summarise(reader: &mut CaptureReader, call: Option<&str>) -> Summary {
    // Each Call-ID is copied once, as its key here, and moved into its summary at the end.
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut s = Summary {
        total: 0,
        calls: Vec::new(),
        ladder: Vec::new(),
    };
    // Only the summary fields are read from each message, where the decoder found it (no full
    // parse, no copy); the messages of the call asked for with --call are parsed for the ladder.
    reader.for_each_raw(|raw| {
        s.total += 1;
        let f = fields::scan(raw.payload.bytes());
        let call_id = f.call_id.unwrap_or("(no Call-ID)");
        let i = match index.get(call_id) {
            Some(&i) => i,
            None => {
                s.calls.push(CallSummary::new(&f, raw.time));
                index.insert(call_id.to_string(), s.calls.len() - 1);
                s.calls.len() - 1
            }
        };
        s.calls[i].add(&f, raw.time);
        if call == Some(call_id) {
            s.ladder.push(raw.to_traced());
        }
    });
    for (call_id, i) in index {
        s.calls[i].call_id = call_id;
    }
    s.calls.iter_mut().for_each(CallSummary::finish);
    s
}

fn ladder_rows(ladder: &[TracedMessage]) -> Vec<LadderRow> {
    ladder
        .iter()
        .map(|m| LadderRow {
            time: m.time.as_secs_f64(),
            src: m.src,
            dst: m.dst,
            transport: m.transport,
            summary: m.message.summary(),
        })
        .collect()
}

/// Streams the JSON document to stdout: a large capture's summary is not held twice in memory.
fn write_json(out: &JsonOut<'_>) -> std::io::Result<()> {
    use std::io::Write;
    let mut w = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    serde_json::to_writer_pretty(&mut w, out)?;
    writeln!(w)?;
    w.flush()
}

fn print_calls(
    args: &CaptureArgs,
    total: u64,
    calls: &[CallSummary],
    start: Option<Duration>,
    stats: &Stats,
) {
    println!(
        "{}: {total} SIP messages in {} calls, {} packets{}",
        args.file.display(),
        calls.len(),
        stats.packets,
        start.map_or(String::new(), |s| format!(", starting {}", utc(s)))
    );
    if calls.is_empty() {
        return;
    }
    let w = |f: &dyn Fn(&CallSummary) -> usize, title: &str| {
        calls.iter().map(f).max().unwrap_or(0).max(title.len())
    };
    let wid = w(&|c| c.call_id.len(), "CALL-ID").min(60);
    let wfrom = w(&|c| c.from.len(), "FROM").min(40);
    let wto = w(&|c| c.to.len(), "TO").min(40);
    let wout = w(&|c| c.outcome.len(), "OUTCOME");
    println!(
        "{:wid$}  {:wfrom$}  {:wto$}  {:>9}  {:>9}  {:>5}  {:wout$}  METHODS",
        "CALL-ID", "FROM", "TO", "START", "DURATION", "MSGS", "OUTCOME"
    );
    for c in calls {
        println!(
            "{:wid$}  {:wfrom$}  {:wto$}  {:>9.3}  {:>9.3}  {:>5}  {:wout$}  {}",
            c.call_id,
            c.from,
            c.to,
            c.start,
            c.duration,
            c.messages,
            c.outcome,
            c.methods.join(",")
        );
    }
}

/// A ladder diagram: one column per address (in order of appearance), one arrow per message
/// with its method or status and time.
fn render_ladder(msgs: &[TracedMessage]) -> String {
    let mut cols: Vec<SocketAddr> = Vec::new();
    for m in msgs {
        for a in [m.src, m.dst] {
            if !cols.contains(&a) {
                cols.push(a);
            }
        }
    }
    let width = cols
        .iter()
        .map(|a| a.to_string().len() + 4)
        .max()
        .unwrap_or(0)
        .max(26);
    let center = |i: usize| i * width + width / 2;
    let line_len = cols.len() * width;
    let mut out = String::new();
    let mut head = vec![b' '; line_len];
    for (i, a) in cols.iter().enumerate() {
        let s = a.to_string();
        let at = center(i).saturating_sub(s.len() / 2);
        head[at..at + s.len()].copy_from_slice(s.as_bytes());
    }
    out.push_str(&format!(
        "{:>10}  {}\n",
        "",
        String::from_utf8_lossy(&head).trim_end()
    ));
    for m in msgs {
        let mut row = vec![b' '; line_len];
        for i in 0..cols.len() {
            row[center(i)] = b'|';
        }
        let a = cols.iter().position(|c| *c == m.src).unwrap_or(0);
        let b = cols.iter().position(|c| *c == m.dst).unwrap_or(0);
        let label = label(&m.message);
        if a != b {
            let (lo, hi) = (center(a.min(b)) + 1, center(a.max(b)) - 1);
            for c in &mut row[lo..=hi] {
                *c = b'-';
            }
            if a < b {
                row[hi] = b'>';
            } else {
                row[lo] = b'<';
            }
            let room = hi - lo + 1;
            let text: String = label
                .chars()
                .filter(char::is_ascii)
                .take(room.saturating_sub(4))
                .collect();
            let at = lo + (room - text.len()) / 2;
            row[at..at + text.len()].copy_from_slice(text.as_bytes());
        }
        let transport = if m.transport == crate::trace::Transport::Udp {
            String::new()
        } else {
            format!("  ({})", m.transport)
        };
        out.push_str(&format!(
            "{:>10.3}  {}{}\n",
            m.time.as_secs_f64(),
            String::from_utf8_lossy(&row).trim_end(),
            transport
        ));
    }
    out
}

/// `INVITE`, `200 OK`, ... with ` (SDP)` when the message has a body.
fn label(m: &Message) -> String {
    let base = match (m.method(), m.status()) {
        (Some(method), _) => method.into_owned(),
        (None, Some(code)) => match m.reason() {
            Some(r) if !r.trim().is_empty() => format!("{code} {}", r.trim()),
            _ => code.to_string(),
        },
        _ => "?".into(),
    };
    if m.body().is_empty() {
        base
    } else {
        format!("{base} {}", sdp_or_body(m))
    }
}

fn sdp_or_body(m: &Message) -> &'static str {
    match m.first_value(HeaderName::ContentType) {
        Some(ct) if ct.to_ascii_lowercase().contains("sdp") => "(SDP)",
        _ => "(body)",
    }
}

/// `YYYY-MM-DD HH:MM:SS UTC` for a time since the Unix epoch (civil-from-days, H. Hinnant).
fn utc(t: Duration) -> String {
    let secs = t.as_secs();
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_dates() {
        assert_eq!(utc(Duration::ZERO), "1970-01-01 00:00:00 UTC");
        assert_eq!(
            utc(Duration::from_secs(1_120_470_083)),
            "2005-07-04 09:41:23 UTC"
        );
    }

    #[test]
    fn outcomes() {
        let o = Outcome {
            invite: true,
            invite_final: Some(487),
            cancel: true,
            ..Outcome::default()
        };
        assert_eq!(o.describe(), "CANCELLED");
        let o = Outcome {
            invite: true,
            invite_final: Some(486),
            ..Outcome::default()
        };
        assert_eq!(o.describe(), "486 INVITE");
        let o = Outcome {
            first_method: Some("REGISTER".into()),
            first_final: Some(200),
            ..Outcome::default()
        };
        assert_eq!(o.describe(), "200 REGISTER");
    }
}
