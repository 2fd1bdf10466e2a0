//! `frostsign dkg ...`: start, run and watch a key generation ceremony.

use super::Global;
use crate::card::Card;
use crate::ceremony::dkg::{self, FolderGroup, GROUP_FILE};
use crate::error::{Error, Result};
use crate::exchange::folder::Folder;
use crate::home::{Home, Unlocked};
use std::path::{Path, PathBuf};

/// `dkg init --dir DIR --threshold T [--label L] CARD...`.
pub fn init(dir: &Path, threshold: u16, label: Option<&str>, cards: &[PathBuf], allow_insecure: bool) -> Result<()> {
    let cards = cards.iter().map(|p| Card::load(p)).collect::<Result<Vec<_>>>()?;
    let c = dkg::init(dir, label, threshold, cards, allow_insecure)?;
    outln!("Started in {}:", crate::text::path(dir));
    out!("{}", c.summary());
    outln!("Next: each keyholder checks the fingerprints above by voice, then runs");
    outln!("  frostsign dkg step --dir {}", crate::text::path(dir));
    outln!(
        "as often as needed (each run does what is possible now); `frostsign dkg status --dir {}` shows progress.",
        crate::text::path(dir)
    );
    Ok(())
}

/// `dkg step --dir DIR [--yes] [--watch] [--git]`; returns the exit code (0, or 3 when a watch timed out).
pub fn step(g: &Global, dir: &Path, yes: bool, watch: Option<Option<std::time::Duration>>, git: bool) -> Result<i32> {
    if watch.is_none() && !git && !crate::exchange::git::is_marked(dir) {
        step_as(g, dir, yes, "dkg step")?;
        return Ok(0);
    }
    let home = Home::open(&g.home)?;
    let _lock = home.lock()?;
    let name = home.card().map(|c| c.name().to_string()).unwrap_or_else(|_| "keyholder".into());
    let exchange = super::exchange::Exchange::new(dir, git, Some(&g.home), &name, "key generation")?;
    exchange.pull_first(watch)?;
    Folder::open(dir)?; // a folder that is not there is said before the passphrase is asked
    let u = home.unlock(&g.passphrase)?;
    let mut watcher = watch.map(|t| {
        outln!("- unlocked your home (once: --watch does every round with it)");
        exchange.watcher(t)
    });
    // The join question is asked when this keyholder joins a ceremony, and only then (after that the
    // ceremony's state is in the home): a watch never answers it for a ceremony the keyholder did not see.
    loop {
        let watching = watcher.is_some();
        let round = exchange.round(
            || {
                // Opened after each round's pull (a folder swapped for another is a new folder).
                let folder = Folder::open(dir)?;
                step_report(&u, &folder, yes, "dkg step", watching, |c| {
                    removals_named(c, yes, &[], |o| share_refresh_hint(&u, &folder, o))
                })
            },
            |end| match end {
                StepEnd::Done => "key generation step (done)".to_string(),
                StepEnd::Waiting { what, .. } => format!("key generation step (waiting for {what})"),
            },
        );
        let end = match round {
            Ok(end) => end,
            Err(e) => match exchange.wait_out(e, watcher.as_mut())? {
                None => continue,
                Some(code) => return Ok(code),
            },
        };
        match (end, watcher.as_mut()) {
            (StepEnd::Done, _) | (StepEnd::Waiting { .. }, None) => return Ok(0),
            (StepEnd::Waiting { what, progressed }, Some(w)) => {
                if !w.wait(progressed, &what) {
                    w.timed_out();
                    return Ok(3);
                }
            }
        }
    }
}

/// A keyholder's step in a key generation or dealt ceremony; `command` is what the keyholder runs again.
pub fn step_as(g: &Global, dir: &Path, yes: bool, command: &str) -> Result<()> {
    let home = Home::open(&g.home)?;
    let _lock = home.lock()?;
    let folder = Folder::open(dir)?;
    // "Nothing to do" costs no passphrase: the folder and this keyholder's own signed files say so.
    if let Some(what) = dkg::nothing_to_do(&home, &folder) {
        outln!("Nothing new to do: waiting for {what}.");
        return Ok(());
    }
    let u = home.unlock(&g.passphrase)?;
    step_unlocked(&u, &folder, yes, command)
}

