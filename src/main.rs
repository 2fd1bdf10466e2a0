//! The `frostsign` binary: argument parsing only. All logic is in the library (`frostsign::cli`).

use clap::{Args, CommandFactory, Parser, Subcommand};
use frostsign::cli::{self, Global};
use frostsign::home::{CreateOptions, PassphraseSource};
use std::path::PathBuf;

/// Threshold release signing: t of n keyholders co-sign one standard Ed25519 signature.
#[derive(Parser, Debug)]
#[command(name = "frostsign", version, about, long_about = None, after_help = EXAMPLES)]
struct Cli {
    /// The keyholder's private store [env: FROSTSIGN_HOME] [default: ~/.frostsign]
    #[arg(long, global = true, value_name = "DIR", env = "FROSTSIGN_HOME", hide_env = true)]
    home: Option<PathBuf>,

    /// Read the passphrase from this file (first line) instead of the terminal [env: FROSTSIGN_PASSPHRASE_FILE]
    #[arg(long, global = true, value_name = "PATH", env = "FROSTSIGN_PASSPHRASE_FILE", hide_env = true)]
    passphrase_file: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

const EXAMPLES: &str = "\
Examples:
  frostsign holder new --name Alice             create your identity in ~/.frostsign
  frostsign holder export --out alice.card      the card you give to the ceremony organiser
  frostsign verify --key group.pub release.tar.gz
Exit codes: 0 ok, 1 invalid signature (verify), 2 usage or bad input, 3 ceremony in progress (status)";

#[derive(Subcommand, Debug)]
enum Command {
    /// Your keyholder identity: create, export, show
    #[command(subcommand)]
    Holder(HolderCmd),
    /// Print shell completions for SHELL (bash, zsh, fish, elvish, powershell)
    Completions {
        /// The shell
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) to stdout
    Man,
}

#[derive(Subcommand, Debug)]
enum HolderCmd {
    /// Create this keyholder's identity in --home
    #[command(after_help = "Example:\n  frostsign --home ~/.frostsign holder new --name \"Alice Liddell\"")]
    New(HolderNew),
    /// Write the public card: name, identity keys, fingerprint
    #[command(after_help = "Example:\n  frostsign holder export --out alice.card")]
    Export {
        /// Write the card to FILE instead of stdout
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Print name and fingerprint, to read out to co-keyholders
    Show,
}

#[derive(Args, Debug)]
struct HolderNew {
    /// Your name as co-keyholders know it
    #[arg(long)]
    name: String,
    /// INSECURE, for tests and demos only: the cheapest passphrase KDF setting
    #[arg(long)]
    insecure_fast_kdf: bool,
    /// INSECURE, for tests and demos only: no passphrase at all
    #[arg(long)]
    insecure_no_passphrase: bool,
}

fn main() {
    let cli = Cli::parse();
    let global = Global {
        home: cli.home.clone().unwrap_or_else(frostsign::home::default_home),
        passphrase: PassphraseSource::new(cli.passphrase_file.clone()),
    };
    let result = match cli.command {
        Command::Holder(HolderCmd::New(a)) => cli::holder::new(
            &global,
            &a.name,
            CreateOptions { insecure_fast_kdf: a.insecure_fast_kdf, insecure_no_passphrase: a.insecure_no_passphrase },
        ),
        Command::Holder(HolderCmd::Export { out }) => cli::holder::export(&global, out.as_deref()),
        Command::Holder(HolderCmd::Show) => cli::holder::show(&global),
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "frostsign", &mut std::io::stdout());
            Ok(())
        }
        Command::Man => clap_mangen::Man::new(Cli::command())
            .render(&mut std::io::stdout())
            .map_err(|e| frostsign::Error::new(format!("could not write the man page: {e}"))),
    };
    std::process::exit(cli::report(result));
}
