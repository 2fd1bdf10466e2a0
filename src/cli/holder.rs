//! `frostsign holder ...`: create, export and show the keyholder's identity.

use super::Global;
use crate::error::{Error, Result};
use crate::fsx;
use crate::home::{CreateOptions, Home};
use std::path::Path;

/// `holder new --name NAME`.
pub fn new(g: &Global, name: &str, options: CreateOptions) -> Result<()> {
    let home = Home::at(&g.home);
    let card = home.create(name, &g.passphrase, options)?;
    if options.insecure_fast_kdf || options.insecure_no_passphrase {
        errln!("warning: this identity is protected by INSECURE settings (for tests and demos only)");
    }
    outln!("Created the keyholder identity of {} in {}", card.name(), g.home.display());
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

/// `holder export [--out FILE]`.
pub fn export(g: &Global, out: Option<&Path>) -> Result<()> {
    let card = Home::open(&g.home)?.card()?;
    match out {
        Some(path) => {
            if path.is_dir() {
                return Err(Error::file(path, "is a folder; give a file name for the card"));
            }
            fsx::atomic_write(path, card.text().as_bytes(), fsx::PUBLIC_FILE)?;
            errln!("Wrote the card of {} to {}", card.label(), path.display());
        }
        None => out!("{}", card.text()),
    }
    Ok(())
}

/// `holder show`.
pub fn show(g: &Global) -> Result<()> {
    let home = Home::open(&g.home)?;
    let card = home.card()?;
    let key_file = home.key_file()?;
    outln!("name:        {}", card.name());
    outln!("fingerprint: {}", card.fingerprint());
    outln!("created:     {}", card.created());
    outln!("home:        {}", g.home.display());
    crate::home::warn_if_insecure(home.root(), &key_file);
    Ok(())
}
