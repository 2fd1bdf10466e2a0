//! `frostsign group ...`: look at a group's public file and at the groups a home holds shares of.

use super::Global;
use crate::error::{Error, Result};
use crate::formats::minisign;
use crate::group::Group;
use crate::home::Home;
use std::path::Path;

/// `group show --key GROUP.pub`.
pub fn show(key: &Path) -> Result<()> {
    let g = Group::load(key)?;
    out!("{}", describe(&g));
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
        minisign::key_id_display(g.minisign_key_id()),
        minisign::public_key_line(g.minisign_key_id(), g.key())
    ));
    s
}

/// `group list`: the groups this home holds a share of (no passphrase needed).
pub fn list(g: &Global) -> Result<()> {
    let home = Home::open(&g.home)?;
    let found = home.groups_with_share()?;
    if found.is_empty() {
        outln!("This home holds no group share yet (run `frostsign dkg step` in a key generation ceremony).");
        return Ok(());
    }
    let (mut groups, mut damaged) = (Vec::new(), Vec::new());
    for (gfp, g) in found {
        match g {
            Ok(g) => groups.push(g),
            Err(e) => damaged.push((gfp, e)),
        }
    }
    groups.sort_by_key(|g| g.display_name());
    let me = home.card()?.fingerprint();
    for g in &groups {
        let idx =
            g.member_index(me).map(|i| format!("member {}", g.identifier_numbers()[i])).unwrap_or_else(|| "?".into());
        outln!("{}  {}-of-{}  {}  ({idx})", g.fingerprint(), g.threshold(), g.members().len(), g.display_name());
    }
    for (gfp, e) in &damaged {
        errln!("warning: the home's copy of group {gfp} cannot be read: {}", e.message());
    }
    if let Some((gfp, _)) = damaged.first() {
        return Err(Error::new(format!("{} of this home's group files cannot be read", damaged.len())).with_help(
            format!("restore the home from a backup (`frostsign holder restore`), or ask a co-keyholder for group {gfp}'s group.pub and compare fingerprints"),
        ));
    }
    Ok(())
}

/// A principal for allowed_signers from free text: letters, digits and `._@+-`; anything else becomes `-`.
pub fn principal_from(text: &str) -> String {
    let p: String =
        text.chars().map(|c| if c.is_ascii_alphanumeric() || "._@+-".contains(c) { c } else { '-' }).collect();
    let p = p.trim_matches('-').to_string();
    if p.is_empty() {
        "frostsign-group".into()
    } else {
        p
    }
}

/// `group export --key GROUP.pub --format F [--out FILE] [--principal P]`: what users paste or import.
/// Deterministic: the same bytes from any keyholder's copy of group.pub.
pub fn export(key: &Path, format: &str, out: Option<&Path>, principal: Option<&str>) -> Result<()> {
    let g = Group::load(key)?;
    let fpr = g.fingerprint().compact();
    let text = match format {
        "minisign" => minisign::public_key_file(g.minisign_key_id(), g.key()).replacen(
            "untrusted comment: minisign public key",
            &format!("untrusted comment: frostsign group {fpr} minisign public key"),
            1,
        ),
        "signify" => crate::formats::signify::public_key_file(
            g.key(),
            g.minisign_key_id(),
            &format!("frostsign group {fpr} signify public key"),
        ),
        "ssh" => format!("{}\n", crate::formats::ssh::public_key_line(g.key(), &format!("frostsign-group-{fpr}"))),
        "allowed-signers" => {
            if let Some(p) = principal {
                if p.is_empty() || p.contains(char::is_whitespace) || p.contains(char::is_control) {
                    return Err(Error::new("invalid --principal: one word, e.g. releases@example.org"));
                }
            }
            let p = principal.map(str::to_string).unwrap_or_else(|| principal_from(g.label().unwrap_or(&fpr)));
            format!("{}\n", crate::formats::ssh::allowed_signers_line(&p, g.key()))
        }
        "openpgp" => crate::group::OpenPgpIdentity::load_beside(key, &g)?
            .ok_or_else(|| {
                Error::new(format!(
                    "the group has no OpenPGP key yet (`{}` is missing)",
                    crate::text::path(&crate::group::OpenPgpIdentity::path_for(key))
                ))
                .with_help("enable it once: `frostsign group openpgp-init --key GROUP.pub --uid \"Name <email>\" --dir DIR`, sign that session, and put the resulting group.openpgp beside group.pub")
            })?
            .armored_public_key(),
        other => {
            return Err(Error::new(format!("unknown export format `{other}`"))
                .with_help("known formats: minisign, ssh, allowed-signers, openpgp, signify"));
        }
    };
    match out {
        Some(path) => crate::fsx::atomic_write(path, text.as_bytes(), crate::fsx::PUBLIC_FILE)?,
        None => out!("{text}"),
    }
    Ok(())
}

