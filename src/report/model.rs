//! The versioned result format (`"format": "siptest-results/1"`, `docs/results.md`) as owned
//! types: what `siptest report` reads back from `results.json` files, merges and renders.
//! `siptest run` writes the same document from its results without copying them
//! ([`crate::engine::report::JsonRun`]); a test keeps the two equal field for field.

use crate::engine::verdict::RunResult;
use crate::trace::Trace;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The format name and version of `results.json`. A reader accepts every `siptest-results/1`
/// document; fields may be added within a version, never removed or changed in meaning.
pub const FORMAT: &str = "siptest-results/1";

/// A whole result document: one run of `siptest run` (or one shard of it), or several merged.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResultSet {
    pub format: String,
    /// `siptest 0.1.0`: what wrote it.
    #[serde(default)]
    pub generator: String,
    /// Which share of the plan's (target, scenario) pairs this document holds; `null` for a
    /// whole plan (and for a merge of all its shards).
    #[serde(default)]
    pub shard: Option<Shard>,
    /// Every target of the plan, in plan order (a shard lists them all, including those it
    /// ran nothing against).
    #[serde(default)]
    pub targets: Vec<String>,
    /// Every scenario of the plan, in plan order.
    #[serde(default)]
    pub scenarios: Vec<ScenarioRef>,
    pub runs: Vec<RunRecord>,
    /// Runs per verdict: `pass`, `fail`, `inconclusive`, `error`.
    #[serde(default)]
    pub summary: BTreeMap<String, usize>,
    /// Runs per report class ([`RunRecord::class`]): `pass`, `transaction`, `sequence`,
    /// `spec`, `unclassified`, `inconclusive`, `error`.
    #[serde(default)]
    pub classes: BTreeMap<String, usize>,
}

/// `--shard K/N`: this document holds the pairs whose index in plan order is K-1 modulo N.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

/// A scenario of the plan.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ScenarioRef {
    pub name: String,
    pub source: String,
}

