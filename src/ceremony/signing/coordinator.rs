//! `sign init` and `sign collect`: what the release manager (or CI, or any keyholder) does. No secrets.
//!
//! The coordinator is trusted for nothing but availability: the signing package it writes is unsigned,
//! and every signer checks it against its own digests and its own commitments before answering. Every
//! signature share is verified against the signer's public verifying share before aggregation, so a bad
//! share is named and no signature is written from it.

use super::{
    current_attempt, decode_shares, excluded, is_session_file, is_single_component, names, Artifact, Certification,
    Commitment, Finished, Format, Output, PackageFile, Phase, Plan, Release, Request, RequestSpec, SessionKind,
    ShareProblem, GROUP_COPY, KIND_COMMIT, KIND_SHARE, REQUEST_FILE,
};
use crate::card::Card;
use crate::error::{Error, Result};
use crate::exchange::folder::Folder;
use crate::exchange::message::Expect;
use crate::group::Group;
use crate::group::OpenPgpIdentity;
use crate::plain_text::{PlainText, TextKind};
use crate::textdoc::{printable, DocWriter};
use ed25519_dalek::{Signature, VerifyingKey};
use frost_ed25519 as frost;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// `sign init` for a release: hash the artifacts and write `DIR/request.txt` and `DIR/group.pub`.
///
/// With the `openpgp` format the group's OpenPGP key (`group.openpgp` beside the group file) is required:
/// each artifact's OpenPGP digest covers the signature trailer, which names the key.
pub fn init(
    dir: &Path,
    group_path: &Path,
    files: &[PathBuf],
    comment: Option<&str>,
    formats: &[Format],
    validity_secs: i64,
) -> Result<Request> {
    let group = Group::load(group_path)?;
    if formats.is_empty() || formats.iter().any(|f| !Format::RELEASE.contains(f)) {
        return Err(Error::new("a release is signed in the formats minisign, ssh, openpgp and signify-manifest")
            .with_help("the OpenPGP certification and git tags have their own commands: `group openpgp-init`, `sign init --git-tag`"));
    }
    if files.is_empty() {
        return Err(Error::new("give at least one artifact with --file"));
    }
    let created = crate::clock::now();
    let pgp = if formats.contains(&Format::Openpgp) {
        let id = OpenPgpIdentity::load_beside(group_path, &group)?.ok_or_else(|| {
            Error::new(format!(
                "the group has no OpenPGP key yet (`{}` is missing)",
                crate::text::path(&OpenPgpIdentity::path_for(group_path))
            ))
            .with_help("enable OpenPGP once with `frostsign group openpgp-init --key GROUP.pub --uid \"Name <email>\" --dir DIR`, and put the resulting group.openpgp beside group.pub")
        })?;
        if (id.key.created as i64) > created {
            return Err(Error::new("the group's OpenPGP key is dated in the future; check this machine's clock"));
        }
        Some(id.key)
    } else {
        None
    };
    let trailer = pgp.map(|k| k.file_trailer(u32::try_from(created).unwrap_or(0)));
    let mut artifacts = Vec::new();
    for f in files {
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| Error::file(f, "has no file name"))?;
        let name = PlainText::new(TextKind::ArtifactName, &name)
            .map_err(|e| Error::file(f, format!("cannot be signed: {e}")).with_help("rename the file"))?;
        let (digests, openpgp) = crate::digest::hash_file_with_trailer(f, trailer.as_deref())?;
        artifacts.push(Artifact { name, digests, openpgp });
    }
    let release = Release {
        artifacts,
        formats: formats.to_vec(),
        comment: comment.map(|c| PlainText::new(TextKind::Comment, c)).transpose()?,
        openpgp_key_created: pgp.map(|k| k.created),
    };
    let spec = RequestSpec { kind: SessionKind::Release(release), created, validity_secs };
    write_session(dir, &group, spec)
}

/// `group openpgp-init`: a session that certifies the group's OpenPGP key for `uid`. The key's creation
/// time is the request's creation time and never changes afterwards.
pub fn init_openpgp(dir: &Path, group_path: &Path, uid: &str, validity_secs: i64) -> Result<Request> {
    let group = Group::load(group_path)?;
    if let Some(existing) = OpenPgpIdentity::load_beside(group_path, &group)? {
        return Err(Error::new(format!(
            "the group already has an OpenPGP key ({}, user id \"{}\")",
            hex::encode_upper(existing.key.fingerprint()),
            existing.uid
        ))
        .with_help("its fingerprint covers its creation time, so it is made once; keep using it"));
    }
    let created = crate::clock::now();
    let key_created = u32::try_from(created).map_err(|_| Error::new("the clock is out of OpenPGP's range"))?;
    let kind =
        SessionKind::OpenpgpCertification(Certification { uid: PlainText::new(TextKind::Uid, uid)?, key_created });
    let spec = RequestSpec { kind, created, validity_secs };
    write_session(dir, &group, spec)
}

