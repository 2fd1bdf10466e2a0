//! Share repair and enrolment (`share repair`): t helpers rebuild the share of one identifier of a
//! group, for a member who lost its share (with its old card or a new one) or for a new member at a new
//! identifier; the key and every other share stay. The keyholder's side is in `ceremony::dkg` (repair
//! phases on key generation's engine); this module writes the ceremony file and checks it before anyone
//! joins.

use crate::card::Card;
use crate::error::{Error, Result};
use crate::group::ceremony::{DkgCeremony, Origin, Repair, CEREMONY_FILE};
use crate::group::{Group, MAX_MEMBERS};
use crate::home::Unlocked;
use std::path::Path;

/// Where `target` goes in `group`: the identifier of the member with its name (a repair, the card may be
/// new), or the next free identifier (an enrolment).
fn target_id(group: &Group, target: &Card) -> Result<(u16, bool)> {
    let ids = group.identifier_numbers();
    for (i, c) in group.members().iter().enumerate() {
        if c.name() == target.name() {
            return Ok((ids[i], false));
        }
        if c.fingerprint() == target.fingerprint() {
            return Err(Error::new(format!("{} is already a member under the name {}", target.label(), c.name())));
        }
    }
    let next = ids.iter().max().copied().unwrap_or(0) + 1;
    if next as usize > MAX_MEMBERS {
        return Err(Error::new(format!("a group has at most {MAX_MEMBERS} identifiers; none is left to enrol")));
    }
    Ok((next, true))
}

/// The identifiers of the members `helpers` names (by name or fingerprint), increasing, each once.
fn named_helpers(group: &Group, helpers: &[String]) -> Result<Vec<u16>> {
    let ids = group.identifier_numbers();
    let mut chosen = Vec::new();
    for name in helpers {
        let fp = crate::card::Fingerprint::parse(name);
        let i = group
            .members()
            .iter()
            .position(|c| c.name() == name.as_str() || Some(c.fingerprint()) == fp)
            .ok_or_else(|| Error::new(format!("`{}` is not a member of the group", crate::text::escape(name))))?;
        if !chosen.contains(&ids[i]) {
            chosen.push(ids[i]);
        }
    }
    chosen.sort_unstable();
    Ok(chosen)
}

/// Describe a repair of `group` (the caller's own copy) for `target`, helped by the members `helpers`
/// names (or, if none, by `me` and the first other members), t of them.
pub fn describe(group: &Group, me: &Card, target: &Card, helpers: &[String]) -> Result<(DkgCeremony, String)> {
    let (id, enrol) = target_id(group, target)?;
    let t = group.threshold() as usize;
    let ids = group.identifier_numbers();
    let chosen = if helpers.is_empty() {
        let me_id = group.member_index(me.fingerprint()).map(|i| ids[i]);
        let mut chosen: Vec<u16> = me_id.filter(|m| *m != id).into_iter().collect();
        chosen.extend(ids.iter().copied().filter(|h| *h != id && Some(*h) != me_id));
        chosen.truncate(t);
        chosen.sort_unstable();
        chosen
    } else {
        named_helpers(group, helpers)?
    };
    if chosen.contains(&id) {
        return Err(Error::new(format!("{} cannot help rebuild its own share", target.name())));
    }
    if chosen.len() != t {
        return Err(Error::new(format!(
            "a repair needs exactly {t} helpers (the threshold), {} were named",
            chosen.len()
        ))
        .with_help("name t members with --helper, or none to let frostsign choose"));
    }
    let mut cards: Vec<Card> = group.members().to_vec();
    let mut all_ids = ids.to_vec();
    match group.position_of(&crate::group::frost_identifier(id)) {
        Some(i) if !enrol => cards[i] = target.clone(),
        _ => {
            cards.push(target.clone());
            all_ids.push(id);
        }
    }
    let repair = Repair {
        group: group.fingerprint().compact(),
        group_key: *group.key(),
        minisign_key_id: *group.minisign_key_id(),
        target: id,
        helpers: chosen,
        lineage: crate::ceremony::refresh::next_lineage(group)?,
    };
    // A new card is held to the group's own standard: test cards only in a group that has them.
    let allow_insecure = group.members().iter().any(|c| c.insecure().is_some());
    DkgCeremony::create(group.label(), group.threshold(), cards, Origin::Repair(&repair, &all_ids), allow_insecure)
}

