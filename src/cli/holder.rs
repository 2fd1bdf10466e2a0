//! `frostsign holder ...`: create, export, show, back up and restore the keyholder's identity.

use super::Global;
use crate::error::{Error, Result};
use crate::fsx;
use crate::home::backup::{self, Contents};
use crate::home::{CreateOptions, Home};
use std::path::Path;

/// `holder new --name NAME`.
pub fn new(g: &Global, name: &str, options: CreateOptions) -> Result<()> {
    let home = Home::at(&g.home);
    let card = home.create(name, &g.passphrase, options)?;
    if options.insecure_fast_kdf || options.insecure_no_passphrase {
        errln!("warning: this identity is protected by INSECURE settings (for tests and demos only)");
    }
    outln!("Created the keyholder identity of {} in {}", card.name(), crate::text::path(&g.home));
    outln!("  fingerprint: {}", card.fingerprint());
    outln!(
        "Next: `frostsign holder export --out {}.card` and give that card to the ceremony organiser;",
        file_stem(card.name())
    );
    outln!("      read your fingerprint out to your co-keyholders so they can check the card they received.");
    Ok(())
}

/// A file-name-friendly version of a name.
pub fn file_stem(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c.to_ascii_lowercase() } else { '-' })
        .collect();
    let s = s.trim_matches('-').to_string();
    if s.is_empty() {
        "keyholder".into()
    } else {
        s
    }
}

/// `holder export [--out FILE]` (needs the home, never its passphrase).
pub fn export(home: &Path, out: Option<&Path>) -> Result<()> {
    let card = Home::open(home)?.card()?;
    match out {
        Some(path) => {
            if path.is_dir() {
                return Err(Error::file(path, "is a folder; give a file name for the card"));
            }
            fsx::atomic_write(path, card.text().as_bytes(), fsx::PUBLIC_FILE)?;
            errln!("Wrote the card of {} to {}", card.label(), crate::text::path(path));
        }
        None => out!("{}", card.text()),
    }
    Ok(())
}

/// `holder show` (needs the home, never its passphrase).
pub fn show(root: &Path) -> Result<()> {
    let home = Home::open(root)?;
    let card = home.card()?;
    let key_file = home.key_file()?;
    outln!("name:        {}", card.name());
    outln!("fingerprint: {}", card.fingerprint());
    outln!("created:     {}", card.created());
    outln!("home:        {}", crate::text::path(root));
    crate::home::warn_if_insecure(home.root(), &key_file);
    Ok(())
}

/// `holder backup --out FILE`.
pub fn backup(g: &Global, out: &Path) -> Result<()> {
    let home = Home::open(&g.home)?;
    // Before the passphrase is asked: a backup never replaces a file.
    backup::refuse_existing(out)?;
    let _lock = home.lock()?;
    let u = home.unlock(&g.passphrase)?;
    let contents = backup::write(&u, out)?;
    outln!("Wrote an encrypted backup of {} to {}:", contents.card.label(), crate::text::path(out));
    print_contents(&contents);
    outln!("Not in it: signing nonces, journals and key generation state (HOME/state/), which are never backed up.");
    outln!("It is useless without your passphrase: keep it offline, and apart from the passphrase.");
    Ok(())
}

/// `holder restore FILE`.
pub fn restore(g: &Global, file: &Path) -> Result<()> {
    let home = Home::at(&g.home);
    let contents = backup::restore(&home, file, &g.passphrase)?;
    crate::home::warn_if_insecure(home.root(), &contents.key_file);
    outln!("Restored the keyholder identity of {} into {}:", contents.card.label(), crate::text::path(&g.home));
    print_contents(&contents);
    outln!("No signing nonces or ceremony state were restored (a backup never holds them). If you had");
    outln!("committed in a signing session that is still open, your next `sign step` there refuses and asks");
    outln!("the coordinator for a fresh attempt (`frostsign sign collect --dir DIR --restart`).");
    Ok(())
}

fn print_contents(c: &Contents) {
    outln!("  identity: {}", c.card.label());
    if c.groups.is_empty() {
        outln!("  no group share yet");
    }
    for g in &c.groups {
        let label = g.label().map(|l| format!(" \"{l}\"")).unwrap_or_default();
        outln!(
            "  share of the {}-of-{} group{label}, fingerprint {}",
            g.threshold(),
            g.members().len(),
            g.fingerprint()
        );
    }
}
