//! The signing request (`request.txt`): what is to be signed, for which group, in which formats, until when.

use super::*;
use crate::error::{Error, Result};
use crate::formats::openpgp::PgpKey;
use crate::formats::{minisign, signify, ssh};
use crate::group::{Group, GroupFingerprint};
use crate::textdoc::{parse_hex, DocError, DocWriter, Document, Need};
use sha2::{Digest, Sha256};
use std::path::Path;

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

pub(crate) fn sha256(b: &[u8]) -> [u8; 32] {
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

pub(crate) fn bad(key: &str, reason: impl Into<String>) -> DocError {
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
