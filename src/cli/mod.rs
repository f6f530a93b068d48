//! The command line. Kept thin: flags become calls on the library, results become output and an
//! exit code (0: all good, 1: the input has problems, 2: usage or I/O error).

mod capture;
mod check;
mod diff;
mod import;
mod lint;
mod msg;
pub mod report;
mod rules;
mod run;
mod run_targets;
mod schema;
mod ua;

use clap::{Parser, Subcommand, ValueEnum};

/// Exit code for "the checked input has problems".
pub const EXIT_FINDINGS: i32 = 1;
/// Exit code for usage, configuration and I/O errors.
pub const EXIT_USAGE: i32 = 2;

#[derive(Parser, Debug)]
#[command(name = "siptest", version, about = "SIP interoperability test harness")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Parse raw SIP message files and print each message's summary and violations.
    Msg(msg::MsgArgs),
    /// Check recorded message streams for transaction-level rule violations.
    Lint(lint::LintArgs),
    /// Summarise the SIP calls in a pcap/pcapng capture, or draw one call as a ladder.
    Capture(capture::CaptureArgs),
    /// Judge a captured call against a scenario, as if the capture were a live run.
    Check(check::CheckArgs),
    /// Write a scenario replaying one side of a captured call.
    Import(import::ImportArgs),
    /// Compare two transcripts, results.json files or captures (aligned diff; exit 1 when
    /// they differ beyond the tolerances).
    Diff(diff::DiffArgs),
    /// Print the rule catalogue (every check siptest makes).
    Rules(rules::RulesArgs),
    /// Print the JSON Schema of the scenario format.
    Schema(schema::SchemaArgs),
    /// Play scenarios against a target (the device under test) and report the verdicts.
    Run(run::RunArgs),
    /// Run the built-in reference user agent standalone (or list its quirks).
    Ua(ua::UaArgs),
    /// Merge result documents (results.json, one per shard) into the HTML matrix, JSON and
    /// JUnit.
    Report(report::ReportArgs),
}

/// Output format shared by the subcommands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// Runs the command line and returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => 0,
                _ => EXIT_USAGE,
            };
        }
    };
    match cli.command {
        Command::Msg(a) => msg::run(&a),
        Command::Rules(a) => rules::run(&a),
        Command::Lint(a) => lint::run(&a),
        Command::Capture(a) => capture::run(&a),
        Command::Check(a) => check::run(&a),
        Command::Import(a) => import::run(&a),
        Command::Diff(a) => diff::run(&a),
        Command::Schema(a) => schema::run(&a),
        Command::Run(a) => run::run(&a),
        Command::Ua(a) => ua::run(&a),
        Command::Report(a) => report::run(&a),
    }
}
