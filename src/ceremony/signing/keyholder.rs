//! `sign step`: what a keyholder does in a signing session.
//!
//! Invariants this module keeps (docs/security.md lists the tests that prove them):
//! - The keyholder hashes its own copy of every artifact at every step and builds every message itself
//!   from those digests; bytes in the folder are only compared against, never signed as given.
//! - Nonces are generated once per attempt, stored encrypted in the home, and used for exactly one
//!   package per phase: before a share leaves, a journal entry (package digest and share) is written and
//!   the nonce file is removed durably. A rerun republishes the journaled share; a different package for
//!   the same attempt and phase is refused, whatever the folder holds.
//! - A home that forgot what it did (restored from a raw copy or a snapshot, or copied and used twice) is
//!   caught when the folder holds a file this keyholder signed for the current attempt that its journal
//!   does not record: every nonce of the session is destroyed and the step refuses until a fresh attempt.

use super::{
    current_attempt, excluded, git, names, AttestedArtifact, CommitPayload, Evidence, PackageFile, Request,
    SharePayload, Slot, KIND_COMMIT, KIND_SHARE, REQUEST_FILE,
};
use crate::error::{Error, Result};
use crate::exchange::folder::Folder;
use crate::exchange::message::{self, Expect};
use crate::group::{identifier, Group};
use crate::home::nonces::{NonceStore, STATE_DIR};
use crate::home::Unlocked;
use crate::secret::{pack, unpack_all, SecretBytes};
use ed25519_dalek::{Signature, VerifyingKey};
use frost_ed25519 as frost;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where the keyholder's own copies of the artifacts are.
#[derive(Clone, Debug)]
pub enum Copies {
    /// Explicit files, matched to the request by file name.
    Files(Vec<PathBuf>),
    /// A folder of build outputs: `DIR/NAME` for each artifact.
    Folder(PathBuf),
}

impl Copies {
    fn locate(&self, req: &Request) -> Result<Vec<PathBuf>> {
        match self {
            Copies::Folder(dir) => Ok(req.artifacts().iter().map(|a| dir.join(&a.name)).collect()),
            Copies::Files(files) => {
                let mut by_name: BTreeMap<String, &PathBuf> = BTreeMap::new();
                for f in files {
                    let name = f.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                    if !req.artifacts().iter().any(|a| a.name == name) {
                        return Err(Error::new(format!(
                            "`{}` is not an artifact of this request",
                            crate::text::path(f)
                        ))
                        .with_help(
                            "the request lists: ".to_string()
                                + &req.artifacts().iter().map(|a| a.name.as_str()).collect::<Vec<_>>().join(", "),
                        ));
                    }
                    if by_name.insert(name.clone(), f).is_some() {
                        return Err(Error::new(format!("two files named `{name}` were given")));
                    }
                }
                req.artifacts()
                    .iter()
                    .map(|a| {
                        by_name.get(&a.name).map(|p| (*p).clone()).ok_or_else(|| {
                            Error::new(format!("no copy of the artifact `{}` was given", a.name))
                                .with_help("give your own copy of every artifact with --file, or a folder holding them with --artifacts")
                        })
                    })
                    .collect()
            }
        }
    }
}

