//! The step loop every ceremony shares.
//!
//! A ceremony is a set of typed phases over a folder: each keyholder's `step` loads its state from its
//! home, republishes what that state says it already published (a file that went missing comes back byte
//! for byte), then advances through every phase whose inputs are in the folder, and reports what it did and
//! what it waits for. The engine owns the order that makes every ceremony crash-safe:
//!
//! 1. `before_save`: what must be durable before the new state refers to it (signing: the nonces);
//! 2. the new state is saved, encrypted in the home (a crash before this redoes the phase from the old
//!    state, and nothing has left the machine);
//! 3. `after_save`: what the new state makes unusable is destroyed (signing: the nonces that just signed);
//! 4. only then are the phase's files published (a crash before this republishes the same bytes at the
//!    next step, from the saved state).
//!
//! A ceremony implements [`Ceremony`]: where its state lives, what a state has published, and one
//! [`Ceremony::advance`] per phase. Adding a ceremony means writing its phases, not a loop.

use crate::error::{Error, Result};
use crate::exchange::folder::Folder;
use crate::home::Unlocked;
use crate::secret::SecretBytes;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// What one step (or one coordinator run) did, for any ceremony and any party.
#[derive(Debug, Default)]
pub struct Report {
    /// Actions taken, in plain words, in order.
    pub did: Vec<String>,
    /// Things noticed that change nothing (files that do not count, and why).
    pub notes: Vec<String>,
    /// What is awaited, from whom, if anything.
    pub waiting: Option<String>,
    /// True when this party has nothing left to do in the ceremony.
    pub finished: bool,
    /// Result files written (or already there), when the ceremony produced them.
    pub outputs: Vec<std::path::PathBuf>,
}

/// A file a state has published (or will publish): its name in the folder, its exact text, and what it
/// is, in words ("your round-1 package").
#[derive(Debug, Clone)]
pub struct Published {
    /// File name in the folder.
    pub name: String,
    /// Exact text.
    pub text: String,
    /// What it is, for the report.
    pub what: String,
}

/// A side effect the engine runs at its place in the save order.
pub type Action<'r> = Box<dyn FnOnce() -> Result<()> + 'r>;

/// One phase that ran: the state it leads to, and what surrounds saving it.
pub struct Step<'r, S> {
    /// The state after the phase.
    pub next: S,
    /// What the phase did, in words.
    pub did: String,
    /// Files to publish once `next` is saved.
    pub publish: Vec<Published>,
    /// Runs before `next` is saved.
    pub before_save: Option<Action<'r>>,
    /// Runs after `next` is saved, before anything is published.
    pub after_save: Option<Action<'r>>,
    /// Crash-test label: failpoints `LABEL-before-save`, `LABEL-after-save` and `LABEL-before-publish`
    /// fire around the save (debug builds only).
    pub label: &'static str,
}

impl<'r, S> Step<'r, S> {
    /// A phase that only moves to `next` and publishes `publish`.
    pub fn to(next: S, did: impl Into<String>, publish: Vec<Published>, label: &'static str) -> Self {
        Step { next, did: did.into(), publish, before_save: None, after_save: None, label }
    }
}

/// The outcome of trying the next phase.
pub enum Progress<'r, S> {
    /// The phase ran.
    Advanced(Step<'r, S>),
    /// Its inputs are not all in the folder yet: the state is unchanged, and this is awaited.
    Waiting(S, String),
    /// This party's part is over (the state is kept as it is).
    Finished(S),
}

/// Where a ceremony keeps its state in the home: path relative to the home, and the purpose and id the
/// file is sealed under (so a state file cannot be swapped for another ceremony's).
pub struct StateFile {
    /// Relative path, e.g. `state/dkg-ID.txt`.
    pub rel: String,
    /// Vault purpose.
    pub purpose: &'static str,
    /// Vault id.
    pub id: String,
}

/// A ceremony the engine can run for one keyholder.
pub trait Ceremony<'r> {
    /// The keyholder's state between steps: one variant per phase, each consumed by the next.
    type State: Serialize + DeserializeOwned;

    /// Where the state lives.
    fn state_file(&self) -> StateFile;

    /// Finish what an interrupted step left half-done before anything is republished (signing: destroy
    /// the nonces of a share the journal already holds). Nothing by default.
    fn settle(&self, _state: &Self::State) -> Result<()> {
        Ok(())
    }

    /// The files `state` says this keyholder has published so far (republished if missing).
    fn published(&self, state: &Self::State) -> Vec<Published>;

    /// Run the next phase from `state` if its inputs are in the folder.
    fn advance(&self, state: Self::State, report: &mut Report) -> Result<Progress<'r, Self::State>>;

    /// Read a state written by an earlier format (before the serde codec), if this ceremony had one.
    fn decode_legacy(&self, _bytes: &SecretBytes) -> Option<Self::State> {
        None
    }
}

