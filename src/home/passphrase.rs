//! Where a passphrase comes from: a terminal prompt, or a file named by `--passphrase-file` /
//! `FROSTSIGN_PASSPHRASE_FILE`. Never from a command-line value, which would land in shell history and
//! in every other user's `ps` output.

use crate::error::{Error, Result};
use crate::secret::Passphrase;
use std::io::IsTerminal;
use std::path::PathBuf;
use zeroize::Zeroizing;

/// Longest passphrase file accepted.
const MAX_PASSPHRASE_FILE: u64 = 4096;

/// The configured passphrase source.
#[derive(Clone, Debug, Default)]
pub struct PassphraseSource {
    file: Option<PathBuf>,
}

impl PassphraseSource {
    /// A source reading from `file` if given, otherwise from the terminal.
    pub fn new(file: Option<PathBuf>) -> Self {
        PassphraseSource { file }
    }

    /// True when the passphrase is typed on the terminal (no file): a wrong one may then be retyped.
    pub fn is_interactive(&self) -> bool {
        self.file.is_none()
    }

    /// Read a passphrase for an existing home (one prompt).
    pub fn read(&self, home_display: &str) -> Result<Passphrase> {
        match &self.file {
            Some(path) => read_file(path),
            None => {
                require_terminal()?;
                prompt(&format!("Passphrase for {home_display}: "))
            }
        }
    }

    /// Read another secret this way: from the file if one was given, else asking `prompt` on the
    /// terminal (e.g. the password of a key being imported).
    pub fn read_prompted(&self, prompt_text: &str) -> Result<Passphrase> {
        match &self.file {
            Some(path) => read_file(path),
            None => {
                require_terminal()?;
                prompt(prompt_text)
            }
        }
    }

    /// Read a new passphrase (asked twice on a terminal).
    pub fn read_new(&self) -> Result<Passphrase> {
        match &self.file {
            Some(path) => read_file(path),
            None => {
                require_terminal()?;
                let first = prompt("New passphrase: ")?;
                let second = prompt("Repeat the passphrase: ")?;
                if first.expose() != second.expose() {
                    return Err(Error::new("the two passphrases differ").with_help("run the command again"));
                }
                Ok(first)
            }
        }
    }
}

fn require_terminal() -> Result<()> {
    if std::io::stdin().is_terminal() {
        return Ok(());
    }
    Err(Error::new("a passphrase is needed, but there is no terminal to ask for it and no passphrase file").with_help(
        "give --passphrase-file PATH or set FROSTSIGN_PASSPHRASE_FILE=PATH (a file holding the passphrase on one line)",
    ))
}

fn prompt(text: &str) -> Result<Passphrase> {
    let s = rpassword::prompt_password(text)
        .map_err(|e| Error::new(format!("could not read the passphrase from the terminal: {e}")))?;
    Ok(Passphrase::new(s))
}

/// Warn, as ssh does for private keys, when other users can read the passphrase file.
fn warn_if_readable_by_others(path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path) {
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            crate::report::warn(format!(
                "the passphrase file `{}` can be read by other users (mode {mode:o}); run `chmod 600 {}`",
                crate::text::path(path),
                crate::text::path(path)
            ));
        }
    }
}

fn read_file(path: &std::path::Path) -> Result<Passphrase> {
    warn_if_readable_by_others(path);
    let bytes =
        Zeroizing::new(crate::fsx::read_limited(path, MAX_PASSPHRASE_FILE).map_err(|e| e.context("passphrase file"))?);
    let text = std::str::from_utf8(&bytes).map_err(|_| Error::file(path, "passphrase file is not UTF-8 text"))?;
    // The passphrase is the first line; a single trailing newline (LF or CRLF) is not part of it.
    let line = text.strip_suffix('\n').unwrap_or(text);
    let line = line.strip_suffix('\r').unwrap_or(line);
    if line.contains('\n') {
        return Err(Error::file(path, "passphrase file has more than one line")
            .with_help("put only the passphrase in the file, on one line"));
    }
    Ok(Passphrase::new(line.to_string()))
}
