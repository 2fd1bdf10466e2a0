//! `sign init` and `sign collect`: what the release manager (or CI, or any keyholder) does. No secrets.
//!
//! The coordinator is trusted for nothing but availability: the signing package it writes is unsigned,
//! and every signer checks it against its own digests and its own commitments before answering. Every
//! signature share is verified against the signer's public verifying share before aggregation, so a bad
//! share is named and no signature is written from it.

use super::{
    current_attempt, decode_hex_list, excluded, is_session_file, is_single_component, names, Artifact, CommitPayload,
    Format, Output, PackageFile, Request, RequestSpec, SharePayload, Slot, GROUP_COPY, KIND_COMMIT, KIND_SHARE,
    REQUEST_FILE,
};
use crate::card::Card;
use crate::error::{Error, Result};
use crate::exchange::folder::Folder;
use crate::exchange::message::Expect;
use crate::formats::minisign::{self, MinisignSignature};
use crate::formats::{signify, ssh};
use crate::group::OpenPgpIdentity;
use crate::group::{identifier, Group};
use crate::textdoc::{printable, DocWriter};
use ed25519_dalek::{Signature, VerifyingKey};
use frost_ed25519 as frost;
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
                OpenPgpIdentity::path_for(group_path).display()
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
    let mut openpgp_digests = Vec::new();
    for f in files {
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| Error::file(f, "has no file name"))?;
        let (digests, pgp_digest) = crate::digest::hash_file_with_trailer(f, trailer.as_deref())?;
        artifacts.push(Artifact { name, digests });
        openpgp_digests.extend(pgp_digest);
    }
    let spec = RequestSpec {
        artifacts,
        openpgp_digests,
        comment: comment.map(str::to_string),
        formats: formats.to_vec(),
        created,
        validity_secs,
        openpgp_created: pgp.map(|k| k.created),
        openpgp_uid: None,
        git: None,
    };
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
    let spec = RequestSpec {
        artifacts: Vec::new(),
        openpgp_digests: Vec::new(),
        comment: None,
        formats: vec![Format::OpenpgpCertification],
        created,
        validity_secs,
        openpgp_created: Some(u32::try_from(created).map_err(|_| Error::new("the clock is out of OpenPGP's range"))?),
        openpgp_uid: Some(uid.to_string()),
        git: None,
    };
    write_session(dir, &group, spec)
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
    let spec = RequestSpec {
        artifacts: Vec::new(),
        openpgp_digests: Vec::new(),
        comment: None,
        formats: vec![Format::GitTag],
        created,
        validity_secs,
        openpgp_created: None,
        openpgp_uid: None,
        git: Some(tag),
    };
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

/// Each signer's shares, one per message, by member index.
type SharesBySigner = BTreeMap<usize, Vec<frost::round2::SignatureShare>>;

