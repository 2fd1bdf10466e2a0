//! The `frostsign` binary: argument parsing only. All logic is in the library (`frostsign::cli`).

use clap::{Args, CommandFactory, Parser, Subcommand};
use frostsign::cli::{self, Global};
use frostsign::home::{CreateOptions, PassphraseSource};
use std::path::PathBuf;

/// Threshold release signing: t of n keyholders co-sign one standard Ed25519 signature.
#[derive(Parser, Debug)]
#[command(name = "frostsign", version, about, long_about = None, after_help = EXAMPLES)]
struct Cli {
    /// The keyholder's private store, for the commands that use one [env: FROSTSIGN_HOME] [default: ~/.frostsign]
    #[arg(long, value_name = "DIR")]
    home: Option<PathBuf>,

    /// For the commands that unlock the home: read the passphrase from this file (first line) instead of the
    /// terminal [env: FROSTSIGN_PASSPHRASE_FILE]
    #[arg(long, value_name = "PATH")]
    passphrase_file: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

/// `--home`, declared by each command that uses the keyholder's home (and accepted before the subcommand
/// by every command, as `frostsign --home DIR holder show`). FROSTSIGN_HOME is read in [`Outer::home`]
/// rather than by clap, so that the command line, before or after the subcommand, wins over it.
#[derive(Args, Debug, Clone, Default)]
struct HomeArg {
    /// The keyholder's private store [env: FROSTSIGN_HOME] [default: ~/.frostsign]
    #[arg(long, value_name = "DIR")]
    home: Option<PathBuf>,
}

/// `--passphrase-file`, declared by each command that unlocks the home (FROSTSIGN_PASSPHRASE_FILE: as
/// for [`HomeArg`]).
#[derive(Args, Debug, Clone, Default)]
struct PassphraseArg {
    /// Read the passphrase from this file (first line) instead of the terminal [env: FROSTSIGN_PASSPHRASE_FILE]
    #[arg(long, value_name = "PATH")]
    passphrase_file: Option<PathBuf>,
}

/// `--home` and `--passphrase-file` as given before the subcommand; with a command's own options and
/// the environment, they make the [`Global`] options of the commands that use them.
struct Outer {
    home: Option<PathBuf>,
    passphrase_file: Option<PathBuf>,
}

impl Outer {
    /// The home: `--home` (before or after the subcommand), else FROSTSIGN_HOME, else ~/.frostsign.
    fn home(&self, inner: HomeArg) -> frostsign::Result<PathBuf> {
        let given = one_path("--home", self.home.clone(), inner.home, "FROSTSIGN_HOME")?;
        Ok(given.unwrap_or_else(frostsign::home::default_home))
    }

