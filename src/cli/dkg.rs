//! `frostsign dkg ...`: start, run and watch a key generation ceremony.

use super::Global;
use crate::card::Card;
use crate::ceremony::dkg::{self, GROUP_FILE};
use crate::error::Result;
use crate::exchange::folder::Folder;
use crate::home::Home;
use std::path::{Path, PathBuf};

/// `dkg init --dir DIR --threshold T [--label L] CARD...`.
pub fn init(dir: &Path, threshold: u16, label: Option<&str>, cards: &[PathBuf], allow_insecure: bool) -> Result<()> {
    let cards = cards.iter().map(|p| Card::load(p)).collect::<Result<Vec<_>>>()?;
    let c = dkg::init(dir, label, threshold, cards, allow_insecure)?;
    outln!("Started in {}:", dir.display());
    out!("{}", c.summary());
    outln!("Next: each keyholder checks the fingerprints above by voice, then runs");
    outln!("  frostsign dkg step --dir {}", dir.display());
    outln!(
        "as often as needed (each run does what is possible now); `frostsign dkg status --dir {}` shows progress.",
        dir.display()
    );
    Ok(())
}

/// `dkg step --dir DIR [--yes]`.
pub fn step(g: &Global, dir: &Path, yes: bool) -> Result<()> {
    let home = Home::open(&g.home)?;
    let _lock = home.lock()?;
    let folder = Folder::open(dir)?;
    let u = home.unlock(&g.passphrase)?;
    let me = u.identity().card().label();
    let mut report = dkg::StepReport::default();
    let result = dkg::step(&u, &folder, &mut report, |c| {
        out!("{}", c.summary());
        outln!("You are {me}.");
        outln!("Check every name and fingerprint with its keyholder (by voice) before you join.");
        super::confirm("Join this ceremony and run round 1?", yes)
    });
    // What was done before an error is still reported: it is in the folder and the home now.
    for line in &report.did {
        outln!("- {line}");
    }
    result?;
    match (&report.group, &report.waiting) {
        (Some(g), _) => {
            outln!("Key generation is complete: {}-of-{} group {}", g.threshold(), g.members().len(), g.fingerprint());
            outln!("The group's public key is in {}:", folder.path(GROUP_FILE).display());
            outln!("  {}", crate::formats::minisign::public_key_line(g.key()));
        }
        (None, Some(w)) => {
            if report.did.is_empty() {
                outln!("Nothing new to do: waiting for {w}.");
            } else {
                outln!(
                    "Waiting for {w}. Run `frostsign dkg step --dir {}` again once their files are in the folder.",
                    dir.display()
                );
            }
        }
        (None, None) => {}
    }
    Ok(())
}

/// `dkg status --dir DIR [--json]`; returns the exit code (0 complete, 3 in progress, 2 failed).
pub fn status(dir: &Path, json: bool) -> Result<i32> {
    let folder = Folder::open(dir)?;
    let s = dkg::status(&folder)?;
    let code = if !s.problems.is_empty() && !s.complete {
        2
    } else if s.complete {
        0
    } else {
        3
    };
    if json {
        super::out::json(&s);
        return Ok(code);
    }
    outln!(
        "Key generation ceremony {}{}: {}-of-{}",
        s.ceremony,
        s.label.as_ref().map(|l| format!(" \"{l}\"")).unwrap_or_default(),
        s.threshold,
        s.participants.len()
    );
    outln!("  {:<24} {:<40} {:<8} {:<8} confirmed", "keyholder", "fingerprint", "round 1", "round 2");
    let n = s.participants.len();
    for p in &s.participants {
        let yn = |b: bool| if b { "yes" } else { "-" };
        outln!(
            "  {:<24} {:<40} {:<8} {:<8} {}",
            p.name,
            p.fingerprint,
            yn(p.round1),
            format!("{}/{}", p.round2_sent, n - 1),
            yn(p.confirmed)
        );
    }
    for p in &s.problems {
        let culprit = p.culprit.as_ref().map(|c| format!(" (culprit: {c})")).unwrap_or_default();
        outln!("problem: {}: {}{culprit}", p.file, p.reason);
    }
    match code {
        0 => outln!(
            "Complete: group {} ({})",
            s.group_fingerprint.as_deref().unwrap_or("?"),
            folder.path(GROUP_FILE).display()
        ),
        2 => outln!("Failed: see the problems above."),
        _ => outln!("In progress: waiting for {}.", s.waiting_for.join(", ")),
    }
    Ok(code)
}
