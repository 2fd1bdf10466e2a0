//! Threshold release signing over files: t keyholders co-sign one or many artifacts in one session.
//!
//! Files in the session folder:
//! - `request.txt`: what is to be signed (artifacts with sizes and digests, output formats, group, expiry)
//!   and `group.pub`;
//! - `commit-a<A>-<FPR>.txt` (signed by the keyholder): the digests it computed from its own copy (the
//!   release's audit trail) and FROST commitments for every message of attempt A;
//! - `package-a<A>-p<P>.txt` (written by the coordinator, signed by nobody): the FROST signing packages of
//!   phase P; every signer checks it against what it computed itself;
//! - `share-a<A>-p<P>-<FPR>.txt` (signed by the keyholder): its signature shares for phase P;
//! - `restart-a<A>.txt`: the coordinator opened attempt A with fresh nonces;
//! - the finished signatures once done (`NAME.minisig`, `NAME.sig`, `NAME.asc`, `SHA256.sig`, ...).
//!
//! Phase 1 signs, for every artifact and format, a message the signer builds itself from its own digests
//! (see [`Slot`]); phase 2 signs minisign's global signatures (phase-1 signature || trusted comment).
//! Whole-file formats are never offered: every message is a digest, a structure that starts with a
//! format-specific prefix, or a manifest, so no message of one format can pass for another's.

pub mod coordinator;
pub mod git;
pub mod keyholder;
pub mod status;

use crate::error::{Error, Result};
use crate::formats::openpgp::PgpKey;
use crate::formats::{minisign, signify, ssh};
use crate::group::{Group, GroupFingerprint};
use crate::textdoc::{parse_hex, printable, DocError, DocWriter, Document, Need};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::Path;

pub use crate::digest::FileDigests;
pub use git::GitTag;

/// The request file in the session folder.
pub const REQUEST_FILE: &str = "request.txt";
/// The copy of the group's public file in the session folder.
pub const GROUP_COPY: &str = "group.pub";
/// Default lifetime of a request.
pub const DEFAULT_VALIDITY_SECS: i64 = 7 * 24 * 3600;
/// Most artifacts in one session.
pub const MAX_ARTIFACTS: usize = 1000;
/// The signify manifest written by a session with the `signify-manifest` format.
pub const MANIFEST_FILE: &str = "SHA256.sig";

/// What a session produces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// minisign prehashed signature per artifact (`NAME.minisig`).
    Minisign,
    /// OpenSSH SSHSIG per artifact, namespace `file` (`NAME.sig`).
    Ssh,
    /// OpenPGP detached, armored signature per artifact (`NAME.asc`); needs the group's OpenPGP key.
    Openpgp,
    /// One signify `-C` manifest of all artifacts (`SHA256.sig`).
    SignifyManifest,
    /// The self-certification of the group's OpenPGP key (a session of its own, no artifacts).
    OpenpgpCertification,
    /// A signed git tag (a session of its own, no artifacts).
    GitTag,
}

impl Format {
    /// Formats a release session may combine.
    pub const RELEASE: [Format; 4] = [Format::Minisign, Format::Ssh, Format::Openpgp, Format::SignifyManifest];

    /// The name used in files and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Format::Minisign => "minisign",
            Format::Ssh => "ssh",
            Format::Openpgp => "openpgp",
            Format::SignifyManifest => "signify-manifest",
            Format::OpenpgpCertification => "openpgp-certification",
            Format::GitTag => "git-tag",
        }
    }

    /// Parse a format name.
    pub fn parse(s: &str) -> Option<Format> {
        [
            Format::Minisign,
            Format::Ssh,
            Format::Openpgp,
            Format::SignifyManifest,
            Format::OpenpgpCertification,
            Format::GitTag,
        ]
        .into_iter()
        .find(|f| f.name() == s)
    }
}

/// One message the group signs in a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    /// minisign's signature over BLAKE2b-512 of artifact k (phase 1).
    Minisign(usize),
    /// SSHSIG signed data (namespace `file`) of artifact k (phase 1).
    Ssh(usize),
    /// OpenPGP binary-document digest of artifact k (phase 1).
    Openpgp(usize),
    /// The signify manifest of all artifacts (phase 1).
    SignifyManifest,
    /// The OpenPGP self-certification digest (phase 1).
    OpenpgpCertification,
    /// SSHSIG signed data (namespace `git`) of the tag object (phase 1).
    GitTag,
    /// minisign's global signature of artifact k: phase-1 signature || trusted comment (phase 2).
    MinisignGlobal(usize),
}

/// A file a finished session writes into the output folder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    /// `NAME.minisig` of artifact k.
    Minisign(usize),
    /// `NAME.sig` (SSHSIG) of artifact k.
    Ssh(usize),
    /// `NAME.asc` (OpenPGP) of artifact k.
    Openpgp(usize),
    /// `SHA256.sig`, the signify manifest.
    SignifyManifest,
    /// `group.openpgp`, the certified OpenPGP identity.
    OpenpgpIdentity,
    /// `group-openpgp.asc`, the group's armored OpenPGP public key.
    OpenpgpPublicKey,
    /// `TAG.tag`, the signed tag object (see [`GitTag::file_name`]).
    GitTag,
}

impl Output {
    /// The format it belongs to, as `--format` names it.
    pub fn format(self) -> &'static str {
        match self {
            Output::Minisign(_) => "minisign",
            Output::Ssh(_) => "ssh",
            Output::Openpgp(_) => "openpgp",
            Output::SignifyManifest => "signify-manifest",
            Output::OpenpgpIdentity | Output::OpenpgpPublicKey => "openpgp-certification",
            Output::GitTag => "git-tag",
        }
    }

    /// The artifact it signs, if it signs one.
    pub fn artifact(self) -> Option<usize> {
        match self {
            Output::Minisign(k) | Output::Ssh(k) | Output::Openpgp(k) => Some(k),
            _ => None,
        }
    }

    /// The phase-1 message whose signature it carries.
    pub fn slot(self) -> Slot {
        match self {
            Output::Minisign(k) => Slot::Minisign(k),
            Output::Ssh(k) => Slot::Ssh(k),
            Output::Openpgp(k) => Slot::Openpgp(k),
            Output::SignifyManifest => Slot::SignifyManifest,
            Output::OpenpgpIdentity | Output::OpenpgpPublicKey => Slot::OpenpgpCertification,
            Output::GitTag => Slot::GitTag,
        }
    }
}

