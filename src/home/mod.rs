//! The keyholder's private store ("home"): identity, home key, group shares and ceremony state.
//!
//! Layout (every file 0600, every folder 0700):
//!
//! ```text
//! HOME/home-key.txt      the home key, wrapped under the passphrase (see vault)
//! HOME/identity.txt      identity secret keys, encrypted with the home key
//! HOME/card.txt          the public card (a copy of what `holder export` writes)
//! HOME/lock              held while a command changes the home
//! HOME/groups/           one encrypted key share per group, plus the group's public file
//! HOME/state/            encrypted per-ceremony state (DKG secrets, signing nonces, journal)
//! ```
//!
//! `home-key.txt` is written last when a home is created: a home exists exactly when that file does.

pub mod backup;
pub mod groups;
pub mod nonces;
pub mod passphrase;
pub mod vault;

use crate::card::Card;
use crate::error::{Error, Result};
use crate::fsx;
use crate::identity::Identity;
use crate::secret::{SecretBytes, SecretKey32};
pub use passphrase::PassphraseSource;
use std::fs::File;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
pub use vault::{KdfCost, Protection};

const HOME_KEY: &str = "home-key.txt";
const IDENTITY: &str = "identity.txt";
const CARD: &str = "card.txt";
const LOCK: &str = "lock";
/// Largest secret file accepted (DKG state for 255 keyholders fits easily).
const MAX_SECRET_FILE: u64 = 16 * 1024 * 1024;
/// Largest `home-key.txt` accepted.
const MAX_HOME_KEY_FILE: u64 = 4096;
/// Purpose of the sealed identity (`identity.txt`), bound into its encryption.
pub const IDENTITY_PURPOSE: &str = "identity";
/// Purpose of a sealed group key share (`groups/GFP.share`), bound into its encryption.
pub const SHARE_PURPOSE: &str = "key-share";

/// Options for creating a home.
#[derive(Clone, Copy, Debug, Default)]
pub struct CreateOptions {
    /// INSECURE: the cheapest KDF setting. For tests and demos only.
    pub insecure_fast_kdf: bool,
    /// INSECURE: no passphrase at all. For tests and demos only.
    pub insecure_no_passphrase: bool,
}

/// A keyholder home on disk (not yet unlocked).
#[derive(Clone, Debug)]
pub struct Home {
    root: PathBuf,
}

/// An exclusive lock on a home, released on drop.
#[derive(Debug)]
pub struct HomeLock {
    _file: File,
}

/// A home whose key is unlocked: can read and write secrets.
pub struct Unlocked {
    home: Home,
    key: SecretKey32,
    identity: Identity,
}

impl std::fmt::Debug for Unlocked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Unlocked({}, {:?})", crate::text::path(&self.home.root), self.identity)
    }
}

/// The default home: `$HOME/.frostsign`.
pub fn default_home() -> PathBuf {
    std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(".")).join(".frostsign")
}

impl Home {
    /// A home at `root` (may not exist yet).
    pub fn at(root: impl Into<PathBuf>) -> Home {
        Home { root: root.into() }
    }

    /// The home folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Path of a file inside the home.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// True if an identity exists here.
    pub fn exists(&self) -> bool {
        self.path(HOME_KEY).exists()
    }

    /// Create a new identity in this home. Refuses if one already exists; touches nothing then.
    pub fn create(&self, name: &str, source: &PassphraseSource, options: CreateOptions) -> Result<Card> {
        crate::card::keyholder_name(name)?;
        if self.exists() {
            return Err(self.already_exists());
        }
        let (passphrase, protection) = if options.insecure_no_passphrase {
            (crate::secret::Passphrase::new(String::new()), Protection::InsecureNoPassphrase)
        } else {
            let p = source.read_new()?;
            if p.is_empty() {
                return Err(Error::new("the passphrase is empty")
                    .with_help("choose a passphrase; --insecure-no-passphrase exists for tests and demos only"));
            }
            (p, Protection::Passphrase)
        };
        // The folder is created only once the passphrase is known, so a refused command leaves nothing.
        fsx::ensure_private_dir(&self.root)?;
        let _lock = self.lock()?;
        if self.exists() {
            return Err(self.already_exists());
        }
        let cost = if options.insecure_fast_kdf { KdfCost::INSECURE_FAST } else { KdfCost::DEFAULT };
        let insecure = if options.insecure_no_passphrase {
            Some(crate::card::InsecureHome::NoPassphrase)
        } else {
            options.insecure_fast_kdf.then_some(crate::card::InsecureHome::FastKdf)
        };
        let identity = Identity::generate(name, crate::clock::now(), insecure)?;
        let key = SecretKey32::random();
        let key_file = vault::wrap_home_key(&key, &passphrase, cost, protection)?;
        let identity_file = vault::seal_secret(
            &key,
            IDENTITY_PURPOSE,
            &identity.card().fingerprint().compact(),
            identity.secret_bytes().expose(),
        )?;
        fsx::atomic_write(&self.path(IDENTITY), identity_file.as_bytes(), fsx::PRIVATE_FILE)?;
        fsx::atomic_write(&self.path(CARD), identity.card().text().as_bytes(), fsx::PRIVATE_FILE)?;
        if !fsx::atomic_create(&self.path(HOME_KEY), key_file.as_bytes(), fsx::PRIVATE_FILE)? {
            return Err(self.already_exists());
        }
        Ok(identity.card().clone())
    }

