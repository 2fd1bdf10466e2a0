//! A ceremony folder inside a git repository as the exchange (`--git`): before a step, pull (rebase);
//! after it, commit only the files the step wrote or changed in the ceremony folder, and push, pulling
//! again when someone pushed first. When two parties wrote the same file differently (two coordinators
//! racing to build one package), the one whose push loses takes the published file and runs its step
//! again on it, so it adopts it: a folder never ends up with two versions of one file. A file named after
//! the keyholder itself is the exception: nobody else can write it validly, so its own version is kept.
//!
//! Only public ceremony files are ever committed: the keyholder's home must lie outside the repository,
//! and nothing outside the ceremony folder is added.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The marker a folder set up for git carries (`init --git`): later commands in it use git by themselves.
pub const MARKER_FILE: &str = ".frostsign-exchange";
/// What the marker holds.
const MARKER_TEXT: &str = "git\n";
/// The attributes ceremony files need: byte for byte as written (no line-ending conversion, which would
/// break every signature), never merged line by line.
pub const ATTRIBUTES_FILE: &str = ".gitattributes";
const ATTRIBUTES_TEXT: &str = "# frostsign ceremony files are signed byte for byte: no line-ending conversion, no merging, no filter.\n* binary -filter -ident -working-tree-encoding\n";
/// The lock two frostsign processes in one clone take turns with, in the clone's git directory.
const LOCK_FILE: &str = "frostsign-exchange.lock";
/// What to do when git stopped on something frostsign does not settle itself.
const SETTLE_BY_HAND: &str =
    "look at the clash (git pull --rebase; git status), settle it by hand, then run this again";
/// How many times a step is redone after losing a push race before giving up.
const MAX_ROUNDS: usize = 8;

/// True for the files the git exchange adds to a ceremony folder (status does not list them as strays).
pub fn is_exchange_file(name: &str) -> bool {
    name == MARKER_FILE || name == ATTRIBUTES_FILE
}

/// True for a file name frostsign writes in a ceremony folder: only these are ever committed. Anything
/// else a person leaves in the folder (notes, backups, a passphrase file, the artifacts) stays local and
/// is reported as not published.
pub fn is_publishable(name: &str) -> bool {
    const FIXED: [&str; 8] = [
        "ceremony.txt",
        "group.pub",
        "request.txt",
        "SHA256.sig",
        "group.openpgp",
        "group-openpgp.asc",
        "group-approved.pub",
        "rotation.txt",
    ];
    const PREFIXES: [&str; 12] = [
        "round1-",
        "round2-",
        "confirm-",
        "accept-",
        "complaint-",
        "dealt-",
        "delta-",
        "sigma-",
        "commit-",
        "package-",
        "share-",
        "restart-",
    ];
    const SUFFIXES: [&str; 5] = [".minisig", ".sig", ".asc", ".tag", ".pub"];
    let plain = !name.starts_with('.') && !name.contains(".tmp-") && !name.contains('/');
    is_exchange_file(name)
        || (plain
            && (FIXED.contains(&name)
                || (PREFIXES.iter().any(|p| name.starts_with(p)) && name.ends_with(".txt"))
                || SUFFIXES.iter().any(|x| name.ends_with(x))))
}

/// True when `dir` was set up for git by `init --git`.
pub fn is_marked(dir: &Path) -> bool {
    crate::fsx::read_limited_untrusted(&dir.join(MARKER_FILE), 64).is_ok_and(|b| b == MARKER_TEXT.as_bytes())
}

/// True when `dir` was set up for git by `init --git` (its `.gitattributes` is frostsign's, byte for byte)
/// but its marker is gone: someone deleted it (and a pull brought the deletion), so a run without `--git`
/// would quietly stop pulling and pushing, and the others would wait for its files for ever.
pub fn lost_its_marker(dir: &Path) -> bool {
    !is_marked(dir)
        && crate::fsx::read_limited_untrusted(&dir.join(ATTRIBUTES_FILE), 4096)
            .is_ok_and(|b| b == ATTRIBUTES_TEXT.as_bytes())
}