/// Every file a session with these formats, artifacts and tag writes, with its file name, in the order of
/// the phase-1 messages. The one place output names are made.
fn plan_outputs(formats: &[Format], artifacts: &[Artifact], git: Option<&GitTag>) -> Vec<(Output, String)> {
    let has = |f: Format| formats.contains(&f);
    let mut out = Vec::new();
    for (k, a) in artifacts.iter().enumerate() {
        if has(Format::Minisign) {
            out.push((Output::Minisign(k), format!("{}.minisig", a.name)));
        }
        if has(Format::Ssh) {
            out.push((Output::Ssh(k), format!("{}.sig", a.name)));
        }
        if has(Format::Openpgp) {
            out.push((Output::Openpgp(k), format!("{}.asc", a.name)));
        }
    }
    if has(Format::SignifyManifest) {
        out.push((Output::SignifyManifest, MANIFEST_FILE.to_string()));
    }
    if has(Format::OpenpgpCertification) {
        out.push((Output::OpenpgpIdentity, "group.openpgp".to_string()));
        out.push((Output::OpenpgpPublicKey, "group-openpgp.asc".to_string()));
    }
    if let (true, Some(tag)) = (has(Format::GitTag), git) {
        out.push((Output::GitTag, tag.file_name()));
    }
    out
}

/// Longest file name written (the common limit of Linux and macOS file systems).
const MAX_FILE_NAME: usize = 255;

/// True if `name` is exactly one plain path component: joined to a folder, it names a file directly in it.
pub fn is_single_component(name: &str) -> bool {
    let mut parts = Path::new(name).components();
    let one = matches!((parts.next(), parts.next()), (Some(std::path::Component::Normal(n)), None) if n == name);
    one && !name.contains('\0') && name.len() <= MAX_FILE_NAME
}

/// True if `name` is, or could be, one of a session's own files: `request.txt`, `group.pub`, and the
/// `commit-…`, `package-…`, `share-…` and `restart-…` `.txt` files.
pub fn is_session_file(name: &str) -> bool {
    name == REQUEST_FILE
        || name == GROUP_COPY
        || (["commit-", "package-", "share-", "restart-"].iter().any(|p| name.starts_with(p)) && name.ends_with(".txt"))
}

/// Two file names that a case-insensitive file system (macOS, Windows) treats as one file.
fn same_file_name(a: &str, b: &str) -> bool {
    a.to_lowercase() == b.to_lowercase()
}

/// Check a plan of outputs: each is one file name directly in the output folder, none is a session file
/// or an artifact's name (with `--out DIST` it would overwrite the artifact), no two are the same; names
/// are compared ignoring case, as the output folder may be on a case-insensitive file system.
fn check_outputs(plan: &[(Output, String)], artifacts: &[Artifact]) -> std::result::Result<(), String> {
    let what = |o: Output| match o.artifact() {
        Some(k) => format!("the {} signature of `{}`", o.format(), artifacts[k].name),
        None => match o {
            Output::SignifyManifest => "the signify manifest".to_string(),
            Output::GitTag => "the signed git tag".to_string(),
            _ => "the group's OpenPGP key".to_string(),
        },
    };
    for (i, (o, name)) in plan.iter().enumerate() {
        if !is_single_component(name) {
            return Err(format!(
                "{} would be written as `{name}`, which is not one file name of at most {MAX_FILE_NAME} bytes",
                what(*o)
            ));
        }
        if is_session_file(name) || is_session_file(&name.to_lowercase()) {
            return Err(format!("{} would be named `{name}`, like a file of the session itself", what(*o)));
        }
        if artifacts.iter().any(|a| same_file_name(&a.name, name)) {
            return Err(format!("{} would be named `{name}`, like an artifact of the session", what(*o)));
        }
        if let Some((first, _)) = plan[..i].iter().find(|(_, n)| same_file_name(n, name)) {
            return Err(format!("two outputs would be named `{name}`: {} and {}", what(*first), what(*o)));
        }
    }
    Ok(())
}

/// One artifact of a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Artifact {
    /// File name (no folder part).
    pub name: String,
    /// What the request says its digests are.
    pub digests: FileDigests,
}

/// What a party knows about the signed objects, from which it builds every message. A keyholder builds it
/// from its own copies; the coordinator takes the request's.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Evidence {
    /// Digests of each artifact, in request order.
    pub files: Vec<FileDigests>,
    /// OpenPGP digests (SHA-256 of file || signature trailer) of each artifact, when OpenPGP is a format.
    pub openpgp: Vec<[u8; 32]>,
    /// The git tag object to sign (without signature), for a git tag session.
    pub git_payload: Option<Vec<u8>>,
}

/// A parsed signing request.
#[derive(Clone, Debug)]
pub struct Request {
    session: [u8; 16],
    group: GroupFingerprint,
    group_key: [u8; 32],
    label: Option<String>,
    threshold: u16,
    members: usize,
    created: i64,
    expires: i64,
    comment: Option<String>,
    formats: Vec<Format>,
    openpgp_created: Option<u32>,
    openpgp_uid: Option<String>,
    git: Option<GitTag>,
    artifacts: Vec<Artifact>,
    openpgp_digests: Vec<[u8; 32]>,
    digest: [u8; 32],
}

