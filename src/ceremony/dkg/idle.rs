//! "Nothing to do" for a keyholder's key generation step, from the folder alone, before the passphrase.
//!
//! A keyholder who published what it can and waits for the others is told so without unlocking its home:
//! the step would change nothing. The answer rests on the ceremony file, this keyholder's own signed
//! public files (checked with its card, as every reader checks them) and the public part of its home
//! (its card, its group files, whether it holds a state for this ceremony). Others' files only ever make
//! it answer `None`: a file that is there and does not check out is the step's to report.

use super::{expect, names, names_of, read_confirmations, DkgCeremony, KIND_CONFIRM, KIND_R1};
use crate::error::Error;
use crate::exchange::folder::Folder;
use crate::home::Home;

/// What this keyholder waits for (the words the step itself reports), when the folder shows it has nothing
/// to do now:
/// - a dealt group whose share to this keyholder is not in the folder yet, and which it has not joined;
/// - it published its round-1 package, and nothing after it, and another participant's is missing;
/// - it published its confirmation, and no acceptance, and another participant's confirmation is missing.
///
/// `None` whenever anything could be left to do (joining, a round whose inputs are all there, a file of
/// its own to publish again, a problem to report) or the folder cannot be judged without secrets (a
/// repair, whose values are private): the ordinary step, with the passphrase, decides then.
///
/// Why a later phase cannot hide behind this answer: each phase's own file is published only after the
/// phase's state is saved, and a phase is entered only once every input of the one before was in the
/// folder. So a keyholder past round 1 either has its round-2 files in the folder, or all round-1 files
/// were there (a crash before publishing: this answers `None` while they still are); the same holds for
/// the acceptance after the confirmations. Only a deletion of files already read by everyone (another
/// participant's round-1 file or confirmation, and every later file of everyone, since any file of a
/// later phase makes it answer `None`) could make it answer "waiting" where the step would have
/// republished; and any participant's next step republishes its own, which ends that.
pub fn nothing_to_do(home: &Home, folder: &Folder) -> Option<String> {
    let text = DkgCeremony::read(folder).ok()?;
    // The step that runs when this answers `None` reuses this listing while the folder is unchanged.
    let names = folder.names().ok()?;
    let listed: Vec<&str> = names.iter().map(|n| n.to_str()).collect::<Option<_>>()?;
    let claims = DkgCeremony::claims_in(&text)?;
    // Whether this keyholder holds a state for the id the file claims (the checked file below has that id).
    let joined = std::fs::symlink_metadata(home.path(&super::rounds::state_rel(&claims.id))).is_ok();
    // A keyholder that has not joined a ceremony that claims no dealer has joining (or completing from its
    // home) to do: the step decides, and checks the n cards, once.
    if (!joined && !claims.dealt) || (joined && work_by_names(home, claims.participants, &listed)) {
        return None;
    }
    let c = DkgCeremony::load_known(folder, &text, None).ok()?;
    if c.repair().is_some() {
        return None;
    }
    let me = c.index_of(home.card().ok()?.fingerprint())?;
    let mine = &c.cards()[me];
    // A home that holds the group this ceremony made has finished it (or restored it): the step completes.
    for gfp in home.group_fingerprints().ok()? {
        if home.group(&gfp).map_or(true, |g| g.ceremony() == c.digest()) {
            return None;
        }
    }
    let present = |name: &str| std::fs::symlink_metadata(folder.path(name)).is_ok();
    if !joined {
        // Only a dealt group is waited for before joining: its first input is the share dealt to me.
        let dealer = c.dealer()?;
        return (!present(&names::dealt(mine))).then(|| format!("the share {} deals you", dealer.card.name()));
    }
    let own = |kind: &str, round: &str, name: &str| {
        folder.receive(name, &expect(&c, kind, round, false), c.cards(), me, None).ok().flatten().is_some()
    };
    // Any file of a later phase than the one awaited, by anyone, means every input of the awaited phase
    // was there once: the step decides. (Names only: a planted name can only make this answer `None`.)
    let any = |prefixes: &[&str]| listed.iter().any(|n| prefixes.iter().any(|p| n.starts_with(p)));
    if any(&["accept-", "group"]) {
        return None;
    }
    if own(KIND_CONFIRM, "3", &names::confirm(mine)) {
        let malformed = |_, _: &std::path::Path, why: String| Error::new(why);
        let missing = read_confirmations(folder, &c, malformed).ok()?.err()?;
        return Some(format!("confirmations from {}", names_of(&c, &missing)));
    }
    if c.dealer().is_some() || any(&["round2-", "confirm-", "complaint-"]) {
        return None;
    }
    if !own(KIND_R1, "1", &names::round1(mine)) {
        return None;
    }
    // Round 2 waits for every round-1 file; one that is there but does not check out is the step's to report.
    let e = expect(&c, KIND_R1, "1", false);
    let mut missing = Vec::new();
    for (j, card) in c.cards().iter().enumerate() {
        if folder.receive(&names::round1(card), &e, c.cards(), j, None).ok()?.is_none() {
            missing.push(j);
        }
    }
    (!missing.is_empty()).then(|| format!("round 1 from {}", names_of(&c, &missing)))
}

/// True when file names alone show that [`nothing_to_do`] would answer `None` (the step has work, or
/// decides), so that no card, signature or file is checked for it; asked only for a keyholder that joined
/// (it holds a state for the ceremony id the file claims) a ceremony of `n` participants: a file named for a later phase than the one it
/// could wait for (an acceptance or a group file), as many confirmation names as participants, or, its
/// own confirmation not being there, a round-2, confirmation or complaint file, or as many round-1 names
/// as participants. Every name here is unchecked (the ceremony file's id and size, the home's card, the
/// folder's names), which is enough: this only ever sends the keyholder to the ordinary step.
fn work_by_names(home: &Home, n: usize, listed: &[&str]) -> bool {
    let Ok(card) = home.card() else { return false };
    let count = |prefix: &str| listed.iter().filter(|name| name.starts_with(prefix)).count();
    let own_confirmation = listed.contains(&names::confirm(&card).as_str());
    count("accept-") > 0
        || count("group") > 0
        || count("confirm-") >= n
        || (!own_confirmation
            && (count("round2-") > 0 || count("confirm-") > 0 || count("complaint-") > 0 || count("round1-") >= n))
}