/// A ceremony folder in a git work tree with an upstream branch.
#[derive(Debug, Clone)]
pub struct GitFolder {
    root: PathBuf,
    dir: PathBuf,
    /// The compact fingerprint of the keyholder running the step, if any: a file named after it is its
    /// own, which nobody else can write validly.
    owner: Option<String>,
    /// When a watch's `--timeout` passes: no pull starts after it (see [`GitFolder::stop_by`]).
    deadline: std::cell::Cell<Option<std::time::Instant>>,
}

/// How a publication ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Pushed {
    /// Nothing was new.
    Nothing,
    /// Committed and pushed these files.
    Files(Vec<String>),
    /// Someone published a different version of one of these files first: the step must run again on
    /// theirs (the local commit was dropped).
    Conflict(Vec<String>),
}

/// How long one git command may take: a remote that accepts a connection and never answers (or a
/// half-open connection) must not hang a step, or a watch past its `--timeout`.
const GIT_CALL_LIMIT: std::time::Duration = std::time::Duration::from_secs(60);

/// [`GIT_CALL_LIMIT`]; debug builds take another from `FROSTSIGN_GIT_CALL_LIMIT_SECS`, so that a test of a
/// remote that never answers does not wait a minute.
fn git_call_limit() -> std::time::Duration {
    let from_env = || std::env::var("FROSTSIGN_GIT_CALL_LIMIT_SECS").ok()?.parse().ok();
    match cfg!(debug_assertions).then(from_env).flatten() {
        Some(secs) => std::time::Duration::from_secs(secs),
        None => GIT_CALL_LIMIT,
    }
}

/// The least time a pull or push is given under a watch's deadline (see [`GitFolder::remote`]): a pull
/// that starts just before the deadline may finish, a few seconds late, and a push after it may publish
/// what its round wrote.
const LEAST_REMOTE_CALL: std::time::Duration = std::time::Duration::from_secs(5);

fn git(root: &Path, args: &[&str]) -> std::result::Result<String, String> {
    git_within(root, args, git_call_limit())
}

/// `git args` in `root`, killed after `limit`.
fn git_within(root: &Path, args: &[&str], limit: std::time::Duration) -> std::result::Result<String, String> {
    let mut child = Command::new("git")
        .arg("-C")
        .arg(root)
        // `git push` sends the current branch to its upstream only, whatever the person's push.default.
        .args(["-c", "push.default=upstream"])
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        // File and folder names are names, never patterns or pathspec magic.
        .env("GIT_LITERAL_PATHSPECS", "1")
        // The repository is the one at `root`, whatever the caller's environment points git at.
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_OBJECT_DIRECTORY")
        .env_remove("GIT_CONFIG_PARAMETERS")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not run git: {e}"))?;
    // Both pipes are drained on their own threads (a full pipe would stall git), while this one keeps time.
    let out = drain(child.stdout.take());
    let err = drain(child.stderr.take());
    let started = std::time::Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() < limit => std::thread::sleep(std::time::Duration::from_millis(10)),
            Ok(None) => {
                // Its helpers (ssh, the HTTP transport) lose their parent and end; their pipes are not
                // waited for.
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("git {} did not finish within {} s", args[0], limit.as_secs()));
            }
            Err(e) => return Err(format!("could not wait for git: {e}")),
        }
    };
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    if status.success() {
        // Never trimmed here: `-z` output starts with a status column that may be a space (` M path`).
        Ok(String::from_utf8_lossy(&stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&stderr).trim().to_string())
    }
}

/// Read all of a child's pipe on a thread of its own.
fn drain<R: std::io::Read + Send + 'static>(pipe: Option<R>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut p) = pipe {
            let _ = p.read_to_end(&mut buf);
        }
        buf
    })
}

