//! The one owner of signing nonces in a home: nothing else writes, reads or removes a nonce file.
//!
//! A FROST nonce signs exactly one message; a second signature with it reveals the key share. So:
//! - nonces of one session, attempt and phase are made once and saved (sealed under the home key) before
//!   the commitment that carries them leaves the machine ([`NonceStore::save`]);
//! - they are read only to sign the one package a journal entry then records ([`NonceStore::load`]);
//! - after that journal entry is written, they are removed durably, the folder fsynced, before the
//!   signature share leaves the machine ([`NonceStore::consume`]);
//! - nonces of an attempt that can no longer be used (a restart, a keyholder left out or not chosen, a home
//!   that forgot what it did) are destroyed ([`NonceStore::discard_attempt`], [`NonceStore::discard_all`]).
//!
//! Files: `HOME/state/sign-SESSION-aA-pP.nonces`, purpose `sign-nonces`, id `SESSION-aA-pP`, plaintext the
//! packed `SigningNonces` serializations (docs/formats.md, section 9.7).

use super::Unlocked;
use crate::error::{Error, Result};
use crate::secret::{pack, unpack_all};
use frost_ed25519 as frost;
use zeroize::Zeroizing;

/// The home folder of per-session state.
pub const STATE_DIR: &str = "state";
/// The purpose a nonce file is sealed under.
const PURPOSE: &str = "sign-nonces";
/// File name suffix of a nonce file.
const SUFFIX: &str = ".nonces";

/// Which nonce files of the signing session `session` the home holds, as (attempt, phase), read from their
/// names only (no passphrase, nothing opened): enough to tell whether a step has work to do with them.
pub fn on_disk(home: &crate::home::Home, session: &[u8; 16]) -> Vec<(u32, u8)> {
    let prefix = format!("sign-{}-a", hex::encode(session));
    let Ok(entries) = std::fs::read_dir(home.path(STATE_DIR)) else { return Vec::new() };
    let mut out: Vec<(u32, u8)> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let (attempt, phase) = name.strip_prefix(&prefix)?.strip_suffix(SUFFIX)?.split_once("-p")?;
            Some((attempt.parse().ok()?, phase.parse().ok()?))
        })
        .collect();
    out.sort_unstable();
    out
}

/// The nonces of one signing session in a home.
pub struct NonceStore<'a> {
    home: &'a Unlocked,
    /// The session id, lowercase hex.
    session: String,
}

impl<'a> NonceStore<'a> {
    /// The nonces of session `session` (its 16-byte id) in `home`.
    pub fn new(home: &'a Unlocked, session: &[u8; 16]) -> Self {
        NonceStore { home, session: hex::encode(session) }
    }

    /// The start of every nonce file name of this session, whatever its attempt and phase.
    fn prefix(&self) -> String {
        format!("sign-{}-a", self.session)
    }

    /// `phase` is the signing phase's number (1 or 2), as in the folder's file names.
    fn rel(&self, attempt: u32, phase: u8) -> String {
        format!("{STATE_DIR}/{}{attempt}-p{phase}{SUFFIX}", self.prefix())
    }

    fn id(&self, attempt: u32, phase: u8) -> String {
        format!("{}-a{attempt}-p{phase}", self.session)
    }

    /// Save the nonces of one attempt and phase. Before: they were just made and nothing carrying their
    /// commitments has left the machine. After: they are sealed in the home, durably.
    pub fn save(&self, attempt: u32, phase: u8, nonces: &[frost::round1::SigningNonces]) -> Result<()> {
        let mut ser: Vec<Zeroizing<Vec<u8>>> = Vec::with_capacity(nonces.len());
        for n in nonces {
            ser.push(Zeroizing::new(n.serialize().map_err(|e| Error::new(format!("internal error: {e}")))?));
        }
        let refs: Vec<&[u8]> = ser.iter().map(|v| v.as_slice()).collect();
        self.home.write_secret(&self.rel(attempt, phase), PURPOSE, &self.id(attempt, phase), &pack(&refs))
    }

    /// The nonces of one attempt and phase, or `None` if they are gone (used, or destroyed).
    pub fn load(&self, attempt: u32, phase: u8) -> Result<Option<Vec<frost::round1::SigningNonces>>> {
        let Some(b) = self.home.read_secret(&self.rel(attempt, phase), PURPOSE, &self.id(attempt, phase))? else {
            return Ok(None);
        };
        let damaged = || Error::new("damaged nonce file in the home");
        let fields = unpack_all(b.expose()).ok_or_else(damaged)?;
        let nonces = fields
            .iter()
            .map(|f| frost::round1::SigningNonces::deserialize(f.expose()).map_err(|_| damaged()))
            .collect::<Result<Vec<_>>>()?;
        Ok(Some(nonces))
    }

    /// Remove the nonces of one attempt and phase durably. Before: the journal records the package they
    /// signed (so a rerun republishes that share and never signs again). After: they are gone from the
    /// disk's view (the folder is fsynced); only then may the share leave the machine.
    pub fn consume(&self, attempt: u32, phase: u8) -> Result<()> {
        self.home.remove_secret(&self.rel(attempt, phase))
    }

    /// Destroy the nonces of an attempt that can no longer be used (both phases).
    pub fn discard_attempt(&self, attempt: u32) -> Result<()> {
        for phase in [1, 2] {
            self.consume(attempt, phase)?;
        }
        Ok(())
    }

    /// Destroy every nonce of this session, of any attempt and phase; returns how many files there were.
    pub fn discard_all(&self) -> Result<usize> {
        let prefix = self.prefix();
        let names: Vec<String> = self
            .home
            .file_names(STATE_DIR)?
            .into_iter()
            .filter(|n| n.starts_with(&prefix) && n.ends_with(SUFFIX))
            .collect();
        for name in &names {
            self.home.remove_secret(&format!("{STATE_DIR}/{name}"))?;
        }
        Ok(names.len())
    }
}
