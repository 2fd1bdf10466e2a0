//! `frostsign group ...`: look at a group's public file and at the groups a home holds shares of.

use crate::error::{Error, Result};
use crate::formats::minisign;
use crate::group::Group;
use crate::home::Home;
use std::path::Path;

/// `group show --group GROUP.pub [--json]`.
pub fn show(key: &Path, json: bool) -> Result<()> {
    let g = Group::load(key)?;
    if json {
        super::out::json(&GroupJson::of(&g));
    } else {
        out!("{}", describe(&g));
    }
    Ok(())
}

/// One member in `--json` output.
#[derive(serde::Serialize)]
struct MemberJson {
    identifier: u16,
    name: String,
    fingerprint: String,
}

/// `group show --json`.
#[derive(serde::Serialize)]
struct GroupJson {
    label: Option<String>,
    fingerprint: String,
    version: u32,
    approved: bool,
    threshold: u16,
    members: Vec<MemberJson>,
    group_key: String,
    minisign_key_id: String,
    minisign_public_key: String,
}

impl GroupJson {
    fn of(g: &Group) -> GroupJson {
        GroupJson {
            label: g.label().map(str::to_string),
            fingerprint: g.fingerprint().to_string(),
            version: g.version(),
            // Version 1 is the trust anchor: accepted by every member, approved by nothing else.
            approved: g.version() == 1 || g.approval().is_some(),
            threshold: g.threshold(),
            members: g
                .identifier_numbers()
                .iter()
                .zip(g.members())
                .map(|(id, c)| MemberJson {
                    identifier: *id,
                    name: c.name().to_string(),
                    fingerprint: c.fingerprint().to_string(),
                })
                .collect(),
            group_key: hex::encode(g.key()),
            minisign_key_id: minisign::key_id_display(g.minisign_key_id()),
            minisign_public_key: minisign::public_key_line(g.minisign_key_id(), g.key()),
        }
    }
}

/// `group list --json`: one entry per group.
#[derive(serde::Serialize)]
struct ListedJson {
    fingerprint: String,
    label: Option<String>,
    threshold: u16,
    members: usize,
    version: u32,
    my_identifier: Option<u16>,
}

/// Human description of a group.
pub fn describe(g: &Group) -> String {
    let mut s = String::new();
    s.push_str(&format!("group:       {}\n", g.label().unwrap_or("(no label)")));
    s.push_str(&format!("fingerprint: {}\n", g.fingerprint()));
    if g.version() >= 2 {
        let state = if g.approval().is_some() { "approved by the group" } else { "NOT approved yet: `group approve`" };
        s.push_str(&format!("version:     {} ({state})\n", g.version()));
    }
    s.push_str(&format!(
        "threshold:   {}-of-{} (any {} members together can sign)\n",
        g.threshold(),
        g.members().len(),
        g.threshold()
    ));
    s.push_str("members:\n");
    // Each member under its FROST identifier (a refresh or repair keeps identifiers, so they may skip).
    for (id, c) in g.identifier_numbers().iter().zip(g.members()) {
        s.push_str(&format!("  {id:>3}. {:<24} {}\n", c.name(), c.fingerprint()));
    }
    s.push_str(&format!(
        "minisign public key (id {}):\n  {}\n",
        minisign::key_id_display(g.minisign_key_id()),
        minisign::public_key_line(g.minisign_key_id(), g.key())
    ));
    s
}

