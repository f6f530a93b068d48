//! `siptest diff A B`: the aligned diff of two transcripts (`crate::transcript::diff`). Each
//! side is a transcript file (`# siptest transcript 1`, e.g. a golden file), a `results.json`
//! of `siptest run` (compared scenario by scenario), a pcap or pcapng capture, or a trace log
//! (`siptest-trace 1`); captures and trace logs are transcribed with their parties named `A`,
//! `B`... in order of appearance. Exit 0 when equal within the tolerances, 1 when different,
//! 2 on errors.

use super::{Format, EXIT_FINDINGS, EXIT_USAGE};
use crate::transcript::diff::{align_with, render, Alignment, Tolerance};
use crate::transcript::{build, Parties, Transcript};
use clap::Args;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct DiffArgs {
    /// The golden (expected) side.
    golden: PathBuf,
    /// The actual side.
    actual: PathBuf,
    /// Compare as against another device's golden: what a device advertises (Allow,
    /// Supported, Accept, codecs) and timing are not compared.
    #[arg(long)]
    lenient: bool,
    /// Timing tolerance in milliseconds (the time since the previous message may differ by
    /// this much, or by half).
    #[arg(long, value_name = "MS")]
    time_slack: Option<u64>,
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

/// One side: named transcripts (one, or one per scenario of a results.json).
fn load(path: &Path) -> Result<Vec<(String, Transcript)>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    let name = path.display().to_string();
    if bytes.starts_with(crate::transcript::MAGIC.as_bytes()) {
        let text = String::from_utf8_lossy(&bytes);
        let t = Transcript::parse(&text).map_err(|e| format!("{name}: {e}"))?;
        return Ok(vec![(t.scenario.clone().unwrap_or(name), t)]);
    }
    if bytes.starts_with(crate::trace::log::MAGIC.as_bytes()) {
        let trace = crate::trace::log::read(&bytes).map_err(|e| format!("{name}: {e}"))?;
        return Ok(vec![(name, build(&trace, &Parties::new()))]);
    }
    if bytes
        .first()
        .is_some_and(|b| *b == b'{' || b.is_ascii_whitespace())
    {
        return results(&bytes, &name);
    }
    let cap = crate::capture::read_bytes(&bytes).map_err(|e| format!("{name}: {e}"))?;
    if let Some(e) = cap.error {
        return Err(format!("{name}: {e}"));
    }
    Ok(vec![(name, build(&cap.trace, &Parties::new()))])
}

/// The transcripts of a results.json, by scenario (the first repetition of each).
fn results(bytes: &[u8], name: &str) -> Result<Vec<(String, Transcript)>, String> {
    let v: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| format!("{name}: not JSON: {e}"))?;
    let runs = v["runs"]
        .as_array()
        .ok_or_else(|| format!("{name}: no `runs` (a results.json of siptest run)"))?;
    let mut out: Vec<(String, Transcript)> = Vec::new();
    for r in runs {
        let scenario = r["scenario"].as_str().unwrap_or("?").to_string();
        if out.iter().any(|(s, _)| *s == scenario) {
            continue;
        }
        let text = r["transcript"].as_str().ok_or_else(|| {
            format!("{name}: run of {scenario} has no `transcript` (written by an older siptest?)")
        })?;
        let t = Transcript::parse(text).map_err(|e| format!("{name}: {scenario}: {e}"))?;
        out.push((scenario, t));
    }
    Ok(out)
}

pub fn run(args: &DiffArgs) -> i32 {
    let (g, a) = match (load(&args.golden), load(&args.actual)) {
        (Ok(g), Ok(a)) => (g, a),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("siptest diff: {e}");
            return EXIT_USAGE;
        }
    };
    let mut tol = if args.lenient {
        Tolerance::lenient()
    } else {
        Tolerance::default()
    };
    if let Some(ms) = args.time_slack {
        tol.time_abs_ms = ms;
    }
    // One pair when each side is one transcript; else pair by scenario.
    let mut pairs: Vec<(String, Option<&Transcript>, Option<&Transcript>)> = Vec::new();
    if g.len() == 1 && a.len() == 1 {
        pairs.push((g[0].0.clone(), Some(&g[0].1), Some(&a[0].1)));
    } else {
        for (name, t) in &g {
            pairs.push((
                name.clone(),
                Some(t),
                a.iter().find(|(n, _)| n == name).map(|x| &x.1),
            ));
        }
        for (name, t) in &a {
            if !g.iter().any(|(n, _)| n == name) {
                pairs.push((name.clone(), None, Some(t)));
            }
        }
    }
    let mut different = false;
    let mut json = Vec::new();
    let mut text = String::new();
    for (name, gt, at) in pairs {
        let (Some(gt), Some(at)) = (gt, at) else {
            different = true;
            let side = if gt.is_none() { "golden" } else { "actual" };
            text.push_str(&format!("== {name}: not in the {side} side\n"));
            json.push(serde_json::json!({ "scenario": name, "missing_side": side }));
            continue;
        };
        let al: Alignment = align_with(gt, at, &tol);
        different |= !al.is_equal();
        let state = if al.is_equal() { "equal" } else { "different" };
        text.push_str(&format!(
            "== {name}: {state} ({} difference(s), {} tolerated)\n",
            al.differences.len(),
            al.tolerated.len()
        ));
        text.push_str(&render(gt, at, &al));
        json.push(serde_json::json!({
            "scenario": name,
            "equal": al.is_equal(),
            "differences": al.differences,
            "tolerated": al.tolerated,
        }));
    }
    match args.format {
        Format::Text => print!("{text}"),
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "comparisons": json }))
                .unwrap_or_default()
        ),
    }
    if different {
        EXIT_FINDINGS
    } else {
        0
    }
}