/// Load a ceremony's state from the home, or `None` if this keyholder has none yet.
pub fn load<'r, C: Ceremony<'r>>(c: &C, u: &Unlocked) -> Result<Option<C::State>> {
    load_file(u, &c.state_file(), |bytes| c.decode_legacy(bytes))
}

/// [`load`] from a state file named before the ceremony is built (key generation reads its state first,
/// to know whether it checked the ceremony file already); `legacy` is [`Ceremony::decode_legacy`].
pub fn load_file<S: DeserializeOwned>(
    u: &Unlocked,
    f: &StateFile,
    legacy: impl FnOnce(&SecretBytes) -> Option<S>,
) -> Result<Option<S>> {
    let Some(bytes) = u.read_secret(&f.rel, f.purpose, &f.id)? else { return Ok(None) };
    let state = serde_json::from_slice(bytes.expose()).ok().or_else(|| legacy(&bytes)).ok_or_else(|| {
        Error::file(&u.home().path(&f.rel), "damaged ceremony state, or written by a newer frostsign")
            .with_help("this keyholder cannot continue this ceremony: abandon it and start a new one")
    })?;
    Ok(Some(state))
}

/// Save a ceremony's state in the home (encrypted, atomic, 0600).
pub fn save<'r, C: Ceremony<'r>>(c: &C, u: &Unlocked, state: &C::State) -> Result<()> {
    let f = c.state_file();
    let json = crate::secret::secret_json(state).map_err(|e| Error::new(format!("internal error: {e}")))?;
    u.write_secret(&f.rel, f.purpose, &f.id, &json)
}

/// Run every phase possible now, from `state` (see the module documentation for the order of effects).
/// Returns the state reached. `report` holds what was done, also when an error stops the step.
pub fn run<'r, C: Ceremony<'r>>(
    c: &C,
    u: &Unlocked,
    folder: &Folder,
    mut state: C::State,
    report: &mut Report,
) -> Result<C::State> {
    c.settle(&state)?;
    let published = c.published(&state);
    let mut again: Vec<String> = Vec::new();
    for (p, created) in published.iter().zip(publish_all(folder, &published)?) {
        if created && !again.contains(&p.what) {
            again.push(p.what.clone());
        }
    }
    report.did.extend(again.into_iter().map(|what| format!("published {what} again (it was missing)")));
    loop {
        match c.advance(state, report)? {
            Progress::Waiting(s, what) => {
                report.waiting = Some(what);
                return Ok(s);
            }
            Progress::Finished(s) => {
                report.finished = true;
                return Ok(s);
            }
            Progress::Advanced(step) => {
                state = apply(c, u, folder, step, report)?;
            }
        }
    }
}

/// Take one step in the one order of effects every ceremony uses: `before_save`, save the state,
/// `after_save`, publish. [`run`] applies each step this way; a ceremony's first step (joining, from no
/// state at all) is applied with it directly.
pub fn apply<'r, C: Ceremony<'r>>(
    c: &C,
    u: &Unlocked,
    folder: &Folder,
    step: Step<'r, C::State>,
    report: &mut Report,
) -> Result<C::State> {
    let Step { next, did, publish, before_save, after_save, label } = step;
    if let Some(action) = before_save {
        action()?;
    }
    crate::failpoint(&format!("{label}-before-save"));
    save(c, u, &next)?;
    crate::failpoint(&format!("{label}-after-save"));
    if let Some(action) = after_save {
        action()?;
    }
    crate::failpoint(&format!("{label}-before-publish"));
    publish_all(folder, &publish)?;
    report.did.push(did);
    Ok(next)
}

/// Publish a phase's files, syncing the folder once for all of them.
fn publish_all(folder: &Folder, files: &[Published]) -> Result<Vec<bool>> {
    let files: Vec<(&str, &str)> = files.iter().map(|p| (p.name.as_str(), p.text.as_str())).collect();
    folder.publish_all(&files)
}
