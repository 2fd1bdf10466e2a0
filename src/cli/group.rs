//! `frostsign group ...`: look at a group's public file and at the groups a home holds shares of.

use super::Global;
use crate::ceremony::dkg::group_rel;
use crate::error::{Error, Result};
use crate::formats::minisign;
use crate::group::Group;
use crate::home::Home;
use std::path::Path;

/// `group show --key GROUP.pub`.
pub fn show(key: &Path) -> Result<()> {
    let g = Group::load(key)?;
    print!("{}", describe(&g));
    Ok(())
}

/// Human description of a group.
pub fn describe(g: &Group) -> String {
    let mut s = String::new();
    s.push_str(&format!("group:       {}\n", g.label().unwrap_or("(no label)")));
    s.push_str(&format!("fingerprint: {}\n", g.fingerprint()));
    s.push_str(&format!(
        "threshold:   {}-of-{} (any {} members together can sign)\n",
        g.threshold(),
        g.members().len(),
        g.threshold()
    ));
    s.push_str("members:\n");
    for (i, c) in g.members().iter().enumerate() {
        s.push_str(&format!("  {:>3}. {:<24} {}\n", i + 1, c.name(), c.fingerprint()));
    }
    s.push_str(&format!(
        "minisign public key (id {}):\n  {}\n",
        minisign::key_id_display(&minisign::key_id(g.key())),
        minisign::public_key_line(g.key())
    ));
    s
}

/// `group list`: the groups this home holds a share of (no passphrase needed).
pub fn list(g: &Global) -> Result<()> {
    let home = Home::open(&g.home)?;
    let dir = home.path("groups");
    let mut groups = Vec::new();
    if dir.is_dir() {
        let rd = std::fs::read_dir(&dir).map_err(|e| Error::io("list", &dir, e))?;
        for entry in rd.filter_map(|e| e.ok()) {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(gfp) = name.strip_suffix(".pub") {
                let group = Group::load(&home.path(&group_rel(gfp)))?;
                if home.path(&crate::ceremony::dkg::share_rel(gfp)).exists() {
                    groups.push(group);
                }
            }
        }
    }
    if groups.is_empty() {
        println!("This home holds no group share yet (run `frostsign dkg step` in a key generation ceremony).");
        return Ok(());
    }
    groups.sort_by_key(|g| g.display_name());
    let me = home.card()?.fingerprint();
    for g in &groups {
        let idx = g.member_index(me).map(|i| format!("member {}", i + 1)).unwrap_or_else(|| "?".into());
        println!("{}  {}-of-{}  {}  ({idx})", g.fingerprint(), g.threshold(), g.members().len(), g.display_name());
    }
    Ok(())
}

/// `group export --key GROUP.pub --format F [--out FILE]`: what users paste or import. Deterministic.
pub fn export(key: &Path, format: &str, out: Option<&Path>) -> Result<()> {
    let g = Group::load(key)?;
    let text = match format {
        "minisign" => minisign::public_key_file(g.key()).replacen(
            "untrusted comment: minisign public key",
            &format!("untrusted comment: frostsign group {} minisign public key", g.fingerprint().compact()),
            1,
        ),
        other => {
            return Err(Error::new(format!("unknown export format `{other}`")).with_help("known formats: minisign"));
        }
    };
    match out {
        Some(path) => crate::fsx::atomic_write(path, text.as_bytes(), crate::fsx::PUBLIC_FILE)?,
        None => print!("{text}"),
    }
    Ok(())
}