    /// The home and where its passphrase comes from (`--passphrase-file`, else
    /// FROSTSIGN_PASSPHRASE_FILE, else the terminal).
    fn global(&self, home: HomeArg, passphrase: PassphraseArg) -> frostsign::Result<Global> {
        let file = one_path(
            "--passphrase-file",
            self.passphrase_file.clone(),
            passphrase.passphrase_file,
            "FROSTSIGN_PASSPHRASE_FILE",
        )?;
        Ok(Global { home: self.home(home)?, passphrase: PassphraseSource::new(file) })
    }
}

/// One path option, given before the subcommand (`outer`), after it (`inner`) or in the environment
/// variable `var` (an empty one counts as unset). The command line wins over the environment; given both
/// before and after the subcommand, the two must be the same path: which home signs is never a guess.
fn one_path(
    option: &str,
    outer: Option<PathBuf>,
    inner: Option<PathBuf>,
    var: &str,
) -> frostsign::Result<Option<PathBuf>> {
    match (outer, inner) {
        (Some(before), Some(after)) if before != after => Err(frostsign::Error::new(format!(
            "{option} is given twice, as `{}` before the subcommand and as `{}` after it",
            frostsign::text::path(&before),
            frostsign::text::path(&after)
        ))
        .with_help(format!("give {option} once, before or after the subcommand"))),
        (Some(path), _) | (None, Some(path)) => Ok(Some(path)),
        (None, None) => Ok(std::env::var_os(var).filter(|v| !v.is_empty()).map(PathBuf::from)),
    }
}

const EXAMPLES: &str = "\
Examples:
  frostsign holder new --name Alice             create your identity in ~/.frostsign
  frostsign holder export --out alice.card      the card you give to the ceremony organiser
  frostsign verify --key group.pub release.tar.gz
Exit codes: 0 ok, 1 invalid signature (verify), 2 usage or bad input, 3 ceremony in progress (status)";

#[derive(Subcommand, Debug)]
enum Command {
    /// Your keyholder identity: create, export, show, back up, restore
    #[command(subcommand)]
    Holder(HolderCmd),
    /// Distributed key generation: n keyholders make one t-of-n group key
    #[command(subcommand)]
    Dkg(DkgCmd),
    /// Split one key (an existing minisign key, or a new one) among keyholders; accept a dealt share
    #[command(subcommand)]
    Dealer(DealerCmd),
    /// Renew a group's shares, keeping its key (and remove keyholders)
    #[command(subcommand)]
    Share(ShareCmd),
    /// A group's public key: show, list, export, page
    #[command(subcommand)]
    Group(GroupCmd),
    /// Threshold signing of release artifacts: init, step, collect, status
    #[command(subcommand)]
    Sign(SignCmd),
    /// Verify a signature with the group's public key (exit 0 valid, 1 invalid, 2 bad input)
    #[command(
        after_help = "Examples:\n  frostsign verify --key group.pub release.tar.gz\n  frostsign verify --key minisign.pub release.tar.gz --sig release.tar.gz.minisig --json\n  frostsign verify --key-line RWQf6LRCGA9i53mlYecO4IzT51TGPpvWucNSCh1CBM0QTaLn73Y7GFO3 release.tar.gz\n  frostsign verify --key old-group.pub --follow-rotation rotation.txt release-2.0.tar.gz"
    )]
    #[command(group = clap::ArgGroup::new("trusted_key").required(true).args(["key", "key_line"]))]
    Verify {
        /// A key FILE: group.pub, or a key written by `group export` (minisign, signify, ssh, allowed-signers, openpgp)
        #[arg(long, value_name = "FILE")]
        key: Option<PathBuf>,
        /// The key itself: a minisign/signify line (RW...), `ssh-ed25519 AAAA...` or an allowed_signers line; never read as a file name
        #[arg(long, value_name = "TEXT")]
        key_line: Option<String>,
        /// The file to check
        artifact: PathBuf,
        /// The signature file [default: the first of ARTIFACT.minisig, .sig, .asc, then SHA256.sig beside it]
        #[arg(long, value_name = "FILE")]
        sig: Option<PathBuf>,
        /// Machine-readable output: {valid, format, key_id, trusted_comment, file, signature, error}
        #[arg(long)]
        json: bool,
        /// A rotation statement (rotation.txt, with rotation.txt.old.minisig and .new.minisig beside it) from
        /// the trusted key to a new one; repeat for each rotation, oldest first
        #[arg(long, value_name = "STATEMENT")]
        follow_rotation: Vec<PathBuf>,
    },
    /// Print shell completions for SHELL (bash, zsh, fish, elvish, powershell)
    Completions {
        /// The shell
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) to stdout, or write one page per command into a folder
    #[command(
        after_help = "Examples:\n  frostsign man | man -l -\n  frostsign man --dir /usr/local/share/man/man1   # frostsign.1, frostsign-sign-step.1, ..."
    )]
    Man {
        /// Write frostsign.1 and a page for every subcommand (frostsign-sign-step.1, ...) into DIR
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
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
        #[command(flatten)]
        home: HomeArg,
    },
    /// Print name and fingerprint, to read out to co-keyholders
    Show {
        #[command(flatten)]
        home: HomeArg,
    },
    /// Write an encrypted backup of identity, shares and group files (never nonces or ceremony state)
    #[command(
        after_help = "Example:\n  frostsign holder backup --out /media/usb/alice.backup\nThe backup is useless without your passphrase; restore it with `frostsign holder restore`."
    )]
    Backup {
        /// The backup file to write (must not exist yet)
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        #[command(flatten)]
        home: HomeArg,
        #[command(flatten)]
        passphrase: PassphraseArg,
    },
    /// Rebuild --home (a new or empty folder) from a backup; asks the backup's passphrase
    #[command(after_help = "Example:\n  frostsign --home ~/.frostsign holder restore /media/usb/alice.backup")]
    Restore {
        /// The file `holder backup` wrote
        #[arg(value_name = "FILE")]
        file: PathBuf,
        #[command(flatten)]
        home: HomeArg,
        #[command(flatten)]
        passphrase: PassphraseArg,
    },
}

/// What a new group is made of: the folder, t, a label and the keyholders' cards (`dkg init`,
/// `dealer split`).
#[derive(Args, Debug)]
struct NewGroup {
    /// The ceremony folder (created if missing; must not hold a ceremony yet)
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,
    /// How many keyholders must co-sign (t); 2 <= t <= number of cards
    #[arg(long, value_name = "T")]
    threshold: u16,
    /// A label for the group, e.g. the project name
    #[arg(long)]
    label: Option<String>,
    /// The keyholders' cards, in order (each keyholder's `holder export`)
    #[arg(required = true, value_name = "CARD")]
    cards: Vec<PathBuf>,
    /// Accept cards of homes made with --insecure-fast-kdf or --insecure-no-passphrase (tests and demos)
    #[arg(long)]
    allow_insecure_cards: bool,
    #[command(flatten)]
    git: GitArgs,
}