const SCHEMA: &[(&str, Need)] = &[
    ("session", Need::Required),
    ("group", Need::Required),
    ("group-key", Need::Required),
    ("label", Need::Optional),
    ("threshold", Need::Required),
    ("members", Need::Required),
    ("created", Need::Required),
    ("expires", Need::Required),
    ("comment", Need::Optional),
    ("format", Need::Repeated),
    ("openpgp-key-created", Need::Optional),
    ("openpgp-uid", Need::Optional),
    ("git-tag", Need::Optional),
    ("git-ref", Need::Optional),
    ("git-object", Need::Optional),
    ("git-type", Need::Optional),
    ("git-tagger", Need::Optional),
    ("git-message", Need::Optional),
    ("artifact", Need::Repeated),
    ("openpgp-digest", Need::Repeated),
];

/// Check an artifact name: a plain file name that every output format can carry.
pub fn check_artifact_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 255
        && name != "."
        && name != ".."
        && !name.contains('/')
        && crate::textdoc::is_plain_text(name)
        && name.trim() == name;
    if !ok {
        return Err(Error::new(format!(
            "the artifact name {name:?} cannot be signed: use a plain file name without `/` or control characters"
        )));
    }
    Ok(())
}

/// Check a `--comment`: one line, no tabs (the trusted comment uses tabs as separators).
pub fn check_comment(comment: &str) -> Result<()> {
    if comment.is_empty()
        || comment.len() > 1000
        || !crate::textdoc::is_plain_text(comment)
        || comment.trim() != comment
    {
        return Err(Error::new("invalid --comment: 1 to 1000 bytes on one line, no tabs or control characters"));
    }
    Ok(())
}

/// Check an OpenPGP user id: one line of plain text, like `Name <email>`.
pub fn check_uid(uid: &str) -> Result<()> {
    if uid.is_empty() || uid.len() > 200 || !crate::textdoc::is_plain_text(uid) || uid.trim() != uid {
        return Err(Error::new("invalid --uid: use one line like `ACME releases <releases@example.org>`"));
    }
    Ok(())
}

fn sha256(b: &[u8]) -> [u8; 32] {
    Sha256::digest(b).into()
}

/// Everything `sign init` decides, before the request is written.
#[derive(Clone, Debug)]
pub struct RequestSpec {
    /// Artifacts with the release manager's digests.
    pub artifacts: Vec<Artifact>,
    /// OpenPGP digests of the artifacts (when OpenPGP is a format), in artifact order.
    pub openpgp_digests: Vec<[u8; 32]>,
    /// `--comment`.
    pub comment: Option<String>,
    /// Output formats.
    pub formats: Vec<Format>,
    /// Creation time (Unix seconds).
    pub created: i64,
    /// Lifetime in seconds.
    pub validity_secs: i64,
    /// The group's OpenPGP key creation time, when OpenPGP is involved.
    pub openpgp_created: Option<u32>,
    /// The user id to certify (certification sessions).
    pub openpgp_uid: Option<String>,
    /// The tag to sign (git tag sessions).
    pub git: Option<GitTag>,
}

fn bad(key: &str, reason: impl Into<String>) -> DocError {
    DocError::BadValue { key: key.into(), reason: reason.into() }
}

impl Request {
    /// Write a new request signed by `group`.
    pub fn create(group: &Group, spec: RequestSpec) -> Result<(Request, String)> {
        for (i, a) in spec.artifacts.iter().enumerate() {
            check_artifact_name(&a.name)?;
            if spec.artifacts[..i].iter().any(|b| b.name == a.name) {
                return Err(Error::new(format!(
                    "two artifacts are named `{}`; names must be unique in a session",
                    a.name
                )));
            }
        }
        if spec.formats.contains(&Format::SignifyManifest) {
            if let Some(a) = spec.artifacts.iter().find(|a| a.name.contains(')')) {
                return Err(Error::new(format!(
                    "the artifact name `{}` contains `)`, which stock signify cannot read in a manifest line",
                    a.name
                ))
                .with_help("rename the file, or leave signify-manifest out of --format"));
            }
        }
        check_outputs(&plan_outputs(&spec.formats, &spec.artifacts, spec.git.as_ref()), &spec.artifacts).map_err(
            |why| {
                Error::new(format!("cannot open this session: {why}"))
                    .with_help("rename the artifact, or leave one of the formats out")
            },
        )?;
        if let Some(c) = &spec.comment {
            check_comment(c)?;
        }
        if let Some(u) = &spec.openpgp_uid {
            check_uid(u)?;
        }
        if spec.validity_secs <= 0 {
            return Err(Error::new("the request's validity must be positive"));
        }
        use rand_core::{OsRng, RngCore};
        let mut session = [0u8; 16];
        OsRng.fill_bytes(&mut session);
        let mut w = DocWriter::new("sign-request", 1)
            .field("session", hex::encode(session))
            .field("group", group.fingerprint().compact())
            .field("group-key", hex::encode(group.key()));
        if let Some(l) = group.label() {
            w = w.field("label", l);
        }
        w = w
            .field("threshold", group.threshold())
            .field("members", group.members().len())
            .field("created", crate::clock::format(spec.created))
            .field("expires", crate::clock::format(spec.created + spec.validity_secs));
        if let Some(c) = &spec.comment {
            w = w.field("comment", c);
        }
        for f in &spec.formats {
            w = w.field("format", f.name());
        }
        if let Some(t) = spec.openpgp_created {
            w = w.field("openpgp-key-created", crate::clock::format(t as i64));
        }
        if let Some(u) = &spec.openpgp_uid {
            w = w.field("openpgp-uid", u);
        }
        if let Some(g) = &spec.git {
            w = w
                .field("git-tag", &g.name)
                .field("git-ref", &g.ref_name)
                .field("git-object", &g.object)
                .field("git-type", &g.kind)
                .field("git-tagger", &g.tagger)
                .block("git-message", g.message.as_bytes());
        }
        for a in &spec.artifacts {
            w = w.field(
                "artifact",
                format!(
                    "{} {} {} {}",
                    a.digests.size,
                    hex::encode(a.digests.blake2b),
                    hex::encode(a.digests.sha256),
                    a.name
                ),
            );
        }
        for d in &spec.openpgp_digests {
            w = w.field("openpgp-digest", hex::encode(d));
        }
        let text = w.finish()?;
        let r = Request::parse(&text).map_err(|e| Error::new(format!("invalid signing request: {e}")))?;
        for a in &r.artifacts {
            minisign::check_trusted_comment(&r.trusted_comment(a))?;
        }
        Ok((r, text))
    }