/// `group approve`: a session in which the group approves `group_path`'s version of its membership by
/// signing its membership statement. Refuses version 1 (the trust anchor, approved by every member's
/// acceptance) and a file already approved.
pub fn init_membership(dir: &Path, group_path: &Path, validity_secs: i64) -> Result<Request> {
    let group = Group::load(group_path)?;
    if group.version() < 2 {
        return Err(Error::file(group_path, "is version 1 of its group: nothing to approve")
            .with_note("the first version is made by key generation and accepted by every member; later versions (after a refresh or repair) are approved by the group")
            .with_help("run this with the group file a refresh or repair wrote"));
    }
    if group.acceptances().is_empty() {
        return Err(Error::file(group_path, "carries no acceptances: it is not the finished group file")
            .with_help("use the group.pub the refresh or repair wrote when every keyholder completed"));
    }
    if group.approval().is_some() {
        return Err(Error::file(group_path, format!("is version {} of its group, already approved", group.version()))
            .with_help("publish it: users accept it with `frostsign group update --from OLD --to NEW`"));
    }
    let statement = crate::group::membership::Statement::parse(&group.statement())
        .map_err(|e| Error::new(format!("internal error: the group's statement does not parse: {e}")))?;
    let kind = SessionKind::MembershipApproval(super::Approval { statement });
    let spec = RequestSpec { kind, created: crate::clock::now(), validity_secs };
    write_session(dir, &group, spec)
}

/// `group rotate`: write the rotation statement from `old_path`'s group to `new_path`'s into
/// `DIR/rotation.txt` and open the two sessions that sign it, `DIR/old` (the old group) and `DIR/new`
/// (the new group). Returns the two requests.
pub fn init_rotation(
    dir: &Path,
    old_path: &Path,
    new_path: &Path,
    reason: &str,
    validity_secs: i64,
) -> Result<(Request, Request)> {
    use crate::group::rotation::{Role, Rotation, STATEMENT_FILE};
    let (old, new) = (Group::load(old_path)?, Group::load(new_path)?);
    let created = crate::clock::now();
    let statement = Rotation::create(&old, &new, reason, created)?;
    // Everything is checked before anything is written: a refusal leaves the folder as it was.
    let spec = |role: Role| -> Result<RequestSpec> {
        let session = super::RotationSession::new(role, statement.clone(), new.text())?;
        Ok(RequestSpec { kind: SessionKind::Rotation(Box::new(session)), created, validity_secs })
    };
    let (old_spec, new_spec) = (spec(Role::Old)?, spec(Role::New)?);
    for role in [Role::Old, Role::New] {
        let request = dir.join(role.name()).join(REQUEST_FILE);
        if std::fs::symlink_metadata(&request).is_ok() {
            return Err(Error::file(&request, "already exists: this folder already holds a rotation")
                .with_help("use a new, empty folder for each rotation"));
        }
    }
    crate::fsx::ensure_dir(dir)?;
    let path = dir.join(STATEMENT_FILE);
    if !crate::fsx::atomic_create(&path, statement.text.as_bytes(), crate::fsx::PUBLIC_FILE)? {
        return Err(Error::file(&path, "already exists: this folder already holds a rotation")
            .with_help("use a new, empty folder for each rotation"));
    }
    let old_req = write_session(&dir.join(Role::Old.name()), &old, old_spec)?;
    let new_req = write_session(&dir.join(Role::New.name()), &new, new_spec)?;
    Ok((old_req, new_req))
}

/// `sign init --git-tag`: a session that signs the tag `name` on `ref_name` of `repo`.
#[allow(clippy::too_many_arguments)]
pub fn init_git_tag(
    dir: &Path,
    group_path: &Path,
    repo: &Path,
    name: &str,
    ref_name: &str,
    message: &str,
    tagger: Option<&str>,
    validity_secs: i64,
) -> Result<Request> {
    let group = Group::load(group_path)?;
    let created = crate::clock::now();
    let tag = super::git::prepare(repo, name, ref_name, message, tagger, created)?;
    let spec = RequestSpec { kind: SessionKind::GitTag(tag), created, validity_secs };
    write_session(dir, &group, spec)
}

fn write_session(dir: &Path, group: &Group, spec: RequestSpec) -> Result<Request> {
    let (req, text) = Request::create(group, spec)?;
    crate::fsx::ensure_dir(dir)?;
    let path = dir.join(REQUEST_FILE);
    if dir.join(GROUP_COPY).exists()
        && crate::fsx::read_limited_untrusted(&dir.join(GROUP_COPY), crate::group::MAX_GROUP_BYTES)?
            != group.text().as_bytes()
    {
        return Err(Error::file(&dir.join(GROUP_COPY), "already exists and is another group's file")
            .with_help("use a new, empty folder for each signing session"));
    }
    if !crate::fsx::atomic_create(&path, text.as_bytes(), crate::fsx::PUBLIC_FILE)? {
        return Err(Error::file(&path, "already exists: this folder already holds a signing session")
            .with_help("use a new, empty folder for each signing session"));
    }
    crate::fsx::publish(&dir.join(GROUP_COPY), group.text().as_bytes())?;
    Ok(req)
}