#[derive(Subcommand, Debug)]
enum DealerCmd {
    /// As the --home identity (the dealer): split a key among the keyholders' cards into DIR
    #[command(
        after_help = "The dealer's machine holds the whole key during the split: use an offline machine, and destroy the\nimported secret key file once the group has signed a test release.\n\nExamples:\n  frostsign dealer split --dir ceremony --threshold 2 --import-minisign ~/.minisign/minisign.key alice.card bob.card carol.card\n  frostsign dealer split --dir ceremony --threshold 2 --generate --label \"ACME releases\" alice.card bob.card carol.card"
    )]
    #[command(group = clap::ArgGroup::new("key").required(true).args(["import_minisign", "generate"]))]
    Split {
        #[command(flatten)]
        group: NewGroup,
        /// Import this minisign secret key (`minisign -G`; the group keeps its key id, so the project's minisign.pub keeps working)
        #[arg(long, value_name = "SECRET_KEY_FILE")]
        import_minisign: Option<PathBuf>,
        /// Read the minisign key's password from this file instead of the terminal
        #[arg(long, value_name = "PATH", requires = "import_minisign")]
        minisign_password_file: Option<PathBuf>,
        /// Make a new key and split it
        #[arg(long)]
        generate: bool,
        #[command(flatten)]
        home: HomeArg,
        #[command(flatten)]
        passphrase: PassphraseArg,
    },
    /// As the --home keyholder: check the share dealt to you, confirm and accept (as `dkg step`)
    #[command(after_help = "Example:\n  frostsign --home ~/.frostsign dealer accept --dir /shared/ceremony")]
    Accept {
        /// The ceremony folder
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        /// Join without asking (for scripts); check the fingerprints first
        #[arg(long)]
        yes: bool,
        #[command(flatten)]
        home: HomeArg,
        #[command(flatten)]
        passphrase: PassphraseArg,
    },
}

#[derive(Subcommand, Debug)]
enum ShareCmd {
    /// As the --home keyholder: start (if DIR holds none) or continue a refresh of the group's shares
    #[command(
        after_help = "Every remaining keyholder runs the same command, as often as needed, until it says complete; the\ngroup key does not change, old shares stop working with new ones, and removed keyholders' shares\nwork with none. The threshold cannot change in a refresh.\n\nExamples:\n  frostsign share refresh --dir refresh-2027 --group group.pub\n  frostsign share refresh --dir remove-bob --group group.pub --remove Bob"
    )]
    Refresh {
        /// The refresh folder (created if missing)
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        /// The group's public file (your home's own copy is what counts)
        #[arg(long, visible_alias = "key", value_name = "GROUP.pub")]
        group: PathBuf,
        /// A keyholder to remove (name or fingerprint; repeat); only when starting the refresh
        #[arg(long, value_name = "NAME")]
        remove: Vec<String>,
        /// Join without asking (for scripts); check the names and fingerprints first
        #[arg(long)]
        yes: bool,
        #[command(flatten)]
        home: HomeArg,
        #[command(flatten)]
        passphrase: PassphraseArg,
    },
    /// Rebuild one keyholder's share (lost, or for a new card), or enrol a new keyholder; same key
    #[command(
        after_help = "A keyholder of the group starts it; every member and the keyholder named by --for run the same\ncommand until it says complete. t helpers rebuild the share; the key and the other shares stay.\nA --for card whose name is a member's repairs that member (its card may be new); another name enrols\na new keyholder at the next identifier.\n\nExamples:\n  frostsign share repair --dir repair-carol --group group.pub --for carol-new.card\n  frostsign share repair --dir enrol-dave --group group.pub --for dave.card --helper Alice --helper Bob"
    )]
    Repair {
        /// The repair folder (created if missing)
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        /// The group's public file (members: your home's own copy is what counts)
        #[arg(long, visible_alias = "key", value_name = "GROUP.pub")]
        group: PathBuf,
        /// The card of the keyholder whose share is rebuilt (a member's name) or who is enrolled (a new name)
        #[arg(long = "for", value_name = "CARD")]
        target: PathBuf,
        /// A helper (name or fingerprint; exactly t of them) [default: you and the first other members]
        #[arg(long, value_name = "NAME")]
        helper: Vec<String>,
        /// Join without asking (for scripts); check the names and fingerprints first
        #[arg(long)]
        yes: bool,
        #[command(flatten)]
        home: HomeArg,
        #[command(flatten)]
        passphrase: PassphraseArg,
    },
}