/// Gather this keyholder's own evidence: hash its own copies (and rebuild the git tag from its own clone),
/// and compare with the request. Refuses on any difference, before anything is committed.
pub fn own_evidence(req: &Request, copies: &Copies, repo: Option<&Path>) -> Result<Evidence> {
    let mut ev = Evidence::default();
    if !req.artifacts().is_empty() {
        let paths = copies.locate(req)?;
        let trailer = req.openpgp_file_trailer();
        for (k, (a, path)) in req.artifacts().iter().zip(&paths).enumerate() {
            let (d, pgp) = crate::digest::hash_file_with_trailer(path, trailer.as_deref())?;
            if d != a.digests {
                let what = if d.size != a.digests.size {
                    format!("sizes differ: yours is {} bytes, the request says {}", d.size, a.digests.size)
                } else {
                    "digests differ".to_string()
                };
                return Err(Error::new(format!(
                    "your copy `{}` of `{}` is not the file in the request: {what}",
                    crate::text::path(path),
                    a.name
                ))
                .with_note(format!("your SHA-256:    {}", hex::encode(d.sha256)))
                .with_note(format!("request SHA-256: {}", hex::encode(a.digests.sha256)))
                .with_help("do not sign: rebuild or re-download the artifact and compare with your co-keyholders; nothing was signed"));
            }
            if let Some(pgp) = pgp {
                if req.evidence().openpgp.get(k) != Some(&pgp) {
                    return Err(Error::new(format!(
                        "the request's OpenPGP digest of `{}` is wrong (the request was edited?)",
                        a.name
                    ))
                    .with_help("do not sign; ask the release manager to open a new session"));
                }
                ev.openpgp.push(pgp);
            }
            ev.files.push(d);
        }
    }
    if let Some(tag) = req.git() {
        let repo = repo.ok_or_else(|| {
            Error::new(format!("this session signs the git tag `{}`: give your own clone with --repo", tag.name))
        })?;
        ev.git_payload = Some(git::rebuild_in_clone(tag, repo)?);
    }
    Ok(ev)
}

/// The keyholder's journal for one session (encrypted in the home).
struct Journal {
    request: [u8; 32],
    attempt: u32,
    commit: String,
    /// Per phase (index 0 = phase 1): package digest and the share message sent for it.
    signed: [Option<([u8; 32], String)>; 2],
}

fn journal_rel(req: &Request) -> String {
    format!("{STATE_DIR}/sign-{}.txt", hex::encode(req.session()))
}

impl Journal {
    fn encode(&self) -> SecretBytes {
        let (d1, t1) = self.signed[0].as_ref().map(|(d, t)| (d.to_vec(), t.as_str())).unwrap_or_default();
        let (d2, t2) = self.signed[1].as_ref().map(|(d, t)| (d.to_vec(), t.as_str())).unwrap_or_default();
        pack(&[
            b"sign",
            &self.request,
            &self.attempt.to_be_bytes(),
            self.commit.as_bytes(),
            &d1,
            t1.as_bytes(),
            &d2,
            t2.as_bytes(),
        ])
    }

    fn decode(b: &SecretBytes) -> Option<Journal> {
        let f = unpack_all(b.expose())?;
        if f.len() != 8 || f[0].expose() != b"sign" {
            return None;
        }
        let text = |x: &SecretBytes| String::from_utf8(x.expose().to_vec()).ok();
        let entry = |d: &SecretBytes, t: &SecretBytes| -> Option<Option<([u8; 32], String)>> {
            if d.is_empty() {
                return Some(None);
            }
            Some(Some((d.expose().try_into().ok()?, text(t)?)))
        };
        Some(Journal {
            request: f[1].expose().try_into().ok()?,
            attempt: u32::from_be_bytes(f[2].expose().try_into().ok()?),
            commit: text(&f[3])?,
            signed: [entry(&f[4], &f[5])?, entry(&f[6], &f[7])?],
        })
    }
}

fn load_journal(u: &Unlocked, req: &Request) -> Result<Option<Journal>> {
    let rel = journal_rel(req);
    let Some(b) = u.read_secret(&rel, "sign-state", &hex::encode(req.session()))? else { return Ok(None) };
    let j = Journal::decode(&b).ok_or_else(|| Error::file(&u.home().path(&rel), "damaged signing state"))?;
    if j.request != *req.digest() {
        return Err(Error::new(format!("the signing request `{REQUEST_FILE}` changed after you committed to it"))
            .with_help(
                "someone edited the request; restore the original, or have the release manager open a new session",
            ));
    }
    Ok(Some(j))
}

fn save_journal(u: &Unlocked, req: &Request, j: &Journal) -> Result<()> {
    u.write_secret(&journal_rel(req), "sign-state", &hex::encode(req.session()), &j.encode())
}