impl GitFolder {
    /// The ceremony folder `dir` in its git work tree. Refuses a folder outside a work tree, a repository
    /// without an upstream branch, and a home inside the work tree (its secrets must never be near a commit).
    pub fn open(dir: &Path, home: Option<&Path>) -> Result<GitFolder> {
        crate::fsx::ensure_dir(dir)?;
        let dir = dir.canonicalize().map_err(|e| Error::io("open", dir, e))?;
        let root = git(&dir, &["rev-parse", "--show-toplevel"]).map_err(|e| {
            Error::file(&dir, format!("is not in a git work tree: {e}"))
                .with_help("clone the ceremony repository and give a folder inside it, or leave out --git")
        })?;
        let root = PathBuf::from(root.trim_end_matches('\n'));
        git(&root, &["rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{u}"]).map_err(|_| {
            Error::new(format!(
                "the git repository `{}` has no upstream branch to pull from and push to",
                crate::text::path(&root)
            ))
            .with_help(
                "clone the shared repository (git clone URL), or set one: git branch --set-upstream-to=origin/main",
            )
        })?;
        if dir == root {
            return Err(Error::file(&dir, "is the top of the git work tree")
                .with_help("give the ceremony a folder of its own inside the repository (e.g. REPO/keygen)"));
        }
        if let Some(home) = home.and_then(|h| h.canonicalize().ok()) {
            if home.starts_with(&root) {
                return Err(Error::new(format!(
                    "your home `{}` is inside the git repository `{}`: its secrets must never be near a commit",
                    crate::text::path(&home),
                    crate::text::path(&root)
                ))
                .with_help("keep the home outside the repository (the default ~/.frostsign is)"));
            }
        }
        Ok(GitFolder { root, dir, owner: None, deadline: Default::default() })
    }

    /// The same folder, stepped in by the keyholder with this compact fingerprint.
    pub fn owned_by(self, fingerprint: Option<String>) -> GitFolder {
        GitFolder { owner: fingerprint, ..self }
    }

    /// Mark the folder for git and write its attributes (at `init`).
    pub fn mark(&self) -> Result<()> {
        crate::fsx::atomic_write(&self.dir.join(MARKER_FILE), MARKER_TEXT.as_bytes(), crate::fsx::PUBLIC_FILE)?;
        crate::fsx::atomic_write(&self.dir.join(ATTRIBUTES_FILE), ATTRIBUTES_TEXT.as_bytes(), crate::fsx::PUBLIC_FILE)
    }

    /// Bring in what others published: `git pull --rebase` (local changes outside the folder are kept).
    pub fn pull(&self) -> Result<()> {
        let _lock = self.lock()?;
        self.pull_checked()
    }

    fn pull_checked(&self) -> Result<()> {
        self.pull_rebase().map_err(|e| self.pull_failed(e, "nothing was done in the ceremony"))?;
        self.check_folder()
    }

    /// Wait for, then hold, the clone's frostsign lock: two frostsign processes in one clone (a keyholder
    /// who also coordinates, with a watch of each) would otherwise run git at the same time and break
    /// each other's pull or rebase. Held for one pull, or one step with its publication; a watch does not
    /// hold it while it waits. Every git command has a time limit, so a holder ends.
    fn lock(&self) -> Result<std::fs::File> {
        let git_dir = git(&self.root, &["rev-parse", "--absolute-git-dir"])
            .map_err(|e| Error::new(format!("`git rev-parse` failed in `{}`: {e}", crate::text::path(&self.root))))?;
        let path = Path::new(git_dir.trim_end_matches('\n')).join(LOCK_FILE);
        let file = crate::fsx::open_lock_file(&path, crate::fsx::PUBLIC_FILE)?;
        file.lock().map_err(|e| Error::io("lock", &path, e))?;
        Ok(file)
    }

    fn pull_rebase(&self) -> std::result::Result<String, String> {
        self.remote(&["pull", "--rebase", "--autostash", "--quiet"])
    }

    /// The error of a failed pull (git's message `e`), saying with `note` what state it left.
    fn pull_failed(&self, e: String, note: &str) -> Error {
        Error::new(format!("`git pull --rebase` failed in `{}`: {e}", crate::text::path(&self.root)))
            .with_note(note)
            .with_help(
            "check that the remote can be reached (git fetch) and the clone's state (git status), then run this again",
        )
    }