#[derive(Subcommand, Debug)]
enum DkgCmd {
    /// Start a key generation ceremony in DIR with the keyholders' cards
    #[command(
        after_help = "Example:\n  frostsign dkg init --dir ceremony --threshold 2 --label \"ACME releases\" alice.card bob.card carol.card"
    )]
    Init(NewGroup),
    /// As the --home keyholder: do every round that is possible now (with --watch: until done)
    #[command(
        after_help = "Examples:\n  frostsign --home ~/.frostsign dkg step --dir /shared/ceremony\n  frostsign dkg step --dir /shared/ceremony --watch --timeout 2h   # one passphrase, every round"
    )]
    Step {
        /// The ceremony folder
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        /// Join without asking (for scripts); check the fingerprints first
        #[arg(long)]
        yes: bool,
        #[command(flatten)]
        watch: WatchArgs,
        #[command(flatten)]
        git: GitArgs,
        #[command(flatten)]
        home: HomeArg,
        #[command(flatten)]
        passphrase: PassphraseArg,
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
    #[command(after_help = "Example:\n  frostsign group show --group group.pub")]
    Show {
        /// The group's public file
        #[arg(long = "group", visible_alias = "key", value_name = "GROUP.pub")]
        key: PathBuf,
        /// Machine-readable output: {label, fingerprint, version, approved, threshold, members, group_key, minisign_key_id, minisign_public_key}
        #[arg(long)]
        json: bool,
    },
    /// The groups this --home holds a share of
    List {
        /// Machine-readable output: [{fingerprint, label, threshold, members, version, my_identifier}]
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        home: HomeArg,
    },
    /// Write the group's public key in a stock tool's format (byte-identical from any copy of group.pub)
    #[command(
        after_help = "Examples:\n  frostsign group export --group group.pub --format minisign --out minisign.pub\n  frostsign group export --group group.pub --format allowed-signers --principal releases@example.org\n  frostsign group export --group group.pub --format openpgp --out group.asc   # needs group.openpgp beside group.pub"
    )]
    Export {
        /// The group's public file
        #[arg(long = "group", visible_alias = "key", value_name = "GROUP.pub")]
        key: PathBuf,
        /// The key's format (a signify key verifies signify manifests)
        #[arg(long, value_name = "FORMAT", default_value = "minisign",
              value_parser = ["minisign", "ssh", "allowed-signers", "openpgp", "signify"])]
        format: String,
        /// Write to FILE instead of stdout
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// The principal of the allowed-signers line [default: the group label]
        #[arg(long, value_name = "NAME")]
        principal: Option<String>,
    },
    /// Write one self-contained HTML page that verifies downloads offline, with the group's key built in
    #[command(
        after_help = "The page checks .minisig, SSH .sig, OpenPGP .asc and signify SHA256.sig signatures in the browser: no upload, no\nnetwork request, no install. Publish it beside the releases, and publish the group fingerprint elsewhere.\n\nExamples:\n  frostsign group page --group group.pub --out verify.html\n  frostsign group page --group group.pub --out verify.html --title \"Verify ACME downloads\" --json"
    )]
    Page {
        /// The group's public file
        #[arg(long = "group", visible_alias = "key", value_name = "GROUP.pub")]
        key: PathBuf,
        /// The HTML file to write (must not exist yet)
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// The page's title [default: "Verify a download from LABEL"]
        #[arg(long, value_name = "TEXT")]
        title: Option<String>,
        /// Machine-readable output
        #[arg(long)]
        json: bool,
    },
    /// Enable OpenPGP once: open the session in which the group certifies its OpenPGP key
    #[command(
        name = "openpgp-init",
        after_help = "Example:\n  frostsign group openpgp-init --group group.pub --uid \"ACME releases <releases@example.org>\" --dir openpgp-init"
    )]
    OpenpgpInit {
        /// The group's public file
        #[arg(long = "group", visible_alias = "key", value_name = "GROUP.pub")]
        key: PathBuf,
        /// The OpenPGP user id, "Name <email>"
        #[arg(long)]
        uid: String,
        /// The session folder
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        /// Hours until the request expires [default: 168]
        #[arg(long, value_name = "HOURS")]
        expires_in: Option<u32>,
    },
    /// Open the session in which t keyholders approve a new version of the group (after a refresh or repair)
    #[command(
        after_help = "Example:\n  frostsign group approve --group refresh/group.pub --dir approve-v2\n  # then t keyholders: frostsign sign step --dir approve-v2 (twice), with sign collect in between;\n  # the approved file is approve-v2/group-approved.pub"
    )]
    Approve {
        /// The new version's group file, as the refresh or repair wrote it
        #[arg(long = "group", visible_alias = "key", value_name = "GROUP.pub")]
        key: PathBuf,
        /// The session folder
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        /// Hours until the request expires [default: 168]
        #[arg(long, value_name = "HOURS")]
        expires_in: Option<u32>,
    },
    /// Move to a new key: open the sessions in which the old group and the new group both sign a rotation statement
    #[command(
        after_help = "The new group is made first, by key generation (`dkg init`, `dkg step`), with any threshold and members.\n\nExample:\n  frostsign group rotate --from group.pub --to new/group.pub --reason \"two laptops stolen\" --dir rotate-2027\n  # old group's keyholders: frostsign sign step --dir rotate-2027/old ; coordinator: frostsign sign collect --dir rotate-2027/old --out rotate-2027\n  # new group's keyholders: frostsign sign step --dir rotate-2027/new ; coordinator: frostsign sign collect --dir rotate-2027/new --out rotate-2027\n  # users: frostsign verify --key group.pub --follow-rotation rotate-2027/rotation.txt FILE"
    )]
    Rotate {
        /// The group file of the key users trust now
        #[arg(long, value_name = "OLD.pub")]
        from: PathBuf,
        /// The group file of the new key
        #[arg(long, value_name = "NEW.pub")]
        to: PathBuf,
        /// Why the key changes (shown to every signer and to users)
        #[arg(long, value_name = "TEXT")]
        reason: String,
        /// The rotation folder: rotation.txt and the two sessions, old/ and new/
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        /// Hours until the requests expire [default: 168]
        #[arg(long, value_name = "HOURS")]
        expires_in: Option<u32>,
    },
    /// Accept a newer group file in place of the one you trust, if the group approved every version between
    #[command(
        after_help = "Exit status: 0 accepted (or already current), 1 refused (not approved, another key, a gap, older), 2 bad input.\n\nExamples:\n  frostsign group update --from pinned/group.pub --to downloads/group.pub\n  frostsign group update --from pinned/group.pub --to downloads/group.pub --check --json"
    )]
    Update {
        /// The group file you trust now (replaced by NEW when NEW is accepted, unless --check)
        #[arg(long, value_name = "OLD.pub")]
        from: PathBuf,
        /// The newer group file, from anywhere: it proves itself with the group's signatures
        #[arg(long, value_name = "NEW.pub")]
        to: PathBuf,
        /// Only check; do not replace OLD
        #[arg(long)]
        check: bool,
        /// Machine-readable output: {accepted, from_version, to_version, fingerprint, error}
        #[arg(long)]
        json: bool,
    },
}

