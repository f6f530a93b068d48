//! `siptest schema`: the JSON Schema of the scenario format, for editors. For example, with
//! the YAML language server, save it as `scenario.schema.json` and start a scenario file with
//! `# yaml-language-server: $schema=scenario.schema.json`.

use clap::Args;
use std::io::{ErrorKind, Write};

#[derive(Args, Debug)]
pub struct SchemaArgs {
    /// Print on one line instead of indented.
    #[arg(long)]
    compact: bool,
}

pub fn run(args: &SchemaArgs) -> i32 {
    let schema = crate::scenario::json_schema();
    let text = if args.compact {
        serde_json::to_string(&schema)
    } else {
        serde_json::to_string_pretty(&schema)
    };
    let written = text
        .map_err(std::io::Error::from)
        .and_then(|s| writeln!(std::io::stdout().lock(), "{s}"));
    match written {
        Ok(()) => 0,
        // `siptest schema | head` is not an error.
        Err(e) if e.kind() == ErrorKind::BrokenPipe => 0,
        Err(e) => {
            eprintln!("siptest: {e}");
            super::EXIT_USAGE
        }
    }
}