    /// The files of the ceremony folder that are new or changed in this clone (not yet committed), split
    /// into frostsign's own ([`is_publishable`]: what this party's steps wrote) and the rest, which is
    /// never committed. Deleted files are not published (a pull brings them back).
    pub fn unpublished(&self) -> Result<(Vec<String>, Vec<String>)> {
        let dir = self.dir.to_string_lossy().into_owned();
        // Ignored files are listed too (`!!`): a committed .gitignore must not silently keep a keyholder's
        // files from being published.
        let args = ["status", "--porcelain=v1", "-z", "--untracked-files=all", "--ignored=matching", "--", &dir];
        let out = git(&self.root, &args)
            .map_err(|e| Error::new(format!("`git status` failed in `{}`: {e}", crate::text::path(&self.root))))?;
        let (mut ours, mut others) = (Vec::new(), Vec::new());
        for (code, path) in status_entries(&out) {
            let full = self.root.join(path);
            let meta = std::fs::symlink_metadata(&full);
            let regular = meta.is_ok_and(|m| m.file_type().is_file());
            if code.contains('D') || full.parent() != Some(self.dir.as_path()) || !regular {
                continue;
            }
            let name = full.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            if name.contains(".tmp-") {
                continue;
            }
            if is_publishable(&name) && looks_like_frostsign_output(&full, &name) {
                ours.push(path.to_string());
            } else {
                others.push(name);
            }
        }
        ours.sort();
        others.sort();
        Ok((ours, others))
    }

    /// Refuse to push local commits that are not frostsign's own: every commit ahead of the upstream may
    /// touch only the ceremony folder (a person's unrelated work is theirs to push).
    fn check_ahead(&self) -> Result<()> {
        // Three dots: what the local commits changed since they left the upstream, not the difference from
        // an upstream fetched since (which holds other people's work).
        let out = git(&self.root, &["diff", "--name-only", "-z", "@{u}...HEAD"]).unwrap_or_default();
        let rel = self.dir.strip_prefix(&self.root).unwrap_or(&self.dir).to_path_buf();
        let foreign: Vec<&str> = out.split('\0').filter(|p| !p.is_empty() && !Path::new(p).starts_with(&rel)).collect();
        if foreign.is_empty() {
            return Ok(());
        }
        Err(Error::new(format!(
            "your clone `{}` has local commits, not pushed yet, that change files outside the ceremony folder ({})",
            crate::text::path(&self.root),
            foreign.iter().take(3).map(|p| crate::text::escape(p)).collect::<Vec<_>>().join(", ")
        ))
        .with_note("frostsign pushes only its own files; nothing was done")
        .with_help("push or move those commits yourself (git log @{u}..HEAD), then run this again"))
    }

    /// True while a `pull --rebase` is stopped in the middle (as opposed to failing before it began: the
    /// network, a missing upstream).
    fn rebasing(&self) -> bool {
        ["rebase-merge", "rebase-apply"].iter().any(|d| {
            git(&self.root, &["rev-parse", "--git-path", d]).is_ok_and(|p| self.root.join(p.trim_end()).is_dir())
        })
    }

    /// True for a file of the folder named after this keyholder (the first fingerprint in its name is its
    /// own: `round1-FPR`, `commit-a1-FPR`, `share-a1-p2-FPR`, but not `round2-X-to-FPR`).
    fn own_file(&self, path: &str) -> bool {
        let Some(owner) = &self.owner else { return false };
        let name = Path::new(path).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let first = name.split(['-', '.']).find(|part| part.len() == 32 && part.bytes().all(|b| b.is_ascii_hexdigit()));
        first == Some(owner.as_str())
    }