    /// Parse and check a request.
    pub fn parse(text: &str) -> std::result::Result<Request, DocError> {
        let doc = Document::parse(text, "sign-request", SCHEMA, false)?;
        let group =
            GroupFingerprint::parse(doc.require("group")?).ok_or_else(|| bad("group", "not a group fingerprint"))?;
        let group_key: [u8; 32] = doc.hex("group-key")?;
        let time = |k: &str| doc.require(k).ok().and_then(crate::clock::parse).ok_or_else(|| bad(k, "not a UTC time"));
        let mut formats = Vec::new();
        doc.require_lines(&["format", "artifact", "openpgp-digest"])?;
        for f in doc.get_all("format") {
            let f = Format::parse(f).ok_or_else(|| bad("format", "unknown format (made by a newer frostsign?)"))?;
            if formats.contains(&f) {
                return Err(bad("format", "listed twice"));
            }
            formats.push(f);
        }
        let mut artifacts: Vec<Artifact> = Vec::new();
        for line in doc.get_all("artifact") {
            let mut parts = line.splitn(4, ' ');
            let (Some(size), Some(b2), Some(s2), Some(name)) = (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                return Err(bad("artifact", "expected `SIZE BLAKE2B SHA256 NAME`"));
            };
            let digests = FileDigests {
                size: crate::textdoc::parse_decimal(size).ok_or_else(|| bad("artifact", "size is not a number"))?,
                blake2b: parse_hex(b2).ok_or_else(|| bad("artifact", "bad BLAKE2b-512 digest"))?,
                sha256: parse_hex(s2).ok_or_else(|| bad("artifact", "bad SHA-256 digest"))?,
            };
            check_artifact_name(name).map_err(|e| bad("artifact", e.message()))?;
            if artifacts.iter().any(|a| a.name == name) {
                return Err(bad("artifact", "two artifacts have the same name"));
            }
            artifacts.push(Artifact { name: name.to_string(), digests });
        }
        let openpgp_digests = doc
            .get_all("openpgp-digest")
            .iter()
            .map(|h| parse_hex(h).ok_or_else(|| bad("openpgp-digest", "bad SHA-256 digest")))
            .collect::<std::result::Result<Vec<[u8; 32]>, _>>()?;
        let comment = doc.get("comment").map(str::to_string);
        if let Some(c) = &comment {
            check_comment(c).map_err(|e| bad("comment", e.message()))?;
        }
        let openpgp_created = match doc.get("openpgp-key-created") {
            Some(t) => Some(
                crate::clock::parse(t)
                    .and_then(|t| u32::try_from(t).ok())
                    .ok_or_else(|| bad("openpgp-key-created", "not a UTC time"))?,
            ),
            None => None,
        };
        let openpgp_uid = doc.get("openpgp-uid").map(str::to_string);
        if let Some(u) = &openpgp_uid {
            check_uid(u).map_err(|e| bad("openpgp-uid", e.message()))?;
        }
        let git = GitTag::from_doc(&doc)?;
        let r = Request {
            session: doc.hex("session")?,
            group,
            group_key,
            label: doc.get("label").map(str::to_string),
            threshold: doc.number("threshold")?,
            members: doc.number("members")?,
            created: time("created")?,
            expires: time("expires")?,
            comment,
            formats,
            openpgp_created,
            openpgp_uid,
            git,
            artifacts,
            openpgp_digests,
            digest: sha256(text.as_bytes()),
        };
        r.check_shape()?;
        Ok(r)
    }

    /// The combinations a request may have: a release (artifacts and release formats), an OpenPGP
    /// certification, or a git tag.
    fn check_shape(&self) -> std::result::Result<(), DocError> {
        let only = |f: Format| self.formats == [f];
        let n = self.artifacts.len();
        let has_pgp = self.formats.contains(&Format::Openpgp) || self.formats.contains(&Format::OpenpgpCertification);
        if self.formats.is_empty() {
            return Err(DocError::Missing("format".into()));
        }
        if has_pgp != self.openpgp_created.is_some() {
            return Err(bad("openpgp-key-created", "present exactly when an OpenPGP format is"));
        }
        if only(Format::OpenpgpCertification) {
            if n != 0 || self.openpgp_uid.is_none() || self.git.is_some() || !self.openpgp_digests.is_empty() {
                return Err(bad("format", "an OpenPGP certification has a user id and no artifacts"));
            }
        } else if only(Format::GitTag) {
            if n != 0 || self.git.is_none() || self.openpgp_uid.is_some() || !self.openpgp_digests.is_empty() {
                return Err(bad("format", "a git tag session has a tag and no artifacts"));
            }
        } else {
            if !self.formats.iter().all(|f| Format::RELEASE.contains(f)) {
                return Err(bad("format", "openpgp-certification and git-tag are sessions of their own"));
            }
            if n == 0 || n > MAX_ARTIFACTS {
                return Err(bad("artifact", "a release lists 1 to 1000 artifacts"));
            }
            if self.openpgp_uid.is_some() || self.git.is_some() {
                return Err(bad("format", "a release has no user id and no git tag"));
            }
            if self.has(Format::SignifyManifest) && self.artifacts.iter().any(|a| a.name.contains(')')) {
                return Err(bad("artifact", "a name with `)` cannot go into a signify manifest"));
            }
            let want = if self.formats.contains(&Format::Openpgp) { n } else { 0 };
            if self.openpgp_digests.len() != want {
                return Err(bad("openpgp-digest", "one per artifact exactly when `openpgp` is a format"));
            }
        }
        check_outputs(&self.outputs(), &self.artifacts).map_err(|why| bad("artifact", why))?;
        Ok(())
    }

