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
    /// Distributed key generation: n keyholders make one t-of-n group key
    #[command(subcommand)]
    Dkg(DkgCmd),
    /// A group's public key: show, list, export
    #[command(subcommand)]
    Group(GroupCmd),
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

#[derive(Subcommand, Debug)]
enum DkgCmd {
    /// Start a key generation ceremony in DIR with the keyholders' cards
    #[command(
        after_help = "Example:\n  frostsign dkg init --dir ceremony --threshold 2 --label \"ACME releases\" alice.card bob.card carol.card"
    )]
    Init {
        /// The ceremony folder (created if missing; must not hold a ceremony yet)
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        /// How many keyholders must co-sign (t); 2 <= t <= number of cards
        #[arg(long, value_name = "T")]
        threshold: u16,
        /// A label for the group, e.g. the project name
        #[arg(long)]
        label: Option<String>,
        /// The participants' cards, in order (each keyholder's `holder export`)
        #[arg(required = true, value_name = "CARD")]
        cards: Vec<PathBuf>,
    },
    /// As the --home keyholder: do every round that is possible now
    #[command(after_help = "Example:\n  frostsign --home ~/.frostsign dkg step --dir /shared/ceremony")]
    Step {
        /// The ceremony folder
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        /// Join without asking (for scripts); check the fingerprints first
        #[arg(long)]
        yes: bool,
    },
    /// Who has done what, whom we wait for; exit 0 complete, 3 in progress, 2 failed
    #[command(after_help = "Example:\n  frostsign dkg status --dir /shared/ceremony --json")]
    Status {
        /// The ceremony folder
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        /// Machine-readable output
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
enum GroupCmd {
    /// Print t-of-n, members, fingerprint and public key lines of a group
    #[command(after_help = "Example:\n  frostsign group show --key group.pub")]
    Show {
        /// The group's public file
        #[arg(long, value_name = "GROUP.pub")]
        key: PathBuf,
    },
    /// The groups this --home holds a share of
    List,
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
    let ok = |r: frostsign::Result<()>| r.map(|()| 0);
    let result = match cli.command {
        Command::Holder(HolderCmd::New(a)) => ok(cli::holder::new(
            &global,
            &a.name,
            CreateOptions { insecure_fast_kdf: a.insecure_fast_kdf, insecure_no_passphrase: a.insecure_no_passphrase },
        )),
        Command::Holder(HolderCmd::Export { out }) => ok(cli::holder::export(&global, out.as_deref())),
        Command::Holder(HolderCmd::Show) => ok(cli::holder::show(&global)),
        Command::Dkg(DkgCmd::Init { dir, threshold, label, cards }) => {
            ok(cli::dkg::init(&dir, threshold, label.as_deref(), &cards))
        }
        Command::Dkg(DkgCmd::Step { dir, yes }) => ok(cli::dkg::step(&global, &dir, yes)),
        Command::Dkg(DkgCmd::Status { dir, json }) => cli::dkg::status(&dir, json),
        Command::Group(GroupCmd::Show { key }) => ok(cli::group::show(&key)),
        Command::Group(GroupCmd::List) => ok(cli::group::list(&global)),
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "frostsign", &mut std::io::stdout());
            Ok(0)
        }
        Command::Man => ok(clap_mangen::Man::new(Cli::command())
            .render(&mut std::io::stdout())
            .map_err(|e| frostsign::Error::new(format!("could not write the man page: {e}")))),
    };
    std::process::exit(cli::report(result));
}
