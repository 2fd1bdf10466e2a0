//! `sign status`: progress of a session and, once done, its audit. Needs no home and no secret.
//!
//! The audit re-verifies every keyholder's signed attestation (the digests it computed from its own
//! copy) with the keyholder's card from the group file, and every finished signature with the group key
//! against the request's digests and trusted comments.

use super::coordinator::Session;
use super::{current_attempt, excluded, names, AttestedArtifact, Output, PackageFile, Request, KIND_SHARE};
use crate::error::Result;
use crate::exchange::message::Expect;
use crate::formats::minisign::{self, MinisignSignature};
use crate::formats::{openpgp, signify, ssh};
use crate::group::{Group, OpenPgpIdentity};
use serde::Serialize;
use sha2::Digest;
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
    /// Every file the session produces, and whether it is there and verifies.
    pub outputs: Vec<OutputStatus>,
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
    /// The digests this keyholder attests it computed from its own copy, signed with its identity key.
    pub attested: Vec<AttestedArtifact>,
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

/// One output file of the session.
#[derive(Debug, Serialize)]
pub struct OutputStatus {
    /// File name in the session folder.
    pub file: String,
    /// Format.
    pub format: &'static str,
    /// Index of the artifact it signs, if it signs one.
    #[serde(skip)]
    pub artifact: Option<usize>,
    /// Present and valid for this request and group.
    pub valid: bool,
}

/// Check every output file against the request (its digests, not the artifacts) and the group key.
pub fn check_outputs(req: &Request, group: &Group, dir: &Path) -> Vec<OutputStatus> {
    let key = group.key();
    let key_id = minisign::key_id(key);
    let ev = req.evidence();
    let read = |name: &str| crate::fsx::read_text_untrusted(&dir.join(name), 1024 * 1024).ok();
    let identity = || {
        read("group.openpgp")
            .and_then(|t| OpenPgpIdentity::parse(&t, group).ok())
            .filter(|id| Some(id.key) == req.openpgp_key() && Some(id.uid.as_str()) == req.openpgp_uid())
    };
    req.outputs()
        .into_iter()
        .map(|(output, file)| {
            let text = read(&file);
            let valid = text.is_some_and(|t| match output {
                Output::Minisign(k) => {
                    let a = &req.artifacts()[k];
                    MinisignSignature::parse(&t).is_ok_and(|sig| {
                        sig.trusted_comment == req.trusted_comment(a)
                            && crate::verify::check_minisign(key, &key_id, &a.digests.blake2b, &sig).is_ok()
                    })
                }
                Output::Ssh(k) => ssh::parse_signature(&t).is_ok_and(|sig| {
                    sig.hash == "sha256"
                        && crate::verify::check_ssh(key, "file", &req.artifacts()[k].digests.sha256, &sig).is_ok()
                }),
                Output::Openpgp(k) => openpgp::parse_signature(&t).is_ok_and(|sig| {
                    Some(sig.trailer()) == req.openpgp_file_trailer()
                        && crate::verify::check_openpgp(key, &ev.openpgp[k], &sig).is_ok()
                }),
                Output::SignifyManifest => signify::parse_signed_manifest(&t).is_ok_and(|sm| {
                    sm.manifest == req.manifest(&ev) && crate::verify::check_manifest(key, &key_id, &sm).is_ok()
                }),
                Output::OpenpgpIdentity => identity().is_some(),
                Output::OpenpgpPublicKey => identity().is_some_and(|id| t == id.armored_public_key()),
                Output::GitTag => {
                    let payload = String::from_utf8(req.git().expect("checked shape").payload()).unwrap_or_default();
                    t.strip_prefix(&payload).and_then(|sig| ssh::parse_signature(sig).ok()).is_some_and(|sig| {
                        let digest: [u8; 32] = sha2::Sha256::digest(payload.as_bytes()).into();
                        sig.hash == "sha256" && crate::verify::check_ssh(key, "git", &digest, &sig).is_ok()
                    })
                }
            });
            OutputStatus { file, format: output.format(), artifact: output.artifact(), valid }
        })
        .collect()
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
        let text = crate::fsx::read_text_untrusted(&path, 64 * 1024 * 1024).ok()?;
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
            attested: commits.get(&i).map(|p| p.artifacts.clone()).unwrap_or_default(),
            attested_match,
            chosen: pkgs[0].as_ref().map(|p| p.signers.contains(&i)).unwrap_or(false),
            phase1: phase[0],
            phase2: phase[1],
        });
    }
    let outputs = check_outputs(&s.req, &s.group, dir);
    for o in &outputs {
        if dir.join(&o.file).exists() && !o.valid {
            problems.push(format!("{} does not verify against the request and the group key", o.file));
        }
    }
    let mut artifacts = Vec::new();
    for (k, art) in s.req.artifacts().iter().enumerate() {
        let mine: Vec<&OutputStatus> = outputs.iter().filter(|o| o.artifact == Some(k)).collect();
        artifacts.push(ArtifactStatus {
            name: art.name.clone(),
            size: art.digests.size,
            sha256: hex::encode(art.digests.sha256),
            signature: mine.iter().map(|o| o.file.as_str()).collect::<Vec<_>>().join(", "),
            valid: mine.iter().all(|o| o.valid),
        });
    }
    let done = outputs.iter().all(|o| o.valid);
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
        outputs,
        done,
        waiting_for,
        problems,
    })
}