    fn already_exists(&self) -> Error {
        let who = self.card().map(|c| format!(" ({})", c.label())).unwrap_or_default();
        Error::new(format!(
            "`{}` already holds a keyholder identity{who}; refusing to overwrite it",
            crate::text::path(&self.root)
        ))
        .with_help("use another --home for a new identity; the existing one is untouched")
    }

    /// Check that this home exists and is private.
    pub fn open(root: impl Into<PathBuf>) -> Result<Home> {
        let home = Home::at(root);
        if !home.exists() {
            return Err(Error::new(format!("no keyholder identity in `{}`", crate::text::path(&home.root))).with_help(
                "create one with `frostsign holder new --name NAME`, or point --home / FROSTSIGN_HOME at your home",
            ));
        }
        home.check_permissions()?;
        Ok(home)
    }

    fn check_permissions(&self) -> Result<()> {
        let mode = |p: &Path| {
            std::fs::metadata(p).map(|m| m.permissions().mode() & 0o777).map_err(|e| Error::io("inspect", p, e))
        };
        let root_mode = mode(&self.root)?;
        if root_mode & 0o077 != 0 {
            return Err(Error::new(format!(
                "the home `{}` is accessible by other users (mode {root_mode:o})",
                crate::text::path(&self.root)
            ))
            .with_help(format!("run `chmod 700 {}`", crate::text::path(&self.root))));
        }
        for f in [HOME_KEY, IDENTITY] {
            let p = self.path(f);
            let m = mode(&p)?;
            if m & 0o077 != 0 {
                return Err(Error::new(format!(
                    "`{}` is accessible by other users (mode {m:o})",
                    crate::text::path(&p)
                ))
                .with_help(format!("run `chmod 600 {}`", crate::text::path(&p))));
            }
        }
        Ok(())
    }

