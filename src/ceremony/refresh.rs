//! Share refresh (`share refresh`): the members of a group (all, or all but the removed ones) make new
//! shares of the same key, with FROST's refresh DKG (`keys::refresh`, frost-ed25519 3.x). Each member
//! adds to its old share a share of zero, dealt jointly, so the key stays and every member keeps its
//! identifier; shares from before the refresh do not combine with shares from after it, and a removed
//! member's share combines with none.
//!
//! A refresh is key generation with another first round and another last one (the ceremony file says
//! `refresh-of`; `ceremony::dkg` runs it): confirmations, acceptances and the rule that no new share is
//! usable before all n accepted are the same. The old share is destroyed when the new one is stored.

use crate::card::Card;
use crate::error::{Error, Result};
use crate::group::ceremony::{DkgCeremony, Lineage, Origin, Refresh, CEREMONY_FILE};
use crate::group::{membership, Group};
use crate::home::Unlocked;
use crate::secret::SecretBytes;
use std::path::Path;

/// Vault purpose of a refresh claim (see [`claim`]).
const CLAIM_PURPOSE: &str = "refresh-claim";

/// Where a home records the one refresh of group `gfp` its keyholder joined (under `state/`, like every
/// ceremony state: never in a backup).
fn claim_rel(gfp: &str) -> String {
    format!("{}/refresh-{gfp}.txt", crate::home::nonces::STATE_DIR)
}

/// The hex digest of the refresh of group `gfp` this keyholder joined, if it joined one.
fn claimed(u: &Unlocked, gfp: &str) -> Result<Option<String>> {
    let bytes = u.read_secret(&claim_rel(gfp), CLAIM_PURPOSE, gfp)?;
    Ok(bytes.map(|b| String::from_utf8_lossy(b.expose()).into_owned()))
}

/// Record, before this keyholder joins the refresh or repair `c`, that it takes part in it. A keyholder
/// takes part in one renewal (refresh or repair) of a group at a time ([`check_not_claimed`] refuses a
/// second): otherwise two renewals of one group, one removing a member and one keeping it, would leave the
/// others with two successor shares, and the one that kept the removed member would undo the removal (a
/// repair completing after a refresh would even store the old, retired shares again).
pub fn claim(u: &Unlocked, c: &DkgCeremony) -> Result<()> {
    let Some((group, _)) = c.renews() else { return Ok(()) };
    let digest = hex::encode(c.digest());
    if claimed(u, group)?.as_deref() == Some(digest.as_str()) {
        return Ok(());
    }
    u.write_secret(&claim_rel(group), CLAIM_PURPOSE, group, &SecretBytes::new(digest.into_bytes()))
}

/// Refuse a renewal `c` of a group when this keyholder already takes part in another renewal of it.
pub fn check_not_claimed(u: &Unlocked, c: &DkgCeremony) -> Result<()> {
    let Some((group, _)) = c.renews() else { return Ok(()) };
    if let Some(other) = claimed(u, group)?.filter(|d| *d != hex::encode(c.digest())) {
        return Err(Error::new(format!(
            "you already take part in another refresh or repair of this group (ceremony file SHA-256 {}...)",
            &other[..other.len().min(16)]
        ))
        .with_note("a keyholder takes part in one refresh or repair of a group at a time: two could undo a removal")
        .with_help(format!(
            "finish that one first; if it was abandoned for good, delete {} and run this again",
            crate::text::path(&u.home().path(&claim_rel(group)))
        )));
    }
    Ok(())
}

/// Forget the claim on group `gfp` (its refresh completed: the share it renewed is destroyed).
pub fn release(u: &Unlocked, gfp: &str) -> Result<()> {
    u.remove_secret(&claim_rel(gfp))
}

/// Why the renewal (refresh or repair) `c` does not keep what `old` is, if it does not: the same key,
/// threshold, label and minisign key id.
pub fn renewal_differs(old: &Group, c: &DkgCeremony) -> Option<&'static str> {
    if c.renews().map(|(_, key)| key) != Some(old.key()) || old.threshold() != c.threshold() || old.label() != c.label()
    {
        return Some("its key, threshold or label differ");
    }
    if c.minisign_key_id() != Some(*old.minisign_key_id()) {
        return Some("its minisign key id differs");
    }
    let continues = c
        .lineage()
        .is_some_and(|l| l.version == old.version() + 1 && l.previous == membership::digest(&old.statement()));
    (!continues).then_some("it does not continue the group's membership history (version and previous statement)")
}