/// Write the repair ceremony file into `dir`, or accept the one there if it is a repair of the same group
/// for the same card. Returns the ceremony in the folder.
pub fn start(dir: &Path, group: &Group, me: &Card, target: &Card, helpers: &[String]) -> Result<DkgCeremony> {
    crate::fsx::ensure_dir(dir)?;
    let path = dir.join(CEREMONY_FILE);
    if std::fs::symlink_metadata(&path).is_err() {
        let (c, text) = describe(group, me, target, helpers)?;
        if crate::fsx::atomic_create(&path, text.as_bytes(), crate::fsx::PUBLIC_FILE)? {
            return Ok(c);
        }
    }
    let c = DkgCeremony::load(&crate::exchange::folder::Folder::open(dir)?)?;
    let same = c.repair().is_some_and(|r| {
        r.group == group.fingerprint().compact()
            && c.position_of(&crate::group::frost_identifier(r.target))
                .is_some_and(|j| c.cards()[j].fingerprint() == target.fingerprint())
    });
    if !same {
        return Err(Error::file(&path, "holds another ceremony than a repair of this group for this card")
            .with_help("use a new, empty folder, or give the --group and --for this folder was started with"));
    }
    // --helper names the helpers this keyholder expects: a repair with others is not joined silently.
    if let Some(r) = c.repair().filter(|_| !helpers.is_empty()) {
        if named_helpers(group, helpers)? != r.helpers {
            return Err(Error::file(&path, "is a repair with other helpers than --helper names").with_help(
                "run without --helper to take part in the repair as it is, or start another in a new folder",
            ));
        }
    }
    Ok(c)
}

/// Before a keyholder joins a repair: the ceremony repairs a group this keyholder's home holds (with a
/// share, or, for the keyholder being repaired, the group file it was given), with the same key,
/// threshold, label and key id; every member of that group takes part at its identifier with its card,
/// except the one repaired, which may bring a new card, or a new member at a new identifier; the t
/// helpers are members other than the one repaired.
pub fn check_joinable(u: &Unlocked, c: &DkgCeremony) -> Result<()> {
    let Some(r) = c.repair() else { return Ok(()) };
    let wrong = |why: String| {
        Error::new(format!("this share repair does not match the group your home holds: {why}"))
            .with_help("do not join: ask who started it; a repair is started from the group's own file")
    };
    let me = c.identifier_numbers()[c.index_of(u.identity().card().fingerprint()).ok_or_else(not_participant)?];
    if me != r.target && !u.home().has_share(&r.group) {
        return Err(Error::new(format!("this repair is of the group {}, which your home holds no share of", r.group))
            .with_help("check --home (`frostsign group list`)"));
    }
    crate::ceremony::refresh::check_not_claimed(u, c)?;
    let old = u.home().group(&r.group).map_err(|_| {
        Error::new(format!("your home has no copy of the group {} this repair rebuilds a share of", r.group))
            .with_help("give the group's file with --group")
    })?;
    if let Some(why) = crate::ceremony::refresh::renewal_differs(&old, c) {
        return Err(wrong(why.into()));
    }
    let old_ids = old.identifier_numbers();
    for (j, card) in c.cards().iter().enumerate() {
        let id = c.identifier_numbers()[j];
        match old_ids.iter().position(|o| *o == id) {
            Some(i) if id != r.target && old.members()[i].text() != card.text() => {
                return Err(wrong(format!("{} is not the card of the member at identifier {id}", card.label())));
            }
            Some(i) if id == r.target && old.members()[i].name() != card.name() => {
                return Err(wrong(format!("{} takes the place of {}", card.label(), old.members()[i].label())));
            }
            None if id != r.target => return Err(wrong(format!("{} is not a member", card.label()))),
            // A new member takes the next identifier, as `share repair` chooses it.
            None if Some(&(id - 1)) != old_ids.iter().max() => {
                return Err(wrong(format!("{} is enrolled at identifier {id}, not the next one", card.label())));
            }
            _ => {}
        }
    }
    let kept = old_ids.iter().filter(|o| c.identifier_numbers().contains(o)).count();
    if kept != old_ids.len() {
        return Err(wrong("it leaves members out (a repair changes one share only; use a refresh to remove)".into()));
    }
    if r.helpers.iter().any(|h| !old_ids.contains(h)) {
        return Err(wrong("a helper is not a member of the group".into()));
    }
    Ok(())
}

/// What a keyholder must see before it joins a repair that gives a member a new card: the old and the new
/// fingerprint. The old card takes no part and is not asked, and the share rebuilt is the one the old card
/// held, so only a voice check with that member tells a lost card from a card taken over.
pub fn card_change(u: &Unlocked, c: &DkgCeremony) -> Option<String> {
    let r = c.repair()?;
    let old = u.home().group(&r.group).ok()?;
    let was = &old.members()[old.position_of(&crate::group::frost_identifier(r.target))?];
    let now = &c.cards()[c.position_of(&crate::group::frost_identifier(r.target))?];
    (was.fingerprint() != now.fingerprint()).then(|| {
        format!(
            "  {name} gets a NEW card: was {}, now {}.\n  The old card takes no part and is not asked: check the new fingerprint with {name} by voice.\n",
            was.fingerprint(),
            now.fingerprint(),
            name = now.name()
        )
    })
}

fn not_participant() -> Error {
    Error::new("you are not a participant of this repair").with_help("check --home")
}
