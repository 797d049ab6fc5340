//! `kontor-testkit up`: a Synapse and a Sydent on loopback by hand, with two users, until
//! Ctrl-C.

use std::io::Write;

use anyhow::Context;
use clap::{Parser, Subcommand};
use kontor_testkit::{Sydent, Synapse};

#[derive(Parser)]
#[command(
    about = "Runs a throw-away Matrix homeserver and identity server on 127.0.0.1 for tests and demos"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Install Synapse and Sydent if needed, start them, register users and wait for Ctrl-C / stdin EOF.
    Up {
        /// Users to register (local parts); password = local part + "-pass".
        #[arg(long, value_delimiter = ',', default_value = "anna,ben")]
        users: Vec<String>,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Only install Synapse and Sydent into their venvs under target/ (e.g. to warm a CI cache).
    Install,
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().cmd {
        Cmd::Install => {
            let v = kontor_testkit::ensure_venv()?;
            println!("{}", v.display());
            let v = kontor_testkit::ensure_sydent_venv()?;
            println!("{}", v.display());
        }
        Cmd::Up { users, json } => {
            let hs = Synapse::start().context("starting synapse")?;
            let is = Sydent::start().context("starting sydent")?;
            let mut registered = Vec::new();
            for u in &users {
                let user = hs
                    .register(u, &format!("{u}-pass"))
                    .with_context(|| format!("registering {u}"))?;
                registered.push(user);
            }
            if json {
                let users: Vec<_> = registered
                    .iter()
                    .map(|u| serde_json::json!({"user_id": u.user_id, "login": u.localpart, "password": u.password}))
                    .collect();
                println!(
                    "{}",
                    serde_json::json!({
                        "homeserver": hs.base_url,
                        "users": users,
                        "identity_server": is.direct_url(),
                        "identity_server_internal": is.internal_url(),
                    })
                );
            } else {
                println!("homeserver: {}", hs.base_url);
                println!("identity server: {}", is.direct_url());
                println!(
                    "identity server internal API (bind without SMS): POST {}/_matrix/identity/internal/bind \
                     {{\"medium\":\"msisdn\",\"address\":\"49151…\",\"mxid\":\"@ben:…\"}}",
                    is.internal_url()
                );
                for u in &registered {
                    println!(
                        "user: {} (login {} / password {})",
                        u.user_id, u.localpart, u.password
                    );
                }
                println!("data: {} and {}", hs.dir().display(), is.dir().display());
                println!("press Ctrl-D (or close stdin) to stop");
            }
            std::io::stdout().flush()?;
            // Wait for EOF on stdin; Ctrl-C kills us and the launchers' watchdogs stop the servers.
            let mut sink = String::new();
            while std::io::stdin().read_line(&mut sink)? > 0 {
                sink.clear();
            }
        }
    }
    Ok(())
}
