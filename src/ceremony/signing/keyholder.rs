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
    current_attempt, excluded, git, names, AttestedArtifact, CommitPayload, Evidence, GlobalSlot, PackageFile, Phase,
    Request, SharePayload, Slot, KIND_COMMIT, KIND_SHARE, MAX_PACKAGE_BYTES, REQUEST_FILE,
};
use crate::ceremony::engine::{self, Ceremony, Progress, Published, Report, StateFile, Step};
use crate::error::{Error, Result};
use crate::exchange::folder::Folder;
use crate::exchange::message::{self, Expect};
use crate::group::Group;
use crate::home::nonces::{NonceStore, STATE_DIR};
use crate::home::Unlocked;
use crate::secret::codec::hex32;
use crate::secret::{unpack_all, SecretBytes};
use ed25519_dalek::{Signature, VerifyingKey};
use frost_ed25519 as frost;
use serde::{Deserialize, Serialize};
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
            Copies::Folder(dir) => Ok(req.artifacts().iter().map(|a| dir.join(a.name.as_str())).collect()),
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
                        by_name.get(a.name.as_str()).map(|p| (*p).clone()).ok_or_else(|| {
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
    if let Some(r) = req.rotation() {
        // The one "artifact" is the statement the keyholder was shown: it hashes that text itself.
        ev.files.push(crate::digest::hash_bytes(r.statement.text.as_bytes()));
        return Ok(ev);
    }
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

/// The keyholder's state for one session, kept encrypted in the home by the ceremony engine: the attempt
/// it committed to, its commitment, and for each phase the package it signed and the shares it sent for it
/// (the journal that makes a rerun republish the same shares and refuse any other package).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Journal {
    /// SHA-256 of the request committed to.
    #[serde(with = "hex32")]
    request: [u8; 32],
    /// The attempt committed to.
    attempt: u32,
    /// The commitment file sent.
    commit: String,
    /// Per phase (index 0 = phase 1): what was signed.
    signed: [Option<Signed>; 2],
    /// The coordinator's packages for this attempt left this keyholder out (its nonces are destroyed).
    #[serde(default)]
    not_chosen: bool,
    /// What this keyholder computed from its own copies when it committed (the digests it attested):
    /// later steps and attempts of the session sign from these, without hashing the artifacts again.
    /// `None` in a journal written before frostsign kept them.
    #[serde(default)]
    own: Option<OwnDigests>,
}

/// A keyholder's own evidence as its journal keeps it (hex), so it hashes each artifact once per session.
#[derive(Serialize, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct OwnDigests {
    /// Per artifact: size, BLAKE2b-512 and SHA-256 (hex).
    files: Vec<(u64, String, String)>,
    /// Per artifact, when OpenPGP is a format: SHA-256 of the file and the signature trailer (hex).
    openpgp: Vec<String>,
    /// The git tag object rebuilt from the keyholder's clone (hex).
    git_payload: Option<String>,
    /// The membership statement of the keyholder's own copy of the group.
    membership: Option<String>,
}

impl OwnDigests {
    fn of(ev: &Evidence) -> OwnDigests {
        OwnDigests {
            files: ev.files.iter().map(|d| (d.size, hex::encode(d.blake2b), hex::encode(d.sha256))).collect(),
            openpgp: ev.openpgp.iter().map(hex::encode).collect(),
            git_payload: ev.git_payload.as_ref().map(hex::encode),
            membership: ev.membership.clone(),
        }
    }

    /// The evidence back, or `None` if the journal's copy is damaged (then the keyholder hashes again).
    fn evidence(&self) -> Option<Evidence> {
        let files = self
            .files
            .iter()
            .map(|(size, b2, s2)| {
                Some(crate::digest::FileDigests {
                    size: *size,
                    blake2b: crate::textdoc::parse_hex(b2)?,
                    sha256: crate::textdoc::parse_hex(s2)?,
                })
            })
            .collect::<Option<Vec<_>>>()?;
        let openpgp = self.openpgp.iter().map(|h| crate::textdoc::parse_hex(h)).collect::<Option<Vec<_>>>()?;
        let git_payload = match &self.git_payload {
            Some(h) => Some(hex::decode(h).ok()?),
            None => None,
        };
        Some(Evidence { files, openpgp, git_payload, membership: self.membership.clone() })
    }
}