/// The exact text of this keyholder's own files for one attempt in the folder: its commitment and its
/// share of each phase. A file counts only when it is validly signed by this keyholder for this session,
/// attempt and phase; anything else under its name (unreadable, unsigned, signed by someone else) proves
/// nothing about what this keyholder did, and is left to the ordinary steps.
struct OwnFiles {
    commit: Option<String>,
    shares: [Option<String>; 2],
}

fn own_files(dir: &Path, req: &Request, group: &Group, me: usize, attempt: u32) -> OwnFiles {
    let Ok(folder) = Folder::open(dir) else { return OwnFiles { commit: None, shares: [None, None] } };
    let card = &group.members()[me];
    let signed_by_me = |name: String, kind: &str, round: &str| {
        let expect = Expect { kind, ceremony: req.digest(), round, private: false };
        folder.receive(&name, &expect, group.members(), me, None).ok().flatten().map(|r| r.text)
    };
    OwnFiles {
        commit: signed_by_me(names::commit(attempt, card), KIND_COMMIT, &names::commit_round(attempt)),
        shares: [1u8, 2]
            .map(|p| signed_by_me(names::share(attempt, p, card), KIND_SHARE, &names::share_round(attempt, p))),
    }
}

/// What the folder proves this keyholder did in `attempt` that `journal` does not record, if anything.
fn forgotten(journal: Option<&Journal>, attempt: u32, own: &OwnFiles) -> Option<String> {
    let current = journal.filter(|j| j.attempt == attempt);
    if let Some(text) = &own.commit {
        match current {
            None => {
                return Some(format!(
                    "your signed commitment for attempt {attempt} is in the folder, but this home has no record of it"
                ))
            }
            Some(j) if j.commit != *text => {
                return Some(format!(
                    "the folder holds a commitment for attempt {attempt} signed by you that this home did not make"
                ))
            }
            Some(_) => {}
        }
    }
    for (k, share) in own.shares.iter().enumerate() {
        let Some(text) = share else { continue };
        let phase = k + 1;
        match current.and_then(|j| j.signed[k].as_ref()) {
            None => {
                return Some(format!(
                    "your signed phase-{phase} shares for attempt {attempt} are in the folder, but this home has no record of signing them"
                ))
            }
            Some((_, mine)) if mine != text => {
                return Some(format!(
                    "the folder holds phase-{phase} shares for attempt {attempt} signed by you that this home did not make"
                ))
            }
            Some(_) => {}
        }
    }
    None
}

/// Refuse, after destroying every nonce of the session, when the folder proves this keyholder did more in
/// the current attempt than its home remembers (see [`forgotten`]). Signing on from such a home could
/// answer a second package with nonces that already signed one, which reveals the key share. Only files
/// this keyholder signed count, so nobody else can make it refuse. Files of older attempts do not count:
/// this home commits afresh, with new nonces, to any attempt it has no record of, and nonces are only ever
/// used for the current attempt.
fn refuse_if_forgotten(
    u: &Unlocked,
    dir: &Path,
    req: &Request,
    group: &Group,
    me: usize,
    attempt: u32,
    journal: Option<&Journal>,
) -> Result<()> {
    let own = own_files(dir, req, group, me, attempt);
    let Some(what) = forgotten(journal, attempt, &own) else { return Ok(()) };
    let destroyed = NonceStore::new(u, req.session()).discard_all()?;
    Err(Error::new(format!("this home does not remember what you already did in this signing session: {what}"))
        .with_note(
            "was the home restored from a backup or a snapshot, or copied? Signing on from it could use a nonce twice, which reveals your key share",
        )
        .with_note(format!(
            "every nonce of this session in your home was destroyed ({destroyed} nonce file(s)); nothing was signed"
        ))
        .with_help(format!(
            "the coordinator must open a fresh attempt: `frostsign sign collect --dir {} --restart`; then run `frostsign sign step` again to commit afresh, with new nonces",
            crate::text::path(dir)
        )))
}