/// [`step_as`] with the home already locked and unlocked by the caller. A share refresh that removes
/// members is not joined with `--yes` here: only `share refresh --remove NAME` names the removals the
/// keyholder agrees to (see [`removals_named`]).
pub fn step_unlocked(u: &Unlocked, folder: &Folder, yes: bool, command: &str) -> Result<()> {
    step_checked(u, folder, yes, command, |c| {
        removals_named(c, yes, &[], |options| share_refresh_hint(u, folder, options))
    })
}

/// Before joining a share refresh with `--yes`: every member it removes must be among `named` (the
/// keyholder's `--remove` options), so that a removal is never joined unseen; `help` says what to run,
/// given the `--remove` options that would agree. Without `--yes` the keyholder was shown the removals
/// (in the ceremony's summary) and is asked.
pub fn removals_named(
    c: &crate::group::ceremony::DkgCeremony,
    yes: bool,
    named: &[String],
    help: impl FnOnce(&str) -> String,
) -> Result<()> {
    let removed: Vec<&str> =
        c.refresh().map(|r| r.removed.iter().filter_map(|l| l.splitn(3, ' ').nth(2)).collect()).unwrap_or_default();
    if !yes || removed.iter().all(|r| named.iter().any(|n| n == r)) {
        return Ok(());
    }
    let options = removed.iter().map(|r| format!("--remove {}", shell_word(r))).collect::<Vec<_>>().join(" ");
    Err(Error::new(format!("this refresh removes {}", removed.join(", "))).with_help(help(&options)))
}

/// A name as one shell word, for a command to copy: as it is when it holds only letters, digits and
/// `-_.`, else in single quotes.
fn shell_word(name: &str) -> String {
    if !name.is_empty() && name.chars().all(|ch| ch.is_alphanumeric() || "-_.".contains(ch)) {
        name.to_string()
    } else {
        format!("'{}'", name.replace('\'', "'\\''"))
    }
}

/// The help of a `dkg step --yes` that would join a refresh removing members: the `share refresh` that
/// names them.
fn share_refresh_hint(u: &Unlocked, folder: &Folder, options: &str) -> String {
    format!(
        "to join it with --yes, say so: `{} share refresh --dir {} --group GROUP.pub {options} --yes`; or run without --yes to be asked",
        super::frostsign_for(u.home().root()),
        crate::text::path(folder.dir())
    )
}

/// [`step_unlocked`], with `before_join` run on the ceremony after its summary is shown and before the
/// keyholder is asked to join (a refresh's check that `--yes` does not skip a removal).
pub fn step_checked(
    u: &Unlocked,
    folder: &Folder,
    yes: bool,
    command: &str,
    before_join: impl FnOnce(&crate::group::ceremony::DkgCeremony) -> Result<()>,
) -> Result<()> {
    step_report(u, folder, yes, command, false, before_join).map(|_| ())
}

/// How one step ended: the keyholder's part is done (or nothing is awaited), or it waits.
enum StepEnd {
    Done,
    Waiting { what: String, progressed: bool },
}

