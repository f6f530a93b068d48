//! `siptest msg FILE...`: parse raw message files, print summaries and violations.

use super::{Format, EXIT_FINDINGS, EXIT_USAGE};
use crate::rule::{Severity, Violation};
use crate::sip::framing::{Frame, StreamFramer};
use crate::sip::message::{Kind, Message};
use crate::sip::parse::parse_datagram;
use clap::{Args, ValueEnum};
use serde::Serialize;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct MsgArgs {
    /// Files holding raw SIP messages (as sent on the wire).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// How the bytes arrived: `udp` treats each file as one datagram (octets beyond
    /// Content-Length are ignored, RFC 3261 §18.3); `tcp` frames the file as a stream of messages.
    #[arg(long, default_value = "udp")]
    transport: Transport,
    #[arg(long, default_value = "text")]
    format: Format,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Transport {
    Udp,
    Tcp,
}

#[derive(Serialize)]
struct FileReport {
    file: String,
    messages: Vec<MessageReport>,
    /// Stream framing problems that belong to no message (tcp only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    stream_violations: Vec<Violation>,
    /// Octets after the datagram's message (udp only).
    #[serde(skip_serializing_if = "Option::is_none")]
    trailing_octets: Option<usize>,
}

#[derive(Serialize)]
struct MessageReport {
    kind: Kind,
    #[serde(skip_serializing_if = "Option::is_none")]
    method: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
    summary: String,
    offset: usize,
    length: usize,
    headers: usize,
    body_length: usize,
    violations: Vec<Violation>,
}

fn report(m: &Message, offset: usize) -> MessageReport {
    MessageReport {
        kind: m.kind(),
        method: m.method().map(|s| s.into_owned()),
        status: m.status(),
        summary: m.summary(),
        offset,
        length: m.as_bytes().len(),
        headers: m.headers.len(),
        body_length: m.body.len(),
        violations: m.violations.clone(),
    }
}

fn parse_file(path: &std::path::Path, bytes: &[u8], transport: Transport) -> FileReport {
    let mut out = FileReport {
        file: path.display().to_string(),
        messages: Vec::new(),
        stream_violations: Vec::new(),
        trailing_octets: None,
    };
    match transport {
        Transport::Udp => {
            let d = parse_datagram(bytes);
            out.messages.push(report(&d.message, 0));
            if !d.trailing.is_empty() {
                out.trailing_octets = Some(d.trailing.len());
            }
        }
        Transport::Tcp => {
            let mut framer = StreamFramer::new();
            framer.push(bytes);
            loop {
                let offset = framer.consumed();
                let Some(frame) = framer.next_frame().or_else(|| framer.finish()) else {
                    break;
                };
                match frame {
                    Frame::Message(m) => out.messages.push(report(&m, offset)),
                    Frame::KeepAlive { .. } => {}
                    Frame::Garbage { mut violation, .. } => {
                        violation.span = violation.span.shift(offset);
                        out.stream_violations.push(violation);
                    }
                }
            }
        }
    }
    out
}

fn print_text(r: &FileReport) {
    println!("{}:", r.file);
    for m in &r.messages {
        println!(
            "  [{}..{}] {} ({} headers, {}-octet body)",
            m.offset,
            m.offset + m.length,
            m.summary,
            m.headers,
            m.body_length
        );
        for v in &m.violations {
            println!("    {v}");
        }
        if m.violations.is_empty() {
            println!("    no violations");
        }
    }
    if let Some(n) = r.trailing_octets {
        println!("  {n} trailing octets after the message (ignored, RFC 3261 §18.3)");
    }
    for v in &r.stream_violations {
        println!("  stream: {v}");
    }
}

pub fn run(args: &MsgArgs) -> i32 {
    let mut reports = Vec::new();
    for path in &args.files {
        match std::fs::read(path) {
            Ok(bytes) => reports.push(parse_file(path, &bytes, args.transport)),
            Err(e) => {
                eprintln!("siptest msg: cannot read {}: {e}", path.display());
                return EXIT_USAGE;
            }
        }
    }
    match args.format {
        Format::Json => match serde_json::to_string_pretty(&reports) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                eprintln!("siptest msg: {e}");
                return EXIT_USAGE;
            }
        },
        Format::Text => reports.iter().for_each(print_text),
    }
    let errors = reports.iter().any(|r| {
        r.messages
            .iter()
            .flat_map(|m| &m.violations)
            .chain(&r.stream_violations)
            .any(|v| v.severity() == Severity::Error)
    });
    if errors {
        EXIT_FINDINGS
    } else {
        0
    }
}