/// What one `sign step` did.
#[derive(Debug, Default)]
pub struct StepReport {
    /// Actions, in plain words.
    pub did: Vec<String>,
    /// What we wait for.
    pub waiting: Option<String>,
    /// True when this keyholder has nothing left to do in the session.
    pub finished: bool,
}

/// The group as this keyholder knows it (its own copy from key generation, not the folder's).
pub fn own_group(u: &Unlocked, req: &Request) -> Result<Group> {
    let gfp = req.group().compact();
    if !u.home().path(&crate::home::groups::group_rel(&gfp)).exists() {
        return Err(Error::new(format!(
            "your home holds no share of the group this request is for ({}{})",
            req.label().map(|l| format!("{l}, ")).unwrap_or_default(),
            req.group()
        ))
        .with_help("check --home; `frostsign group list` shows the groups you hold a share of"));
    }
    let g = u.home().group(&gfp)?;
    req.check_group(&g)?;
    Ok(g)
}

/// Run every action this keyholder can take now. See the module documentation.
///
/// `confirm` is called with the request summary before the keyholder commits for the first time.
/// `report` collects what was done, also when an error stops the step half-way.
pub fn step(
    u: &Unlocked,
    dir: &Path,
    copies: &Copies,
    repo: Option<&Path>,
    report: &mut StepReport,
    confirm: impl FnOnce(&str) -> Result<()>,
) -> Result<()> {
    let req = Request::load(dir)?;
    let group = own_group(u, &req)?;
    let me_card = u.identity().card();
    let me =
        group.member_index(me_card.fingerprint()).ok_or_else(|| Error::new("you are not a member of this group"))?;
    let now = crate::clock::now();
    if now > req.expires() {
        return Err(Error::new(format!("the signing request expired at {}", crate::clock::format(req.expires())))
            .with_help("ask the release manager to open a new signing session; nothing was signed"));
    }
    let own = own_evidence(&req, copies, repo)?;
    let attempt = current_attempt(dir)?;
    if excluded(dir, attempt, &group)?.contains(&me) {
        if let Some(j) = load_journal(u, &req)? {
            if j.attempt < attempt {
                // Nonces of an abandoned attempt are never used again.
                NonceStore::new(u, req.session()).discard_attempt(j.attempt)?;
            }
        }
        report.did.push(format!("the coordinator left you out of attempt {attempt}; nothing to do"));
        report.finished = true;
        return Ok(());
    }
    let journal = load_journal(u, &req)?;
    if let Some(j) = journal.as_ref().filter(|j| j.attempt > attempt) {
        return Err(Error::new(format!(
            "you already committed to attempt {}, but the folder only shows attempt {attempt} (restart files were removed?)",
            j.attempt
        )));
    }
    refuse_if_forgotten(u, dir, &req, &group, me, attempt, journal.as_ref())?;
    let mut journal = match journal {
        Some(j) if j.attempt == attempt => {
            if crate::fsx::publish(&dir.join(names::commit(attempt, me_card)), j.commit.as_bytes())? {
                report.did.push("published your commitment again (it was missing)".into());
            }
            j
        }
        previous => {
            if previous.is_none() {
                confirm(&req.summary(&group))?;
            }
            if let Some(old) = &previous {
                // Nonces of an abandoned attempt are never used again.
                NonceStore::new(u, req.session()).discard_attempt(old.attempt)?;
            }
            let j = commit(u, dir, &req, &group, attempt, &own)?;
            report.did.push(format!(
                "hashed your copies, checked them against the request and committed (attempt {attempt})"
            ));
            j
        }
    };
    for phase in [1u8, 2] {
        let count = if phase == 1 { req.phase1_count() } else { req.phase2_count() };
        if count == 0 {
            continue;
        }
        match sign_phase(u, dir, &req, &group, me, &own, &mut journal, phase)? {
            PhaseOutcome::Signed(with) => report.did.push(format!(
                "checked the phase-{phase} signing package and published your signature shares (co-signers: {with})"
            )),
            PhaseOutcome::AlreadySigned => {}
            PhaseOutcome::NotChosen => {
                // This attempt's packages exist without us: our nonces can never be used, destroy them.
                NonceStore::new(u, req.session()).discard_attempt(attempt)?;
                report.did.push(format!(
                    "the coordinator did not choose you as a signer in attempt {attempt}; nothing to do"
                ));
                report.finished = true;
                return Ok(());
            }
            PhaseOutcome::Waiting => {
                report.waiting = Some(format!(
                    "the phase-{phase} signing package (`frostsign sign collect --dir {}`)",
                    crate::text::path(dir)
                ));
                return Ok(());
            }
        }
    }
    report.finished = true;
    Ok(())
}

