//! `sign status`: progress of a session and, once done, its audit. Needs no home and no secret.
//!
//! The audit re-verifies every keyholder's signed attestation (the digests it computed from its own
//! copy) with the keyholder's card from the group file, and every finished signature with the group key
//! against the request's digests and trusted comments.
//!
//! Every verdict rests on signed files only (and on the request and group, which are checked): a file that
//! is unreadable, not validly signed by the keyholder its name belongs to, or not a file of this session
//! is a stray. Strays are listed with their reason and never fail the session by themselves; a stray under
//! a keyholder's name means that keyholder's file is not there yet. A keyholder is named a culprit only
//! for a malformed file it validly signed.

use super::coordinator::{reason_of, Culprit, Round, Session, Stray};
use super::{current_attempt, excluded, is_session_file, names, Attested, Commitment, PackageFile, Phase, Request};
use crate::error::Result;
use crate::exchange::message::{peek, MAX_MESSAGE_BYTES};
use crate::group::{Group, OpenPgpIdentity};
use serde::Serialize;
use std::collections::BTreeSet;
use std::path::Path;

/// Most strays listed one by one (a folder may hold any number of files).
const MAX_STRAYS: usize = 100;

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
    /// True when the request expired before the session was done (a problem: nothing more will come).
    pub expired: bool,
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
    /// Problems found in signed files (each one fails the session until it is done).
    pub problems: Vec<String>,
    /// Keyholders who validly signed a malformed file, with the file and what is wrong.
    pub culprits: Vec<Culprit>,
    /// Files that do not count, and why; they change no verdict.
    pub strays: Vec<Stray>,
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
    pub attested: Vec<Attested>,
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
    let read = |name: &str| crate::fsx::read_text_untrusted(&dir.join(name), 1024 * 1024).ok();
    let identity = read("group.openpgp")
        .and_then(|t| OpenPgpIdentity::parse(&t, group).ok())
        .filter(|id| Some(id.key) == req.openpgp_key() && Some(id.uid.as_str()) == req.openpgp_uid());
    req.plan()
        .outputs
        .into_iter()
        .map(|planned| {
            let valid = read(&planned.name).is_some_and(|t| planned.is_valid(req, group, identity.as_ref(), &t));
            let output = planned.output;
            OutputStatus { file: planned.name, format: output.format(), artifact: output.artifact(), valid }
        })
        .collect()
}

/// Every file name a session at attempt `a` knows: its own files of every attempt so far, its outputs, and
/// its artifacts (a session may be opened in the artifacts' folder).
fn known_files(s: &Session, a: u32) -> BTreeSet<String> {
    let mut known: BTreeSet<String> = [
        super::REQUEST_FILE,
        super::GROUP_COPY,
        crate::exchange::git::MARKER_FILE,
        crate::exchange::git::ATTRIBUTES_FILE,
    ]
    .map(String::from)
    .into();
    for att in 1..=a {
        if att >= 2 {
            known.insert(names::restart(att));
        }
        for p in Phase::ALL {
            known.insert(names::package(att, p));
        }
        for card in s.group.members() {
            known.insert(names::commit(att, card));
            known.extend(Phase::ALL.map(|p| names::share(att, p, card)));
        }
    }
    known.extend(s.req.outputs().into_iter().map(|(_, f)| f));
    known.extend(s.req.artifacts().iter().map(|a| a.name.to_string()));
    known
}

/// Files in the folder that the session does not know, each with what it is. Read only as far as a
/// bounded read that follows no link and never blocks allows.
fn unknown_files(s: &Session, a: u32) -> Vec<Stray> {
    let known = known_files(s, a);
    let Ok(entries) = std::fs::read_dir(s.folder.dir()) else { return Vec::new() };
    let mut found: Vec<(String, std::fs::DirEntry)> = entries
        .flatten()
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e))
        .filter(|(name, e)| !(known.contains(name) && e.file_name().to_str().is_some()))
        .collect();
    found.sort_by(|x, y| x.0.cmp(&y.0));
    let more = found.len().saturating_sub(MAX_STRAYS);
    let mut out: Vec<Stray> = found
        .into_iter()
        .take(MAX_STRAYS)
        .map(|(name, e)| {
            let reason = match e.file_type() {
                Ok(t) if t.is_dir() => "a folder this session does not use".to_string(),
                Ok(t) if t.is_symlink() => "a symbolic link this session does not use (not followed)".to_string(),
                _ => match crate::fsx::read_text_untrusted(&e.path(), MAX_MESSAGE_BYTES) {
                    Err(err) => reason_of(&err, &e.path()),
                    Ok(text) => match peek(&text, s.group.members(), s.req.digest()) {
                        Some((sender, _, kind, round)) => format!(
                            "a `{kind}` message signed by {} for round `{round}`, under a name this session does not use (renamed?)",
                            s.group.members()[sender].name()
                        ),
                        None if is_session_file(&name) => "not a file of this attempt or of this session".to_string(),
                        None => "not a file of this session".to_string(),
                    },
                },
            };
            Stray::new(&name, &reason)
        })
        .collect();
    if more > 0 {
        out.push(Stray::new("…", &format!("{more} more files this session does not know (not read)")));
    }
    out
}

/// The package of phase `p`, if it is there and belongs to this attempt; anything else there is a stray.
fn package(s: &Session, a: u32, p: Phase, strays: &mut Vec<Stray>) -> Option<PackageFile> {
    let name = names::package(a, p);
    let path = s.folder.path(&name);
    std::fs::symlink_metadata(&path).ok()?;
    let pkg = crate::fsx::read_text_untrusted(&path, super::MAX_PACKAGE_BYTES)
        .map_err(|e| reason_of(&e, &path))
        .and_then(|t| PackageFile::parse(&t, &s.group).map_err(|e| format!("not a valid signing package: {e}")))
        .and_then(|pkg| {
            let ok = pkg.session == *s.req.digest() && pkg.attempt == a && pkg.phase == p;
            if ok {
                Ok(pkg)
            } else {
                Err("belongs to another session, attempt or phase".to_string())
            }
        });
    pkg.map_err(|reason| strays.push(Stray::new(&name, &reason))).ok()
}