/// What `collect` did: the report every ceremony uses.
pub type CollectReport = crate::ceremony::engine::Report;

/// Options of `collect`.
#[derive(Debug, Default, Clone)]
pub struct CollectOptions {
    /// Where to write the signatures (default: the session folder).
    pub out: Option<PathBuf>,
    /// Open a fresh attempt (new nonces), leaving out these keyholders (names or fingerprints).
    pub restart_without: Option<Vec<String>>,
    /// For a git tag session: the repository to store the signed tag in.
    pub repo: Option<PathBuf>,
}

/// A file in the session folder that does not count: unreadable, not validly signed by the keyholder its
/// name belongs to (for this session and round), or not a file of this session. It never changes a
/// verdict; under a keyholder's name it means that keyholder's file is not there yet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Stray {
    /// The file name (made printable).
    pub file: String,
    /// Why it does not count (made printable).
    pub reason: String,
    /// The keyholder whose file has this name, if any: that keyholder's file counts as not there yet.
    pub keyholder: Option<String>,
}

impl Stray {
    /// A stray, its name and reason made printable.
    pub fn new(file: &str, reason: &str) -> Stray {
        // The name comes from the folder; the reason is frostsign's own message (its quotes of file
        // content are escaped where they are made), so it is only neutralized, not escaped twice.
        Stray { file: printable(file, 120), reason: crate::text::neutralize(reason).into_owned(), keyholder: None }
    }

    /// One line: the file, why it does not count, and what that means.
    pub fn describe(&self) -> String {
        match &self.keyholder {
            Some(k) => format!("{}: {} ({k}'s file counts as not there yet)", self.file, self.reason),
            None => format!("{}: {}", self.file, self.reason),
        }
    }
}

/// A keyholder who sent a malformed file: the file is validly signed by that keyholder for this session
/// and round, which proves who sent it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Culprit {
    /// The keyholder's name.
    pub keyholder: String,
    /// The keyholder's position in the group.
    #[serde(skip)]
    pub member: usize,
    /// The file's name in the session folder.
    pub file: String,
    /// What is malformed (made printable).
    pub reason: String,
}

impl Culprit {
    /// Which file, signed by whom, what is wrong with it.
    pub fn describe(&self) -> String {
        format!("`{}` is signed by {} but {}", self.file, self.keyholder, self.reason)
    }
}

/// The keyholders' files of one round, sorted by what they turned out to be. A keyholder in none of the
/// three maps has no file there.
#[derive(Debug)]
pub struct Round<T> {
    /// Validly signed and well formed.
    pub good: BTreeMap<usize, T>,
    /// Validly signed by the keyholder, but malformed.
    pub culprits: BTreeMap<usize, Culprit>,
    /// There, but not counted.
    pub strays: BTreeMap<usize, Stray>,
}

impl<T> Default for Round<T> {
    fn default() -> Self {
        Round { good: BTreeMap::new(), culprits: BTreeMap::new(), strays: BTreeMap::new() }
    }
}

/// Why a validly signed file cannot be used.
enum Reject {
    /// Its signer sent a malformed file.
    Culprit(String),
    /// It does not count, and nobody is to blame for it.
    Stray(String),
}

/// The reason of an error about `path`, without the path in front.
pub(crate) fn reason_of(e: &Error, path: &Path) -> String {
    let m = e.message();
    m.strip_prefix(&format!("{}: ", crate::text::path(path))).unwrap_or(m).to_string()
}

/// The session as the coordinator sees it: request, group, folder.
pub struct Session {
    /// The request.
    pub req: Request,
    /// The group (from the folder's copy, checked against the request).
    pub group: Group,
    /// The folder.
    pub folder: Folder,
}

impl Session {
    /// Load request and group from a session folder.
    pub fn load(dir: &Path) -> Result<Session> {
        let folder = Folder::open(dir)?;
        let req = Request::load(dir)?;
        let gpath = dir.join(GROUP_COPY);
        if !gpath.exists() {
            return Err(Error::new(format!("`{}` is missing from the session folder", crate::text::path(&gpath)))
                .with_help("copy the group's group.pub into the folder"));
        }
        let text = crate::fsx::read_text_untrusted(&gpath, crate::group::MAX_GROUP_BYTES)?;
        let group =
            Group::parse(&text).map_err(|e| Error::file(&gpath, format!("not a valid frostsign group file: {e}")))?;
        req.check_group(&group).map_err(|e| e.context(crate::text::path(&gpath)))?;
        Ok(Session { req, group, folder })
    }

