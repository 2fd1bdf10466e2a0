//! Command implementations: what each subcommand does and prints. The binary's `main.rs` parses the
//! arguments and calls into here; everything below works on typed options, not on argv.

/// `println!` for the CLI: through [`out::stdout`], so nothing reaches the terminal raw.
macro_rules! outln {
    () => { $crate::cli::out::stdout("\n") };
    ($($arg:tt)*) => { $crate::cli::out::stdout(&format!("{}\n", format_args!($($arg)*))) };
}
/// `print!` for the CLI: through [`out::stdout`].
macro_rules! out {
    ($($arg:tt)*) => { $crate::cli::out::stdout(&format!($($arg)*)) };
}
/// `eprintln!` for the CLI: through [`out::stderr`].
macro_rules! errln {
    ($($arg:tt)*) => { $crate::cli::out::stderr(&format!("{}\n", format_args!($($arg)*))) };
}
/// `eprint!` for the CLI: through [`out::stderr`].
macro_rules! err {
    ($($arg:tt)*) => { $crate::cli::out::stderr(&format!($($arg)*)) };
}

pub mod dealer;
pub mod dkg;
pub mod exchange;
pub mod group;
pub mod holder;
pub mod out;
pub mod share;
pub mod sign;
pub mod verify;
pub mod watch;

use crate::home::PassphraseSource;
use std::path::PathBuf;

/// Options every command may use.
#[derive(Clone, Debug)]
pub struct Global {
    /// The keyholder home.
    pub home: PathBuf,
    /// Where passphrases come from.
    pub passphrase: PassphraseSource,
}

/// `frostsign`, with `--home HOME` when the keyholder's home is not the default: what a next-step hint
/// tells the keyholder to run, so that copying it works.
pub fn frostsign_for(home: &std::path::Path) -> String {
    if home == crate::home::default_home() {
        "frostsign".to_string()
    } else {
        format!("frostsign --home {}", crate::text::path(home))
    }
}

/// Ask a yes/no question on the terminal; `assume_yes` answers yes without asking. Without a terminal
/// and without `assume_yes`, refuses with a hint.
pub fn confirm(question: &str, assume_yes: bool) -> crate::Result<()> {
    use std::io::{BufRead, IsTerminal, Write};
    if assume_yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(crate::Error::new("confirmation needed, but there is no terminal to ask on")
            .with_help("review the details above, then run again with --yes"));
    }
    err!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| crate::Error::new(format!("could not read the answer: {e}")))?;
    if matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes") {
        Ok(())
    } else {
        Err(crate::Error::new("not confirmed; nothing was done"))
    }
}

/// Print an error the way cargo does and turn a result into the process exit code.
pub fn report(result: crate::Result<i32>) -> i32 {
    match result {
        Ok(code) => code,
        Err(e) => {
            errln!("error: {e}");
            e.kind().code()
        }
    }
}
