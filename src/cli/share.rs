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
    let u = home.unlock(&g.passphrase)?;
    let fresh = !dir.join(crate::group::ceremony::CEREMONY_FILE).exists();
    let own = if fresh || u.home().has_share(&given.fingerprint().compact()) {
        Some(crate::ceremony::refresh::own_copy(&u, &given)?)
    } else {
        None
    };
    if let Some(own) = &own {
        crate::ceremony::refresh::start(dir, own, u.identity().card(), remove)?;
        if fresh {
            outln!("Started a share refresh in {}.", crate::text::path(dir));
            outln!("Each keyholder listed below runs the same command (with its own --home) until it says complete:");
            outln!("  frostsign share refresh --dir {} --group GROUP.pub", crate::text::path(dir));
        }
    }
    let command = format!("share refresh --group {}", crate::text::path(group));
    super::dkg::step_unlocked(&u, &Folder::open(dir)?, yes, &command)
}