    /// Load `DIR/request.txt`.
    pub fn load(dir: &Path) -> Result<Request> {
        let path = dir.join(REQUEST_FILE);
        if !path.exists() {
            return Err(Error::new(format!(
                "no signing request in `{}` ({REQUEST_FILE} is missing)",
                crate::text::path(dir)
            ))
            .with_help("open one with `frostsign sign init --dir DIR --group group.pub --file ARTIFACT`"));
        }
        let text = crate::fsx::read_text_untrusted(&path, 4 * 1024 * 1024)?;
        Request::parse(&text).map_err(|e| Error::file(&path, format!("not a valid signing request: {e}")))
    }

    /// Random session id.
    pub fn session(&self) -> &[u8; 16] {
        &self.session
    }
    /// SHA-256 of the request file: the `ceremony` field of every message of this session.
    pub fn digest(&self) -> &[u8; 32] {
        &self.digest
    }
    /// The group's fingerprint.
    pub fn group(&self) -> GroupFingerprint {
        self.group
    }
    /// The group key.
    pub fn group_key(&self) -> &[u8; 32] {
        &self.group_key
    }
    /// Group label as written in the request.
    pub fn label(&self) -> Option<&str> {
        self.label.as_deref()
    }
    /// Unix time of creation.
    pub fn created(&self) -> i64 {
        self.created
    }
    /// Unix time of expiry.
    pub fn expires(&self) -> i64 {
        self.expires
    }
    /// The `--comment`.
    pub fn comment(&self) -> Option<&str> {
        self.comment.as_deref()
    }
    /// Output formats.
    pub fn formats(&self) -> &[Format] {
        &self.formats
    }
    /// True if `f` is one of the formats.
    pub fn has(&self, f: Format) -> bool {
        self.formats.contains(&f)
    }
    /// The artifacts.
    pub fn artifacts(&self) -> &[Artifact] {
        &self.artifacts
    }
    /// The git tag of a git tag session.
    pub fn git(&self) -> Option<&GitTag> {
        self.git.as_ref()
    }
    /// The OpenPGP user id of a certification session.
    pub fn openpgp_uid(&self) -> Option<&str> {
        self.openpgp_uid.as_deref()
    }

    /// The group's OpenPGP key as this request fixes it (group key and key creation time).
    pub fn openpgp_key(&self) -> Option<PgpKey> {
        self.openpgp_created.map(|created| PgpKey { pk: self.group_key, created })
    }

    /// The creation time as an OpenPGP signature time.
    pub fn signature_time(&self) -> u32 {
        u32::try_from(self.created).unwrap_or(0)
    }

    /// The trailer every OpenPGP file signature of this request hashes after the file.
    pub fn openpgp_file_trailer(&self) -> Option<Vec<u8>> {
        self.has(Format::Openpgp).then(|| self.openpgp_key().map(|k| k.file_trailer(self.signature_time()))).flatten()
    }

    /// What the request itself says (the coordinator builds the messages from this).
    pub fn evidence(&self) -> Evidence {
        Evidence {
            files: self.artifacts.iter().map(|a| a.digests.clone()).collect(),
            openpgp: self.openpgp_digests.clone(),
            git_payload: self.git.as_ref().map(GitTag::payload),
        }
    }

    /// minisign's trusted comment for an artifact. Built by every party from the request's fields, never
    /// taken as free text, so a signer knows exactly what the second signature covers.
    pub fn trusted_comment(&self, a: &Artifact) -> String {
        let mut tc = format!("timestamp:{}\tfile:{}\thashed\tgroup:{}", self.created, a.name, self.group.compact());
        if let Some(c) = &self.comment {
            tc.push_str(&format!("\tcomment:{c}"));
        }
        tc
    }

    /// Check that `group` is the request's group.
    pub fn check_group(&self, group: &Group) -> Result<()> {
        if group.fingerprint() != self.group || group.key() != &self.group_key {
            return Err(Error::new(format!(
                "the request is for group {}, but the group file is for group {}",
                self.group,
                group.fingerprint()
            )));
        }
        if group.threshold() != self.threshold || group.members().len() != self.members {
            return Err(Error::new("the request's threshold or member count differs from the group's"));
        }
        Ok(())
    }

    /// The messages of phase 1, in order.
    pub fn phase1_slots(&self) -> Vec<Slot> {
        let mut slots = Vec::new();
        for k in 0..self.artifacts.len() {
            if self.has(Format::Minisign) {
                slots.push(Slot::Minisign(k));
            }
            if self.has(Format::Ssh) {
                slots.push(Slot::Ssh(k));
            }
            if self.has(Format::Openpgp) {
                slots.push(Slot::Openpgp(k));
            }
        }
        if self.has(Format::SignifyManifest) {
            slots.push(Slot::SignifyManifest);
        }
        if self.has(Format::OpenpgpCertification) {
            slots.push(Slot::OpenpgpCertification);
        }
        if self.has(Format::GitTag) {
            slots.push(Slot::GitTag);
        }
        slots
    }

    /// The messages of phase 2, in order.
    pub fn phase2_slots(&self) -> Vec<Slot> {
        if self.has(Format::Minisign) {
            (0..self.artifacts.len()).map(Slot::MinisignGlobal).collect()
        } else {
            Vec::new()
        }
    }

    /// Number of messages in phase 1.
    pub fn phase1_count(&self) -> usize {
        self.phase1_slots().len()
    }

    /// Number of messages in phase 2.
    pub fn phase2_count(&self) -> usize {
        self.phase2_slots().len()
    }

    /// Position of a phase-1 slot.
    pub fn phase1_index(&self, slot: Slot) -> Option<usize> {
        self.phase1_slots().iter().position(|s| *s == slot)
    }