/// `--git`: the ceremony folder is in a git clone; pull before, commit and push after.
#[derive(clap::Args, Debug, Clone, Copy)]
struct GitArgs {
    /// The folder is in a git clone of a shared repository: pull (rebase) before, commit your own new files
    /// and push after, retrying on a push race (at init: also marks the folder, so later commands need no --git)
    #[arg(long)]
    git: bool,
}

/// `--watch` and `--timeout`, shared by `dkg step`, `sign step` and `sign collect`.
#[derive(clap::Args, Debug, Clone, Copy)]
struct WatchArgs {
    /// Keep going until your part is done: unlock once, redo the step whenever the folder changes
    #[arg(long)]
    watch: bool,
    /// With --watch: give up after DURATION (e.g. 90s, 30m, 2h; default 24h), exit 3
    #[arg(long, value_name = "DURATION", requires = "watch", value_parser = cli::watch::parse_duration)]
    timeout: Option<std::time::Duration>,
}

impl WatchArgs {
    /// `None` without --watch, else the timeout to watch for (`None` inside: the default).
    fn get(self) -> Option<Option<std::time::Duration>> {
        self.watch.then_some(self.timeout)
    }
}

#[derive(Subcommand, Debug)]
enum SignCmd {
    /// Open a signing session in DIR for one or more artifacts
    #[command(
        after_help = "Example:\n  frostsign sign init --dir sign-1.4.0 --group group.pub --file dist/app-1.4.0.tar.gz --comment \"release 1.4.0\""
    )]
    Init {
        /// The session folder (created if missing; must not hold a session yet)
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        /// The group's public file
        #[arg(long, visible_alias = "key", value_name = "GROUP.pub")]
        group: PathBuf,
        /// An artifact to sign (repeat for a release with several files)
        #[arg(long = "file", value_name = "ARTIFACT", required_unless_present = "git_tag")]
        files: Vec<PathBuf>,
        /// Text added to each signature's trusted comment
        #[arg(long)]
        comment: Option<String>,
        /// Output formats, comma-separated [default: minisign]
        #[arg(long = "format", value_name = "F,...", value_delimiter = ',',
              value_parser = ["minisign", "ssh", "openpgp", "signify-manifest"])]
        formats: Vec<String>,
        /// Hours until the request expires [default: 168, one week]
        #[arg(long, value_name = "HOURS")]
        expires_in: Option<u32>,
        /// Sign a git tag instead of files: the tag name (needs --repo)
        #[arg(long, value_name = "TAG", requires = "repo", conflicts_with = "files")]
        git_tag: Option<String>,
        /// With --git-tag: the release manager's repository
        #[arg(long, value_name = "PATH")]
        repo: Option<PathBuf>,
        /// With --git-tag: the ref to tag (each signer's clone must resolve it to the same commit)
        #[arg(long, value_name = "REF", default_value = "HEAD")]
        git_ref: String,
        /// With --git-tag: the tag message [default: "Release TAG"]
        #[arg(long, value_name = "TEXT")]
        message: Option<String>,
        /// With --git-tag: "Name <email>" of the tagger [default: git's committer identity]
        #[arg(long, value_name = "IDENT")]
        tagger: Option<String>,
        #[command(flatten)]
        git_exchange: GitArgs,
    },
    /// As the --home keyholder: hash your own copies, commit, and later sign, if every check passes
    #[command(
        after_help = "Examples:\n  frostsign sign step --dir sign-1.4.0 --file ~/build/app-1.4.0.tar.gz\n  frostsign sign step --dir sign-1.4.0 --artifacts ~/build/dist --yes\n  frostsign sign step --dir sign-1.4.0 --file ~/build/app-1.4.0.tar.gz --watch --timeout 4h   # one passphrase, one hash pass"
    )]
    Step {
        /// The session folder
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        /// Your own copy of an artifact (repeat for each)
        #[arg(long = "file", value_name = "MY_COPY")]
        files: Vec<PathBuf>,
        /// A folder holding your own copies of all artifacts (by name)
        #[arg(long, value_name = "DIR")]
        artifacts: Option<PathBuf>,
        /// For a git tag session: your own clone of the repository
        #[arg(long, value_name = "PATH")]
        repo: Option<PathBuf>,
        /// Commit without asking (for scripts); the digests are still checked
        #[arg(long)]
        yes: bool,
        #[command(flatten)]
        watch: WatchArgs,
        #[command(flatten)]
        git: GitArgs,
        #[command(flatten)]
        home: HomeArg,
        #[command(flatten)]
        passphrase: PassphraseArg,
    },
    /// As coordinator (anyone, no secrets): build packages, check shares, write signatures
    #[command(
        after_help = "Examples:\n  frostsign sign collect --dir sign-1.4.0\n  frostsign sign collect --dir sign-1.4.0 --restart --without Bob\n  frostsign sign collect --dir sign-1.4.0 --watch --timeout 4h   # until the signatures are written"
    )]
    Collect {
        /// The session folder
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        /// Where to write the signature files [default: DIR]
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// For a git tag session: store the signed tag in this repository
        #[arg(long, value_name = "PATH")]
        repo: Option<PathBuf>,
        /// Open a fresh attempt with new nonces (e.g. a chosen signer never answered)
        #[arg(long)]
        restart: bool,
        /// With --restart: leave out this keyholder (name, unambiguous prefix or fingerprint; repeatable)
        #[arg(long, value_name = "NAME")]
        without: Vec<String>,
        #[command(flatten)]
        watch: WatchArgs,
        #[command(flatten)]
        git: GitArgs,
    },
    /// Who committed (and attested which digests), who signed, what is missing; exit 0 done, 3 in progress, 2 failed
    Status {
        /// The session folder
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        /// Machine-readable output
        #[arg(long)]
        json: bool,
    },
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
    #[command(flatten)]
    home: HomeArg,
    #[command(flatten)]
    passphrase: PassphraseArg,
}