    /// The member `spec` names: a fingerprint, a name, or an unambiguous prefix of one name (case-insensitive).
    fn member(&self, spec: &str) -> Result<usize> {
        let members = self.group.members();
        let fp = crate::card::Fingerprint::parse(spec);
        if let Some(i) = members.iter().position(|c| Some(c.fingerprint()) == fp || c.name() == spec) {
            return Ok(i);
        }
        let lower = spec.to_lowercase();
        let matching: Vec<usize> = (0..members.len())
            .filter(|&i| !spec.is_empty() && members[i].name().to_lowercase().starts_with(&lower))
            .collect();
        let names = || members.iter().map(|c| c.name().to_string()).collect::<Vec<_>>().join(", ");
        match matching.as_slice() {
            [i] => Ok(*i),
            [] => Err(Error::new(format!("`{}` is not a member of the group", crate::text::escape(spec)))
                .with_help(format!("give a name, a prefix of one or a fingerprint; the members are: {}", names()))),
            _ => Err(Error::new(format!(
                "`{}` could be any of {}",
                crate::text::escape(spec),
                names_of(&self.group, &matching)
            ))
            .with_help("give more of the name, or a fingerprint")),
        }
    }

    /// Read the file `file(card)` of each of `members`: opened only if it is a plain file validly signed by
    /// that keyholder for this session and `expect`'s round, then decoded in full.
    fn read_round<T>(
        &self,
        members: &[usize],
        file: impl Fn(&Card) -> String,
        expect: &Expect<'_>,
        decode: impl Fn(&[u8]) -> std::result::Result<T, Reject>,
    ) -> Round<T> {
        let mut round = Round::default();
        for &i in members {
            let card = &self.group.members()[i];
            let name = file(card);
            let path = self.folder.path(&name);
            let stray = |reason: &str| Stray { keyholder: Some(card.name().to_string()), ..Stray::new(&name, reason) };
            match std::fs::symlink_metadata(&path) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => {
                    round.strays.insert(i, stray(&format!("could not be read: {e}")));
                    continue;
                }
                Ok(m) if m.file_type().is_symlink() => {
                    round.strays.insert(i, stray("is a symbolic link (not followed); session files are plain files"));
                    continue;
                }
                Ok(_) => {}
            }
            match self.folder.receive(&name, expect, self.group.members(), i, None) {
                Ok(None) => {}
                Err(e) => {
                    round.strays.insert(i, stray(&reason_of(&e, &path)));
                }
                Ok(Some(r)) => match decode(r.opened.payload.expose()) {
                    Ok(v) => {
                        round.good.insert(i, v);
                    }
                    Err(Reject::Stray(reason)) => {
                        round.strays.insert(i, stray(&reason));
                    }
                    Err(Reject::Culprit(reason)) => {
                        let reason = printable(&reason, 400);
                        round
                            .culprits
                            .insert(i, Culprit { keyholder: card.name().into(), member: i, file: name, reason });
                    }
                },
            }
        }
        round
    }

    /// Read every keyholder's commitment of attempt `a`, decoded in full (see [`Commitment::decode`]).
    pub fn commitments(&self, a: u32) -> Round<Commitment> {
        let round = names::commit_round(a);
        let e = Expect { kind: KIND_COMMIT, ceremony: self.req.digest(), round: &round, private: false };
        let all: Vec<usize> = (0..self.group.members().len()).collect();
        self.read_round(
            &all,
            |c| names::commit(a, c),
            &e,
            |p| Commitment::decode(p, &self.req, a).map_err(Reject::Culprit),
        )
    }

    /// Read the chosen signers' shares of a phase, decoded in full (see [`decode_shares`]).
    pub fn shares(&self, pkg: &PackageFile) -> Round<Vec<frost::round2::SignatureShare>> {
        let round = names::share_round(pkg.attempt, pkg.phase);
        let e = Expect { kind: KIND_SHARE, ceremony: self.req.digest(), round: &round, private: false };
        let package = names::package(pkg.attempt, pkg.phase);
        self.read_round(&pkg.signers, |c| names::share(pkg.attempt, pkg.phase, c), &e, |p| {
            decode_shares(p, pkg).map_err(|problem| match problem {
                ShareProblem::Malformed(reason) => Reject::Culprit(reason),
                ShareProblem::OtherPackage => Reject::Stray(format!(
                    "{OTHER_PACKAGE} than `{package}` (was the package replaced after it was signed? put that one back, or open a fresh attempt with `--restart`)"
                )),
            })
        })
    }
}

/// The package's signers whose commitments in it differ from the commitment file they signed (one whose
/// commitment file is not readable is left to the signers, who check their own). A package built from
/// another view of the folder (two coordinators racing) or edited shows up here: no signer would answer it.
pub(crate) fn foreign_commitments(s: &Session, pkg: &PackageFile, commits: &Round<Commitment>) -> Vec<usize> {
    pkg.signers
        .iter()
        .copied()
        .filter(|i| {
            let Some(c) = commits.good.get(i) else { return false };
            let own = match pkg.phase {
                Phase::One => &c.phase1,
                Phase::Two => &c.phase2,
            };
            let id = s.group.identifier(*i);
            pkg.packages.iter().zip(own).any(|(p, mine)| p.signing_commitments().get(&id) != Some(mine))
                || pkg.packages.len() != own.len()
        })
        .collect()
}

