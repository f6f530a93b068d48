//! `siptest ua`: the reference user agent, standalone, so that other tools (and `siptest run`
//! from another process) can test against it; `--list-quirks` prints the quirk catalogue.

use super::{Format, EXIT_USAGE};
use crate::trace::Transport;
use crate::ua::{parse_quirk_list, shell, Quirk, QuirkInfo, Quirks, UaConfig};
use clap::Args;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

#[derive(Args, Debug)]
pub struct UaArgs {
    /// Where to listen: udp:HOST:PORT or tcp:HOST:PORT (IPv6 in brackets). Loopback unless
    /// told otherwise.
    #[arg(long, default_value = "udp:127.0.0.1:5070")]
    listen: String,
    /// Switch on a quirk (repeatable, or several joined with `,`); see --list-quirks.
    #[arg(long = "quirk", value_name = "NAME")]
    quirks: Vec<String>,
    /// Switch on a legal variation (repeatable, or several joined with `,`): no-100,
    /// 183-for-180, two-180, compact-headers, mixed-case-headers, unknown-headers,
    /// delayed-bye-100, record-route (docs/ua.md).
    #[arg(long = "variation", value_name = "NAME")]
    variations: Vec<String>,
    /// Print the legal variations and exit.
    #[arg(long)]
    list_variations: bool,
    /// Print the quirk catalogue and exit.
    #[arg(long)]
    list_quirks: bool,
    /// Output format of --list-quirks.
    #[arg(long, default_value = "text")]
    format: Format,
    /// Serve the control port (JSON lines of actions, docs/ua.md) on HOST:PORT (TCP).
    #[arg(long, value_name = "HOST:PORT")]
    control: Option<SocketAddr>,
    /// T1 in milliseconds (T2 = 8*T1).
    #[arg(long, default_value_t = 500)]
    t1: u64,
    /// The user part of the UA's URI.
    #[arg(long, default_value = "ua")]
    user: String,
    /// The password the registrar accepts for every user.
    #[arg(long, default_value = "siptest")]
    password: String,
    /// Stop after this many seconds (default: run until killed).
    #[arg(long, value_name = "SECONDS")]
    duration: Option<u64>,
}

pub fn run(args: &UaArgs) -> i32 {
    if args.list_quirks {
        return list_quirks(args.format);
    }
    if args.list_variations {
        return list_variations(args.format);
    }
    let (transport, bind) = match parse_listen(&args.listen) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("siptest ua: --listen `{}`: {e}", args.listen);
            return EXIT_USAGE;
        }
    };
    let mut quirks = Vec::new();
    for q in &args.quirks {
        match parse_quirk_list(q) {
            Ok(list) => quirks.extend(list),
            Err(e) => {
                eprintln!("siptest ua: --quirk: {e}");
                return EXIT_USAGE;
            }
        }
    }
    let mut variations = Vec::new();
    for v in &args.variations {
        match crate::ua::parse_variation_list(v) {
            Ok(list) => variations.extend(list),
            Err(e) => {
                eprintln!("siptest ua: --variation: {e}");
                return EXIT_USAGE;
            }
        }
    }
    if args.t1 == 0 {
        eprintln!("siptest ua: --t1 must be greater than 0");
        return EXIT_USAGE;
    }
    let t1 = Duration::from_millis(args.t1);
    let cfg = UaConfig {
        user: args.user.clone(),
        quirks: Quirks::new(quirks),
        variations: crate::ua::Variations::new(variations),
        t1,
        t2: t1 * 8,
        password: args.password.clone(),
        ..UaConfig::default()
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("siptest ua: cannot start the runtime: {e}");
            return EXIT_USAGE;
        }
    };
    rt.block_on(serve(bind, transport, cfg, args.control, args.duration))
}

async fn serve(
    bind: SocketAddr,
    transport: Transport,
    cfg: UaConfig,
    control: Option<SocketAddr>,
    duration: Option<u64>,
) -> i32 {
    let quirks: Vec<&str> = cfg.quirks.iter().map(Quirk::name).collect();
    let ua = match shell::start(bind, transport, cfg).await {
        Ok(ua) => Arc::new(ua),
        Err(e) => {
            eprintln!("siptest ua: cannot listen on {transport} {bind}: {e}");
            return EXIT_USAGE;
        }
    };
    let _control = match control {
        None => None,
        Some(addr) => match tokio::net::TcpListener::bind(addr).await {
            Ok(l) => Some(ua.serve_control(l)),
            Err(e) => {
                eprintln!("siptest ua: cannot serve the control port on {addr}: {e}");
                return EXIT_USAGE;
            }
        },
    };
    let quirks = if quirks.is_empty() {
        String::new()
    } else {
        format!(" with quirks {}", quirks.join(","))
    };
    let control = control
        .map(|c| format!(", control on tcp {c}"))
        .unwrap_or_default();
    println!(
        "siptest ua listening on {}:{}{quirks}{control}",
        transport.to_string().to_ascii_lowercase(),
        ua.local_addr()
    );
    match duration {
        Some(s) => tokio::time::sleep(Duration::from_secs(s)).await,
        None => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
    0
}

/// `udp:HOST:PORT` / `tcp:HOST:PORT`.
fn parse_listen(s: &str) -> Result<(Transport, SocketAddr), String> {
    let (proto, addr) = s
        .split_once(':')
        .ok_or("expected udp:HOST:PORT or tcp:HOST:PORT")?;
    let transport = match proto.to_ascii_lowercase().as_str() {
        "udp" => Transport::Udp,
        "tcp" => Transport::Tcp,
        other => return Err(format!("transport `udp` or `tcp`, found `{other}`")),
    };
    let addr: SocketAddr = addr
        .parse()
        .map_err(|_| "HOST:PORT with an IP address (IPv6 in brackets: [::1]:5070)".to_string())?;
    Ok((transport, addr))
}

fn list_quirks(format: Format) -> i32 {
    let infos: Vec<QuirkInfo> = Quirk::ALL.iter().map(|q| QuirkInfo::from(*q)).collect();
    match format {
        Format::Json => match serde_json::to_string_pretty(&infos) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                eprintln!("siptest ua: {e}");
                return EXIT_USAGE;
            }
        },
        Format::Text => {
            for q in infos {
                println!(
                    "{:<28} {:<11} {:<36} {:<18} {}",
                    q.name, q.level, q.rule, q.rfc, q.summary
                );
            }
        }
    }
    0
}

fn list_variations(format: Format) -> i32 {
    let infos: Vec<crate::ua::VariationInfo> = crate::ua::Variation::ALL
        .iter()
        .map(|v| crate::ua::VariationInfo::from(*v))
        .collect();
    match format {
        Format::Json => match serde_json::to_string_pretty(&infos) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                eprintln!("siptest ua: {e}");
                return EXIT_USAGE;
            }
        },
        Format::Text => {
            for v in infos {
                println!("{:<20} {:<18} {}", v.name, v.rfc, v.summary);
            }
        }
    }
    0
}