    /// Settle a `pull --rebase` that stopped because someone published another version of a file our
    /// local commits hold. A file named after this keyholder keeps our version (only we can sign it: theirs
    /// is a forgery or a damaged copy); any other file (a package two coordinators built, a restart)
    /// takes the published one, so the folder never holds two versions. A stop on anything outside the
    /// ceremony folder is not ours to settle: the rebase is undone and the error says so. Returns the
    /// files whose published version was taken (the step must run again on them).
    fn settle(&self) -> Result<Vec<String>> {
        let rel = self.dir.strip_prefix(&self.root).unwrap_or(&self.dir).to_path_buf();
        let mut adopted = Vec::new();
        while self.rebasing() {
            let out = git(&self.root, &["diff", "--name-only", "-z", "--diff-filter=U"]).unwrap_or_default();
            let stopped: Vec<&str> = out.split('\0').filter(|p| !p.is_empty()).collect();
            let ours = |p: &&str| {
                let p = Path::new(p);
                p.parent() == Some(rel.as_path()) && p.file_name().is_some_and(|n| is_publishable(&n.to_string_lossy()))
            };
            if stopped.is_empty() || !stopped.iter().all(ours) {
                let _ = git(&self.root, &["rebase", "--abort"]);
                return Err(Error::new(format!(
                    "git could not rebase your clone `{}` on what was published: {}",
                    crate::text::path(&self.root),
                    stopped.iter().take(3).map(|p| crate::text::escape(p)).collect::<Vec<_>>().join(", ")
                ))
                .with_note("nothing was done in the ceremony; your local commits are as they were")
                .with_help(SETTLE_BY_HAND));
            }
            for p in &stopped {
                // In a rebase, `--theirs` is the local commit being replayed, `--ours` the published side.
                let keep = self.own_file(p);
                let side = if keep { "--theirs" } else { "--ours" };
                if let Err(e) = git(&self.root, &["checkout", side, "--", p])
                    .and_then(|_| git(&self.root, &["add", "--force", "--", p]))
                {
                    let _ = git(&self.root, &["rebase", "--abort"]);
                    return Err(Error::new(format!("could not settle `{}` after a pull: {e}", crate::text::escape(p)))
                        .with_help(SETTLE_BY_HAND));
                }
                if keep {
                    crate::report::warn(format!(
                        "someone published another version of your file {}: kept yours (only you can sign it)",
                        crate::text::escape(p)
                    ));
                } else {
                    adopted.push(p.to_string());
                }
            }
            // A replayed commit left with nothing of its own (every file adopted) is skipped.
            let empty = git(&self.root, &["diff", "--cached", "--quiet"]).is_ok();
            let next =
                if empty { vec!["rebase", "--skip"] } else { vec!["-c", "core.editor=true", "rebase", "--continue"] };
            if let Err(e) = git(&self.root, &next) {
                if self.rebasing()
                    && git(&self.root, &["diff", "--name-only", "--diff-filter=U"]).is_ok_and(|o| o.is_empty())
                {
                    let _ = git(&self.root, &["rebase", "--abort"]);
                    return Err(Error::new(format!(
                        "git could not continue the rebase of `{}`: {e}",
                        crate::text::path(&self.root)
                    ))
                    .with_help("look at the clone (git status), settle it by hand, then run this again"));
                }
            }
        }
        Ok(adopted)
    }

    /// Commit the folder's unpublished files ([`GitFolder::unpublished`]) with `message`, and push;
    /// when the push is refused because someone pushed first, pull (rebase) and push again. A rebase that
    /// stops on one of our files (someone published another version of it) drops our commit instead:
    /// [`Pushed::Conflict`] tells the caller to run its step again on the published file.
    pub fn publish(&self, message: &str) -> Result<Pushed> {
        let (changed, _) = self.unpublished()?;
        if changed.is_empty() {
            // An earlier run may have committed without pushing (the remote was down): push it now, and
            // say so when it still cannot be pushed (the others would wait for it for ever).
            if self.ahead() && self.remote(&["push", "--quiet"]).is_err() {
                self.pull_checked()?;
                self.remote(&["push", "--quiet"]).map_err(|e| self.push_failed(1, &e))?;
            }
            return Ok(Pushed::Nothing);
        }
        self.commit(&changed, message)?;
        for round in 0..MAX_ROUNDS {
            if self.remote(&["push", "--quiet"]).is_ok() {
                return Ok(Pushed::Files(changed));
            }
            if let Err(e) = self.pull_rebase() {
                if !self.rebasing() {
                    return Err(self.pull_failed(e, "your files are committed locally; the next run pushes them"));
                }
                let adopted = self.settle()?;
                self.check_folder()?;
                if !adopted.is_empty() {
                    // The step runs again on the published files; what is left of our commit is pushed then.
                    return Ok(Pushed::Conflict(adopted));
                }
                continue;
            }
            std::thread::sleep(std::time::Duration::from_millis(100 << round.min(5)));
        }
        Err(self.push_failed(MAX_ROUNDS, ""))
    }

    /// Stop pulling by `deadline` (a watch's `--timeout`), and bound pushes by it: no pull starts after it;
    /// a pull or push is killed at it, given at least [`LEAST_REMOTE_CALL`] (a push after it still runs,
    /// so that a round which pulled in time publishes what it wrote). The watch then ends with its timeout
    /// instead of waiting out a remote that does not answer for up to a minute per call.
    pub fn stop_by(&self, deadline: std::time::Instant) {
        self.deadline.set(Some(deadline));
    }