/// One phase signed: the package (its SHA-256) and the share file sent for it.
#[derive(Serialize, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct Signed {
    #[serde(with = "hex32")]
    package: [u8; 32],
    share: String,
}

fn journal_rel(req: &Request) -> String {
    format!("{STATE_DIR}/sign-{}.txt", hex::encode(req.session()))
}

/// Read a journal in frostsign 0.1's packed layout.
fn decode_packed(b: &SecretBytes) -> Option<Journal> {
    let f = unpack_all(b.expose())?;
    if f.len() != 8 || f[0].expose() != b"sign" {
        return None;
    }
    let text = |x: &SecretBytes| String::from_utf8(x.expose().to_vec()).ok();
    let entry = |d: &SecretBytes, t: &SecretBytes| -> Option<Option<Signed>> {
        if d.is_empty() {
            return Some(None);
        }
        Some(Some(Signed { package: d.expose().try_into().ok()?, share: text(t)? }))
    };
    Some(Journal {
        request: f[1].expose().try_into().ok()?,
        attempt: u32::from_be_bytes(f[2].expose().try_into().ok()?),
        commit: text(&f[3])?,
        signed: [entry(&f[4], &f[5])?, entry(&f[6], &f[7])?],
        not_chosen: false,
        own: None,
    })
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
        shares: Phase::ALL
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
            Some(signed) if signed.share != *text => {
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

/// What the folder alone shows about this keyholder's part, when it has nothing to do now: it committed
/// and waits for a package, or signed every phase. Read from public, signed files only (its own signed
/// commitment and shares, checked with its card), so it needs no passphrase. `None` whenever anything could
/// be left to do (commit, sign, destroy the nonces of an attempt it was left out of): the ordinary step,
/// with the passphrase, decides then.
pub fn nothing_to_do(home: &crate::home::Home, dir: &Path) -> Option<String> {
    use super::coordinator::{read_package, Session};
    if work_by_names(home, dir) {
        return None;
    }
    let s = Session::load(dir).ok()?;
    let card = home.card().ok()?;
    // The home's own copy of the group must be the folder's: otherwise the step says what is wrong.
    let own = home.group(&s.req.group().compact()).ok()?;
    if own.core_text() != s.group.core_text() || !home.has_share(&s.req.group().compact()) {
        return None;
    }
    let me = s.group.member_index(card.fingerprint())?;
    let a = current_attempt(dir).ok()?;
    if excluded(dir, a, &s.group).ok()?.contains(&me) || !s.commitments(a).good.contains_key(&me) {
        return None;
    }
    // The home must agree with the folder: a journal, and nonces of this attempt only, exactly for the
    // phases it has not signed yet (anything else, a home put back from a copy say, is the step's to find).
    if !home.path(&journal_rel(&s.req)).is_file() {
        return None;
    }
    let nonces = crate::home::nonces::on_disk(home, s.req.session());
    if nonces.iter().any(|(attempt, _)| *attempt != a) {
        return None;
    }
    let holds = |phase: Phase| nonces.contains(&(a, phase.number()));
    for phase in Phase::ALL {
        if s.req.plan().count(phase) == 0 {
            break;
        }
        if !s.folder.has(&names::package(a, phase)) {
            return holds(phase).then(|| {
                format!(
                    "Nothing new to do: waiting for the phase-{phase} signing package (`frostsign sign collect --dir {}`).",
                    crate::text::path(dir)
                )
            });
        }
        let pkg = read_package(&s, a, phase).ok()?;
        if holds(phase) || !pkg.signers.contains(&me) || !s.shares(&pkg).good.contains_key(&me) {
            return None;
        }
    }
    Some("Your part of this session is done.".to_string())
}

/// True when file names alone (the home's journal and nonce files, the folder's package files) show that
/// the step has work, so [`nothing_to_do`] answers `None` without reading the group or any signed file: the
/// home holds no journal of the session (it has not committed), nonces of another attempt than the
/// folder's current one (to destroy), or nonces of a phase whose package is in the folder (to sign with).
/// Answering `None` only sends the keyholder to the ordinary step, so names nobody signed are enough.
fn work_by_names(home: &crate::home::Home, dir: &Path) -> bool {
    let Ok(req) = Request::load(dir) else { return false };
    let Ok(a) = current_attempt(dir) else { return false };
    if !home.path(&journal_rel(&req)).is_file() {
        return true;
    }
    let nonces = crate::home::nonces::on_disk(home, req.session());
    if nonces.iter().any(|(attempt, _)| *attempt != a) {
        return true;
    }
    Phase::ALL.into_iter().take_while(|phase| req.plan().count(*phase) > 0).any(|phase| {
        nonces.contains(&(a, phase.number())) && std::fs::symlink_metadata(dir.join(names::package(a, phase))).is_ok()
    })
}

/// A keyholder of the old group who also holds the new group (it took part in its key generation) signs a
/// rotation only to the new group its home holds: the request's copy of the new group file must have the
/// same core as the home's.
fn check_rotation_against_home(u: &Unlocked, req: &Request) -> Result<()> {
    let Some(r) = req.rotation() else { return Ok(()) };
    let gfp = &r.statement.new.group;
    if !u.home().path(&crate::home::groups::group_rel(gfp)).exists() {
        return Ok(());
    }
    if u.group(gfp)?.core_text() != r.new_group()?.core_text() {
        return Err(Error::new("the rotation's new group file is not the one your home holds for that group")
            .with_help(
                "do not sign: ask the release manager; a rotation is opened with the new group's own group.pub",
            ));
    }
    Ok(())
}

/// What a keyholder computed itself before committing, in words (one line per session: later steps reuse
/// it from the journal).
fn hashed_note(req: &Request) -> String {
    match req.artifacts() {
        _ if req.rotation().is_some() => "hashed the rotation statement you were shown".to_string(),
        [] if req.git().is_some() => "rebuilt the tag object from your own clone".to_string(),
        [] => "computed the message from your own copy of the group".to_string(),
        arts => format!(
            "hashed your copies of {} artifact(s), {} bytes (once per session: later steps use the digests you attest)",
            arts.len(),
            arts.iter().map(|a| a.digests.size).sum::<u64>()
        ),
    }
}

/// When the home holds no share of the request's group but still holds the working state of the key
/// generation that made it (the session's copy of the group names it): that key generation is finished
/// in its folder but not in this home, and one more `dkg step` there stores the share.
fn unfinished_key_generation(u: &Unlocked, dir: &Path, req: &Request) -> Option<Error> {
    // A file of the folder: read without following a link, like every other (it is only a hint here).
    let text = crate::fsx::read_text_untrusted(&dir.join(super::GROUP_COPY), crate::group::MAX_GROUP_BYTES).ok()?;
    let copy = Group::parse(&text).ok().filter(|g| g.fingerprint() == req.group())?;
    let state = crate::ceremony::dkg::state_rel(copy.ceremony_id());
    if u.home().has_share(&req.group().compact()) || !u.home().path(&state).exists() {
        return None;
    }
    Some(
        Error::new(format!(
            "your key generation of the group {} is finished in its folder but not yet in your home",
            req.group()
        ))
        .with_help("run `frostsign dkg step --dir KEYGEN-FOLDER` once more: it stores your share (`dkg step --watch` finishes by itself); then run this step again"),
    )
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
    let g = u.group(&gfp)?;
    req.check_group(&g)?;
    Ok(g)
}

/// Run every action this keyholder can take now, on the ceremony engine. See the module documentation.
///
/// `confirm` is called with the request summary before the keyholder commits for the first time.
/// `report` collects what was done, also when an error stops the step half-way.
pub fn step(
    u: &Unlocked,
    dir: &Path,
    copies: &Copies,
    repo: Option<&Path>,
    report: &mut Report,
    confirm: impl FnOnce(&str) -> Result<()>,
) -> Result<()> {
    let req = Request::load(dir)?;
    let folder = Folder::open(dir)?;
    let group = own_group(u, &req).map_err(|e| unfinished_key_generation(u, dir, &req).unwrap_or(e))?;
    let me_card = u.identity().card();
    let me =
        group.member_index(me_card.fingerprint()).ok_or_else(|| Error::new("you are not a member of this group"))?;
    let now = crate::clock::now();
    if now > req.expires() {
        return Err(Error::new(format!("the signing request expired at {}", crate::clock::format(req.expires())))
            .with_help("ask the release manager to open a new signing session; nothing was signed"));
    }
    check_rotation_against_home(u, &req)?;
    // The journal first: once committed, the keyholder signs from the digests it attested, never hashing
    // the artifacts again in this session (a file changed on disk since then is irrelevant).
    let none = Evidence::default();
    let journal = engine::load(&Signer { u, folder: &folder, req: &req, group: &group, me, own: &none }, u)?;
    if let Some(j) = &journal {
        if j.request != *req.digest() {
            return Err(Error::new(format!("the signing request `{REQUEST_FILE}` changed after you committed to it"))
                .with_help(
                    "someone edited the request; restore the original, or have the release manager open a new session",
                ));
        }
    }
    let own = match journal.as_ref().and_then(|j| j.own.as_ref()).and_then(OwnDigests::evidence) {
        Some(ev) => ev,
        None => {
            let mut ev = own_evidence(&req, copies, repo)?;
            if req.membership().is_some() {
                // What this keyholder approves is its own copy's statement (`own_group` checked the request's).
                ev.membership = Some(group.statement());
            }
            report.did.push(hashed_note(&req));
            ev
        }
    };
    let attempt = current_attempt(dir)?;
    let signer = Signer { u, folder: &folder, req: &req, group: &group, me, own: &own };
    let nonces = NonceStore::new(u, req.session());
    if excluded(dir, attempt, &group)?.contains(&me) {
        if let Some(j) = journal.as_ref().filter(|j| j.attempt < attempt) {
            // Nonces of an abandoned attempt are never used again.
            nonces.discard_attempt(j.attempt)?;
        }
        report.did.push(format!("the coordinator left you out of attempt {attempt}; nothing to do"));
        report.finished = true;
        return Ok(());
    }
    if let Some(j) = journal.as_ref().filter(|j| j.attempt > attempt) {
        return Err(Error::new(format!(
            "you already committed to attempt {}, but the folder only shows attempt {attempt} (restart files were removed?)",
            j.attempt
        )));
    }
    refuse_if_forgotten(u, dir, &req, &group, me, attempt, journal.as_ref())?;
    let journal = match journal {
        Some(j) if j.attempt == attempt => j,
        previous => {
            match &previous {
                None => confirm(&req.summary(&group))?,
                // Nonces of an abandoned attempt are never used again.
                Some(old) => nonces.discard_attempt(old.attempt)?,
            }
            engine::apply(&signer, u, &folder, signer.commit(attempt)?, report)?
        }
    };
    engine::run(&signer, u, &folder, journal, report)?;
    Ok(())
}

/// One keyholder's part in one signing session, as the ceremony engine runs it.
struct Signer<'r> {
    u: &'r Unlocked,
    folder: &'r Folder,
    req: &'r Request,
    group: &'r Group,
    me: usize,
    own: &'r Evidence,
}

impl<'r> Ceremony<'r> for Signer<'r> {
    type State = Journal;

    fn state_file(&self) -> StateFile {
        StateFile { rel: journal_rel(self.req), purpose: "sign-state", id: hex::encode(self.req.session()) }
    }

    /// A step interrupted after journaling a share but before destroying its nonces finishes that first:
    /// no share is republished while the nonces that made it still exist.
    fn settle(&self, j: &Journal) -> Result<()> {
        let nonces = NonceStore::new(self.u, self.req.session());
        for (k, _) in j.signed.iter().enumerate().filter(|(_, s)| s.is_some()) {
            nonces.consume(j.attempt, k as u8 + 1)?;
        }
        Ok(())
    }

    fn published(&self, j: &Journal) -> Vec<Published> {
        let card = &self.group.members()[self.me];
        let mut out = vec![Published {
            name: names::commit(j.attempt, card),
            text: j.commit.clone(),
            what: "your commitment".into(),
        }];
        for (phase, signed) in Phase::ALL.into_iter().zip(&j.signed) {
            // A journaled share is republished only while the folder's package is the one it answers (or
            // none): a step facing another package refuses (see `advance`) and publishes nothing.
            let same_package = self.signed_this(j.attempt, phase, signed.as_ref().map(|s| &s.package))
                || self
                    .package(j.attempt, phase)
                    .is_ok_and(|(_, p)| p.is_none_or(|p| Some(p.digest) == signed.as_ref().map(|s| s.package)));
            if let Some(signed) = signed.as_ref().filter(|_| same_package) {
                out.push(Published {
                    name: names::share(j.attempt, phase, card),
                    text: signed.share.clone(),
                    what: format!("your phase-{phase} signature shares"),
                });
            }
        }
        out
    }

    fn advance(&self, j: Journal, report: &mut Report) -> Result<Progress<'r, Journal>> {
        if j.not_chosen {
            report.did.push(format!(
                "the coordinator did not choose you as a signer in attempt {}; nothing to do",
                j.attempt
            ));
            return Ok(Progress::Finished(j));
        }
        for phase in Phase::ALL {
            let count = self.req.plan().count(phase);
            if count == 0 {
                continue;
            }
            let signed = j.signed[phase.index()].as_ref();
            if self.signed_this(j.attempt, phase, signed.map(|s| &s.package)) {
                continue;
            }
            let (pkg_path, pkg) = self.package(j.attempt, phase)?;
            if let Some(signed) = signed {
                if pkg.as_ref().is_some_and(|p| p.digest != signed.package) {
                    return Err(Error::new(format!(
                        "refusing to sign: `{}` is a different signing package than the one you already signed in attempt {}, phase {phase}",
                        crate::text::path(&pkg_path),
                        j.attempt
                    ))
                    .with_note("signing a second package with the same nonces would reveal your key share")
                    .with_help("your earlier share stands; if the coordinator needs a new signer set, it must run `frostsign sign collect --restart`"));
                }
                continue;
            }
            let Some(pkg) = pkg else {
                let what = format!(
                    "the phase-{phase} signing package (`frostsign sign collect --dir {}`)",
                    crate::text::path(self.folder.dir())
                );
                return Ok(Progress::Waiting(j, what));
            };
            return self.sign(j, phase, &pkg).map(Progress::Advanced);
        }
        Ok(Progress::Finished(j))
    }

    fn decode_legacy(&self, bytes: &SecretBytes) -> Option<Journal> {
        decode_packed(bytes)
    }
}

