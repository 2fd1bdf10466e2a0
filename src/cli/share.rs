//! `frostsign share ...`: renew the shares of a group the keyholder holds, keeping its key.

use super::Global;
use crate::error::Result;
use crate::exchange::folder::Folder;
use crate::group::Group;
use crate::home::Home;
use std::path::Path;

/// `share refresh --dir DIR --group GROUP.pub [--remove NAME...] [--yes]`: start the refresh in DIR if it
/// holds none (as the --home keyholder, from its own copy of the group), then take every step possible now.
pub fn refresh(g: &Global, dir: &Path, group: &Path, remove: &[String], yes: bool) -> Result<()> {
    let given = Group::load(group)?;
    let home = Home::open(&g.home)?;
    let _lock = home.lock()?;
    let fresh = !dir.join(crate::group::ceremony::CEREMONY_FILE).exists();
    let own = if fresh || home.has_share(&given.fingerprint().compact()) {
        Some(crate::ceremony::refresh::own_copy(&home, &given)?)
    } else {
        None
    };
    // A refresh under way: once the folder is checked against --group and --remove, "nothing to do"
    // costs no passphrase (as in `dkg step`). Starting one always unlocks first.
    // The folder's view (one listing) is shared by the passphrase-free check and the step after it.
    let mut folder = None;
    if !fresh {
        if let Some(own) = &own {
            crate::ceremony::refresh::start(dir, own, &home.card()?, remove)?;
        }
        let view = folder.insert(Folder::open(dir)?);
        if let Some(what) = crate::ceremony::dkg::nothing_to_do(&home, view) {
            outln!("Nothing new to do: waiting for {what}.");
            return Ok(());
        }
    }
    let u = home.unlock(&g.passphrase)?;
    if let Some(own) = &own {
        crate::ceremony::refresh::start(dir, own, u.identity().card(), remove)?;
        if fresh {
            outln!("Started a share refresh in {}.", crate::text::path(dir));
            outln!("Each keyholder listed below runs the same command (with its own --home) until it says complete:");
            outln!("  frostsign share refresh --dir {} --group GROUP.pub", crate::text::path(dir));
        }
    }
    let command = format!("share refresh --group {}", crate::text::path(group));
    // A removal is never joined unseen: with --yes, the keyholder names the members it agrees to remove.
    let folder = folder.map_or_else(|| Folder::open(dir), Ok)?;
    super::dkg::step_checked(&u, &folder, yes, &command, |c| {
        super::dkg::removals_named(c, yes, remove, |options| {
            format!("to join it with --yes, say so: add {options}; or run without --yes to be asked")
        })
    })
}

/// `share repair --dir DIR --group GROUP.pub --for CARD [--helper NAME...] [--yes]`: a keyholder of the
/// group starts the repair (if DIR holds none) and takes part; the keyholder being repaired or enrolled
/// (the owner of CARD, with a new home if its old one is lost) joins the repair someone started.
pub fn repair(g: &Global, dir: &Path, group: &Path, target: &Path, helpers: &[String], yes: bool) -> Result<()> {
    let given = Group::load(group)?;
    let target = crate::card::Card::load(target)?;
    let home = Home::open(&g.home)?;
    let _lock = home.lock()?;
    let u = home.unlock(&g.passphrase)?;
    let fresh = !dir.join(crate::group::ceremony::CEREMONY_FILE).exists();
    let is_target = u.identity().card().fingerprint() == target.fingerprint();
    if u.home().has_share(&given.fingerprint().compact()) {
        let own = crate::ceremony::refresh::own_copy(u.home(), &given)?;
        crate::ceremony::repair::start(dir, &own, u.identity().card(), &target, helpers)?;
        if fresh {
            outln!("Started a share repair in {} for {}.", crate::text::path(dir), target.label());
            outln!("Every member of the group, and {}, runs the same command until it says complete.", target.name());
        }
    } else if !fresh && !is_target {
        // A member whose share of the group was already retired by this repair: the step says so.
    } else if !is_target {
        return Err(crate::Error::new(format!(
            "your home holds no share of the group {} and you are not {} (--for)",
            given.display_name(),
            target.label()
        ))
        .with_help("check --home; only the group's keyholders and the keyholder being repaired take part"));
    } else if fresh {
        return Err(crate::Error::new(format!("`{}` holds no repair yet", crate::text::path(dir)))
            .with_help("a keyholder of the group starts it with the same command; then run it again"));
    } else {
        // The keyholder being repaired keeps the group file it was given; the ceremony names its
        // fingerprint, which check_joinable compares before anything is done.
        u.keep_group_file(&given)?;
    }
    let command = format!("share repair --group {} --for CARD", crate::text::path(group));
    super::dkg::step_unlocked(&u, &Folder::open(dir)?, yes, &command)
}