/// What `collect` did.
#[derive(Debug, Default)]
pub struct CollectReport {
    /// Actions in plain words.
    pub did: Vec<String>,
    /// What we wait for.
    pub waiting: Option<String>,
    /// Signature files written (or already there), when done.
    pub outputs: Vec<PathBuf>,
}

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
            return Err(Error::new(format!("`{}` is missing from the session folder", gpath.display()))
                .with_help("copy the group's group.pub into the folder"));
        }
        let text = crate::fsx::read_text_untrusted(&gpath, crate::group::MAX_GROUP_BYTES)?;
        let group =
            Group::parse(&text).map_err(|e| Error::file(&gpath, format!("not a valid frostsign group file: {e}")))?;
        req.check_group(&group).map_err(|e| e.context(gpath.display()))?;
        Ok(Session { req, group, folder })
    }

    fn member(&self, spec: &str) -> Result<usize> {
        let fp = crate::card::Fingerprint::parse(spec);
        self.group
            .members()
            .iter()
            .position(|c| Some(c.fingerprint()) == fp || c.name() == spec)
            .ok_or_else(|| Error::new(format!("`{spec}` is not a member of the group (give a name or a fingerprint)")))
    }

    /// Read the commitments of attempt `a`. Invalid files are errors; missing ones are left out.
    pub fn commitments(&self, a: u32) -> Result<BTreeMap<usize, CommitPayload>> {
        let round = names::commit_round(a);
        let e = Expect { kind: KIND_COMMIT, ceremony: self.req.digest(), round: &round, private: false };
        let mut out = BTreeMap::new();
        for (i, card) in self.group.members().iter().enumerate() {
            let Some(r) = self.folder.receive(&names::commit(a, card), &e, self.group.members(), i, None)? else {
                continue;
            };
            let p: CommitPayload = serde_json::from_slice(r.opened.payload.expose())
                .map_err(|e| Error::file(&r.path, format!("malformed commitment: {e}")))?;
            if p.attempt != a || p.phase1.len() != self.req.phase1_count() || p.phase2.len() != self.req.phase2_count()
            {
                return Err(Error::file(
                    &r.path,
                    "commitment for another attempt or with the wrong number of messages",
                ));
            }
            out.insert(i, p);
        }
        Ok(out)
    }

    /// Read the shares of a phase for the given signers; returns the missing ones.
    fn shares(&self, pkg: &PackageFile) -> Result<(SharesBySigner, Vec<usize>)> {
        let round = names::share_round(pkg.attempt, pkg.phase);
        let e = Expect { kind: KIND_SHARE, ceremony: self.req.digest(), round: &round, private: false };
        let mut got = BTreeMap::new();
        let mut missing = Vec::new();
        for &i in &pkg.signers {
            let card = &self.group.members()[i];
            let Some(r) =
                self.folder.receive(&names::share(pkg.attempt, pkg.phase, card), &e, self.group.members(), i, None)?
            else {
                missing.push(i);
                continue;
            };
            let p: SharePayload = serde_json::from_slice(r.opened.payload.expose())
                .map_err(|e| Error::file(&r.path, format!("malformed share file: {e}")))?;
            if p.package != hex::encode(pkg.digest) || p.attempt != pkg.attempt || p.phase != pkg.phase {
                return Err(Error::file(&r.path, format!("{} answered a different signing package", card.name())));
            }
            let shares = decode_hex_list(&p.shares)
                .and_then(|l| {
                    l.iter().map(|b| frost::round2::SignatureShare::deserialize(b).ok()).collect::<Option<Vec<_>>>()
                })
                .filter(|l| l.len() == pkg.packages.len())
                .ok_or_else(|| culprit_error(card, &r.path, "its signature shares are malformed"))?;
            got.insert(i, shares);
        }
        Ok((got, missing))
    }
}

fn culprit_error(card: &Card, path: &Path, what: &str) -> Error {
    Error::file(path, format!("{what}: {} sent an invalid signature share", card.label()))
        .with_note(format!("culprit: {}", card.name()))
        .with_note("no signature was written")
        .with_help(format!(
            "open a fresh attempt without them: `frostsign sign collect --dir DIR --restart --without \"{}\"`",
            card.name()
        ))
}

fn names_of(group: &Group, idx: &[usize]) -> String {
    idx.iter().map(|&i| group.members()[i].name().to_string()).collect::<Vec<_>>().join(", ")
}

/// Build the signing packages of a phase from the signers' commitments.
fn build_packages(
    s: &Session,
    signers: &[usize],
    commits: &BTreeMap<usize, CommitPayload>,
    phase: u8,
    messages: &[Vec<u8>],
) -> Result<Vec<frost::SigningPackage>> {
    let mut out = Vec::new();
    for (k, m) in messages.iter().enumerate() {
        let mut map = BTreeMap::new();
        for &i in signers {
            let commit = commits.get(&i).ok_or_else(|| {
                let card = &s.group.members()[i];
                Error::new(format!(
                    "the commitment of {} (`{}`) is missing from the folder, but {} is a chosen signer",
                    card.label(),
                    names::commit(current_attempt(s.folder.dir()).unwrap_or(1), card),
                    card.name()
                ))
                .with_help("restore the file, or open a fresh attempt with `frostsign sign collect --restart`")
            })?;
            let list = if phase == 1 { &commit.phase1 } else { &commit.phase2 };
            let bytes = hex::decode(&list[k]).map_err(|_| Error::new("malformed commitment"))?;
            let c = frost::round1::SigningCommitments::deserialize(&bytes)
                .map_err(|_| Error::new("malformed commitment"))?;
            map.insert(identifier(i), c);
        }
        out.push(frost::SigningPackage::new(map, m));
    }
    Ok(out)
}