/// `group list`: the groups this home holds a share of (no passphrase needed).
pub fn list(home: &Path, json: bool) -> Result<()> {
    let home = Home::open(home)?;
    let found = home.groups_with_share()?;
    if found.is_empty() && json {
        super::out::json(&Vec::<ListedJson>::new());
        return Ok(());
    }
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
    if json {
        let listed: Vec<ListedJson> = groups
            .iter()
            .map(|g| ListedJson {
                fingerprint: g.fingerprint().to_string(),
                label: g.label().map(str::to_string),
                threshold: g.threshold(),
                members: g.members().len(),
                version: g.version(),
                my_identifier: g.member_index(me).map(|i| g.identifier_numbers()[i]),
            })
            .collect();
        super::out::json(&listed);
    }
    for g in groups.iter().filter(|_| !json) {
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

/// `group approve --key NEW.pub --dir DIR`: open the session in which the group approves a new version of
/// its membership.
pub fn approve(key: &Path, dir: &Path, expires_in_hours: Option<u32>) -> Result<()> {
    let validity = expires_in_hours.map(|h| h as i64 * 3600).unwrap_or(crate::ceremony::signing::DEFAULT_VALIDITY_SECS);
    let req = crate::ceremony::signing::coordinator::init_membership(dir, key, validity)?;
    let g = Group::load(key)?;
    let d = crate::text::path(dir);
    outln!("Opened the approval of version {} of the group in {d}:", g.version());
    out!("{}", req.summary(&g));
    outln!(
        "Next: any {} keyholders run `frostsign sign step --dir {d}` (twice: commit, then sign), with",
        g.threshold()
    );
    outln!("`frostsign sign collect --dir {d}` in between. Then publish {d}/group-approved.pub as the group's");
    outln!("group.pub: users who trust an older version accept it with `frostsign group update`.");
    Ok(())
}

/// What `group update --json` prints.
#[derive(serde::Serialize)]
struct UpdateJson {
    accepted: bool,
    from_version: Option<u32>,
    to_version: Option<u32>,
    fingerprint: Option<String>,
    error: Option<String>,
}

/// `group update --from OLD --to NEW [--check]`: accept NEW in place of OLD when the group approved every
/// version from OLD's to NEW's. Returns the exit code (0 accepted, 1 refused, 2 bad input).
pub fn update(from: &Path, to: &Path, check: bool, json: bool) -> Result<i32> {
    let result = check_update(from, to).and_then(|(new, u)| {
        if !check && u.to > u.from {
            crate::fsx::atomic_write(from, new.text().as_bytes(), crate::fsx::PUBLIC_FILE)?;
        }
        Ok((new, u))
    });
    match result {
        Ok((new, u)) => {
            if json {
                super::out::json(&UpdateJson {
                    accepted: true,
                    from_version: Some(u.from),
                    to_version: Some(u.to),
                    fingerprint: Some(new.fingerprint().to_string()),
                    error: None,
                });
                return Ok(0);
            }
            if u.steps.is_empty() {
                outln!("{} is already version {} of the group: nothing to update", crate::text::path(from), u.to);
                return Ok(0);
            }
            for s in &u.steps {
                outln!(
                    "version {}: approved by the group, {}-of-{}, members:",
                    s.version,
                    s.threshold,
                    s.members.len()
                );
                for m in &s.members {
                    outln!("  {}", crate::text::escape(m));
                }
            }
            let verb = if check { "may replace" } else { "replaced" };
            outln!(
                "Accepted: version {} of group {} (fingerprint {}) {verb} version {} in {}",
                u.to,
                new.display_name(),
                new.fingerprint(),
                u.from,
                crate::text::path(from)
            );
            Ok(0)
        }
        Err(e) => {
            if json {
                super::out::json(&UpdateJson {
                    accepted: false,
                    from_version: None,
                    to_version: None,
                    fingerprint: None,
                    error: Some(e.message().to_string()),
                });
            }
            if e.kind() == crate::error::ExitKind::Invalid {
                errln!("error: {e}");
                Ok(1)
            } else {
                Err(e)
            }
        }
    }
}

/// Load both files and check the update; a NEW that is not a valid group file is refused like one whose
/// chain fails (exit 1): it does not prove itself.
fn check_update(from: &Path, to: &Path) -> Result<(Group, crate::group::membership::Update)> {
    let old = Group::load(from)?;
    let text = crate::fsx::read_text(to, crate::group::MAX_GROUP_BYTES)?;
    let new = Group::parse(&text).map_err(|e| {
        Error::invalid(format!("`{}` is not a valid group file: {e}", crate::text::path(to)))
            .with_help("keep the group file you trust; ask the group for its published group.pub")
    })?;
    let update = crate::group::membership::check_update(&old, &new).map_err(|why| {
        let e = Error::invalid(format!("refusing `{}` in place of `{}`: {why}", crate::text::path(to), crate::text::path(from)));
        match why {
            crate::group::membership::UpdateRefused::NotApproved { .. } => e.with_help(
                "ask the keyholders to approve it (`frostsign group approve`, `sign step`, `sign collect`) and publish group-approved.pub",
            ),
            crate::group::membership::UpdateRefused::OtherKey => e.with_help(
                "a group that moved to a new key publishes a rotation statement signed by the old key; keep the file you trust",
            ),
            _ => e.with_help("keep the group file you trust and ask the group what happened"),
        }
    })?;
    Ok((new, update))
}

/// `group rotate --from OLD.pub --to NEW.pub --reason TEXT --dir DIR`: write the rotation statement and
/// open the two sessions that sign it.
pub fn rotate(from: &Path, to: &Path, reason: &str, dir: &Path, expires_in_hours: Option<u32>) -> Result<()> {
    let validity = expires_in_hours.map(|h| h as i64 * 3600).unwrap_or(crate::ceremony::signing::DEFAULT_VALIDITY_SECS);
    let (old_req, new_req) = crate::ceremony::signing::coordinator::init_rotation(dir, from, to, reason, validity)?;
    let (old, new) = (Group::load(from)?, Group::load(to)?);
    let d = crate::text::path(dir);
    outln!("Wrote the rotation statement {d}/rotation.txt and opened its two signing sessions:");
    for (role, req, g) in [("old", &old_req, &old), ("new", &new_req, &new)] {
        outln!("{d}/{role}: any {} keyholders of {} sign:", g.threshold(), g.display_name());
        out!("{}", req.summary(g));
    }
    outln!("Next, in each of {d}/old and {d}/new: t keyholders of that group run `frostsign sign step --dir SESSION`");
    outln!("(three times), with `frostsign sign collect --dir SESSION --out {d}` in between. Then publish");
    outln!("{d}/rotation.txt, rotation.txt.old.minisig and rotation.txt.new.minisig together: users who trust");
    outln!(
        "the old key verify the new key's signatures with `frostsign verify --key OLD --follow-rotation rotation.txt`."
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
    outln!("Publish it on your project's own HTTPS site, and publish its sha256 above where users can compare it:");
    outln!("any copy can show any fingerprint, so the fingerprint it shows proves nothing on its own.");
    Ok(())
}
