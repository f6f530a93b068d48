//! `siptest rules`: the rule catalogue, as a table or as the Markdown of `docs/rules.md`.

use super::Format;
use clap::Args;

#[derive(Args, Debug)]
pub struct RulesArgs {
    /// `text` prints a table; `json` a list; `markdown` the document kept in docs/rules.md.
    #[arg(long, default_value = "text")]
    format: RulesFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum RulesFormat {
    Text,
    Json,
    Markdown,
}

pub fn run(args: &RulesArgs) -> i32 {
    let rules = crate::catalogue::all_rules();
    match args.format {
        RulesFormat::Json => match serde_json::to_string_pretty(&rules) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                eprintln!("siptest: {e}");
                return super::EXIT_USAGE;
            }
        },
        RulesFormat::Markdown => print!("{}", crate::catalogue::markdown()),
        RulesFormat::Text => {
            for r in rules {
                println!(
                    "{:<44} {:<11} {:<8} {:<28} {}",
                    r.id, r.level, r.severity, r.rfc, r.summary
                );
            }
        }
    }
    let _ = Format::Text;
    0
}
