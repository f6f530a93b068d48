//! `siptest import CAPTURE --call CALL-ID --play uac|uas -o scenarios/NAME.yaml`: writes a
//! scenario that replays one side of a captured call against a live target
//! (`engine::import`). The text is loaded with siptest's own loader before it is written: a
//! scenario that would not load is never written. Exit 0 when written, 2 otherwise.

use super::EXIT_USAGE;
use crate::engine::import::{import, scenario_name, ImportRequest, Play};
use crate::scenario::load_str_all;
use clap::{Args, ValueEnum};
use std::path::PathBuf;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PlayArg {
    /// siptest calls: it plays the sender of the call's first request.
    Uac,
    /// siptest is called: it plays where the call's first request went.
    Uas,
}

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// A pcap or pcapng capture.
    capture: PathBuf,
    /// The call to import (`siptest capture FILE` lists them); may be left out when the
    /// capture has a single call.
    #[arg(long, value_name = "CALL-ID")]
    call: Option<String>,
    /// The side siptest plays; the other side becomes the target.
    #[arg(long, value_enum)]
    play: PlayArg,
    /// The scenario file to write (its name comes from the file name); `-` prints it.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: PathBuf,
}

pub fn run(args: &ImportArgs) -> i32 {
    match import_to(args) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("siptest import: {e}");
            EXIT_USAGE
        }
    }
}

fn import_to(args: &ImportArgs) -> Result<(), String> {
    let shown = args.capture.display();
    let capture = crate::capture::read_file(&args.capture).map_err(|e| format!("{shown}: {e}"))?;
    if let Some(e) = &capture.error {
        eprintln!("siptest import: warning: {shown}: {e} (importing what was read before it)");
    }
    let calls = capture.trace.call_ids();
    let call = match &args.call {
        Some(c) => c.clone(),
        None if calls.len() == 1 => calls[0].clone(),
        None => {
            return Err(format!(
                "{shown} has {} calls: name one with --call (`siptest capture {shown}` lists them)",
                calls.len()
            ))
        }
    };
    if !calls.contains(&call) {
        return Err(format!("{shown}: no call with Call-ID `{call}`"));
    }
    let to_stdout = args.output.as_os_str() == "-";
    let stem = if to_stdout {
        "imported".to_string()
    } else {
        args.output
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let name = scenario_name(&stem);
    let capture_name = args
        .capture
        .file_name()
        .map_or_else(|| shown.to_string(), |f| f.to_string_lossy().into_owned());
    let req = ImportRequest {
        call_id: &call,
        play: match args.play {
            PlayArg::Uac => Play::Uac,
            PlayArg::Uas => Play::Uas,
        },
        name: &name,
        capture: &capture_name,
    };
    let text = import(&capture.trace, &req).map_err(|e| format!("{shown}: {e}"))?;
    let out = args.output.display().to_string();
    if let Err(errors) = load_str_all(&text, &out) {
        let list: Vec<String> = errors.iter().map(ToString::to_string).collect();
        return Err(format!(
            "the imported scenario does not load (a bug in siptest import):\n{}\n{text}",
            list.join("\n")
        ));
    }
    if to_stdout {
        print!("{text}");
        return Ok(());
    }
    if let Some(dir) = args.output.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    std::fs::write(&args.output, text).map_err(|e| format!("cannot write {out}: {e}"))?;
    eprintln!("siptest import: wrote {out} (scenario `{name}`, call {call})");
    Ok(())
}