/// One run of one scenario against one target.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub scenario: String,
    pub source: String,
    pub target: String,
    pub repetition: u32,
    pub call_id: String,
    /// `pass`, `fail`, `inconclusive` or `error`.
    pub verdict: String,
    pub step: Option<StepRecord>,
    pub expected: Option<String>,
    pub actual: Option<String>,
    pub reason: Option<String>,
    /// The level and rule of the finding the verdict leads with.
    pub level: Option<String>,
    pub rule: Option<String>,
    pub findings: Vec<FindingRecord>,
    pub duration_ms: u64,
    pub messages: usize,
    /// Wall-clock time of the run's time zero, in milliseconds since the Unix epoch.
    #[serde(default)]
    pub started_at_ms: u64,
    /// Every message of the run; `null` for the passing repetitions after the first of a
    /// repeated scenario (`--repeat`), which share a pcap.
    #[serde(default)]
    pub trace: Option<TraceRecord>,
    /// The comparison with the golden transcript, when there was one
    /// (`crate::transcript::golden::GoldenOutcome`: `file`, `equal`, `diff`, `aligned`, ...).
    #[serde(default)]
    pub golden: Option<serde_json::Value>,
    /// The run's normalised transcript as text (`docs/transcripts.md`); empty when the run
    /// made none.
    #[serde(default)]
    pub transcript: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepRecord {
    pub index: usize,
    pub line: u32,
    pub column: u32,
    pub kind: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingRecord {
    pub level: Option<String>,
    pub source: String,
    pub rule: String,
    pub rfc: Option<String>,
    pub severity: String,
    pub step: Option<StepRecord>,
    pub expected: String,
    pub actual: String,
    pub evidence: Vec<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
}

/// The messages of a run, in trace order (the order of its pcap and trace log).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceRecord {
    /// The parties in order of first appearance: the scenario's agents by name, the device
    /// under test as `target`, others as `A`, `B`...
    pub parties: Vec<Party>,
    pub messages: Vec<MessageRecord>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Party {
    pub name: String,
    /// `IP:PORT` (the first address seen for it).
    pub address: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageRecord {
    /// Microseconds since the run's time zero.
    pub time_us: u64,
    pub from: String,
    pub to: String,
    pub transport: String,
    /// The start line (`INVITE sip:bob@... SIP/2.0`, `SIP/2.0 200 OK`).
    pub first_line: String,
    /// For a retransmission, the index of the message it repeats.
    #[serde(default)]
    pub retransmission_of: Option<usize>,
    /// The whole message as received (lossy UTF-8).
    pub raw: String,
}

impl TraceRecord {
    /// The messages of a run, named as its transcript names them (the transcript is built
    /// here, with letters for the parties, when the run made none).
    pub fn of(r: &RunResult) -> TraceRecord {
        Self::from_trace(&r.trace, &r.transcript)
    }

    pub fn from_trace(trace: &Trace, transcript: &crate::transcript::Transcript) -> TraceRecord {
        // A flood is recorded by its first messages only (the pcap has them all).
        let head;
        let trace = if trace.messages.len() > MAX_RECORDED_MESSAGES {
            head = Trace {
                messages: trace.messages[..MAX_RECORDED_MESSAGES].to_vec(),
            };
            &head
        } else {
            trace
        };
        let built;
        let t = if transcript.entries.is_empty() && !trace.messages.is_empty() {
            built = crate::transcript::build(trace, &crate::transcript::Parties::new());
            &built
        } else {
            transcript
        };
        let n = trace.messages.len();
        let mut names: Vec<Option<(String, String)>> = vec![None; n];
        let mut repeats: Vec<Option<usize>> = vec![None; n];
        for e in &t.entries {
            for (k, &i) in e.messages.iter().enumerate() {
                if i < n {
                    names[i] = Some((e.from.clone(), e.to.clone()));
                    if k > 0 {
                        repeats[i] = Some(e.messages[0]);
                    }
                }
            }
        }
        let mut parties: Vec<Party> = Vec::new();
        let mut add = |name: &str, addr: std::net::SocketAddr| {
            if !parties.iter().any(|p| p.name == name) {
                parties.push(Party {
                    name: name.to_string(),
                    address: addr.to_string(),
                });
            }
        };
        let mut messages = Vec::with_capacity(n);
        for (i, m) in trace.messages.iter().enumerate() {
            let (from, to) = names[i]
                .take()
                .unwrap_or_else(|| (m.src.to_string(), m.dst.to_string()));
            add(&from, m.src);
            add(&to, m.dst);
            let bytes = m.message.as_bytes();
            let raw = String::from_utf8_lossy(bytes).into_owned();
            let first_line = raw.lines().next().unwrap_or("").trim_end().to_string();
            messages.push(MessageRecord {
                time_us: m.time.as_micros() as u64,
                from,
                to,
                transport: m.transport.as_str().to_string(),
                first_line,
                retransmission_of: repeats[i],
                raw,
            });
        }
        TraceRecord { parties, messages }
    }
}

/// Messages of one run kept in its JSON trace record; a flood's later messages are left to the
/// run's pcap.
pub const MAX_RECORDED_MESSAGES: usize = 2_000;

/// The classes a report colours runs by.
pub const CLASSES: [&str; 7] = [
    "pass",
    "transaction",
    "sequence",
    "spec",
    "unclassified",
    "inconclusive",
    "error",
];

impl RunRecord {
    /// How the report colours this run: `pass`, the lead level of a failure (`transaction`,
    /// `sequence`, `spec`; `unclassified` for a failure no finding about the target
    /// explains), `inconclusive` or `error`.
    pub fn class(&self) -> &'static str {
        class_of(&self.verdict, self.level.as_deref())
    }

    /// The lead finding: the first with a level.
    pub fn lead(&self) -> Option<&FindingRecord> {
        self.findings.iter().find(|f| f.level.is_some())
    }
}

/// The report class of a verdict and lead level.
pub fn class_of(verdict: &str, level: Option<&str>) -> &'static str {
    match verdict {
        "pass" => "pass",
        "inconclusive" => "inconclusive",
        "error" => "error",
        _ => match level {
            Some("transaction") => "transaction",
            Some("sequence") => "sequence",
            Some("spec") => "spec",
            _ => "unclassified",
        },
    }
}

impl ResultSet {
    /// Counts per verdict and per class, from the runs.
    pub fn recount(&mut self) {
        let mut summary = BTreeMap::new();
        for k in ["pass", "fail", "inconclusive", "error"] {
            summary.insert(k.to_string(), 0);
        }
        let mut classes: BTreeMap<String, usize> =
            CLASSES.iter().map(|c| (c.to_string(), 0)).collect();
        for r in &self.runs {
            *summary.entry(r.verdict.clone()).or_insert(0) += 1;
            *classes.entry(r.class().to_string()).or_insert(0) += 1;
        }
        self.summary = summary;
        self.classes = classes;
    }
}