/// Verify every share, then aggregate each message; names the culprit of any invalid share.
fn aggregate(s: &Session, pkg: &PackageFile, shares: &SharesBySigner) -> Result<Vec<[u8; 64]>> {
    let vk = s.group.package().verifying_key();
    let mut sigs = Vec::new();
    for (k, p) in pkg.packages.iter().enumerate() {
        let mut map = BTreeMap::new();
        for (&i, list) in shares {
            let id = identifier(i);
            let vs =
                s.group.package().verifying_shares().get(&id).ok_or_else(|| Error::new("signer not in the group"))?;
            if frost_core::verify_signature_share(id, vs, &list[k], p, vk).is_err() {
                let card = &s.group.members()[i];
                let path = s.folder.path(&names::share(pkg.attempt, pkg.phase, card));
                return Err(culprit_error(card, &path, &format!("the share for message {} does not verify", k + 1)));
            }
            map.insert(id, list[k]);
        }
        let sig =
            frost::aggregate(p, &map, s.group.package()).map_err(|e| Error::new(format!("aggregation failed: {e}")))?;
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
enum Phase {
    Signed(Vec<[u8; 64]>),
    Waiting(String),
}

fn run_phase(
    s: &Session,
    a: u32,
    phase: u8,
    messages: &[Vec<u8>],
    signers_hint: &[usize],
    commits: &BTreeMap<usize, CommitPayload>,
    report: &mut CollectReport,
) -> Result<Phase> {
    let name = names::package(a, phase);
    let path = s.folder.path(&name);
    if !path.exists() {
        let text = PackageFile::encode(
            s.req.digest(),
            a,
            phase,
            signers_hint,
            &s.group,
            &build_packages(s, signers_hint, commits, phase, messages)?,
        )?;
        s.folder.publish(&name, &text)?;
        report.did.push(format!("built the phase-{phase} signing package for {}", names_of(&s.group, signers_hint)));
    }
    let text = crate::fsx::read_text_untrusted(&path, 64 * 1024 * 1024)?;
    let pkg = PackageFile::parse(&text, &s.group)
        .map_err(|e| Error::file(&path, format!("not a valid signing package: {e}")))?;
    if pkg.session != *s.req.digest() || pkg.attempt != a || pkg.phase != phase || pkg.packages.len() != messages.len()
    {
        return Err(Error::file(&path, "belongs to another session, attempt or phase"));
    }
    if pkg.packages.iter().zip(messages).any(|(p, m)| p.message() != m.as_slice()) {
        return Err(Error::file(&path, "does not sign the messages of this request (edited?)"));
    }
    let (shares, missing) = s.shares(&pkg)?;
    if !missing.is_empty() {
        return Ok(Phase::Waiting(format!("phase-{phase} signature shares from {}", names_of(&s.group, &missing))));
    }
    let sigs = aggregate(s, &pkg, &shares)?;
    Ok(Phase::Signed(sigs))
}

/// `sign collect`: do every coordinator action possible now. See the module documentation.
pub fn collect(dir: &Path, opts: &CollectOptions) -> Result<CollectReport> {
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
        s.folder.publish(&names::restart(a + 1), &w.finish())?;
        report.did.push(format!(
            "opened attempt {} with fresh nonces{}",
            a + 1,
            if out.is_empty() { String::new() } else { format!(", without {}", names_of(&s.group, &out)) }
        ));
        report.waiting = Some(format!(
            "new commitments: every keyholder taking part runs `frostsign sign step --dir {}` again",
            dir.display()
        ));
        return Ok(report);
    }
    let left_out = excluded(dir, a, &s.group)?;
    let commits = s.commitments(a)?;
    // A keyholder who attested digests other than the request's is not chosen (its step would refuse).
    let mut signers: Vec<usize> = Vec::new();
    for (&i, p) in &commits {
        let same = p.artifacts.len() == s.req.artifacts().len()
            && p.artifacts
                .iter()
                .zip(s.req.artifacts())
                .all(|(x, y)| *x == super::AttestedArtifact::new(&y.name, &y.digests));
        if left_out.contains(&i) {
            continue;
        }
        if !same {
            report.did.push(format!(
                "ignored {}: the digests it attests differ from the request",
                s.group.members()[i].name()
            ));
            continue;
        }
        signers.push(i);
    }
    let t = s.group.threshold() as usize;
    let pkg1_exists = s.folder.has(&names::package(a, 1));
    if !pkg1_exists && signers.len() < t {
        let waiting: Vec<usize> =
            (0..s.group.members().len()).filter(|i| !commits.contains_key(i) && !left_out.contains(i)).collect();
        report.waiting = Some(format!(
            "commitments: {} of the {t} needed are in; waiting for any of {}",
            signers.len(),
            names_of(&s.group, &waiting)
        ));
        return Ok(report);
    }
    let evidence = s.req.evidence();
    let phase1 = s.req.phase1_messages(&evidence);
    let sig1 = match run_phase(&s, a, 1, &phase1, &signers, &commits, &mut report)? {
        Phase::Signed(sigs) => sigs,
        Phase::Waiting(w) => {
            report.waiting = Some(w);
            return Ok(report);
        }
    };
    // Phase 2 uses the signers of phase 1 (their phase-2 nonces were committed together).
    let pkg1 = PackageFile::parse(
        &crate::fsx::read_text_untrusted(&s.folder.path(&names::package(a, 1)), 64 * 1024 * 1024)?,
        &s.group,
    )
    .map_err(|e| Error::new(e.to_string()))?;
    let phase2: Vec<Vec<u8>> = s
        .req
        .phase2_slots()
        .iter()
        .map(|slot| {
            let Slot::MinisignGlobal(a) = *slot else { unreachable!("phase 2 is minisign only") };
            s.req.phase2_message(a, &sig1[s.req.phase1_index(Slot::Minisign(a)).expect("minisign slot")])
        })
        .collect();
    let sig2 = if phase2.is_empty() {
        Vec::new()
    } else {
        match run_phase(&s, a, 2, &phase2, &pkg1.signers, &commits, &mut report)? {
            Phase::Signed(sigs) => sigs,
            Phase::Waiting(w) => {
                report.waiting = Some(w);
                return Ok(report);
            }
        }
    };
    write_outputs(&s, opts, opts.out.as_deref().unwrap_or(dir), &sig1, &sig2, &pkg1.signers, &mut report)?;
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
#[allow(clippy::too_many_arguments)]
fn write_outputs(
    s: &Session,
    opts: &CollectOptions,
    out_dir: &Path,
    sig1: &[[u8; 64]],
    sig2: &[[u8; 64]],
    signers: &[usize],
    report: &mut CollectReport,
) -> Result<()> {
    let req = &s.req;
    let key = s.group.key();
    let key_id = minisign::key_id(key);
    let who = format!(
        "frostsign group {} ({}-of-{}, signed by {})",
        s.group.fingerprint().compact(),
        s.group.threshold(),
        s.group.members().len(),
        names_of(&s.group, signers)
    );
    let ev = req.evidence();
    let mut files: Vec<(PathBuf, String)> = Vec::new();
    for (output, name) in req.outputs() {
        let sig = &sig1[req.phase1_index(output.slot()).expect("every output has a phase-1 message")];
        let text = match output {
            Output::Minisign(k) => {
                let a = &req.artifacts()[k];
                let g = req.phase2_slots().iter().position(|x| *x == Slot::MinisignGlobal(k)).expect("phase 2 slot");
                let m = MinisignSignature {
                    key_id,
                    signature: *sig,
                    trusted_comment: req.trusted_comment(a),
                    global_signature: sig2[g],
                };
                crate::verify::check_minisign(key, &key_id, &a.digests.blake2b, &m)
                    .map_err(|e| Error::new(format!("internal error: the finished signature does not verify: {e}")))?;
                m.encode(&format!("signature from {who}"))
            }
            Output::Ssh(_) => ssh::armored_signature(key, "file", sig),
            Output::Openpgp(k) => {
                let pgp = req.openpgp_key().expect("checked shape");
                pgp.armored_signature(req.signature_time(), &ev.openpgp[k], sig)
            }
            Output::SignifyManifest => signify::signed_manifest(
                &key_id,
                sig,
                &format!("verify with the signify key of {who}"),
                &req.manifest(&ev),
            ),
            Output::OpenpgpIdentity | Output::OpenpgpPublicKey => {
                let id = OpenPgpIdentity {
                    group: s.group.fingerprint(),
                    key: req.openpgp_key().expect("checked shape"),
                    uid: req.openpgp_uid().unwrap_or_default().to_string(),
                    certification: *sig,
                };
                OpenPgpIdentity::parse(&id.encode(), &s.group)
                    .map_err(|e| Error::new(format!("internal error: the certification does not verify: {e}")))?;
                if output == Output::OpenpgpIdentity {
                    id.encode()
                } else {
                    id.armored_public_key()
                }
            }
            Output::GitTag => super::git::signed_object(req.git().expect("checked shape"), key, sig),
        };
        files.push((output_path(out_dir, &name)?, text));
    }
    crate::fsx::ensure_dir(out_dir)?;
    for (path, text) in &files {
        crate::fsx::atomic_write(path, text.as_bytes(), crate::fsx::PUBLIC_FILE)?;
        report.outputs.push(path.clone());
    }
    if let (Some(repo), Some(tag)) = (&opts.repo, req.git()) {
        let object = &files.iter().find(|(p, _)| p.ends_with(tag.file_name())).expect("the tag output").1;
        let id = super::git::import(repo, tag, object)?;
        report.did.push(format!("stored the signed tag `{}` ({id}) in `{}`", tag.name, repo.display()));
    }
    report.did.push(format!("aggregated and verified the group signatures; wrote {} file(s)", report.outputs.len()));
    Ok(())
}
