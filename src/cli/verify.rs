//! `frostsign verify`: check a finished signature with one public key. No home, no secret.

use crate::error::{ExitKind, Result};
use crate::formats::minisign;
use crate::verify::{self, Verified};
use std::path::Path;

/// Where the trusted key comes from: never ambiguous (see [`verify::load_key_file`]).
#[derive(Clone, Copy, Debug)]
pub enum KeyArg<'a> {
    /// `--key FILE`: group.pub or an exported key file.
    File(&'a Path),
    /// `--key-line TEXT`: the key itself.
    Line(&'a str),
}

/// Verify and print; returns the exit code (0 valid, 1 invalid, 2 bad input).
pub fn verify(
    key: KeyArg<'_>,
    artifact: &Path,
    sig: Option<&Path>,
    json: bool,
    rotations: &[std::path::PathBuf],
) -> Result<i32> {
    // JSON gets the path as given (serde escapes it; `out::json` makes it terminal-safe).
    let file = artifact.to_string_lossy().into_owned();
    let sig_path = match sig {
        Some(p) => Ok(p.to_path_buf()),
        None => verify::default_signature(artifact),
    };
    let result = sig_path.clone().and_then(|sp| {
        let mut k = match key {
            KeyArg::File(path) => verify::load_key_file(path)?,
            KeyArg::Line(line) => verify::load_key_line(line)?,
        };
        let mut followed = Vec::new();
        for statement in rotations {
            let (next, r) = verify::follow_rotation(&k, statement)?;
            followed.push(r);
            k = next;
        }
        let outcome = verify::verify_file(&k, artifact, &sp)?;
        Ok((k, outcome, followed))
    });
    let signature = sig_path.ok().map(|p| p.to_string_lossy().into_owned());
    match result {
        Ok((k, o, followed)) => {
            if json {
                let v = Verified {
                    valid: true,
                    format: Some(o.format),
                    // The id the signature was checked under; else the key's own, else the one frostsign derives.
                    key_id: minisign::key_id_display(
                        &o.key_id.or(k.key_id).unwrap_or_else(|| minisign::key_id(&k.key)),
                    ),
                    trusted_comment: o.trusted_comment,
                    file,
                    signature,
                    error: None,
                    rotations: followed.iter().map(|r| format!("{} -> {}", r.old.group, r.new.group)).collect(),
                };
                super::out::json(&v);
            } else {
                if o.format == "minisign" {
                    outln!("Signature and comment signature verified");
                } else {
                    outln!("Signature verified");
                }
                outln!("{}", o.detail);
                for r in &followed {
                    outln!(
                        "Key rotated on {} from group {} to group {} ({}-of-{}): signed by both; reason: {}",
                        crate::clock::format(r.date),
                        r.old.group,
                        r.new.group,
                        r.new_threshold,
                        r.new_members.len(),
                        crate::text::escape(&r.reason)
                    );
                }
                if let Some(g) = &k.group {
                    outln!(
                        "Signed by group {} ({}-of-{}, fingerprint {})",
                        g.display_name(),
                        g.threshold(),
                        g.members().len(),
                        g.fingerprint()
                    );
                }
            }
            Ok(0)
        }
        Err(e) => {
            if json {
                let v = Verified {
                    valid: false,
                    format: None,
                    key_id: String::new(),
                    trusted_comment: None,
                    file,
                    signature,
                    error: Some(e.message().to_string()),
                    rotations: Vec::new(),
                };
                super::out::json(&v);
            }
            if e.kind() == ExitKind::Invalid {
                errln!("error: {e}");
                Ok(1)
            } else {
                Err(e)
            }
        }
    }
}
