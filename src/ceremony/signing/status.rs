//! `sign status`: progress of a session and, once done, its audit. Needs no home and no secret.
//!
//! The audit re-verifies every keyholder's signed attestation (the digests it computed from its own
//! copy) with the keyholder's card from the group file, and every finished signature with the group key
//! against the request's digests and trusted comments.

use super::coordinator::Session;
use super::{current_attempt, excluded, names, AttestedArtifact, Format, PackageFile, KIND_SHARE};
use crate::error::Result;
use crate::exchange::message::Expect;
use crate::formats::minisign::{self, MinisignSignature};
use serde::Serialize;
use std::path::Path;

/// The whole status.
#[derive(Debug, Serialize)]
pub struct SignStatus {
    /// Session id (hex).
    pub session: String,
    /// Group fingerprint.
    pub group: String,
    /// Group label.
    pub label: Option<String>,
    /// t.
    pub threshold: u16,
    /// Current attempt.
    pub attempt: u32,
    /// Expiry.
    pub expires: String,
    /// Per member.
    pub members: Vec<MemberStatus>,
    /// Per artifact.
    pub artifacts: Vec<ArtifactStatus>,
    /// True when every signature file exists and verifies.
    pub done: bool,
    /// Who has something left to do.
    pub waiting_for: Vec<String>,
    /// Problems found.
    pub problems: Vec<String>,
}

/// One member's part.
#[derive(Debug, Serialize)]
pub struct MemberStatus {
    /// Name.
    pub name: String,
    /// Fingerprint.
    pub fingerprint: String,
    /// Committed in the current attempt.
    pub committed: bool,
    /// The attested digests equal the request's (None if not committed).
    pub attested_match: Option<bool>,
    /// Chosen as a signer in the current attempt.
    pub chosen: bool,
    /// Phase-1 shares present.
    pub phase1: bool,
    /// Phase-2 shares present.
    pub phase2: bool,
}

/// One artifact.
#[derive(Debug, Serialize)]
pub struct ArtifactStatus {
    /// Name.
    pub name: String,
    /// Size.
    pub size: u64,
    /// SHA-256 hex.
    pub sha256: String,
    /// Signature file.
    pub signature: String,
    /// Signature present and valid.
    pub valid: bool,
}

/// Compute the status of the session in `dir`.
pub fn status(dir: &Path) -> Result<SignStatus> {
    let s = Session::load(dir)?;
    let a = current_attempt(dir)?;
    let left_out = excluded(dir, a, &s.group)?;
    let mut problems = Vec::new();
    let commits = match s.commitments(a) {
        Ok(c) => c,
        Err(e) => {
            problems.push(e.message().to_string());
            Default::default()
        }
    };
    let read_pkg = |p: u8| -> Option<PackageFile> {
        let path = dir.join(names::package(a, p));
        let text = crate::fsx::read_text(&path, 64 * 1024 * 1024).ok()?;
        PackageFile::parse(&text, &s.group).ok()
    };
    let pkgs = [read_pkg(1), read_pkg(2)];
    let mut members = Vec::new();
    for (i, card) in s.group.members().iter().enumerate() {
        let attested_match = commits.get(&i).map(|p| {
            p.artifacts.len() == s.req.artifacts().len()
                && p.artifacts
                    .iter()
                    .zip(s.req.artifacts())
                    .all(|(x, y)| *x == AttestedArtifact::new(&y.name, &y.digests))
        });
        if attested_match == Some(false) {
            problems.push(format!("{} attested digests that differ from the request", card.name()));
        }
        let mut phase = [false, false];
        for p in [1u8, 2] {
            let Some(pkg) = &pkgs[p as usize - 1] else { continue };
            if !pkg.signers.contains(&i) {
                continue;
            }
            let round = names::share_round(a, p);
            let e = Expect { kind: KIND_SHARE, ceremony: s.req.digest(), round: &round, private: false };
            match s.folder.receive(&names::share(a, p, card), &e, s.group.members(), i, None) {
                Ok(r) => phase[p as usize - 1] = r.is_some(),
                Err(e) => problems.push(e.message().to_string()),
            }
        }
        members.push(MemberStatus {
            name: card.name().into(),
            fingerprint: card.fingerprint().to_string(),
            committed: commits.contains_key(&i),
            attested_match,
            chosen: pkgs[0].as_ref().map(|p| p.signers.contains(&i)).unwrap_or(false),
            phase1: phase[0],
            phase2: phase[1],
        });
    }
    let key_id = minisign::key_id(s.group.key());
    let mut artifacts = Vec::new();
    for art in s.req.artifacts() {
        let sig_name = format!("{}.minisig", art.name);
        let valid = s.req.formats().contains(&Format::Minisign)
            && crate::fsx::read_text(&dir.join(&sig_name), 64 * 1024)
                .ok()
                .and_then(|t| MinisignSignature::parse(&t).ok())
                .map(|sig| {
                    sig.trusted_comment == s.req.trusted_comment(art)
                        && crate::verify::check_minisign(s.group.key(), &key_id, &art.digests.blake2b, &sig).is_ok()
                })
                .unwrap_or(false);
        if dir.join(&sig_name).exists() && !valid {
            problems.push(format!("{sig_name} does not verify against the request and the group key"));
        }
        artifacts.push(ArtifactStatus {
            name: art.name.clone(),
            size: art.digests.size,
            sha256: hex::encode(art.digests.sha256),
            signature: sig_name,
            valid,
        });
    }
    let done = artifacts.iter().all(|x| x.valid);
    let waiting_for = if done {
        Vec::new()
    } else {
        match &pkgs[0] {
            None => members
                .iter()
                .enumerate()
                .filter(|(i, m)| !m.committed && !left_out.contains(i))
                .map(|(_, m)| m.name.clone())
                .collect(),
            Some(_) => members
                .iter()
                .filter(|m| m.chosen && (!m.phase1 || (s.req.phase2_count() > 0 && pkgs[1].is_some() && !m.phase2)))
                .map(|m| m.name.clone())
                .chain(std::iter::once("the coordinator (`frostsign sign collect`)".to_string()))
                .collect(),
        }
    };
    Ok(SignStatus {
        session: hex::encode(s.req.session()),
        group: s.group.fingerprint().to_string(),
        label: s.group.label().map(str::to_string),
        threshold: s.group.threshold(),
        attempt: a,
        expires: crate::clock::format(s.req.expires()),
        members,
        artifacts,
        done,
        waiting_for,
        problems,
    })
}