    /// Every file this session writes when it completes, with its file name (checked on parse: one file
    /// name each, all different, none an artifact's or a session file's name).
    pub fn outputs(&self) -> Vec<(Output, String)> {
        plan_outputs(&self.formats, &self.artifacts, self.git.as_ref())
    }

    /// The manifest text built from `ev`.
    pub fn manifest(&self, ev: &Evidence) -> String {
        let entries: Vec<(&str, &[u8; 32])> =
            self.artifacts.iter().zip(&ev.files).map(|(a, d)| (a.name.as_str(), &d.sha256)).collect();
        signify::manifest(&entries)
    }

    /// The phase-1 messages, built from `ev` (the caller's own evidence, or for the coordinator the request's).
    pub fn phase1_messages(&self, ev: &Evidence) -> Vec<Vec<u8>> {
        self.phase1_slots()
            .into_iter()
            .map(|slot| match slot {
                Slot::Minisign(k) => ev.files[k].blake2b.to_vec(),
                Slot::Ssh(k) => ssh::signed_data("file", &ev.files[k].sha256),
                Slot::Openpgp(k) => ev.openpgp[k].to_vec(),
                Slot::SignifyManifest => self.manifest(ev).into_bytes(),
                Slot::OpenpgpCertification => {
                    let key = self.openpgp_key().expect("checked shape");
                    key.certification_digest(self.openpgp_uid.as_deref().unwrap_or(""), self.signature_time()).to_vec()
                }
                Slot::GitTag => ssh::signed_data("git", &sha256(ev.git_payload.as_deref().unwrap_or_default())),
                Slot::MinisignGlobal(_) => unreachable!("phase 2 slot"),
            })
            .collect()
    }

    /// The phase-2 message of artifact `k`, given its phase-1 minisign signature.
    pub fn phase2_message(&self, k: usize, sig1: &[u8; 64]) -> Vec<u8> {
        minisign::global_message(sig1, &self.trusted_comment(&self.artifacts[k]))
    }

    /// Human summary shown to a signer before it commits.
    pub fn summary(&self, group: &Group) -> String {
        let mut s = format!(
            "Signing request {} for group {} ({}-of-{}, fingerprint {})\n",
            hex::encode(self.session),
            group.display_name(),
            group.threshold(),
            group.members().len(),
            group.fingerprint()
        );
        s.push_str(&format!(
            "  created {}, expires {}\n",
            crate::clock::format(self.created),
            crate::clock::format(self.expires)
        ));
        if let Some(c) = &self.comment {
            s.push_str(&format!("  comment: {c}\n"));
        }
        s.push_str(&format!("  formats: {}\n", self.formats.iter().map(|f| f.name()).collect::<Vec<_>>().join(", ")));
        if let (Some(uid), Some(key)) = (&self.openpgp_uid, self.openpgp_key()) {
            s.push_str(&format!(
                "  certify the group's OpenPGP key {} (created {}) for the user id \"{uid}\"\n",
                hex::encode_upper(key.fingerprint()),
                crate::clock::format(key.created as i64)
            ));
        }
        if let Some(g) = &self.git {
            s.push_str(&format!(
                "  git tag `{}` on {} {} (`{}` in the release manager's repository)\n  tagger {}\n",
                g.name, g.kind, g.object, g.ref_name, g.tagger
            ));
            for line in g.message.lines() {
                s.push_str(&format!("  | {line}\n"));
            }
        }
        for a in &self.artifacts {
            s.push_str(&format!("  {}  {} bytes  SHA-256 {}\n", a.name, a.digests.size, hex::encode(a.digests.sha256)));
        }
        s
    }
}

/// File names in a session folder.
pub mod names {
    use crate::card::Card;
    /// A keyholder's commitment for attempt `a`.
    pub fn commit(a: u32, c: &Card) -> String {
        format!("commit-a{a}-{}.txt", c.fingerprint().compact())
    }
    /// The coordinator's signing package for attempt `a`, phase `p`.
    pub fn package(a: u32, p: u8) -> String {
        format!("package-a{a}-p{p}.txt")
    }
    /// A keyholder's signature shares.
    pub fn share(a: u32, p: u8, c: &Card) -> String {
        format!("share-a{a}-p{p}-{}.txt", c.fingerprint().compact())
    }
    /// Marker of attempt `a` (a >= 2).
    pub fn restart(a: u32) -> String {
        format!("restart-a{a}.txt")
    }
    /// Round token of a commitment.
    pub fn commit_round(a: u32) -> String {
        format!("a{a}-commit")
    }
    /// Round token of shares.
    pub fn share_round(a: u32, p: u8) -> String {
        format!("a{a}-p{p}")
    }
}

/// Message kinds of a signing session.
pub const KIND_COMMIT: &str = "sign-commit";
/// Message kinds of a signing session.
pub const KIND_SHARE: &str = "sign-share";

/// The digests a keyholder attests it computed from its own copy.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AttestedArtifact {
    /// File name.
    pub name: String,
    /// Size.
    pub size: u64,
    /// BLAKE2b-512 hex.
    pub blake2b: String,
    /// SHA-256 hex.
    pub sha256: String,
}

impl AttestedArtifact {
    /// From a name and digests.
    pub fn new(name: &str, d: &FileDigests) -> Self {
        AttestedArtifact {
            name: name.into(),
            size: d.size,
            blake2b: hex::encode(d.blake2b),
            sha256: hex::encode(d.sha256),
        }
    }
}

/// Payload of `commit-a<A>-<FPR>.txt`.
#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields)]
pub struct CommitPayload {
    /// Attempt number.
    pub attempt: u32,
    /// The signer's own digests of each artifact, in request order.
    pub artifacts: Vec<AttestedArtifact>,
    /// Hex FROST SigningCommitments for each phase-1 message.
    pub phase1: Vec<String>,
    /// Hex FROST SigningCommitments for each phase-2 message.
    pub phase2: Vec<String>,
}

