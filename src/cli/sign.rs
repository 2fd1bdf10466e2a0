//! `frostsign sign ...`: open a signing session, co-sign as a keyholder, collect, watch.

use super::Global;
use crate::ceremony::signing::coordinator::{self, CollectOptions};
use crate::ceremony::signing::keyholder::{self, Copies};
use crate::ceremony::signing::{status, Format, DEFAULT_VALIDITY_SECS};
use crate::error::{Error, Result};
use crate::home::Home;
use std::path::{Path, PathBuf};

/// Parse `--format a,b`.
pub fn parse_formats(list: &[String]) -> Result<Vec<Format>> {
    if list.is_empty() {
        return Ok(vec![Format::Minisign]);
    }
    let mut out = Vec::new();
    for item in list.iter().flat_map(|s| s.split(',')) {
        let f = Format::parse(item.trim()).filter(|f| Format::RELEASE.contains(f)).ok_or_else(|| {
            Error::new(format!("unknown format `{item}`"))
                .with_help("release formats: minisign, ssh, openpgp, signify-manifest")
        })?;
        if !out.contains(&f) {
            out.push(f);
        }
    }
    Ok(out)
}

/// The git options of `sign init --git-tag`.
#[derive(Clone, Debug)]
pub struct GitTagArgs {
    /// Tag name.
    pub tag: String,
    /// The release manager's repository.
    pub repo: PathBuf,
    /// The ref to tag.
    pub git_ref: String,
    /// Tag message.
    pub message: Option<String>,
    /// `Name <email>` of the tagger.
    pub tagger: Option<String>,
}

/// `sign init`.
pub fn init(
    dir: &Path,
    group: &Path,
    files: &[PathBuf],
    comment: Option<&str>,
    formats: &[String],
    expires_in_hours: Option<u32>,
    git: Option<GitTagArgs>,
) -> Result<()> {
    let validity = expires_in_hours.map(|h| h as i64 * 3600).unwrap_or(DEFAULT_VALIDITY_SECS);
    let req = match git {
        Some(g) => {
            if !files.is_empty() || !formats.is_empty() {
                return Err(Error::new("a git tag session signs the tag only: drop --file and --format"));
            }
            let message = g.message.unwrap_or_else(|| format!("Release {}", g.tag));
            coordinator::init_git_tag(dir, group, &g.repo, &g.tag, &g.git_ref, &message, g.tagger.as_deref(), validity)?
        }
        None => coordinator::init(dir, group, files, comment, &parse_formats(formats)?, validity)?,
    };
    let g = crate::group::Group::load(group)?;
    outln!("Opened signing session in {}:", crate::text::path(dir));
    out!("{}", req.summary(&g));
    outln!("Next: any {} keyholders run, each with their OWN copy,", g.threshold());
    if req.git().is_some() {
        outln!("  frostsign sign step --dir {} --repo THEIR_CLONE", crate::text::path(dir));
        outln!(
            "and anyone runs `frostsign sign collect --dir {} --repo REPO` between their steps.",
            crate::text::path(dir)
        );
    } else {
        outln!("  frostsign sign step --dir {} --file ARTIFACT...", crate::text::path(dir));
        outln!("and anyone runs `frostsign sign collect --dir {}` between their steps.", crate::text::path(dir));
    }
    Ok(())
}