/// [`step_checked`], saying how it ended; `watching` leaves the waiting line to the watcher.
fn step_report(
    u: &Unlocked,
    folder: &Folder,
    yes: bool,
    command: &str,
    watching: bool,
    before_join: impl FnOnce(&crate::group::ceremony::DkgCeremony) -> Result<()>,
) -> Result<StepEnd> {
    let dir = folder.dir();
    let me = u.identity().card().label();
    let mut report = crate::ceremony::engine::Report::default();
    let result = dkg::step(u, folder, &mut report, |c| {
        out!("{}", c.summary());
        if let Some(change) = crate::ceremony::repair::card_change(u, c) {
            out!("{change}");
        }
        outln!("You are {me}.");
        outln!("Check every name and fingerprint with its keyholder (by voice) before you join.");
        before_join(c)?;
        let first = match (c.dealer(), c.repair()) {
            (Some(_), _) => "check the share dealt to you",
            (_, Some(_)) => "take your part in the repair",
            _ => "run round 1",
        };
        super::confirm(&format!("Join this ceremony and {first}?"), yes)
    });
    // What was done before an error is still reported: it is in the folder and the home now.
    for line in &report.did {
        outln!("- {line}");
    }
    let completed_group = result?;
    match (&completed_group, &report.waiting) {
        (Some(done), _) => completed(&done.group, Some(&done.folder_group), folder, u).map(|()| StepEnd::Done),
        (None, Some(w)) => {
            // A watcher says what it waits for itself, once.
            if watching {
                // nothing to print here
            } else if report.did.is_empty() {
                outln!("Nothing new to do: waiting for {w}.");
            } else {
                outln!(
                    "Waiting for {w}. Run `{} {command} --dir {}` again once their files are in the folder.",
                    super::frostsign_for(u.home().root()),
                    crate::text::path(dir)
                );
            }
            Ok(StepEnd::Waiting { what: w.clone(), progressed: !report.did.is_empty() })
        }
        (None, None) => Ok(StepEnd::Done),
    }
}

/// What a keyholder is told at completion: the group as its OWN home holds it (never the folder's word),
/// and what the folder's group.pub is.
fn completed(g: &crate::group::Group, folder_group: Option<&FolderGroup>, folder: &Folder, u: &Unlocked) -> Result<()> {
    let what = match (g.dealer(), g.refresh(), g.repaired()) {
        (Some(_), _, _) => "The dealt group",
        (_, Some(_), _) => "The share refresh",
        (_, _, true) => "The share repair",
        _ => "Key generation",
    };
    outln!("{what} is complete: {}-of-{} group {}", g.threshold(), g.members().len(), g.fingerprint());
    outln!("  (computed from your own home; read this fingerprint out to your co-keyholders and compare)");
    if g.repaired() {
        outln!(
            "  The key is the same, so every public key users hold keeps verifying; use this group file from now on."
        );
    }
    if let Some(r) = g.refresh() {
        outln!(
            "  Your share of the previous group ({}) is destroyed. The key is the same, so every public key",
            r.group
        );
        outln!("  users hold keeps verifying; shares from before the refresh no longer combine with the new ones.");
    }
    outln!("  minisign public key: {}", crate::formats::minisign::public_key_line(g.minisign_key_id(), g.key()));
    let own = u.home().path(&crate::home::groups::group_rel(&g.fingerprint().compact()));
    let path = folder.path(GROUP_FILE);
    match folder_group {
        Some(FolderGroup::Other(what)) => {
            let mut e = Error::new(format!("`{}` is not the group you made: it is {what}", crate::text::path(&path)))
                .with_note("someone with access to the folder replaced or planted it; frostsign did not overwrite it");
            if !g.acceptances().is_empty() {
                e = e.with_note(format!(
                    "your copy, with every keyholder's signed acceptance, is in the folder as {}: the others complete from it",
                    dkg::names::group_copy(u.identity().card())
                ));
            }
            Err(e.with_help(format!(
                "do not publish it: publish your own copy `{}` (`frostsign group list` shows its fingerprint), after comparing fingerprints by voice",
                crate::text::path(&own)
            )))
        }
        _ => {
            outln!(
                "The group's public file is {} (the same group as your copy in your home).",
                crate::text::path(&path)
            );
            Ok(())
        }
    }
}