/// Payload of `share-a<A>-p<P>-<FPR>.txt`.
#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields)]
pub struct SharePayload {
    /// Attempt.
    pub attempt: u32,
    /// Phase.
    pub phase: u8,
    /// Hex SHA-256 of the package file the shares answer.
    pub package: String,
    /// Hex FROST SignatureShare per message.
    pub shares: Vec<String>,
}

/// A keyholder's commitment file, decoded in full and checked against the request when it is read, so that
/// a malformed one is caught where the keyholder's signature on it proves who sent it.
#[derive(Clone, Debug)]
pub struct Commitment {
    /// The digests the keyholder attests it computed (names and hex digests checked).
    pub attested: Vec<AttestedArtifact>,
    /// True if the attested digests are the request's.
    pub matches_request: bool,
    /// One FROST commitment per phase-1 message.
    pub phase1: Vec<frost_ed25519::round1::SigningCommitments>,
    /// One FROST commitment per phase-2 message.
    pub phase2: Vec<frost_ed25519::round1::SigningCommitments>,
}

impl Commitment {
    /// Decode the payload of a `commit-a<A>-<FPR>.txt` signed for attempt `attempt`; the error says what is
    /// malformed (the file's signer sent it).
    pub fn decode(payload: &[u8], req: &Request, attempt: u32) -> std::result::Result<Commitment, String> {
        let p: CommitPayload =
            serde_json::from_slice(payload).map_err(|e| format!("its payload is not a signing commitment ({e})"))?;
        if p.attempt != attempt {
            return Err(format!("its payload says attempt {}, but it is signed for attempt {attempt}", p.attempt));
        }
        let decode = |list: &[String], phase: u8, want: usize| {
            if list.len() != want {
                return Err(format!("it holds {} phase-{phase} commitments, the request needs {want}", list.len()));
            }
            list.iter()
                .enumerate()
                .map(|(k, h)| {
                    hex::decode(h)
                        .ok()
                        .and_then(|b| frost_ed25519::round1::SigningCommitments::deserialize(&b).ok())
                        .ok_or_else(|| format!("its phase-{phase} commitment {} is not a FROST commitment", k + 1))
                })
                .collect::<std::result::Result<Vec<_>, String>>()
        };
        let phase1 = decode(&p.phase1, 1, req.phase1_count())?;
        let phase2 = decode(&p.phase2, 2, req.phase2_count())?;
        if p.artifacts.len() != req.artifacts().len() {
            return Err(format!(
                "it attests digests of {} artifacts, but the request lists {}",
                p.artifacts.len(),
                req.artifacts().len()
            ));
        }
        for (k, (x, a)) in p.artifacts.iter().zip(req.artifacts()).enumerate() {
            if x.name != a.name {
                return Err(format!(
                    "its attested artifact {} is not `{}`, the request's artifact {}",
                    k + 1,
                    a.name,
                    k + 1
                ));
            }
            if parse_hex::<64>(&x.blake2b).is_none() || parse_hex::<32>(&x.sha256).is_none() {
                return Err(format!("its attested digests of `{}` are not a BLAKE2b-512 and a SHA-256 digest", a.name));
            }
        }
        let matches_request =
            p.artifacts.iter().zip(req.artifacts()).all(|(x, a)| *x == AttestedArtifact::new(&a.name, &a.digests));
        Ok(Commitment { attested: p.artifacts, matches_request, phase1, phase2 })
    }
}

/// Why a keyholder's validly signed share file cannot be used for a package.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ShareProblem {
    /// The file is malformed: its signer sent a bad file (the culprit).
    Malformed(String),
    /// Well formed, but it answers another package than the one in the folder (the package, which nobody
    /// signs, was replaced after the keyholder signed): nobody is to blame from this file alone.
    OtherPackage,
}

/// Decode the payload of a `share-a<A>-p<P>-<FPR>.txt` signed for `pkg`'s attempt and phase.
pub fn decode_shares(
    payload: &[u8],
    pkg: &PackageFile,
) -> std::result::Result<Vec<frost_ed25519::round2::SignatureShare>, ShareProblem> {
    let bad = |s: String| ShareProblem::Malformed(s);
    let p: SharePayload = serde_json::from_slice(payload)
        .map_err(|e| bad(format!("its payload is not a set of signature shares ({e})")))?;
    if p.attempt != pkg.attempt || p.phase != pkg.phase {
        return Err(bad(format!(
            "its payload says attempt {}, phase {}, but it is signed for attempt {}, phase {}",
            p.attempt, p.phase, pkg.attempt, pkg.phase
        )));
    }
    let Some(answers) = parse_hex::<32>(&p.package) else {
        return Err(bad("its package digest is not a SHA-256 digest".into()));
    };
    if answers != pkg.digest {
        return Err(ShareProblem::OtherPackage);
    }
    if p.shares.len() != pkg.packages.len() {
        return Err(bad(format!(
            "it holds {} signature shares, the package needs {}",
            p.shares.len(),
            pkg.packages.len()
        )));
    }
    p.shares
        .iter()
        .enumerate()
        .map(|(k, h)| {
            hex::decode(h)
                .ok()
                .and_then(|b| frost_ed25519::round2::SignatureShare::deserialize(&b).ok())
                .ok_or_else(|| bad(format!("its signature share {} is not a FROST signature share", k + 1)))
        })
        .collect()
}

/// A phase's signing packages (`package-a<A>-p<P>.txt`), built by the coordinator.
#[derive(Clone, Debug)]
pub struct PackageFile {
    /// Request digest.
    pub session: [u8; 32],
    /// Attempt.
    pub attempt: u32,
    /// Phase (1 or 2).
    pub phase: u8,
    /// The chosen signers (member indices, sorted).
    pub signers: Vec<usize>,
    /// One FROST signing package per message.
    pub packages: Vec<frost_ed25519::SigningPackage>,
    /// SHA-256 of the file text.
    pub digest: [u8; 32],
}