/// How a stray share that its keyholder validly signed for another package of this attempt begins: the
/// package was replaced after it signed, and it will never sign the new one (its nonces are spent).
pub(crate) const OTHER_PACKAGE: &str = "it answers another signing package";

/// The chosen signers whose validly signed share answers another package than the folder's: the session
/// cannot go on with this package. Their names.
pub(crate) fn answered_another_package(strays: &std::collections::BTreeMap<usize, Stray>) -> Vec<String> {
    strays.values().filter(|st| st.reason.starts_with(OTHER_PACKAGE)).filter_map(|st| st.keyholder.clone()).collect()
}

/// The note `collect` prints for a keyholder's file that does not count.
fn stray_note(st: &Stray) -> String {
    format!(
        "`{}` is not counted: {}; {}'s file counts as not there yet",
        st.file,
        st.reason,
        st.keyholder.as_deref().unwrap_or("its keyholder")
    )
}

fn names_of(group: &Group, idx: &[usize]) -> String {
    idx.iter().map(|&i| group.members()[i].name().to_string()).collect::<Vec<_>>().join(", ")
}

/// How to go on without `culprits`: a fresh attempt without them, if enough keyholders remain.
fn restart_help(group: &Group, culprits: &[usize]) -> String {
    let mut out = culprits.to_vec();
    out.sort_unstable();
    out.dedup();
    if group.members().len() - out.len() >= group.threshold() as usize {
        let without: Vec<String> =
            out.iter().map(|&i| format!("--without \"{}\"", group.members()[i].name())).collect();
        format!(
            "open a fresh attempt without {}: `frostsign sign collect --dir DIR --restart {}`",
            if out.len() == 1 { "them" } else { "these keyholders" },
            without.join(" ")
        )
    } else {
        format!(
            "open a fresh attempt, in which {} must commit again: `frostsign sign collect --dir DIR --restart` (without them fewer than {} keyholders remain)",
            names_of(group, &out),
            group.threshold()
        )
    }
}

/// Error for keyholders who sent malformed (or, for shares, invalid) files: names each one and its file.
fn culprits_error(s: &Session, headline: String, culprits: &[&Culprit]) -> Error {
    let mut e = Error::new(headline);
    for c in culprits {
        e = e.with_note(format!("culprit: {}: {}", c.keyholder, c.describe()));
    }
    let members: Vec<usize> = culprits.iter().map(|c| c.member).collect();
    e.with_note("no signature was written").with_help(restart_help(&s.group, &members))
}

/// Build the signing packages of a phase from the signers' commitments. `Ok(Err(why))`: a chosen signer's
/// commitment is not there (yet).
fn build_packages(
    s: &Session,
    a: u32,
    signers: &[usize],
    commits: &Round<Commitment>,
    phase: Phase,
    messages: &[Vec<u8>],
) -> Result<std::result::Result<Vec<frost::SigningPackage>, String>> {
    for &i in signers {
        if commits.good.contains_key(&i) {
            continue;
        }
        if let Some(c) = commits.culprits.get(&i) {
            return Err(culprits_error(
                s,
                format!("the commitment of {}, a chosen signer, is malformed", c.keyholder),
                &[c],
            ));
        }
        let card = &s.group.members()[i];
        let why = match commits.strays.get(&i) {
            Some(st) => format!("is not counted: {}", st.reason),
            None => "is missing from the folder".to_string(),
        };
        return Ok(Err(format!(
            "the commitment of {}, a chosen signer: `{}` {why}; {}'s next `sign step` publishes it again (remove a damaged file first), or open a fresh attempt with `frostsign sign collect --restart`",
            card.label(),
            names::commit(a, card),
            card.name()
        )));
    }
    let mut out = Vec::new();
    for (k, m) in messages.iter().enumerate() {
        let map: BTreeMap<_, _> = signers
            .iter()
            .map(|&i| {
                let c = &commits.good[&i];
                let commitments = match phase {
                    Phase::One => &c.phase1,
                    Phase::Two => &c.phase2,
                };
                (s.group.identifier(i), commitments[k])
            })
            .collect();
        out.push(frost::SigningPackage::new(map, m));
    }
    Ok(Ok(out))
}

/// Each signer's shares, one per message, by member index.
type SharesBySigner = BTreeMap<usize, Vec<frost::round2::SignatureShare>>;