impl<'r> Signer<'r> {
    /// Commit to `attempt`: fresh nonces for every message of both phases, saved before the journal that
    /// refers to them, and the signed commitment (with the digests this keyholder computed) published
    /// after it.
    fn commit(&self, attempt: u32) -> Result<Step<'r, Journal>> {
        let (u, req) = (self.u, self.req);
        let key_package = u.load_share(self.group)?;
        let mut rng = rand_core::OsRng;
        let mut make = |count: usize| -> Vec<frost::round1::SigningNonces> {
            (0..count).map(|_| frost::round1::commit(key_package.signing_share(), &mut rng).0).collect()
        };
        let n1 = make(req.plan().count(Phase::One));
        let n2 = make(req.plan().count(Phase::Two));
        let hex_commitments = |ns: &[frost::round1::SigningNonces]| -> Result<Vec<String>> {
            ns.iter()
                .map(|n| n.commitments().serialize().map(hex::encode).map_err(|e| Error::new(e.to_string())))
                .collect()
        };
        let payload = CommitPayload {
            attempt,
            artifacts: req
                .artifacts()
                .iter()
                .zip(&self.own.files)
                .map(|(a, d)| AttestedArtifact::new(&a.name, d))
                .collect(),
            phase1: hex_commitments(&n1)?,
            phase2: hex_commitments(&n2)?,
        };
        let body = serde_json::to_vec(&payload).map_err(|e| Error::new(format!("internal error: {e}")))?;
        let text = message::seal(u.identity(), KIND_COMMIT, req.digest(), &names::commit_round(attempt), None, &body)?;
        let next = Journal {
            request: *req.digest(),
            attempt,
            commit: text.clone(),
            signed: [None, None],
            not_chosen: false,
            own: Some(OwnDigests::of(self.own)),
        };
        let publish = vec![Published {
            name: names::commit(attempt, &self.group.members()[self.me]),
            text,
            what: "your commitment".into(),
        }];
        let did = if req.rotation().is_some() {
            format!("checked the rotation statement you were shown against your own group and committed (attempt {attempt})")
        } else if req.artifacts().is_empty() {
            format!("checked the request against what you computed yourself and committed (attempt {attempt})")
        } else {
            format!("checked your digests against the request and committed (attempt {attempt})")
        };
        let mut step = Step::to(next, did, publish, "sign-commit");
        let session = *req.session();
        // Nonces first, then the journal that refers to them, then the public commitment.
        step.before_save = Some(Box::new(move || {
            let store = NonceStore::new(u, &session);
            store.save(attempt, Phase::One.number(), &n1)?;
            if !n2.is_empty() {
                store.save(attempt, Phase::Two.number(), &n2)?;
            }
            Ok(())
        }));
        Ok(step)
    }

    /// True when the folder's package of `phase` has exactly the bytes of the package the journal says this
    /// keyholder signed (`signed`, the SHA-256 of its text): that package was read with every check before
    /// it was signed, and nothing in it is needed again. Anything else (no package, other bytes, nothing
    /// signed) is false, and the caller reads the package with every check.
    fn signed_this(&self, attempt: u32, phase: Phase, signed: Option<&[u8; 32]>) -> bool {
        let Some(signed) = signed else { return false };
        let Ok(Some(text)) = self.folder.read(&names::package(attempt, phase), MAX_PACKAGE_BYTES) else { return false };
        super::sha256(text.as_bytes()) == *signed
    }

    /// The coordinator's package of `phase`, if it is in the folder.
    fn package(&self, attempt: u32, phase: Phase) -> Result<(PathBuf, Option<PackageFile>)> {
        let path = self.folder.path(&names::package(attempt, phase));
        let pkg = match self.folder.read(&names::package(attempt, phase), MAX_PACKAGE_BYTES)? {
            None => None,
            Some(t) => Some(
                PackageFile::parse(&t, self.group)
                    .map_err(|e| Error::file(&path, format!("not a valid signing package: {e}")))?,
            ),
        };
        Ok((path, pkg))
    }

    /// Sign `pkg` for `phase` if every check passes. The journal records the package and the shares; the
    /// engine saves it, then destroys the nonces (after_save), and only then lets the shares leave.
    fn sign(&self, j: Journal, phase: Phase, pkg: &PackageFile) -> Result<Step<'r, Journal>> {
        let (u, req, me) = (self.u, self.req, self.me);
        let attempt = j.attempt;
        if pkg.attempt != attempt {
            return Err(refuse(
                phase,
                format!("it is for attempt {}, the session is at attempt {attempt}", pkg.attempt),
            ));
        }
        let store = NonceStore::new(u, req.session());
        if !pkg.signers.contains(&me) {
            // This attempt's packages exist without us: our nonces can never be used, destroy them.
            let did = "destroyed your nonces of this attempt (they can never be used)";
            let mut step = Step::to(Journal { not_chosen: true, ..j }, did, Vec::new(), "sign-not-chosen");
            let session = *req.session();
            step.after_save = Some(Box::new(move || NonceStore::new(u, &session).discard_attempt(attempt)));
            return Ok(step);
        }
        let nonces = store.load(attempt, phase.number())?.ok_or_else(|| {
            Error::new(format!("your nonces for attempt {attempt}, phase {phase} are gone (used, or lost in a crash)"))
                .with_help("ask the coordinator to open a fresh attempt: `frostsign sign collect --dir DIR --restart`")
        })?;
        check_package(req, self.group, me, self.own, pkg, phase, &nonces)?;
        let key_package = u.load_share(self.group)?;
        let mut shares = Vec::new();
        for (p, n) in pkg.packages.iter().zip(&nonces) {
            let s = frost::round2::sign(p, n, &key_package).map_err(|e| refuse(phase, e))?;
            shares.push(hex::encode(s.serialize()));
        }
        drop(nonces);
        let payload = SharePayload { attempt, phase, package: hex::encode(pkg.digest), shares };
        let body = serde_json::to_vec(&payload).map_err(|e| Error::new(format!("internal error: {e}")))?;
        let text =
            message::seal(u.identity(), KIND_SHARE, req.digest(), &names::share_round(attempt, phase), None, &body)?;
        let with: Vec<&str> =
            pkg.signers.iter().filter(|&&i| i != me).map(|&i| self.group.members()[i].name()).collect();
        let publish = vec![Published {
            name: names::share(attempt, phase, &self.group.members()[me]),
            text: text.clone(),
            what: format!("your phase-{phase} signature shares"),
        }];
        let mut next = j;
        next.signed[phase.index()] = Some(Signed { package: pkg.digest, share: text });
        let did = format!(
            "checked the phase-{phase} signing package and published your signature shares (co-signers: {})",
            with.join(", ")
        );
        let mut step = Step::to(next, did, publish, "sign-share");
        let session = *req.session();
        step.after_save = Some(Box::new(move || NonceStore::new(u, &session).consume(attempt, phase.number())));
        Ok(step)
    }
}