/// clap's message for a command line it refused, safe to print. clap echoes arguments, and the output
/// layer cannot tell a newline from an argument from clap's own: so the message is rendered from the
/// same command line with every argument that is not plain text replaced by its escaped form.
fn clap_error_text(e: &clap::Error) -> String {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let plain = |a: &std::ffi::OsString| a.to_str().is_some_and(frostsign::text::is_plain_text);
    if args.iter().skip(1).all(plain) {
        return e.render().to_string();
    }
    let escaped = args.iter().map(|a| if plain(a) { a.to_string_lossy().into_owned() } else { escape_arg(a) });
    match Cli::try_parse_from(escaped) {
        Err(again) if again.kind() == e.kind() => again.render().to_string(),
        _ => format!(
            "error: the command line was refused ({}); an argument holds control or invisible characters\n",
            e.kind()
        ),
    }
}

/// An argument in escaped form: control, bidi and invisible characters (and bytes that are not UTF-8)
/// made visible.
fn escape_arg(a: &std::ffi::OsStr) -> String {
    frostsign::text::escape(&a.to_string_lossy())
}

fn main() {
    frostsign::report::install(frostsign::cli::out::report);
    // Before anything else, and so before any secret is read: no core dumps (see frostsign::process).
    if let Err(e) = frostsign::process::forbid_core_dumps() {
        frostsign::cli::out::stderr(&format!("warning: {e}; a crash could write secrets to a core file\n"));
    }
    // clap's own messages echo the command line: print them through the output layer too.
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let text = clap_error_text(&e);
            if e.use_stderr() {
                cli::out::stderr(&text);
            } else {
                cli::out::stdout(&text);
            }
            std::process::exit(e.exit_code());
        }
    };
    // Debug builds only (the ones `cargo test` drives): stop once the command line parsed, so the tests
    // can check every frostsign command written in the docs against the real argument parser.
    #[cfg(debug_assertions)]
    if std::env::var_os("FROSTSIGN_PARSE_ONLY").is_some() {
        std::process::exit(0);
    }
    let outer = Outer { home: cli.home, passphrase_file: cli.passphrase_file };
    let ok = |r: frostsign::Result<()>| r.map(|()| 0);
    let result = match cli.command {
        Command::Holder(HolderCmd::New(a)) => outer.global(a.home, a.passphrase).and_then(|g| {
            let options = CreateOptions {
                insecure_fast_kdf: a.insecure_fast_kdf,
                insecure_no_passphrase: a.insecure_no_passphrase,
            };
            ok(cli::holder::new(&g, &a.name, options))
        }),
        Command::Holder(HolderCmd::Export { out, home }) => {
            outer.home(home).and_then(|h| ok(cli::holder::export(&h, out.as_deref())))
        }
        Command::Holder(HolderCmd::Show { home }) => outer.home(home).and_then(|h| ok(cli::holder::show(&h))),
        Command::Holder(HolderCmd::Backup { out, home, passphrase }) => {
            outer.global(home, passphrase).and_then(|g| ok(cli::holder::backup(&g, &out)))
        }
        Command::Holder(HolderCmd::Restore { file, home, passphrase }) => {
            outer.global(home, passphrase).and_then(|g| ok(cli::holder::restore(&g, &file)))
        }
        Command::Dkg(DkgCmd::Init(g)) => ok(cli::exchange::init_with(&g.dir, g.git.git, "key generation", || {
            cli::dkg::init(&g.dir, g.threshold, g.label.as_deref(), &g.cards, g.allow_insecure_cards)
        })),
        Command::Dkg(DkgCmd::Step { dir, yes, watch, git, home, passphrase }) => {
            outer.global(home, passphrase).and_then(|g| cli::dkg::step(&g, &dir, yes, watch.get(), git.git))
        }
        Command::Dkg(DkgCmd::Status { dir, json }) => cli::dkg::status(&dir, json),
        Command::Dealer(DealerCmd::Split {
            group: g,
            import_minisign,
            minisign_password_file,
            generate: _,
            home,
            passphrase,
        }) => {
            let key = match &import_minisign {
                Some(file) => cli::dealer::KeyArg::Minisign { file, password_file: minisign_password_file.as_deref() },
                None => cli::dealer::KeyArg::Generate,
            };
            let args = cli::dealer::SplitArgs {
                dir: &g.dir,
                threshold: g.threshold,
                label: g.label.as_deref(),
                cards: &g.cards,
                key,
                allow_insecure: g.allow_insecure_cards,
            };
            let git = g.git.git;
            outer.global(home, passphrase).and_then(|global| {
                ok(cli::exchange::init_with(&g.dir, git, "dealt group", || cli::dealer::split(&global, args)))
            })
        }
        Command::Dealer(DealerCmd::Accept { dir, yes, home, passphrase }) => {
            outer.global(home, passphrase).and_then(|g| ok(cli::dealer::accept(&g, &dir, yes)))
        }
        Command::Share(ShareCmd::Refresh { dir, group, remove, yes, home, passphrase }) => {
            outer.global(home, passphrase).and_then(|g| ok(cli::share::refresh(&g, &dir, &group, &remove, yes)))
        }
        Command::Share(ShareCmd::Repair { dir, group, target, helper, yes, home, passphrase }) => {
            outer.global(home, passphrase).and_then(|g| ok(cli::share::repair(&g, &dir, &group, &target, &helper, yes)))
        }
        Command::Group(GroupCmd::Show { key, json }) => ok(cli::group::show(&key, json)),
        Command::Group(GroupCmd::List { json, home }) => outer.home(home).and_then(|h| ok(cli::group::list(&h, json))),
        Command::Group(GroupCmd::Export { key, format, out, principal }) => {
            ok(cli::group::export(&key, &format, out.as_deref(), principal.as_deref()))
        }
        Command::Group(GroupCmd::Page { key, out, title, json }) => {
            ok(cli::group::page(&key, &out, title.as_deref(), json))
        }
        Command::Group(GroupCmd::OpenpgpInit { key, uid, dir, expires_in }) => {
            ok(cli::group::openpgp_init(&key, &uid, &dir, expires_in))
        }
        Command::Group(GroupCmd::Approve { key, dir, expires_in }) => ok(cli::group::approve(&key, &dir, expires_in)),
        Command::Group(GroupCmd::Rotate { from, to, reason, dir, expires_in }) => {
            ok(cli::group::rotate(&from, &to, &reason, &dir, expires_in))
        }
        Command::Group(GroupCmd::Update { from, to, check, json }) => cli::group::update(&from, &to, check, json),
        Command::Sign(SignCmd::Init {
            dir,
            group,
            files,
            comment,
            formats,
            expires_in,
            git_tag,
            repo,
            git_ref,
            message,
            tagger,
            git_exchange,
        }) => {
            let git = git_tag.map(|tag| cli::sign::GitTagArgs {
                tag,
                repo: repo.unwrap_or_else(|| PathBuf::from(".")),
                git_ref,
                message,
                tagger,
            });
            ok(cli::exchange::init_with(&dir, git_exchange.git, "signing", || {
                cli::sign::init(&dir, &group, &files, comment.as_deref(), &formats, expires_in, git.clone())
            }))
        }
        Command::Sign(SignCmd::Step { dir, files, artifacts, repo, yes, watch, git, home, passphrase }) => {
            outer.global(home, passphrase).and_then(|g| {
                cli::sign::step(&g, &dir, &files, artifacts.as_deref(), repo.as_deref(), yes, watch.get(), git.git)
            })
        }
        Command::Sign(SignCmd::Collect { dir, out, repo, restart, without, watch, git }) => {
            cli::sign::collect(&dir, out.as_deref(), repo.as_deref(), restart, &without, watch.get(), git.git)
        }
        Command::Sign(SignCmd::Status { dir, json }) => cli::sign::status(&dir, json),
        Command::Verify { key, key_line, artifact, sig, json, follow_rotation } => {
            let key = match (&key, &key_line) {
                (Some(path), _) => cli::verify::KeyArg::File(path),
                (None, line) => cli::verify::KeyArg::Line(line.as_deref().unwrap_or_default()),
            };
            cli::verify::verify(key, &artifact, sig.as_deref(), json, &follow_rotation)
        }
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "frostsign", &mut script);
            cli::out::stdout_bytes(&script);
            Ok(0)
        }
        Command::Man { dir: Some(dir) } => ok(man_pages(Cli::command(), &dir)),
        Command::Man { dir: None } => {
            let mut page = Vec::new();
            ok(clap_mangen::Man::new(Cli::command())
                .render(&mut page)
                .map(|()| cli::out::stdout_bytes(&page))
                .map_err(|e| frostsign::Error::new(format!("could not write the man page: {e}"))))
        }
    };
    std::process::exit(cli::report(result));
}

/// Write the man page of `cmd` and of every subcommand, recursively, into `dir` (atomic writes): the main
/// page refers to `frostsign-sign(1)` and the like, which then exist.
fn man_pages(cmd: clap::Command, dir: &std::path::Path) -> frostsign::Result<()> {
    fn write(cmd: clap::Command, dir: &std::path::Path) -> frostsign::Result<()> {
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()).cloned() {
            write(sub, dir)?;
        }
        let man = clap_mangen::Man::new(cmd);
        let mut page = Vec::new();
        man.render(&mut page).map_err(|e| frostsign::Error::new(format!("could not write a man page: {e}")))?;
        frostsign::fsx::atomic_write(&dir.join(man.get_filename()), &page, frostsign::fsx::PUBLIC_FILE)
    }
    frostsign::fsx::ensure_dir(dir)?;
    let mut cmd = cmd.disable_help_subcommand(true);
    cmd.build();
    write(cmd, dir)
}