/// `sign step`; with `watch` (Some: the timeout, None inside for the default), every step until this
/// keyholder's part is done; with `git`, each round pulls before and pushes after. Returns the exit code:
/// 0, or 3 when a watch timed out.
#[allow(clippy::too_many_arguments)]
pub fn step(
    g: &Global,
    dir: &Path,
    files: &[PathBuf],
    artifacts: Option<&Path>,
    repo: Option<&Path>,
    yes: bool,
    watch: Option<Option<std::time::Duration>>,
    git: bool,
) -> Result<i32> {
    let copies = match (artifacts, files.is_empty()) {
        (Some(d), true) => Copies::Folder(d.to_path_buf()),
        (None, _) => Copies::Files(files.to_vec()),
        (Some(_), false) => return Err(Error::new("give either --file or --artifacts, not both")),
    };
    let home = Home::open(&g.home)?;
    let _lock = home.lock()?;
    let name = home.card().map(|c| c.name().to_string()).unwrap_or_else(|_| "keyholder".into());
    let exchange = super::exchange::Exchange::new(dir, git, Some(&g.home), &name, "signing")?;
    exchange.pull_first(watch)?;
    let req = crate::ceremony::signing::Request::load(dir)?;
    if !req.artifacts().is_empty() && req.rotation().is_none() && matches!(&copies, Copies::Files(f) if f.is_empty()) {
        return Err(Error::new("no copy of the artifacts was given").with_help(
            "a keyholder signs only what it hashed itself: give your own copies with --file or --artifacts",
        ));
    }
    // Cheap checks before the passphrase: an expired request costs none.
    if crate::clock::now() > req.expires() {
        return Err(Error::new(format!("the signing request expired at {}", crate::clock::format(req.expires())))
            .with_help("ask the release manager to open a new signing session; nothing was signed"));
    }
    // "Nothing to do" costs no passphrase: the folder's signed files say so (a watch unlocks and waits).
    // (Over git the ordinary round runs: it also pushes what an earlier run could not.)
    if watch.is_none() && !exchange.is_git() {
        if let Some(line) = keyholder::nothing_to_do(&home, dir) {
            outln!("{line}");
            return Ok(0);
        }
    }
    let u = home.unlock(&g.passphrase)?;
    let mut watcher = watch.map(|t| {
        outln!("- unlocked your home (once: --watch does every step of this session with it)");
        exchange.watcher(t)
    });
    loop {
        let report = match exchange.round(|| step_once(&u, dir, &copies, repo, yes), |r| summary_of(r, "step")) {
            Ok(report) => report,
            Err(e) => match exchange.wait_out(e, watcher.as_mut())? {
                None => continue,
                Some(code) => return Ok(code),
            },
        };
        if report.finished {
            outln!("Your part of this session is done.");
            return Ok(0);
        }
        let Some(w) = &report.waiting else { return Ok(0) };
        let Some(watcher) = watcher.as_mut() else {
            if report.did.is_empty() {
                outln!("Nothing new to do: waiting for {w}.");
            } else {
                outln!(
                    "Waiting for {w}; then run `{} sign step --dir {}` again (or once with --watch).",
                    super::frostsign_for(&g.home),
                    crate::text::path(dir)
                );
            }
            return Ok(0);
        };
        if !watcher.wait(!report.did.is_empty(), w) {
            watcher.timed_out();
            return Ok(3);
        }
    }
}

/// One keyholder step, printing what it did (also when it stops on an error).
fn step_once(
    u: &crate::home::Unlocked,
    dir: &Path,
    copies: &Copies,
    repo: Option<&Path>,
    yes: bool,
) -> Result<crate::ceremony::engine::Report> {
    let mut report = crate::ceremony::engine::Report::default();
    let result = keyholder::step(u, dir, copies, repo, &mut report, |summary| {
        out!("{summary}");
        outln!("Everything matches what you computed yourself. You are {}.", u.identity().card().label());
        super::confirm("Co-sign this for the group?", yes)
    });
    for line in &report.did {
        outln!("- {line}");
    }
    result.map(|()| report)
}

/// A round's report in a few words, for a git commit message.
fn summary_of(r: &crate::ceremony::engine::Report, default: &str) -> String {
    let text = r.did.last().cloned().unwrap_or_else(|| default.to_string());
    text.chars().take(120).collect()
}