fn refuse(phase: Phase, reason: impl std::fmt::Display) -> Error {
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
    phase: Phase,
    nonces: &[frost::round1::SigningNonces],
) -> Result<()> {
    let plan = req.plan();
    let count = plan.count(phase);
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
    let ids: Vec<frost::Identifier> = pkg.signers.iter().map(|&i| group.identifier(i)).collect();
    let expected1 = plan.phase1_messages(req, own);
    for (k, p) in pkg.packages.iter().enumerate() {
        let keys: Vec<frost::Identifier> = p.signing_commitments().keys().copied().collect();
        if keys != ids {
            return Err(refuse(phase, format!("message {} lists other signers than the package header", k + 1)));
        }
        if p.signing_commitments().get(&group.identifier(me)) != Some(nonces[k].commitments()) {
            return Err(refuse(phase, format!("your own commitment for message {} is missing or was modified", k + 1)));
        }
        let (expected, source) = match phase {
            Phase::One => (expected1[k].clone(), plan.phase1[k].source(req)),
            Phase::Two => {
                let global = plan.phase2[k];
                let sig1 = check_phase1_signature(req, phase, k, p.message(), &expected1[global.extends], global)?;
                (global.message(req, &sig1), Slot::Minisign(global.artifact).source(req))
            }
        };
        if p.message() != expected.as_slice() {
            return Err(refuse(phase, format!("message {} is not what you computed from {source}", k + 1)));
        }
    }
    Ok(())
}