/// The problem line of a culprit: what is wrong, and what to do.
fn culprit_problem(c: &Culprit) -> String {
    format!(
        "{} (culprit: {}); `sign collect` does not use it; if too few keyholders remain: `frostsign sign collect --dir DIR --restart --without \"{}\"`",
        c.describe(),
        c.keyholder,
        c.keyholder
    )
}

/// Compute the status of the session in `dir`.
pub fn status(dir: &Path) -> Result<SignStatus> {
    let s = Session::load(dir)?;
    let a = current_attempt(dir)?;
    let mut strays = Vec::new();
    let left_out = excluded(dir, a, &s.group).unwrap_or_else(|e| {
        let file = names::restart(a);
        strays.push(Stray::new(&file, &reason_of(&e, &dir.join(&file))));
        Vec::new()
    });
    let commits: Round<Commitment> = s.commitments(a);
    let mut culprits: Vec<Culprit> = commits.culprits.values().cloned().collect();
    strays.extend(commits.strays.values().cloned());
    let pkgs = Phase::ALL.map(|p| package(&s, a, p, &mut strays));
    let mut phase_done = [BTreeSet::new(), BTreeSet::new()];
    let mut other_package = Vec::new();
    for (p, pkg) in pkgs.iter().enumerate() {
        let Some(pkg) = pkg else { continue };
        let foreign = super::coordinator::foreign_commitments(&s, pkg, &commits);
        if !foreign.is_empty() {
            let who: Vec<&str> = foreign.iter().map(|&i| s.group.members()[i].name()).collect();
            other_package.push(format!(
                "`{}` does not hold the commitments {} published (another coordinator's view, or edited): if no signer answered it, remove it and run `frostsign sign collect` again; else `frostsign sign collect --dir {} --restart`",
                names::package(a, pkg.phase),
                who.join(", "),
                crate::text::path(dir)
            ));
        }
        let shares = s.shares(pkg);
        let answered = super::coordinator::answered_another_package(&shares.strays);
        if !answered.is_empty() {
            other_package.push(format!(
                "{} signed another phase-{} package than the folder's: put back the package they signed, or open a fresh attempt with `frostsign sign collect --dir {} --restart`",
                answered.join(", "),
                p + 1,
                crate::text::path(dir)
            ));
        }
        phase_done[p].extend(shares.good.keys().copied());
        culprits.extend(shares.culprits.into_values());
        strays.extend(shares.strays.into_values());
    }
    let mut problems = other_package;
    let mut members = Vec::new();
    for (i, card) in s.group.members().iter().enumerate() {
        let commit = commits.good.get(&i);
        let attested_match = commit.map(|c| c.matches_request);
        if attested_match == Some(false) {
            problems.push(format!("{} attested digests that differ from the request", card.name()));
        }
        members.push(MemberStatus {
            name: card.name().into(),
            fingerprint: card.fingerprint().to_string(),
            committed: commit.is_some(),
            attested: commit.map(|c| c.attested.clone()).unwrap_or_default(),
            attested_match,
            chosen: pkgs[0].as_ref().is_some_and(|p| p.signers.contains(&i)),
            phase1: phase_done[0].contains(&i),
            phase2: phase_done[1].contains(&i),
        });
    }
    problems.extend(culprits.iter().map(culprit_problem));
    let outputs = check_outputs(&s.req, &s.group, dir);
    for o in outputs.iter().filter(|o| !o.valid && std::fs::symlink_metadata(dir.join(&o.file)).is_ok()) {
        strays.push(Stray::new(
            &o.file,
            "does not verify against the request and the group key (`sign collect` writes it again)",
        ));
    }
    strays.extend(unknown_files(&s, a));
    let mut artifacts = Vec::new();
    for (k, art) in s.req.artifacts().iter().enumerate() {
        let mine: Vec<&OutputStatus> = outputs.iter().filter(|o| o.artifact == Some(k)).collect();
        artifacts.push(ArtifactStatus {
            name: art.name.to_string(),
            size: art.digests.size,
            sha256: hex::encode(art.digests.sha256),
            signature: mine.iter().map(|o| o.file.as_str()).collect::<Vec<_>>().join(", "),
            valid: mine.iter().all(|o| o.valid),
        });
    }
    let done = outputs.iter().all(|o| o.valid);
    let expired = !done && crate::clock::now() > s.req.expires();
    if expired {
        problems.push(format!(
            "the request expired at {} before the session was done: signers refuse it; open a new session with `frostsign sign init --dir NEW-DIR ...`",
            crate::clock::format(s.req.expires())
        ));
    }
    let waiting_for = if done || expired {
        Vec::new()
    } else {
        match &pkgs[0] {
            None => members
                .iter()
                .enumerate()
                .filter(|(i, m)| !m.committed && !left_out.contains(i) && !commits.culprits.contains_key(i))
                .map(|(_, m)| m.name.clone())
                .collect(),
            Some(_) => members
                .iter()
                .filter(|m| {
                    m.chosen && (!m.phase1 || (s.req.plan().count(Phase::Two) > 0 && pkgs[1].is_some() && !m.phase2))
                })
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
        expired,
        members,
        artifacts,
        outputs,
        done,
        waiting_for,
        problems,
        culprits,
        strays,
    })
}