/// `sign collect`.
pub fn collect(
    dir: &Path,
    out: Option<&Path>,
    repo: Option<&Path>,
    restart: bool,
    without: &[String],
    watch: Option<Option<std::time::Duration>>,
    git: bool,
) -> Result<i32> {
    if !without.is_empty() && !restart {
        return Err(Error::new("--without only makes sense with --restart"));
    }
    if restart && watch.is_some() {
        return Err(Error::new("--restart opens a new attempt once; it does not go with --watch")
            .with_help("run `sign collect --restart` first, then `sign collect --watch`"));
    }
    let opts = CollectOptions {
        out: out.map(Path::to_path_buf),
        restart_without: restart.then(|| without.to_vec()),
        repo: repo.map(Path::to_path_buf),
    };
    let exchange = super::exchange::Exchange::new(dir, git, None, "coordinator", "signing")?;
    let mut watcher = watch.map(|t| exchange.watcher(t));
    let mut notes_seen = std::collections::BTreeSet::new();
    // --restart opens one new attempt: when the round runs again (another coordinator published a restart
    // first, and it was adopted), it collects in that attempt instead of opening yet another.
    let again = CollectOptions { restart_without: None, ..opts.clone() };
    let restarted = std::cell::Cell::new(false);
    let report = loop {
        let round = exchange.round(
            || {
                let report = coordinator::collect(dir, if restarted.replace(true) { &again } else { &opts })?;
                for line in &report.did {
                    outln!("- {line}");
                }
                Ok(report)
            },
            |r| summary_of(r, "collect"),
        );
        let report = match round {
            Ok(report) => report,
            Err(e) => match exchange.wait_out(e, watcher.as_mut())? {
                None => continue,
                Some(code) => return Ok(code),
            },
        };
        for note in report.notes.iter().filter(|n| notes_seen.insert(n.to_string())) {
            outln!("note: {note}");
        }
        let Some(w) = &report.waiting else { break report };
        let Some(watcher) = watcher.as_mut() else {
            outln!("Waiting for {w}.");
            return Ok(3);
        };
        if !watcher.wait(!report.did.is_empty(), w) {
            watcher.timed_out();
            return Ok(3);
        }
    };
    for p in &report.outputs {
        outln!("Wrote {}", crate::text::path(p));
    }
    Ok(0)
}

/// `sign status`; returns the exit code (0 done, 3 in progress, 2 failed).
pub fn status(dir: &Path, json: bool) -> Result<i32> {
    let s = status::status(dir)?;
    let code = if s.done {
        0
    } else if !s.problems.is_empty() {
        2
    } else {
        3
    };
    if json {
        super::out::json(&s);
        return Ok(code);
    }
    outln!(
        "Signing session {} for group {}{} ({}-of-{}), attempt {}, expires {}",
        s.session,
        s.group,
        s.label.as_ref().map(|l| format!(" \"{l}\"")).unwrap_or_default(),
        s.threshold,
        s.members.len(),
        s.attempt,
        s.expires
    );
    outln!(
        "  {:<24} {:<10} {:<18} {:<8} {:<8} phase 2",
        "keyholder",
        "committed",
        "attested digests",
        "signer",
        "phase 1"
    );
    for m in &s.members {
        let yn = |b: bool| if b { "yes" } else { "-" };
        let att = match m.attested_match {
            Some(true) => "match request",
            Some(false) => "DIFFER",
            None => "-",
        };
        outln!(
            "  {:<24} {:<10} {:<18} {:<8} {:<8} {}",
            m.name,
            yn(m.committed),
            att,
            yn(m.chosen),
            yn(m.phase1),
            yn(m.phase2)
        );
    }
    for a in &s.artifacts {
        outln!("  {}  SHA-256 {}  {}: {}", a.name, a.sha256, a.signature, if a.valid { "valid" } else { "not yet" });
    }
    for p in &s.problems {
        outln!("problem: {p}");
    }
    for st in &s.strays {
        outln!("stray: {}", st.describe());
    }
    if !s.strays.is_empty() {
        outln!(
            "Strays do not count: the status above rests on signed files only. Remove the ones you do not recognise."
        );
    }
    match code {
        0 => outln!(
            "Done: every signature verifies with the group key; the attestations above are signed by each keyholder."
        ),
        2 => outln!("Failed: see the problems above."),
        _ => outln!("In progress: waiting for {}.", s.waiting_for.join(", ")),
    }
    Ok(code)
}