/// The place in the membership history of a renewal of `group`: the next version, naming `group`'s
/// statement, with every approved statement so far.
///
/// Refuses a group whose own version (from 2 on) the group has not approved yet: the history of every
/// later version would have a gap that no user could cross.
pub fn next_lineage(group: &Group) -> Result<Lineage> {
    if group.version() >= 2 && group.approval().is_none() {
        return Err(Error::new(format!(
            "version {} of the group {} is not approved yet: its membership statement is not signed",
            group.version(),
            group.display_name()
        ))
        .with_help(
            "have the group approve it first (`frostsign group approve --key GROUP.pub --dir DIR`, then `sign step` and `sign collect`), and give the approved group file with --group",
        ));
    }
    if group.version() >= membership::MAX_VERSION {
        return Err(Error::new(format!(
            "the group is at version {}, the highest a group file may reach",
            group.version()
        ))
        .with_help("rotate to a new group (`frostsign group rotate`), which starts again at version 1"));
    }
    Ok(Lineage {
        version: group.version() + 1,
        previous: membership::digest(&group.statement()),
        history: group.history(),
    })
}

/// The member lines (`ID FPR NAME`) of `group` at these positions.
fn member_lines(group: &Group, positions: &[usize]) -> Vec<String> {
    positions
        .iter()
        .map(|&i| {
            let c = &group.members()[i];
            format!("{} {} {}", group.identifier_numbers()[i], c.fingerprint().compact(), c.name())
        })
        .collect()
}

/// The group a keyholder may refresh: its home's own copy of `given` (never the file it was handed),
/// which it must hold a share of. Public parts of the home only: no passphrase needed.
pub fn own_copy(home: &crate::home::Home, given: &Group) -> Result<Group> {
    let gfp = given.fingerprint().compact();
    if !home.has_share(&gfp) {
        return Err(Error::new(format!(
            "your home holds no share of the group {} ({})",
            given.display_name(),
            given.fingerprint()
        ))
        .with_help("only a keyholder of the group refreshes it: check --home and --group (`frostsign group list`)"));
    }
    let own = home.group(&gfp)?;
    if own.core_text() != given.core_text() {
        return Err(Error::new("the group file given is not the one your home holds for that fingerprint")
            .with_help("use your own copy: `frostsign group list` shows where it is"));
    }
    // The group's approval of this version (checked when `given` was read) covers the core only, which
    // is the home's own: it carries over.
    match given.approval() {
        Some(sig) if own.approval().is_none() => own.with_approval(sig),
        _ => Ok(own),
    }
}