/// Verify every share, then aggregate each message; names the culprit of any invalid share.
fn aggregate(s: &Session, pkg: &PackageFile, shares: &SharesBySigner) -> Result<Vec<[u8; 64]>> {
    let vk = s.group.package()?.verifying_key();
    let mut sigs = Vec::new();
    for (k, p) in pkg.packages.iter().enumerate() {
        let mut map = BTreeMap::new();
        for (&i, list) in shares {
            let id = s.group.identifier(i);
            let vs =
                s.group.package()?.verifying_shares().get(&id).ok_or_else(|| Error::new("signer not in the group"))?;
            if frost_core::verify_signature_share(id, vs, &list[k], p, vk).is_err() {
                let card = &s.group.members()[i];
                let c = Culprit {
                    keyholder: card.name().into(),
                    member: i,
                    file: names::share(pkg.attempt, pkg.phase, card),
                    reason: format!("its share for message {} does not verify", k + 1),
                };
                return Err(culprits_error(
                    s,
                    format!("{} sent an invalid signature share (message {})", card.label(), k + 1),
                    &[&c],
                ));
            }
            map.insert(id, list[k]);
        }
        let sig = frost::aggregate(p, &map, s.group.package()?)
            .map_err(|e| Error::new(format!("aggregation failed: {e}")))?;
        let bytes: [u8; 64] = sig
            .serialize()
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| Error::new("internal error: signature encoding"))?;
        // Belt and braces: the aggregate must be a standard Ed25519 signature under the group key.
        VerifyingKey::from_bytes(s.group.key())
            .and_then(|v| v.verify_strict(p.message(), &Signature::from_bytes(&bytes)))
            .map_err(|_| Error::new("internal error: the aggregated signature does not verify"))?;
        sigs.push(bytes);
    }
    Ok(sigs)
}

/// Outcome of one phase.
enum PhaseOutcome {
    Signed(Vec<[u8; 64]>),
    Waiting(String),
}

pub(crate) fn read_package(s: &Session, a: u32, phase: Phase) -> Result<PackageFile> {
    let path = s.folder.path(&names::package(a, phase));
    let text = crate::fsx::read_text_untrusted(&path, super::MAX_PACKAGE_BYTES)?;
    PackageFile::parse(&text, &s.group).map_err(|e| {
        Error::file(&path, format!("not a valid signing package: {e}"))
            .with_help("this file is the coordinator's: remove it, and `sign collect` builds it again (if no signer answered it yet)")
    })
}

#[allow(clippy::too_many_arguments)]
fn run_phase(
    s: &Session,
    a: u32,
    phase: Phase,
    messages: &[Vec<u8>],
    signers_hint: &[usize],
    commits: &Round<Commitment>,
    report: &mut CollectReport,
) -> Result<PhaseOutcome> {
    let name = names::package(a, phase);
    let path = s.folder.path(&name);
    if !path.exists() {
        let packages = match build_packages(s, a, signers_hint, commits, phase, messages)? {
            Ok(p) => p,
            Err(why) => return Ok(PhaseOutcome::Waiting(why)),
        };
        let text = PackageFile::encode(s.req.digest(), a, phase, signers_hint, &s.group, &packages)?;
        s.folder.publish(&name, &text)?;
        report.did.push(format!("built the phase-{phase} signing package for {}", names_of(&s.group, signers_hint)));
    }
    let pkg = read_package(s, a, phase)?;
    if pkg.session != *s.req.digest() || pkg.attempt != a || pkg.phase != phase || pkg.packages.len() != messages.len()
    {
        return Err(Error::file(&path, "belongs to another session, attempt or phase"));
    }
    if pkg.packages.iter().zip(messages).any(|(p, m)| p.message() != m.as_slice()) {
        return Err(Error::file(&path, "does not sign the messages of this request (edited?)"));
    }
    let foreign = foreign_commitments(s, &pkg, commits);
    if !foreign.is_empty() {
        return Err(Error::file(
            &path,
            format!(
                "does not hold the commitments {} published (built from another view of the folder, or edited)",
                names_of(&s.group, &foreign)
            ),
        )
        .with_note("nothing was written")
        .with_help(format!(
            "if no signer answered it yet, remove it and run `frostsign sign collect --dir {d}` again; otherwise open a fresh attempt: `frostsign sign collect --dir {d} --restart`",
            d = crate::text::path(s.folder.dir())
        )));
    }
    let shares = s.shares(&pkg);
    if !shares.culprits.is_empty() {
        let list: Vec<&Culprit> = shares.culprits.values().collect();
        let who: Vec<&str> = list.iter().map(|c| c.keyholder.as_str()).collect();
        return Err(culprits_error(
            s,
            format!("malformed phase-{phase} signature shares from {}", who.join(", ")),
            &list,
        ));
    }
    report.notes.extend(shares.strays.values().map(stray_note));
    let answered = answered_another_package(&shares.strays);
    if !answered.is_empty() {
        return Err(Error::new(format!(
            "{} signed another phase-{phase} package than `{name}`: the package was replaced after they signed, and they will never sign this one",
            answered.join(", ")
        ))
        .with_note("nothing was written")
        .with_help(format!(
            "put back the package they signed, or open a fresh attempt: `frostsign sign collect --dir {} --restart`",
            crate::text::path(s.folder.dir())
        )));
    }
    let missing: Vec<usize> = pkg.signers.iter().copied().filter(|i| !shares.good.contains_key(i)).collect();
    if !missing.is_empty() {
        return Ok(PhaseOutcome::Waiting(format!(
            "phase-{phase} signature shares from {}",
            names_of(&s.group, &missing)
        )));
    }
    let sigs = aggregate(s, &pkg, &shares.good)?;
    Ok(PhaseOutcome::Signed(sigs))
}