    /// Take the home's exclusive lock (fails at once if another command holds it).
    pub fn lock(&self) -> Result<HomeLock> {
        let path = self.path(LOCK);
        let file = fsx::open_lock_file(&path, fsx::PRIVATE_FILE)?;
        match file.try_lock() {
            Ok(()) => Ok(HomeLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(Error::new(format!(
                "another frostsign command is using the home `{}`",
                crate::text::path(&self.root)
            ))
            .with_help("wait for it to finish, then run this command again")),
            Err(std::fs::TryLockError::Error(e)) => Err(Error::io("lock", &path, e)),
        }
    }

    /// The public card stored in the home.
    pub fn card(&self) -> Result<Card> {
        Card::load(&self.path(CARD))
    }

    /// The home key file's recorded parameters.
    pub fn key_file(&self) -> Result<vault::HomeKeyFile> {
        let path = self.path(HOME_KEY);
        let text = fsx::read_text(&path, MAX_HOME_KEY_FILE)?;
        vault::HomeKeyFile::parse(&text, &path)
    }

    /// Unlock the home with a passphrase from `source`; warns on stderr if the home is insecure.
    pub fn unlock(&self, source: &PassphraseSource) -> Result<Unlocked> {
        let key_path = self.path(HOME_KEY);
        let key_file = self.key_file()?;
        warn_if_insecure(&self.root, &key_file);
        let key = self.unwrap_home_key(source, &key_file, &key_path)?;
        let card = self.card()?;
        let id_path = self.path(IDENTITY);
        let text = fsx::read_text(&id_path, MAX_SECRET_FILE)?;
        let secret = vault::open_secret(&key, IDENTITY_PURPOSE, &card.fingerprint().compact(), &text, &id_path)?;
        let identity = Identity::from_secret_bytes(&secret, card)?;
        // The home key and the identity's secret keys are in memory from here on.
        crate::failpoint("home-unlocked");
        Ok(Unlocked { home: self.clone(), key, identity })
    }
}

impl Home {
    /// The home key, unwrapped with the passphrase from `source`. Typed on a terminal, a wrong passphrase
    /// may be retyped, up to [`PASSPHRASE_TRIES`] times; from a file it is tried once. The key derivation
    /// shows "unlocking..." on a terminal.
    fn unwrap_home_key(
        &self,
        source: &PassphraseSource,
        key_file: &vault::HomeKeyFile,
        key_path: &Path,
    ) -> Result<crate::secret::SecretKey32> {
        let tries = if source.is_interactive() { PASSPHRASE_TRIES } else { 1 };
        let mut attempt = 1;
        loop {
            let passphrase = match key_file.protection {
                Protection::InsecureNoPassphrase => crate::secret::Passphrase::new(String::new()),
                Protection::Passphrase => source.read(&crate::text::path(&self.root))?,
            };
            crate::report::event(&crate::report::Event::Busy("unlocking"));
            let result = key_file.unwrap(&passphrase, key_path);
            crate::report::event(&crate::report::Event::BusyDone);
            match result {
                Err(e) if attempt < tries && e.message().starts_with("wrong passphrase") => {
                    let left = tries - attempt;
                    crate::report::warn(format!(
                        "wrong passphrase; try again ({left} {} left)",
                        if left == 1 { "try" } else { "tries" }
                    ));
                    attempt += 1;
                }
                other => return other,
            }
        }
    }
}

/// How many times a passphrase typed on a terminal may be retyped.
pub const PASSPHRASE_TRIES: u32 = 3;

/// Print the insecure-setting warning for a home, if it applies.
pub fn warn_if_insecure(root: &Path, key_file: &vault::HomeKeyFile) {
    if key_file.protection == Protection::InsecureNoPassphrase {
        crate::report::warn(format!(
            "the home `{}` has NO passphrase (--insecure-no-passphrase); for tests and demos only",
            crate::text::path(root)
        ));
    }
    if key_file.cost.is_insecure() {
        crate::report::warn(format!(
            "the home `{}` uses an INSECURE fast passphrase KDF (--insecure-fast-kdf); for tests and demos only",
            crate::text::path(root)
        ));
    }
}

impl Unlocked {
    /// The keyholder's identity.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// The home.
    pub fn home(&self) -> &Home {
        &self.home
    }

    /// Write a secret file at `rel` (e.g. `state/x.txt`), encrypted and bound to `purpose` and `id`.
    pub fn write_secret(&self, rel: &str, purpose: &str, id: &str, plaintext: &SecretBytes) -> Result<()> {
        let path = self.home.path(rel);
        if let Some(parent) = path.parent() {
            fsx::ensure_private_dir(parent)?;
        }
        let text = vault::seal_secret(&self.key, purpose, id, plaintext.expose())?;
        fsx::atomic_write(&path, text.as_bytes(), fsx::PRIVATE_FILE)
    }

    /// Read a secret file, or `None` if it does not exist.
    pub fn read_secret(&self, rel: &str, purpose: &str, id: &str) -> Result<Option<SecretBytes>> {
        let path = self.home.path(rel);
        if !path.exists() {
            return Ok(None);
        }
        let text = fsx::read_text(&path, MAX_SECRET_FILE)?;
        vault::open_secret(&self.key, purpose, id, &text, &path).map(Some)
    }

    /// Remove a secret file durably.
    pub fn remove_secret(&self, rel: &str) -> Result<()> {
        fsx::remove_durably(&self.home.path(rel))
    }

    /// The names of the files in the home folder `rel_dir` (e.g. `state`), sorted; none if it is missing.
    pub fn file_names(&self, rel_dir: &str) -> Result<Vec<String>> {
        let dir = self.home.path(rel_dir);
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io("list", &dir, e)),
        };
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::io("list", &dir, e))?;
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
        names.sort();
        Ok(names)
    }
}