const PACKAGE_SCHEMA: &[(&str, Need)] = &[
    ("session", Need::Required),
    ("attempt", Need::Required),
    ("phase", Need::Required),
    ("signer", Need::Repeated),
    ("package", Need::Repeated),
];

impl PackageFile {
    /// Encode.
    pub fn encode(
        session: &[u8; 32],
        attempt: u32,
        phase: u8,
        signers: &[usize],
        group: &Group,
        packages: &[frost_ed25519::SigningPackage],
    ) -> Result<String> {
        let mut w = DocWriter::new("sign-package", 1)
            .field("session", hex::encode(session))
            .field("attempt", attempt)
            .field("phase", phase);
        for &i in signers {
            w = w.field(
                "signer",
                format!("{} {}", group.members()[i].fingerprint().compact(), group.members()[i].name()),
            );
        }
        for p in packages {
            w = w.block("package", &p.serialize().map_err(|e| Error::new(format!("internal error: {e}")))?);
        }
        Ok(w.finish()?)
    }

    /// Parse and check against the group: signers are members, unique; counts.
    pub fn parse(text: &str, group: &Group) -> std::result::Result<PackageFile, DocError> {
        let doc = Document::parse(text, "sign-package", PACKAGE_SCHEMA, false)?;
        let bad = |k: &str, r: String| DocError::BadValue { key: k.into(), reason: r };
        let attempt: u32 = doc.number("attempt")?;
        let phase: u8 = doc.number("phase")?;
        let mut signers = Vec::new();
        for line in doc.get_all("signer") {
            let fp = line.split(' ').next().and_then(crate::card::Fingerprint::parse_compact);
            let idx = fp
                .and_then(|fp| group.member_index(fp))
                .ok_or_else(|| bad("signer", format!("`{}` is not a member of the group", printable(line, 80))))?;
            if signers.contains(&idx) {
                return Err(bad("signer", format!("`{}` is listed twice", printable(line, 80))));
            }
            signers.push(idx);
        }
        signers.sort_unstable();
        let mut packages = Vec::new();
        use base64::Engine;
        doc.require_lines(&["signer"])?;
        for b64 in doc.blocks("package")? {
            let raw = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map_err(|_| bad("package", "invalid base64".into()))?;
            packages.push(
                frost_ed25519::SigningPackage::deserialize(&raw)
                    .map_err(|_| bad("package", "not a FROST signing package".into()))?,
            );
        }
        Ok(PackageFile {
            session: doc.hex("session")?,
            attempt,
            phase,
            signers,
            packages,
            digest: sha256(text.as_bytes()),
        })
    }
}

/// The current attempt: the highest `restart-a<A>.txt` present, or 1.
pub fn current_attempt(dir: &Path) -> Result<u32> {
    let mut a = 1;
    while dir.join(names::restart(a + 1)).exists() {
        a += 1;
    }
    Ok(a)
}

/// Members excluded from attempt `a` by `collect --restart --without`.
pub fn excluded(dir: &Path, a: u32, group: &Group) -> Result<Vec<usize>> {
    if a < 2 {
        return Ok(Vec::new());
    }
    let path = dir.join(names::restart(a));
    let text = crate::fsx::read_text_untrusted(&path, 64 * 1024)?;
    let doc =
        Document::parse(&text, "sign-restart", &[("attempt", Need::Required), ("without", Need::Repeated)], false)
            .map_err(|e| Error::file(&path, format!("not a valid restart file: {e}")))?;
    if doc.number::<u32>("attempt").ok() != Some(a) {
        return Err(Error::file(&path, format!("does not open attempt {a} (renamed file?)")));
    }
    doc.require_lines(&["without"]).map_err(|e| Error::file(&path, format!("not a valid restart file: {e}")))?;
    doc.get_all("without")
        .iter()
        .map(|line| {
            line.split(' ')
                .next()
                .and_then(crate::card::Fingerprint::parse_compact)
                .and_then(|fp| group.member_index(fp))
                .ok_or_else(|| Error::file(&path, format!("`{}` is not a member of the group", printable(line, 80))))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn artifact(name: &str) -> Artifact {
        Artifact { name: name.into(), digests: FileDigests { size: 0, blake2b: [0; 64], sha256: [0; 32] } }
    }

    #[test]
    fn output_names_are_single_components_and_never_session_files() {
        for ok in ["app.tar.minisig", "SHA256.sig", ".hidden.sig", "release-1.4.tag", "@.tag"] {
            assert!(is_single_component(ok) && !is_session_file(ok), "{ok}");
        }
        for bad in ["", ".", "..", "a/b", "/etc/x", "a/", "./a", "a\0b", &"a".repeat(256)] {
            assert!(!is_single_component(bad), "{bad:?}");
        }
        for own in ["request.txt", "group.pub", "commit-a1-X.txt", "package-a2-p1.txt", "share-x.txt", "restart-a2.txt"]
        {
            assert!(is_session_file(own), "{own}");
        }
        // The one check every party runs: an output named like a session file, an artifact or another output.
        let (m, s) = (Output::Minisign(0), Output::Ssh(0));
        let arts = [artifact("commit-a1-X.txt"), artifact("b")];
        let own = check_outputs(&[(m, "commit-a1-X.txt".into())], &arts).unwrap_err();
        assert_eq!(own, "the minisign signature of `commit-a1-X.txt` would be named `commit-a1-X.txt`, like a file of the session itself");
        let art = check_outputs(&[(m, "b".into())], &arts).unwrap_err();
        assert!(art.ends_with("would be named `b`, like an artifact of the session"), "{art}");
        let dup = check_outputs(&[(m, "x".into()), (s, "x".into())], &arts).unwrap_err();
        assert!(dup.starts_with("two outputs would be named `x`"), "{dup}");
        assert!(check_outputs(&[(m, "a/b".into())], &arts).unwrap_err().contains("not one file name"));
    }
}