/// Attempt `a` can no longer reach the threshold: too few usable commitments, and nobody else to commit.
fn cannot_reach(s: &Session, a: u32, usable: usize, blamed: &[&Culprit], differ: &[usize]) -> Error {
    let t = s.group.threshold();
    let mut e = Error::new(format!(
        "attempt {a} cannot reach the threshold {t}: {usable} usable commitment(s), and nobody else is left to commit"
    ));
    for c in blamed {
        e = e.with_note(format!("culprit: {}: {}", c.keyholder, c.describe()));
    }
    for &i in differ {
        e = e.with_note(format!("{} attests digests that differ from the request", s.group.members()[i].name()));
    }
    let out: Vec<usize> = blamed.iter().map(|c| c.member).chain(differ.iter().copied()).collect();
    e.with_note("nothing was written").with_help(restart_help(&s.group, &out))
}

/// `sign collect`: do every coordinator action possible now. See the module documentation.
///
/// A session past its expiry that still waits for anyone is reported as expired (an error naming the
/// recovery), never as in progress: signers refuse an expired request, so nothing will come.
pub fn collect(dir: &Path, opts: &CollectOptions) -> Result<CollectReport> {
    let report = collect_now(dir, opts)?;
    if let Some(w) = &report.waiting {
        let req = Request::load(dir)?;
        if crate::clock::now() > req.expires() {
            return Err(expired(&req, dir).with_note(format!("still waiting for {w}")));
        }
    }
    Ok(report)
}

/// The error of a session that expired before it was done, with the one way out.
pub fn expired(req: &Request, dir: &Path) -> Error {
    Error::new(format!(
        "the signing request in `{}` expired at {} before the session was done",
        crate::text::path(dir),
        crate::clock::format(req.expires())
    ))
    .with_note("signers refuse an expired request, so nothing more will come; nothing was written")
    .with_help(
        "open a new session in a new folder: `frostsign sign init --dir NEW-DIR --group group.pub --file ARTIFACT ...`",
    )
}

