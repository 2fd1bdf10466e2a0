//! Where a command's ceremony folder is exchanged: a plain folder (shared drive, USB, e-mail), or a git
//! repository (`--git`, or a folder `init --git` marked), which each round pulls before and pushes after.

use crate::error::Result;
use crate::exchange::git::{GitFolder, Pushed};
use std::path::Path;

/// How a command's rounds reach the others.
pub struct Exchange {
    git: Option<GitFolder>,
    /// Who commits, in the commit message ("Alice", "coordinator").
    who: String,
    /// The ceremony, in the commit message ("signing sign-1.4.0").
    what: String,
    /// Notes already printed (a watch repeats rounds).
    seen: std::cell::RefCell<std::collections::BTreeSet<String>>,
}

impl Exchange {
    /// The exchange for the folder `dir`: git when `git` is set or the folder is marked for it. `home` is
    /// the keyholder's home, which must lie outside the repository.
    pub fn new(dir: &Path, git: bool, home: Option<&Path>, who: &str, what: &str) -> Result<Exchange> {
        // The keyholder's own files (named after its card's fingerprint) are never given up for another
        // version someone published: the card is public, read without the passphrase.
        let owner = home.and_then(|h| crate::home::Home::open(h).and_then(|h| h.card()).ok());
        let owner = owner.map(|c| c.fingerprint().compact());
        let git = if git {
            Some(GitFolder::open(dir, home)?)
        } else if crate::exchange::git::is_marked(dir) {
            // The marker counts only as the repository's own file (committed by `init --git`): a folder
            // that arrived by USB or e-mail with a marker in it does not make frostsign commit and push.
            match GitFolder::open(dir, home) {
                Ok(g) if g.marker_tracked() => {
                    outln!("- using git: the folder is marked for it (`init --git`)");
                    Some(g)
                }
                _ => None,
            }
        } else {
            if crate::exchange::git::lost_its_marker(dir) {
                errln!(
                    "warning: `{}` was set up for git (`init --git`: its .gitattributes is frostsign's) but its marker {} is missing, so this run neither pulls nor pushes",
                    crate::text::path(dir),
                    crate::exchange::git::MARKER_FILE
                );
                errln!(
                    "  help: pass --git to exchange through git, or restore the marker (git checkout -- {})",
                    crate::exchange::git::MARKER_FILE
                );
            }
            None
        };
        Ok(Exchange {
            git: git.map(|g| g.owned_by(owner)),
            who: who.to_string(),
            what: format!("{what} {}", folder_name(dir)),
            seen: Default::default(),
        })
    }

    /// True when rounds go through git.
    pub fn is_git(&self) -> bool {
        self.git.is_some()
    }

    /// True for an error a watch over git waits out instead of stopping on: the remote could not be
    /// reached for a moment (a pull or a push failed; nothing of the ceremony was lost: files not pushed yet
    /// are committed locally, and the next round pushes them).
    fn transient(&self, e: &crate::error::Error) -> bool {
        self.git.is_some()
            && (e.message().starts_with("`git pull --rebase` failed") || e.message().starts_with("could not push"))
    }

    /// The watcher of a `--watch` with `timeout`: it looks less often when each look pulls from a remote,
    /// and its pulls and pushes end by its deadline.
    pub fn watcher(&self, timeout: Option<std::time::Duration>) -> super::watch::Watcher {
        let w = super::watch::Watcher::new(timeout);
        match &self.git {
            Some(g) => {
                g.stop_by(w.deadline());
                w.over_git()
            }
            None => w,
        }
    }

    /// After a failed round: in a watch over git, a remote that could not be reached is waited out (a
    /// warning, then the next look): `Ok(None)` to look again, `Ok(Some(3))` when the watch timed out. Any
    /// other error, and any error outside a watch, is returned.
    pub fn wait_out(&self, e: crate::error::Error, watcher: Option<&mut super::watch::Watcher>) -> Result<Option<i32>> {
        match watcher {
            Some(w) if self.transient(&e) => {
                errln!("warning: {}; trying again", e.message());
                if w.wait(false, "the git remote") {
                    Ok(None)
                } else {
                    w.timed_out();
                    Ok(Some(3))
                }
            }
            _ => Err(e),
        }
    }

    /// Mark a folder just set up for git (`init --git`).
    pub fn mark(&self) -> Result<()> {
        match &self.git {
            Some(g) => g.mark(),
            None => Ok(()),
        }
    }

    /// Bring in what others published, before a command that only reads (`init` checks, `status`).
    pub fn pull(&self) -> Result<()> {
        self.git.as_ref().map_or(Ok(()), GitFolder::pull)
    }

    /// The pull before a step's first round: a watch that starts while the remote cannot be reached warns
    /// and goes on with the folder it has (its rounds pull again, and wait the remote out); a single run
    /// stops with the error. `watch` is the watch's `--timeout` (`Some(None)`: the default), which bounds
    /// this pull too.
    pub fn pull_first(&self, watch: Option<Option<std::time::Duration>>) -> Result<()> {
        if let (Some(g), Some(timeout)) = (&self.git, watch) {
            g.stop_by(std::time::Instant::now() + timeout.unwrap_or(super::watch::DEFAULT_TIMEOUT));
        }
        match self.pull() {
            Err(e) if watch.is_some() && self.transient(&e) => {
                errln!("warning: {}; the watch tries again at each look", e.message());
                Ok(())
            }
            other => other,
        }
    }

    /// One round: with git, pull, run `step`, then commit and push what it wrote (running it again on the
    /// published file when someone pushed a clashing one first); in a plain folder, just `step`. `did`
    /// says what the round did, for the commit message.
    pub fn round<T>(&self, step: impl FnMut() -> Result<T>, did: impl Fn(&T) -> String) -> Result<T> {
        let Some(g) = &self.git else {
            let mut step = step;
            return step();
        };
        let (out, pushed, notes) = g.cycle(step, |t| format!("frostsign: {}, {}: {}", self.who, self.what, did(t)))?;
        for n in notes {
            if self.seen.borrow_mut().insert(n.clone()) {
                outln!("note: {n}");
            }
        }
        if let Pushed::Files(files) = pushed {
            outln!("- pushed {} file(s) to the git repository: {}", files.len(), files.join(", "));
        }
        Ok(out)
    }
}

fn folder_name(dir: &Path) -> String {
    dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| dir.to_string_lossy().into_owned())
}

/// `init --git`: pull, run `init` (which writes the ceremony's first file), mark the folder for git
/// (`.gitattributes` and the marker), then commit and push them. Without `git`, just `init`.
pub fn init_with(dir: &Path, git: bool, what: &str, mut init: impl FnMut() -> Result<()>) -> Result<()> {
    if !git {
        return init();
    }
    let ex = Exchange::new(dir, true, None, "organiser", what)?;
    ex.round(
        || {
            init()?;
            ex.mark()
        },
        |()| "opened".to_string(),
    )
}