fn commit(u: &Unlocked, dir: &Path, req: &Request, group: &Group, attempt: u32, own: &Evidence) -> Result<Journal> {
    let key_package = u.load_share(group)?;
    let mut rng = rand_core::OsRng;
    let mut make = |count: usize| -> Vec<frost::round1::SigningNonces> {
        (0..count).map(|_| frost::round1::commit(key_package.signing_share(), &mut rng).0).collect()
    };
    let n1 = make(req.phase1_count());
    let n2 = make(req.phase2_count());
    let hex_commitments = |ns: &[frost::round1::SigningNonces]| -> Result<Vec<String>> {
        ns.iter().map(|n| n.commitments().serialize().map(hex::encode).map_err(|e| Error::new(e.to_string()))).collect()
    };
    let payload = CommitPayload {
        attempt,
        artifacts: req.artifacts().iter().zip(&own.files).map(|(a, d)| AttestedArtifact::new(&a.name, d)).collect(),
        phase1: hex_commitments(&n1)?,
        phase2: hex_commitments(&n2)?,
    };
    let body = serde_json::to_vec(&payload).expect("serializable");
    let text = message::seal(u.identity(), KIND_COMMIT, req.digest(), &names::commit_round(attempt), None, &body)?;
    // Nonces first, then the journal that refers to them, then the public commitment.
    let store = NonceStore::new(u, req.session());
    store.save(attempt, 1, &n1)?;
    if !n2.is_empty() {
        store.save(attempt, 2, &n2)?;
    }
    crate::failpoint("sign-after-nonces-saved");
    let journal = Journal { request: *req.digest(), attempt, commit: text.clone(), signed: [None, None] };
    save_journal(u, req, &journal)?;
    crate::fsx::publish(&dir.join(names::commit(attempt, u.identity().card())), text.as_bytes())?;
    Ok(journal)
}

enum PhaseOutcome {
    /// Signed, together with these co-signers.
    Signed(String),
    AlreadySigned,
    NotChosen,
    Waiting,
}

fn refuse(phase: u8, reason: impl std::fmt::Display) -> Error {
    Error::new(format!("refusing to sign the phase-{phase} package: {reason}")).with_help(
        "nothing was signed and your nonces are kept; tell the coordinator, and check the folder for tampering",
    )
}

