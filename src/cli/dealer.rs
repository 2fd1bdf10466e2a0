//! `frostsign dealer ...`: split one key (imported or generated) among keyholders, and accept a share.

use super::Global;
use crate::card::Card;
use crate::ceremony::dealer::{self, KeySource};
use crate::error::{Error, Result};
use crate::exchange::folder::Folder;
use crate::home::{Home, PassphraseSource};
use std::path::{Path, PathBuf};

/// Longest minisign secret key file read (a stock one is about 350 bytes).
const MAX_SECRET_KEY_FILE: u64 = 4096;

/// Where the dealt key comes from, as the command line says it.
#[derive(Clone, Copy)]
pub enum KeyArg<'a> {
    /// `--import-minisign FILE [--minisign-password-file F]`.
    Minisign {
        /// The secret key file.
        file: &'a Path,
        /// Where its password is, if not on the terminal.
        password_file: Option<&'a Path>,
    },
    /// `--generate`.
    Generate,
}

/// Options of `dealer split`.
#[derive(Clone, Copy)]
pub struct SplitArgs<'a> {
    /// The ceremony folder.
    pub dir: &'a Path,
    /// t.
    pub threshold: u16,
    /// The group's label.
    pub label: Option<&'a str>,
    /// The keyholders' cards, in order.
    pub cards: &'a [PathBuf],
    /// The key.
    pub key: KeyArg<'a>,
    /// Accept cards of test homes.
    pub allow_insecure: bool,
}

/// `dealer split`: as the --home identity (the dealer, who signs the dealt shares).
pub fn split(g: &Global, a: SplitArgs<'_>) -> Result<()> {
    let cards = a.cards.iter().map(|p| Card::load(p)).collect::<Result<Vec<_>>>()?;
    let imported = matches!(a.key, KeyArg::Minisign { .. });
    let key = match a.key {
        KeyArg::Generate => KeySource::Generate,
        KeyArg::Minisign { file, password_file } => KeySource::Minisign(read_minisign_key(file, password_file)?),
    };
    let home = Home::open(&g.home)?;
    let u = home.unlock(&g.passphrase)?;
    let d = dealer::split(u.identity(), a.dir, a.label, a.threshold, cards, key, a.allow_insecure)?;
    let dir = crate::text::path(a.dir);
    outln!("Dealt in {dir}:");
    out!("{}", d.ceremony.summary());
    for f in &d.files {
        outln!("  wrote {}", crate::text::path(f));
    }
    outln!("The key was only in this process's memory, which is wiped; nothing of it is left on this machine by frostsign.");
    if imported {
        outln!("The minisign secret key file you imported still holds the whole key: once the group has signed and");
        outln!("verified a test release, destroy every copy of it (or lock one away offline, knowing it signs alone).");
    }
    outln!("This machine held the whole key: anyone who controlled it during this split can sign alone, forever.");
    outln!("Next: each keyholder checks the fingerprints above by voice, then runs");
    outln!("  frostsign dealer accept --dir {dir}");
    outln!(
        "which checks its share and confirms; the shares become usable when all keyholders accepted the same group."
    );
    Ok(())
}

/// Read and decrypt a stock minisign secret key file (password from the file, else the terminal).
fn read_minisign_key(file: &Path, password_file: Option<&Path>) -> Result<crate::formats::minisign::MinisignSecretKey> {
    let bytes = zeroize::Zeroizing::new(crate::fsx::read_limited_untrusted(file, MAX_SECRET_KEY_FILE)?);
    let text =
        std::str::from_utf8(&bytes).map_err(|_| Error::file(file, "is not a minisign secret key file (not text)"))?;
    let bad = |why: String| {
        Error::file(file, format!("cannot import this minisign secret key: {why}"))
            .with_help("give the secret key file `minisign -G` made (by default ~/.minisign/minisign.key)")
    };
    let encrypted = crate::formats::minisign::secret_key_is_encrypted(text).map_err(bad)?;
    let password = if encrypted {
        if password_file.is_none() && !std::io::IsTerminal::is_terminal(&std::io::stdin()) {
            return Err(Error::new("the minisign key is encrypted, and there is no terminal to ask for its password")
                .with_help("give --minisign-password-file PATH (a file holding the password on one line)"));
        }
        let source = PassphraseSource::new(password_file.map(Path::to_path_buf));
        Some(source.read_prompted(&format!("Password of the minisign key {}: ", crate::text::path(file)))?)
    } else {
        None
    };
    crate::formats::minisign::parse_secret_key(text, password.as_ref().map(|p| p.expose().as_bytes())).map_err(|why| {
        let e = Error::file(file, format!("cannot import this minisign secret key: {why}"));
        if why.starts_with("wrong password") {
            e.with_help("run again with the password minisign asks for when it signs with this key")
        } else {
            e
        }
    })
}

/// `dealer accept --dir DIR [--yes]`: a keyholder's step in a dealt ceremony (the same as `dkg step`).
pub fn accept(g: &Global, dir: &Path, yes: bool) -> Result<()> {
    let c = crate::group::ceremony::DkgCeremony::load(&Folder::open(dir)?)?;
    if c.dealer().is_none() {
        return Err(Error::new(format!("`{}` holds a key generation, not a dealt group", crate::text::path(dir)))
            .with_help(format!("run `frostsign dkg step --dir {}`", crate::text::path(dir))));
    }
    super::dkg::step_as(g, dir, yes, "dealer accept")
}