/// The positions of the members `remove` names (by name or fingerprint), or an error naming the unknown.
fn resolve_removed(group: &Group, remove: &[String]) -> Result<Vec<usize>> {
    let mut out = Vec::new();
    for name in remove {
        let fp = crate::card::Fingerprint::parse(name);
        let i =
            group.members().iter().position(|c| c.name() == name.as_str() || Some(c.fingerprint()) == fp).ok_or_else(
                || {
                    let names: Vec<&str> = group.members().iter().map(|c| c.name()).collect();
                    Error::new(format!("`{}` is not a member of the group", crate::text::escape(name)))
                        .with_help(format!("the members are: {}", names.join(", ")))
                },
            )?;
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out.sort_unstable();
    Ok(out)
}

/// Describe a refresh of `group` (the caller's own copy, see [`own_copy`]) without the members
/// `remove` names, by the keyholder `me`.
///
/// Checks: every name is a member; `me` is not removed; at least t members remain (the threshold
/// cannot change in a refresh: a new threshold needs a new key, by rotation).
pub fn describe(group: &Group, me: &Card, remove: &[String]) -> Result<(DkgCeremony, String)> {
    let removed = resolve_removed(group, remove)?;
    if removed.iter().any(|&i| group.members()[i].fingerprint() == me.fingerprint()) {
        return Err(Error::new("you cannot remove yourself from the group")
            .with_help("another keyholder starts the refresh that removes you"));
    }
    let kept: Vec<usize> = (0..group.members().len()).filter(|i| !removed.contains(i)).collect();
    let t = group.threshold();
    if kept.len() < t as usize {
        return Err(Error::new(format!(
            "removing {} leaves {} keyholders, fewer than the threshold {t}",
            removed.len(),
            kept.len()
        ))
        .with_help(
            "a refresh cannot change the threshold; to sign with fewer keyholders, make a new group and rotate to it",
        ));
    }
    let refresh = Refresh {
        group: group.fingerprint().compact(),
        group_key: *group.key(),
        minisign_key_id: *group.minisign_key_id(),
        removed: member_lines(group, &removed),
        lineage: next_lineage(group)?,
    };
    let ids: Vec<u16> = kept.iter().map(|&i| group.identifier_numbers()[i]).collect();
    let cards: Vec<Card> = kept.iter().map(|&i| group.members()[i].clone()).collect();
    // The cards were accepted when the group was made; the group's own test marks carry over unchanged.
    DkgCeremony::create(group.label(), t, cards, Origin::Refresh(&refresh, &ids), true)
}

/// Write the refresh ceremony file into `dir`, or accept the one there if it describes the same refresh
/// (same group, same members removed). Returns the ceremony in the folder.
pub fn start(dir: &Path, group: &Group, me: &Card, remove: &[String]) -> Result<DkgCeremony> {
    crate::fsx::ensure_dir(dir)?;
    let path = dir.join(CEREMONY_FILE);
    if std::fs::symlink_metadata(&path).is_err() {
        let (c, text) = describe(group, me, remove)?;
        if crate::fsx::atomic_create(&path, text.as_bytes(), crate::fsx::PUBLIC_FILE)? {
            return Ok(c);
        }
    }
    let c = DkgCeremony::load(&crate::exchange::folder::Folder::open(dir)?)?;
    let Some(r) = c.refresh() else {
        return Err(Error::file(&path, "holds a key generation, not a share refresh")
            .with_help("use a new, empty folder for the refresh"));
    };
    if r.group != group.fingerprint().compact() {
        return Err(Error::file(&path, format!("is a refresh of another group ({})", r.group))
            .with_help("give that group's file with --group, or use a new folder"));
    }
    let wanted = member_lines(group, &resolve_removed(group, remove)?);
    if !remove.is_empty() && wanted != r.removed {
        return Err(Error::file(&path, "is a refresh that removes other members than --remove names")
            .with_note(format!(
                "it removes: {}",
                if r.removed.is_empty() { "nobody".into() } else { r.removed.join("; ") }
            ))
            .with_help("run without --remove to take part in the refresh as it is, or start another in a new folder"));
    }
    Ok(c)
}

/// Before a keyholder joins a refresh: the ceremony renews a group its home holds a share of, with the
/// same key, threshold, label and key id; every participant is that group's member at the same identifier
/// with the same card; and the members it leaves out are exactly those it says it removes.
pub fn check_joinable(u: &Unlocked, c: &DkgCeremony) -> Result<()> {
    let Some(r) = c.refresh() else { return Ok(()) };
    let wrong = |why: String| {
        Error::new(format!("this share refresh does not match the group your home holds: {why}"))
            .with_help("do not join: ask who started it; a refresh is started with your group's own file")
    };
    if !u.home().has_share(&r.group) {
        return Err(Error::new(format!(
            "this refresh renews the group {}, which your home holds no share of",
            r.group
        ))
        .with_help(
            "check --home (`frostsign group list`); a keyholder removed or already refreshed has nothing to do",
        ));
    }
    check_not_claimed(u, c)?;
    let old = u.home().group(&r.group)?;
    if let Some(why) = renewal_differs(&old, c) {
        return Err(wrong(why.into()));
    }
    let mut kept = Vec::new();
    for (j, card) in c.cards().iter().enumerate() {
        let i =
            old.member_index(card.fingerprint()).ok_or_else(|| wrong(format!("{} is not a member", card.label())))?;
        if old.members()[i].text() != card.text() || old.identifier_numbers()[i] != c.identifier_numbers()[j] {
            return Err(wrong(format!("{}'s card or identifier differs", card.label())));
        }
        kept.push(i);
    }
    let removed: Vec<usize> = (0..old.members().len()).filter(|i| !kept.contains(i)).collect();
    if member_lines(&old, &removed) != r.removed {
        return Err(wrong("the members it says it removes are not the members it leaves out".into()));
    }
    Ok(())
}