/// `group openpgp-init --key GROUP.pub --uid UID --dir DIR`: open the session that certifies the group's
/// OpenPGP key.
pub fn openpgp_init(key: &Path, uid: &str, dir: &Path, expires_in_hours: Option<u32>) -> Result<()> {
    let validity = expires_in_hours.map(|h| h as i64 * 3600).unwrap_or(crate::ceremony::signing::DEFAULT_VALIDITY_SECS);
    let req = crate::ceremony::signing::coordinator::init_openpgp(dir, key, uid, validity)?;
    let g = Group::load(key)?;
    outln!("Opened the OpenPGP certification session in {}:", crate::text::path(dir));
    out!("{}", req.summary(&g));
    outln!(
        "Next: any {} keyholders run `frostsign sign step --dir {}` (twice: commit, then sign), with",
        g.threshold(),
        crate::text::path(dir)
    );
    outln!(
        "`frostsign sign collect --dir {}` in between. Then copy {}/group.openpgp",
        crate::text::path(dir),
        crate::text::path(dir)
    );
    outln!(
        "next to {} (as {}); every later `group export --format openpgp` is byte-identical.",
        crate::text::path(key),
        crate::text::path(&crate::group::OpenPgpIdentity::path_for(key))
    );
    Ok(())
}

/// What `group page --json` prints.
#[derive(serde::Serialize)]
struct PageWritten {
    out: String,
    bytes: usize,
    sha256: String,
    group: String,
    fingerprint: String,
}

/// `group page --key GROUP.pub --out FILE [--title TEXT]`: write the offline verification page.
pub fn page(key: &Path, out: &Path, title: Option<&str>, json: bool) -> Result<()> {
    use sha2::Digest;
    let g = Group::load(key)?;
    let html = crate::page::render(&g, title)?;
    let exists = || {
        Error::file(out, "already exists; refusing to overwrite it")
            .with_help("give --out a new file name, or move the old file away first")
    };
    if std::fs::symlink_metadata(out).is_ok() {
        return Err(exists());
    }
    if !crate::fsx::atomic_create(out, html.as_bytes(), crate::fsx::PUBLIC_FILE)? {
        return Err(exists());
    }
    let sha256 = hex::encode(sha2::Sha256::digest(html.as_bytes()));
    if json {
        super::out::json(&PageWritten {
            out: out.to_string_lossy().into_owned(),
            bytes: html.len(),
            sha256,
            group: g.display_name(),
            fingerprint: g.fingerprint().to_string(),
        });
        return Ok(());
    }
    outln!("Wrote the verification page for {} to {}", g.display_name(), crate::text::path(out));
    outln!("fingerprint: {}", g.fingerprint());
    outln!("sha256:      {sha256}  ({} bytes)", html.len());
    outln!("It works offline: open it from a file:// address or publish it on any static host.");
    outln!("Users should compare the fingerprint it shows with the one you publish elsewhere.");
    Ok(())
}