/// `dkg status --dir DIR [--json]`; returns the exit code (0 complete, 3 in progress, 2 failed).
pub fn status(dir: &Path, json: bool) -> Result<i32> {
    let folder = Folder::open(dir)?;
    let s = dkg::status::status(&folder)?;
    let code = s.exit_code();
    if json {
        super::out::json(&s);
        return Ok(code);
    }
    let kind = match (&s.dealer, &s.refresh_of) {
        (Some(d), _) => format!("Dealt group ceremony (dealer: {d})"),
        (_, Some(g)) => format!("Share refresh of group {g}"),
        _ if s.repair_of.is_some() => format!("Share repair of group {}", s.repair_of.as_deref().unwrap_or_default()),
        _ => "Key generation ceremony".to_string(),
    };
    outln!(
        "{kind} {}{}: {}-of-{}",
        s.ceremony,
        s.label.as_ref().map(|l| format!(" \"{l}\"")).unwrap_or_default(),
        s.threshold,
        s.participants.len()
    );
    let n = s.participants.len();
    let yn = |b: bool| if b { "yes" } else { "-" };
    // A dealt group's first step is the dealer's share; key generation's are rounds 1 and 2.
    let (first, firsts): (String, Vec<String>) = match s.dealer {
        Some(_) => {
            (format!("{:<17}", "dealt"), s.participants.iter().map(|p| format!("{:<17}", yn(p.dealt))).collect())
        }
        // A repair's helper values are private and each member's part differs: only confirmations count.
        None if s.repair_of.is_some() => {
            (format!("{:<17}", ""), s.participants.iter().map(|_| " ".repeat(17)).collect())
        }
        None => (
            format!("{:<8} {:<8}", "round 1", "round 2"),
            s.participants
                .iter()
                .map(|p| format!("{:<8} {:<8}", yn(p.round1), format!("{}/{}", p.round2_sent, n - 1)))
                .collect(),
        ),
    };
    outln!("  {:<24} {:<40} {first} {:<10} accepted", "keyholder", "fingerprint", "confirmed");
    for (p, f) in s.participants.iter().zip(&firsts) {
        outln!("  {:<24} {:<40} {f} {:<10} {}", p.name, p.fingerprint, yn(p.confirmed), yn(p.accepted));
    }
    for p in &s.problems {
        let culprit = p.culprit.as_ref().map(|c| format!(" (culprit: {c})")).unwrap_or_default();
        outln!("problem: {}: {}{culprit}", p.file, p.reason);
    }
    if s.group_file == dkg::status::GroupFile::Unaccepted {
        outln!(
            "note: {GROUP_FILE} is this ceremony's group file, but not every keyholder's acceptance of it is here yet"
        );
    }
    if s.group_file == dkg::status::GroupFile::MatchesWithoutAcceptances {
        outln!(
            "note: {GROUP_FILE} holds the accepted group but not the keyholders' acceptances; `frostsign dkg step` by a keyholder who finished adds them"
        );
    }
    for st in &s.strays {
        outln!("stray (plays no part): {}: {}", st.file, st.reason);
    }
    let fingerprint = s.group_fingerprint.as_deref().unwrap_or("?");
    match (code, s.complete) {
        (0, _) if s.group_fingerprint.is_none() => outln!(
            "Complete: every keyholder accepted the same group file, which is not in the folder; the signed confirmations here do not all name one key, so only that file (each keyholder's `frostsign group list`) can tell its fingerprint"
        ),
        (0, _) => outln!("Complete: group {fingerprint} ({})", crate::text::path(&folder.path(GROUP_FILE))),
        (_, true) => outln!("Complete (group {fingerprint}), but {GROUP_FILE} in the folder is NOT that group's file: do not publish it."),
        (2, _) => outln!("Failed: see the problems above."),
        _ => outln!("In progress: waiting for {}.", s.waiting_for.join(", ")),
    }
    Ok(code)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_name_in_a_hint_is_one_shell_word() {
        assert_eq!(super::shell_word("Carol"), "Carol");
        assert_eq!(super::shell_word("Alice Liddell"), "'Alice Liddell'");
        assert_eq!(super::shell_word("O'Brien"), "'O'\\''Brien'");
    }
}