    /// A git command that talks to the remote (pull, push), within the call limit and the deadline.
    fn remote(&self, args: &[&str]) -> std::result::Result<String, String> {
        let limit = match self.deadline.get() {
            None => git_call_limit(),
            Some(deadline) => {
                let left = deadline.saturating_duration_since(std::time::Instant::now());
                // A push is never refused: the round that wrote its files finishes publishing them.
                if left.is_zero() && args[0] != "push" {
                    return Err(format!("git {} not started: the watch's --timeout has passed", args[0]));
                }
                left.max(LEAST_REMOTE_CALL).min(git_call_limit())
            }
        };
        git_within(&self.root, args, limit)
    }

    /// True when local commits are not pushed yet.
    fn ahead(&self) -> bool {
        git(&self.root, &["rev-list", "--count", "@{u}..HEAD"]).is_ok_and(|n| n.trim() != "0")
    }

    fn push_failed(&self, tries: usize, e: &str) -> Error {
        let why = if e.is_empty() { String::new() } else { format!(": {}", crate::text::escape(e.trim())) };
        Error::new(format!(
            "could not push to the upstream of `{}` after {tries} tries{why}",
            crate::text::path(&self.root)
        ))
        .with_help("check the remote (git push by hand); your files are committed locally, the next run pushes them")
    }

    /// After a pull: the ceremony folder is still the real folder it was (a pull that replaced it, or a
    /// folder above it, with a symbolic link would send reads and writes elsewhere), and its attributes
    /// are frostsign's own (a `.gitattributes` edited by someone could merge two packages into one file,
    /// or convert line endings under every signature).
    fn check_folder(&self) -> Result<()> {
        let rel = self.dir.strip_prefix(&self.root).unwrap_or(Path::new(""));
        let mut at = self.root.clone();
        for part in rel.components() {
            at.push(part);
            let real = std::fs::symlink_metadata(&at).is_ok_and(|m| m.file_type().is_dir());
            if !real {
                return Err(Error::file(
                    &at,
                    "is no longer a folder of the repository (a pull replaced it, e.g. with a link)",
                )
                .with_note("nothing was done in the ceremony")
                .with_help("look at the last commits (git log --stat), restore the folder, then run this again"));
            }
        }
        let attributes = self.dir.join(ATTRIBUTES_FILE);
        match crate::fsx::read_limited_untrusted(&attributes, 4096) {
            Ok(b) if b != ATTRIBUTES_TEXT.as_bytes() => Err(Error::file(
                &attributes,
                "is not the file frostsign wrote: someone changed how git treats the ceremony files",
            )
            .with_note("nothing was done in the ceremony")
            .with_help(
                "see who changed it (git log -p -- FILE), restore frostsign's version (git checkout COMMIT -- FILE, \
                 from the commit that added it) and push, then run this again",
            )),
            _ => Ok(()),
        }
    }

    /// Bring the clone up to date before a step. Files an earlier run wrote but did not publish (the push
    /// failed, the process died) are committed first, so that a pull can never overwrite or mix with them;
    /// if someone published another version of one of them meanwhile, [`GitFolder::settle`] keeps this
    /// keyholder's own files and takes the published version of the others. Returns (the files taken
    /// from the published side, the files committed now, the folder's files that are not frostsign's).
    fn sync(&self) -> Result<(Vec<String>, Vec<String>, Vec<String>)> {
        self.check_ahead()?;
        let (left, others) = self.unpublished()?;
        if !left.is_empty() {
            self.commit(&left, "frostsign: files an earlier run wrote but did not publish")?;
        }
        let mut adopted = Vec::new();
        if let Err(e) = self.pull_rebase() {
            if !self.rebasing() {
                return Err(self.pull_failed(e, "nothing was done in the ceremony"));
            }
            adopted = self.settle()?;
        }
        self.check_folder()?;
        let left = left.into_iter().filter(|f| !adopted.contains(f)).collect();
        Ok((adopted, left, others))
    }