/// Check a package against what this keyholder computed itself; returns the messages it expects.
fn check_package(
    req: &Request,
    group: &Group,
    me: usize,
    own: &Evidence,
    pkg: &PackageFile,
    phase: u8,
    nonces: &[frost::round1::SigningNonces],
) -> Result<()> {
    let count = if phase == 1 { req.phase1_count() } else { req.phase2_count() };
    if pkg.session != *req.digest() || pkg.phase != phase {
        return Err(refuse(phase, "it belongs to another session or phase"));
    }
    if pkg.signers.len() < group.threshold() as usize {
        return Err(refuse(
            phase,
            format!("it has {} signers, fewer than the threshold {}", pkg.signers.len(), group.threshold()),
        ));
    }
    if pkg.packages.len() != count || nonces.len() != count {
        return Err(refuse(phase, format!("it has {} messages, the request needs {count}", pkg.packages.len())));
    }
    let ids: Vec<frost::Identifier> = pkg.signers.iter().map(|&i| identifier(i)).collect();
    let expected1 = req.phase1_messages(own);
    let slots = if phase == 1 { req.phase1_slots() } else { req.phase2_slots() };
    for (k, p) in pkg.packages.iter().enumerate() {
        let keys: Vec<frost::Identifier> = p.signing_commitments().keys().copied().collect();
        if keys != ids {
            return Err(refuse(phase, format!("message {} lists other signers than the package header", k + 1)));
        }
        if p.signing_commitments().get(&identifier(me)) != Some(nonces[k].commitments()) {
            return Err(refuse(phase, format!("your own commitment for message {} is missing or was modified", k + 1)));
        }
        let expected = if phase == 1 {
            expected1[k].clone()
        } else {
            let Slot::MinisignGlobal(a) = req.phase2_slots()[k] else { unreachable!("phase 2 is minisign only") };
            let m = p.message();
            let sig1: [u8; 64] =
                m.get(..64).and_then(|s| s.try_into().ok()).ok_or_else(|| refuse(phase, "malformed message"))?;
            let vk = VerifyingKey::from_bytes(req.group_key()).map_err(|_| refuse(phase, "bad group key"))?;
            let m1 = &expected1[req.phase1_index(Slot::Minisign(a)).expect("minisign slot")];
            if vk.verify_strict(m1, &Signature::from_bytes(&sig1)).is_err() {
                return Err(refuse(
                    phase,
                    format!(
                        "the phase-1 signature inside message {} is not the group's signature of your copy of `{}`",
                        k + 1,
                        req.artifacts()[a].name
                    ),
                ));
            }
            req.phase2_message(a, &sig1)
        };
        if p.message() != expected.as_slice() {
            let what = match slots[k] {
                Slot::Minisign(a) | Slot::Ssh(a) | Slot::Openpgp(a) | Slot::MinisignGlobal(a) => {
                    format!("your own copy of `{}`", req.artifacts()[a].name)
                }
                Slot::SignifyManifest => "your own digests (the manifest)".to_string(),
                Slot::OpenpgpCertification => "the group key and the request's user id".to_string(),
                Slot::GitTag => "the tag object rebuilt from your clone".to_string(),
            };
            return Err(refuse(phase, format!("message {} is not what you computed from {what}", k + 1)));
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn sign_phase(
    u: &Unlocked,
    dir: &Path,
    req: &Request,
    group: &Group,
    me: usize,
    own: &Evidence,
    journal: &mut Journal,
    phase: u8,
) -> Result<PhaseOutcome> {
    let attempt = journal.attempt;
    let me_card = u.identity().card();
    let share_path = dir.join(names::share(attempt, phase, me_card));
    let pkg_path = dir.join(names::package(attempt, phase));
    let pkg_text =
        if pkg_path.exists() { Some(crate::fsx::read_text_untrusted(&pkg_path, 64 * 1024 * 1024)?) } else { None };
    let pkg = pkg_text
        .as_deref()
        .map(|t| {
            PackageFile::parse(t, group)
                .map_err(|e| Error::file(&pkg_path, format!("not a valid signing package: {e}")))
        })
        .transpose()?;
    if let Some((digest, share)) = &journal.signed[phase as usize - 1] {
        if let Some(p) = &pkg {
            if p.digest != *digest {
                return Err(Error::new(format!(
                    "refusing to sign: `{}` is a different signing package than the one you already signed in attempt {attempt}, phase {phase}",
                    crate::text::path(&pkg_path)
                ))
                .with_note("signing a second package with the same nonces would reveal your key share")
                .with_help("your earlier share stands; if the coordinator needs a new signer set, it must run `frostsign sign collect --restart`"));
            }
        }
        // Finish an interrupted step: nonces gone, share republished byte for byte.
        NonceStore::new(u, req.session()).consume(attempt, phase)?;
        crate::fsx::publish(&share_path, share.as_bytes())?;
        return Ok(PhaseOutcome::AlreadySigned);
    }
    let Some(pkg) = pkg else { return Ok(PhaseOutcome::Waiting) };
    if pkg.attempt != attempt {
        return Err(refuse(phase, format!("it is for attempt {}, the session is at attempt {attempt}", pkg.attempt)));
    }
    if !pkg.signers.contains(&me) {
        return Ok(PhaseOutcome::NotChosen);
    }
    let nonces = NonceStore::new(u, req.session()).load(attempt, phase)?.ok_or_else(|| {
        Error::new(format!("your nonces for attempt {attempt}, phase {phase} are gone (used, or lost in a crash)"))
            .with_help("ask the coordinator to open a fresh attempt: `frostsign sign collect --dir DIR --restart`")
    })?;
    check_package(req, group, me, own, &pkg, phase, &nonces)?;
    let key_package = u.load_share(group)?;
    let mut shares = Vec::new();
    for (p, n) in pkg.packages.iter().zip(&nonces) {
        let s = frost::round2::sign(p, n, &key_package).map_err(|e| refuse(phase, e))?;
        shares.push(hex::encode(s.serialize()));
    }
    drop(nonces);
    let payload = SharePayload { attempt, phase, package: hex::encode(pkg.digest), shares };
    let body = serde_json::to_vec(&payload).expect("serializable");
    let text = message::seal(u.identity(), KIND_SHARE, req.digest(), &names::share_round(attempt, phase), None, &body)?;
    // Journal, then destroy the nonces durably, and only then let the share leave.
    crate::failpoint("sign-before-journal");
    journal.signed[phase as usize - 1] = Some((pkg.digest, text.clone()));
    save_journal(u, req, journal)?;
    crate::failpoint("sign-after-journal");
    NonceStore::new(u, req.session()).consume(attempt, phase)?;
    crate::failpoint("sign-after-nonce-removal");
    crate::fsx::publish(&share_path, text.as_bytes())?;
    let with: Vec<&str> = pkg.signers.iter().filter(|&&i| i != me).map(|&i| group.members()[i].name()).collect();
    Ok(PhaseOutcome::Signed(with.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn journal(attempt: u32, commit: &str, share1: Option<&str>) -> Journal {
        Journal {
            request: [0; 32],
            attempt,
            commit: commit.into(),
            signed: [share1.map(|s| ([1; 32], s.to_string())), None],
        }
    }

    fn own(commit: Option<&str>, share1: Option<&str>, share2: Option<&str>) -> OwnFiles {
        OwnFiles { commit: commit.map(Into::into), shares: [share1.map(Into::into), share2.map(Into::into)] }
    }

    #[test]
    fn only_what_the_journal_of_this_attempt_does_not_record_is_forgotten() {
        // Nothing of ours in the folder: nothing to remember, whatever the journal.
        assert_eq!(forgotten(None, 1, &own(None, None, None)), None);
        assert_eq!(forgotten(Some(&journal(1, "c", None)), 2, &own(None, None, None)), None);
        // The journal records exactly what the folder shows.
        let j = journal(2, "c", Some("s1"));
        assert_eq!(forgotten(Some(&j), 2, &own(Some("c"), Some("s1"), None)), None);
        // Restored from before the session, or to an older attempt.
        assert!(forgotten(None, 2, &own(Some("c"), None, None)).unwrap().contains("no record of it"));
        assert!(forgotten(Some(&journal(1, "c", None)), 2, &own(Some("c"), None, None)).is_some());
        // Restored from before a share was made.
        let j = journal(2, "c", None);
        assert!(forgotten(Some(&j), 2, &own(Some("c"), Some("s1"), None)).unwrap().contains("phase-1"));
        let j = journal(2, "c", Some("s1"));
        assert!(forgotten(Some(&j), 2, &own(Some("c"), Some("s1"), Some("s2"))).unwrap().contains("phase-2"));
        // A copy of the home used twice: the folder holds files signed by us that this home did not make.
        let j = journal(2, "c", Some("s1"));
        assert!(forgotten(Some(&j), 2, &own(Some("other"), None, None)).unwrap().contains("did not make"));
        assert!(forgotten(Some(&j), 2, &own(Some("c"), Some("other"), None)).unwrap().contains("did not make"));
    }
}