/// A phase-2 message starts with the phase-1 signature it extends: it must be the group's signature of
/// this keyholder's own phase-1 message `m1`.
fn check_phase1_signature(
    req: &Request,
    phase: Phase,
    k: usize,
    message: &[u8],
    m1: &[u8],
    global: GlobalSlot,
) -> Result<[u8; 64]> {
    let sig1: [u8; 64] =
        message.get(..64).and_then(|s| s.try_into().ok()).ok_or_else(|| refuse(phase, "malformed message"))?;
    let vk = VerifyingKey::from_bytes(req.group_key()).map_err(|_| refuse(phase, "bad group key"))?;
    if vk.verify_strict(m1, &Signature::from_bytes(&sig1)).is_err() {
        let name = req.artifacts().get(global.artifact).map(|a| a.name.as_str()).unwrap_or("?");
        return Err(refuse(
            phase,
            format!(
                "the phase-1 signature inside message {} is not the group's signature of your copy of `{name}`",
                k + 1
            ),
        ));
    }
    Ok(sig1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn journal(attempt: u32, commit: &str, share1: Option<&str>) -> Journal {
        Journal {
            request: [0; 32],
            attempt,
            commit: commit.into(),
            signed: [share1.map(|s| Signed { package: [1; 32], share: s.to_string() }), None],
            not_chosen: false,
            own: None,
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