fn collect_now(dir: &Path, opts: &CollectOptions) -> Result<CollectReport> {
    let s = Session::load(dir)?;
    let mut report = CollectReport::default();
    let a = current_attempt(dir)?;
    if let Some(without) = &opts.restart_without {
        let out: Vec<usize> = without.iter().map(|w| s.member(w)).collect::<Result<_>>()?;
        let left = s.group.members().len() - out.iter().collect::<std::collections::BTreeSet<_>>().len();
        if left < s.group.threshold() as usize {
            return Err(Error::new(format!(
                "leaving out {} would leave {left} keyholders, fewer than the threshold {}: nobody could sign",
                names_of(&s.group, &out),
                s.group.threshold()
            ))
            .with_help("leave out fewer keyholders; nothing was written"));
        }
        let mut w = DocWriter::new("sign-restart", 1).field("attempt", a + 1);
        for &i in &out {
            w = w.field(
                "without",
                format!("{} {}", s.group.members()[i].fingerprint().compact(), s.group.members()[i].name()),
            );
        }
        s.folder.publish(&names::restart(a + 1), &w.finish()?)?;
        report.did.push(format!(
            "opened attempt {} with fresh nonces{}",
            a + 1,
            if out.is_empty() { String::new() } else { format!(", without {}", names_of(&s.group, &out)) }
        ));
        report.waiting = Some(format!(
            "new commitments: every keyholder taking part runs `frostsign sign step --dir {}` again",
            crate::text::path(dir)
        ));
        return Ok(report);
    }
    let left_out = excluded(dir, a, &s.group)?;
    let in_play = |i: &usize| !left_out.contains(i);
    let commits = s.commitments(a);
    report.notes.extend(commits.strays.iter().filter(|(i, _)| in_play(i)).map(|(_, st)| stray_note(st)));
    let blamed: Vec<&Culprit> = commits.culprits.iter().filter(|(i, _)| in_play(i)).map(|(_, c)| c).collect();
    for c in &blamed {
        report.did.push(format!("left out {}: {} (culprit: {})", c.keyholder, c.describe(), c.keyholder));
    }
    // A keyholder who attested digests other than the request's is not chosen (its step would refuse).
    let mut signers: Vec<usize> = Vec::new();
    let mut differ: Vec<usize> = Vec::new();
    for (&i, c) in commits.good.iter().filter(|(i, _)| in_play(i)) {
        if c.matches_request {
            signers.push(i);
        } else {
            report.did.push(format!(
                "ignored {}: the digests it attests differ from the request",
                s.group.members()[i].name()
            ));
            differ.push(i);
        }
    }
    let t = s.group.threshold() as usize;
    let pkg1_exists = s.folder.has(&names::package(a, Phase::One));
    // Exactly t signers, the first who committed by member order: one more volunteer who then goes quiet
    // cannot stall the release (the others learn from the package that they were not chosen).
    signers.truncate(t);
    if !pkg1_exists && signers.len() < t {
        let pending: Vec<usize> = (0..s.group.members().len())
            .filter(|i| in_play(i) && !commits.good.contains_key(i) && !commits.culprits.contains_key(i))
            .collect();
        if signers.len() + pending.len() < t {
            return Err(cannot_reach(&s, a, signers.len(), &blamed, &differ));
        }
        report.waiting = Some(format!(
            "commitments: {} of the {t} needed are in; waiting for any of {}",
            signers.len(),
            names_of(&s.group, &pending)
        ));
        return Ok(report);
    }
    let evidence = s.req.evidence();
    let plan = s.req.plan();
    let phase1 = plan.phase1_messages(&s.req, &evidence);
    let sig1 = match run_phase(&s, a, Phase::One, &phase1, &signers, &commits, &mut report)? {
        PhaseOutcome::Signed(sigs) => sigs,
        PhaseOutcome::Waiting(w) => {
            report.waiting = Some(w);
            return Ok(report);
        }
    };
    // Phase 2 uses the signers of phase 1 (their phase-2 nonces were committed together).
    let pkg1 = read_package(&s, a, Phase::One)?;
    let phase2: Vec<Vec<u8>> = plan.phase2.iter().map(|g| g.message(&s.req, &sig1[g.extends])).collect();
    let sig2 = if phase2.is_empty() {
        Vec::new()
    } else {
        match run_phase(&s, a, Phase::Two, &phase2, &pkg1.signers, &commits, &mut report)? {
            PhaseOutcome::Signed(sigs) => sigs,
            PhaseOutcome::Waiting(w) => {
                report.waiting = Some(w);
                return Ok(report);
            }
        }
    };
    let out_dir = opts.out.as_deref().unwrap_or(dir);
    write_outputs(&s, &plan, opts, out_dir, [&sig1, &sig2], &pkg1.signers, &mut report)?;
    Ok(report)
}

/// The path of output `name` in `out_dir`: refused unless `name` is one file name directly in the folder.
fn output_path(out_dir: &Path, name: &str) -> Result<PathBuf> {
    if !is_single_component(name) || is_session_file(name) {
        return Err(Error::new(format!(
            "refusing to write `{}`: not one file name of the output folder",
            printable(name, 120)
        )));
    }
    Ok(out_dir.join(name))
}

/// Build every output, check each against the request and the group key, and only then write them all,
/// each as one file directly in `out_dir` (an atomic rename: a link planted under an output's name is
/// replaced, never written through).
fn write_outputs(
    s: &Session,
    plan: &Plan,
    opts: &CollectOptions,
    out_dir: &Path,
    [sig1, sig2]: [&[[u8; 64]]; 2],
    signers: &[usize],
    report: &mut CollectReport,
) -> Result<()> {
    let who = format!(
        "frostsign group {} ({}-of-{}, signed by {})",
        s.group.fingerprint().compact(),
        s.group.threshold(),
        s.group.members().len(),
        names_of(&s.group, signers)
    );
    let ev = s.req.evidence();
    let finished = Finished { req: &s.req, group: &s.group, ev: &ev, who: &who, sig1, sig2 };
    let mut files: Vec<(PathBuf, String)> = Vec::new();
    let mut tag_object = None;
    for planned in &plan.outputs {
        let text = planned.encode(&finished)?;
        if planned.output == Output::GitTag {
            tag_object = Some(text.clone());
        }
        files.push((output_path(out_dir, &planned.name)?, text));
    }
    crate::fsx::ensure_dir(out_dir)?;
    for (path, text) in &files {
        crate::fsx::atomic_write(path, text.as_bytes(), crate::fsx::PUBLIC_FILE)?;
        report.outputs.push(path.clone());
    }
    if let (Some(repo), Some(tag), Some(object)) = (&opts.repo, s.req.git(), tag_object) {
        let id = super::git::import(repo, tag, &object)?;
        report.did.push(format!("stored the signed tag `{}` ({id}) in `{}`", tag.name, crate::text::path(repo)));
    }
    report.did.push(format!("aggregated and verified the group signatures; wrote {} file(s)", report.outputs.len()));
    Ok(())
}