    fn commit(&self, files: &[String], message: &str) -> Result<()> {
        let fail = |what: &str, e: String| {
            Error::new(format!("`git {what}` failed in `{}`: {e}", crate::text::path(&self.root)))
        };
        // --force: only frostsign's own files are ever given here, and an ignore rule must not drop them.
        let mut add = vec!["add", "--force", "--"];
        add.extend(files.iter().map(String::as_str));
        git(&self.root, &add).map_err(|e| fail("add", e))?;
        let mut commit = vec!["commit", "--quiet", "--no-verify", "-m", message, "--"];
        commit.extend(files.iter().map(String::as_str));
        git(&self.root, &commit).map_err(|e| {
            fail("commit", e)
                .with_help("git needs your name and e-mail: git config user.name NAME; git config user.email ADDRESS")
        })?;
        Ok(())
    }

    /// Run `step` with the folder synchronised around it: pull, step, publish what it wrote; when another
    /// party published a clashing file first, run it again on theirs (a few times at most). `message`
    /// names the commit from the step's result. Returns the last result, how it was published, and a note
    /// for each clash.
    pub fn cycle<T>(
        &self,
        mut step: impl FnMut() -> Result<T>,
        message: impl Fn(&T) -> String,
    ) -> Result<(T, Pushed, Vec<String>)> {
        let _lock = self.lock()?;
        let mut notes = Vec::new();
        let clash =
            |files: &[String]| format!("someone published {} first: dropped yours and used theirs", files.join(", "));
        for _ in 0..MAX_ROUNDS {
            let (dropped, leftovers, others) = self.sync()?;
            if !dropped.is_empty() {
                notes.push(clash(&dropped));
            }
            if !leftovers.is_empty() {
                notes.push(format!(
                    "committed files an earlier run wrote but did not publish: {}",
                    leftovers.join(", ")
                ));
            }
            if !others.is_empty() {
                notes.push(format!(
                    "not published (not files frostsign writes): {}",
                    others.iter().map(|o| crate::text::escape(o)).collect::<Vec<_>>().join(", ")
                ));
            }
            let out = step()?;
            match self.publish(&message(&out))? {
                Pushed::Conflict(files) => notes.push(clash(&files)),
                pushed => return Ok((out, pushed, notes)),
            }
        }
        Err(Error::new("others kept publishing clashing files; nothing more was pushed").with_help("run this again"))
    }

    /// True when the folder's git marker is part of the repository (committed by `init --git`), not a
    /// file that merely arrived with the folder.
    pub fn marker_tracked(&self) -> bool {
        let marker = self.dir.join(MARKER_FILE).to_string_lossy().into_owned();
        git(&self.root, &["ls-files", "--error-unmatch", "--", &marker]).is_ok()
    }
}

/// The records of `git status --porcelain=v1 -z`: (status code, path). A rename or copy record is followed
/// by the record of its old path, which is skipped.
fn status_entries(out: &str) -> Vec<(&str, &str)> {
    let mut records = out.split('\0');
    let mut entries = Vec::new();
    while let Some(record) = records.next() {
        if record.len() < 4 || !record.is_char_boundary(3) {
            continue;
        }
        let (code, path) = record.split_at(3);
        if code.starts_with(['R', 'C']) {
            records.next();
        }
        entries.push((code, path));
    }
    entries
}

/// A file named like a signature or key (`.minisig`, `.sig`, `.asc`, `.tag`, `.pub`) is published only
/// when it begins as frostsign writes such a file: a person's own key or notes left in the folder under
/// such a name (`my-secret-key.asc`) stay local.
fn looks_like_frostsign_output(path: &Path, name: &str) -> bool {
    const STARTS: [(&str, &[&str]); 5] = [
        (".minisig", &["untrusted comment: "]),
        (".sig", &["-----BEGIN SSH SIGNATURE-----", "untrusted comment: "]),
        (".asc", &["-----BEGIN PGP SIGNATURE-----", "-----BEGIN PGP PUBLIC KEY BLOCK-----"]),
        (".tag", &["object "]),
        (".pub", &["frostsign-group: "]),
    ];
    let Some((_, starts)) = STARTS.iter().find(|(suffix, _)| name.ends_with(suffix)) else {
        return true;
    };
    // Its first line only (the longest start above is 37 bytes), read without following a link.
    let mut head = Vec::new();
    let read = crate::fsx::open_regular_untrusted(path).and_then(|f| {
        std::io::Read::read_to_end(&mut std::io::Read::take(f, 64), &mut head).map_err(|e| Error::io("read", path, e))
    });
    read.is_ok() && starts.iter().any(|s| head.starts_with(s.as_bytes()))
}
