//! The signing request (`request.txt`): what is to be signed, for which group, in which formats, until when.

use super::*;
use crate::error::{Error, Result};
use crate::formats::openpgp::PgpKey;
use crate::formats::{minisign, signify};
use crate::group::{Group, GroupFingerprint};
use crate::plain_text::{PlainText, TextKind};
use crate::textdoc::{parse_hex, DocError, DocWriter, Document, Need, Spec};
use sha2::{Digest, Sha256};
use std::path::Path;

/// One artifact of a release: its name and the digests the request states for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Artifact {
    /// File name (no folder part).
    pub name: PlainText,
    /// What the request says its digests are.
    pub digests: FileDigests,
    /// Its OpenPGP digest (SHA-256 of the file and the signature trailer), when OpenPGP is a format.
    pub openpgp: Option<[u8; 32]>,
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
    /// The membership statement to approve, for a membership approval session.
    pub membership: Option<String>,
}

/// What a session signs: one of three kinds, each with exactly the data it needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionKind {
    /// Release artifacts, in one or more release formats.
    Release(Release),
    /// The self-certification of the group's OpenPGP key (a session of its own).
    OpenpgpCertification(Certification),
    /// A signed git tag (a session of its own).
    GitTag(GitTag),
    /// The group's approval of its membership statement (a session of its own).
    MembershipApproval(Approval),
    /// One side's signature of a rotation statement (a session of its own, in minisign's format).
    Rotation(Box<RotationSession>),
}

/// A rotation session: the statement, which group signs it, the new group's own file (which proves the
/// new side: its key, threshold and members, each member's card having confirmed that key), and the
/// statement as the one artifact signed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RotationSession {
    /// Which group signs: the old one or the new one.
    pub role: crate::group::rotation::Role,
    /// The statement.
    pub statement: crate::group::rotation::Rotation,
    /// The new group's `group.pub`, checked on parse to be the group the statement names as new.
    pub new_group: String,
    /// The statement file as an artifact: its name and digests, computed from the statement's text.
    pub artifact: Artifact,
}

impl RotationSession {
    /// The session of `role` signing `statement`, whose new side is `new_group`.
    ///
    /// Refuses a `new_group` that is not a valid group file, or not the new group the statement names (key,
    /// fingerprint, key id, threshold, members): the old group's signers are shown the new side from it.
    pub fn new(
        role: crate::group::rotation::Role,
        statement: crate::group::rotation::Rotation,
        new_group: &str,
    ) -> Result<Self> {
        let g = Group::parse(new_group).map_err(|e| Error::new(format!("the new group's file is not valid: {e}")))?;
        if let Some(why) = statement.mismatch(crate::group::rotation::Role::New, &g) {
            return Err(Error::new(format!("the new group's file does not fit the rotation statement: {why}")));
        }
        let name = PlainText::new(TextKind::ArtifactName, crate::group::rotation::STATEMENT_FILE)?;
        let digests = crate::digest::hash_bytes(statement.text.as_bytes());
        let artifact = Artifact { name, digests, openpgp: None };
        Ok(RotationSession { role, statement, new_group: new_group.to_string(), artifact })
    }

    /// The new group's file, parsed (it parsed when the session was read).
    pub fn new_group(&self) -> Result<Group> {
        Group::parse(&self.new_group).map_err(|e| Error::new(format!("the new group's file is not valid: {e}")))
    }
}

/// The approval of a version of the group's membership: the statement, computed from the group file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Approval {
    /// The statement (`group::membership`), parsed.
    pub statement: crate::group::membership::Statement,
}

/// A release: its artifacts, formats and comment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Release {
    /// 1 to [`MAX_ARTIFACTS`] artifacts, unique names.
    pub artifacts: Vec<Artifact>,
    /// Release formats, each once, in the order given.
    pub formats: Vec<Format>,
    /// `--comment`, carried in every trusted comment.
    pub comment: Option<PlainText>,
    /// The group's OpenPGP key creation time, exactly when `openpgp` is a format.
    pub openpgp_key_created: Option<u32>,
}

/// The certification of the group's OpenPGP key for a user id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Certification {
    /// The user id, `Name <email>`.
    pub uid: PlainText,
    /// The key's creation time (part of its fingerprint).
    pub key_created: u32,
}

/// A parsed signing request: a header (session, group, times) and what it signs.
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
    kind: SessionKind,
    digest: [u8; 32],
}

const SCHEMA: &[Spec] = &[
    Spec::line("session", Need::Required),
    Spec::line("group", Need::Required),
    Spec::line("group-key", Need::Required),
    Spec::line("label", Need::Optional),
    Spec::line("threshold", Need::Required),
    Spec::line("members", Need::Required),
    Spec::line("created", Need::Required),
    Spec::line("expires", Need::Required),
    Spec::line("comment", Need::Optional),
    Spec::line("format", Need::Repeated),
    Spec::line("openpgp-key-created", Need::Optional),
    Spec::line("openpgp-uid", Need::Optional),
    Spec::line("git-tag", Need::Optional),
    Spec::line("git-ref", Need::Optional),
    Spec::line("git-object", Need::Optional),
    Spec::line("git-type", Need::Optional),
    Spec::line("git-tagger", Need::Optional),
    Spec::block("git-message", Need::Optional),
    Spec::block("membership-statement", Need::Optional),
    Spec::line("rotation-role", Need::Optional),
    Spec::block("rotation-statement", Need::Optional),
    Spec::block("rotation-new-group", Need::Optional),
    Spec::line("artifact", Need::Repeated),
    Spec::line("openpgp-digest", Need::Repeated),
];

pub(crate) fn sha256(b: &[u8]) -> [u8; 32] {
    Sha256::digest(b).into()
}

/// Everything `sign init` decides, before the request is written.
#[derive(Clone, Debug)]
pub struct RequestSpec {
    /// What the session signs.
    pub kind: SessionKind,
    /// Creation time (Unix seconds).
    pub created: i64,
    /// Lifetime in seconds.
    pub validity_secs: i64,
}

/// Why a release does not fit together: the request field at fault, the reason, and what to do at `sign init`.
struct ReleaseProblem {
    key: &'static str,
    why: String,
    help: Option<&'static str>,
}

impl ReleaseProblem {
    fn new(key: &'static str, why: impl Into<String>) -> Self {
        ReleaseProblem { key, why: why.into(), help: None }
    }

    fn help(mut self, help: &'static str) -> Self {
        self.help = Some(help);
        self
    }
}

/// A release's parts must fit together: 1 to [`MAX_ARTIFACTS`] artifacts with unique plain names, release
/// formats each once, an OpenPGP key time and per-artifact OpenPGP digests exactly when `openpgp` is a
/// format, names stock signify can read in a manifest, a plain comment, and output names that collide with
/// nothing. The reason is given for the person who opens or reads the session.
fn check_release(r: &Release) -> std::result::Result<(), ReleaseProblem> {
    if r.artifacts.is_empty() || r.artifacts.len() > MAX_ARTIFACTS {
        return Err(ReleaseProblem::new("artifact", format!("a release lists 1 to {MAX_ARTIFACTS} artifacts")));
    }
    if r.formats.is_empty() || r.formats.iter().any(|f| !Format::RELEASE.contains(f)) {
        return Err(ReleaseProblem::new(
            "format",
            "a release is signed in one or more of minisign, ssh, openpgp and signify-manifest",
        ));
    }
    if r.formats.iter().enumerate().any(|(i, f)| r.formats[..i].contains(f)) {
        return Err(ReleaseProblem::new("format", "a format is listed twice"));
    }
    for (i, a) in r.artifacts.iter().enumerate() {
        if r.artifacts[..i].iter().any(|b| b.name == a.name) {
            return Err(ReleaseProblem::new(
                "artifact",
                format!("two artifacts are named `{}`; names must be unique in a session", a.name),
            ));
        }
    }
    let has = |f: Format| r.formats.contains(&f);
    if has(Format::SignifyManifest) {
        if let Some(a) = r.artifacts.iter().find(|a| a.name.contains(')')) {
            return Err(ReleaseProblem::new(
                "artifact",
                format!(
                    "the artifact name `{}` contains `)`, which stock signify cannot read in a manifest line",
                    a.name
                ),
            )
            .help("rename the file, or leave signify-manifest out of --format"));
        }
    }
    if has(Format::Openpgp) != r.openpgp_key_created.is_some()
        || r.artifacts.iter().any(|a| a.openpgp.is_some() != has(Format::Openpgp))
    {
        return Err(ReleaseProblem::new(
            "openpgp-digest",
            "an OpenPGP key time and one OpenPGP digest per artifact go exactly with the `openpgp` format",
        ));
    }
    check_outputs(&plan_outputs(&r.formats, &r.artifacts, None), &r.artifacts).map_err(|why| {
        ReleaseProblem::new("artifact", why).help("rename the artifact, or leave one of the formats out")
    })
}

/// Write the fields of a session's kind (the request's wire form, docs/formats.md section 9.1).
fn write_kind(mut w: DocWriter, kind: &SessionKind) -> DocWriter {
    match kind {
        SessionKind::Release(r) => {
            if let Some(c) = &r.comment {
                w = w.field("comment", c);
            }
            for f in &r.formats {
                w = w.field("format", f.name());
            }
            if let Some(t) = r.openpgp_key_created {
                w = w.field("openpgp-key-created", crate::clock::format(t as i64));
            }
            for a in &r.artifacts {
                let d = &a.digests;
                let line = format!("{} {} {} {}", d.size, hex::encode(d.blake2b), hex::encode(d.sha256), a.name);
                w = w.field("artifact", line);
            }
            for d in r.artifacts.iter().filter_map(|a| a.openpgp) {
                w = w.field("openpgp-digest", hex::encode(d));
            }
            w
        }
        SessionKind::OpenpgpCertification(c) => w
            .field("format", Format::OpenpgpCertification.name())
            .field("openpgp-key-created", crate::clock::format(c.key_created as i64))
            .field("openpgp-uid", &c.uid),
        SessionKind::GitTag(g) => w
            .field("format", Format::GitTag.name())
            .field("git-tag", &g.name)
            .field("git-ref", &g.ref_name)
            .field("git-object", &g.object)
            .field("git-type", &g.kind)
            .field("git-tagger", &g.tagger)
            .block("git-message", g.message.as_bytes()),
        SessionKind::MembershipApproval(a) => w
            .field("format", Format::MembershipApproval.name())
            .block("membership-statement", a.statement.text.as_bytes()),
        SessionKind::Rotation(r) => w
            .field("format", Format::Minisign.name())
            .field("rotation-role", r.role.name())
            .block("rotation-statement", r.statement.text.as_bytes())
            .block("rotation-new-group", r.new_group.as_bytes()),
    }
}

/// Read the kind of session a request describes; any field of another kind is refused.
fn read_kind(doc: &Document) -> std::result::Result<SessionKind, DocError> {
    let mut formats = Vec::new();
    for f in doc.get_all("format") {
        formats.push(Format::parse(f).ok_or_else(|| bad("format", "unknown format (made by a newer frostsign?)"))?);
    }
    let key_created = match doc.get("openpgp-key-created") {
        None => None,
        Some(t) => Some(
            crate::clock::parse(t)
                .and_then(|t| u32::try_from(t).ok())
                .ok_or_else(|| bad("openpgp-key-created", "not a UTC time"))?,
        ),
    };
    let release_fields = !doc.get_all("artifact").is_empty() || doc.get("comment").is_some();
    let uid = doc.get("openpgp-uid");
    let git = GitTag::from_doc(doc)?;
    let statement = !doc.blocks("membership-statement").is_empty();
    if statement && formats != [Format::MembershipApproval] {
        return Err(bad("format", "only a membership approval carries a membership statement"));
    }
    let rotation = doc.get("rotation-role");
    let has_statement = !doc.blocks("rotation-statement").is_empty();
    if rotation.is_some() != has_statement {
        return Err(bad("rotation-role", "a rotation session has a role and a statement"));
    }
    if let Some(role) = rotation {
        let (true, None, None, None, false) = (formats == [Format::Minisign], uid, key_created, &git, release_fields)
        else {
            return Err(bad("format", "a rotation session signs its statement in minisign's format and nothing else"));
        };
        let role = crate::group::rotation::Role::parse(role).ok_or_else(|| bad("rotation-role", "`old` or `new`"))?;
        let text =
            String::from_utf8(doc.block("rotation-statement")?).map_err(|_| bad("rotation-statement", "not UTF-8"))?;
        let statement =
            crate::group::rotation::Rotation::parse(&text).map_err(|e| bad("rotation-statement", e.to_string()))?;
        let new_group =
            String::from_utf8(doc.block("rotation-new-group")?).map_err(|_| bad("rotation-new-group", "not UTF-8"))?;
        let session =
            RotationSession::new(role, statement, &new_group).map_err(|e| bad("rotation-new-group", e.message()))?;
        return Ok(SessionKind::Rotation(Box::new(session)));
    }
    match formats.as_slice() {
        [Format::MembershipApproval] => {
            let (true, None, None, None, false) = (statement, uid, key_created, &git, release_fields) else {
                return Err(bad("format", "a membership approval has a membership statement and nothing else"));
            };
            let text = String::from_utf8(doc.block("membership-statement")?)
                .map_err(|_| bad("membership-statement", "not UTF-8"))?;
            let statement = crate::group::membership::Statement::parse(&text)
                .map_err(|e| bad("membership-statement", e.to_string()))?;
            Ok(SessionKind::MembershipApproval(Approval { statement }))
        }
        [] => Err(DocError::Missing("format".into())),
        [Format::OpenpgpCertification] => {
            let (Some(uid), Some(key_created), None, false) = (uid, key_created, &git, release_fields) else {
                return Err(bad("format", "an OpenPGP certification has a user id, a key time and nothing else"));
            };
            let uid = PlainText::new(TextKind::Uid, uid).map_err(|e| bad("openpgp-uid", e.to_string()))?;
            Ok(SessionKind::OpenpgpCertification(Certification { uid, key_created }))
        }
        [Format::GitTag] => match (git, uid, key_created, release_fields) {
            (Some(tag), None, None, false) => Ok(SessionKind::GitTag(tag)),
            _ => Err(bad("format", "a git tag session has a tag and nothing else")),
        },
        _ if uid.is_some() || git.is_some() => {
            Err(bad("format", "a release has no user id and no git tag (those are sessions of their own)"))
        }
        _ => read_release(doc, formats, key_created),
    }
}

/// The release fields: artifacts (with their OpenPGP digests, in order) and the comment.
fn read_release(
    doc: &Document,
    formats: Vec<Format>,
    openpgp_key_created: Option<u32>,
) -> std::result::Result<SessionKind, DocError> {
    let mut openpgp = doc.get_all("openpgp-digest").into_iter();
    let with_openpgp = formats.contains(&Format::Openpgp);
    let mut artifacts = Vec::new();
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
        let openpgp = match (with_openpgp, openpgp.next()) {
            (true, Some(h)) => Some(parse_hex(h).ok_or_else(|| bad("openpgp-digest", "bad SHA-256 digest"))?),
            (false, None) => None,
            _ => return Err(bad("openpgp-digest", "one per artifact exactly when `openpgp` is a format")),
        };
        let name = PlainText::new(TextKind::ArtifactName, name).map_err(|e| bad("artifact", e.to_string()))?;
        artifacts.push(Artifact { name, digests, openpgp });
    }
    if openpgp.next().is_some() {
        return Err(bad("openpgp-digest", "one per artifact exactly when `openpgp` is a format"));
    }
    let comment = match doc.get("comment") {
        Some(c) => Some(PlainText::new(TextKind::Comment, c).map_err(|e| bad("comment", e.to_string()))?),
        None => None,
    };
    Ok(SessionKind::Release(Release { artifacts, formats, comment, openpgp_key_created }))
}

pub(crate) fn bad(key: &str, reason: impl Into<String>) -> DocError {
    DocError::BadValue { key: key.into(), reason: reason.into() }
}

impl Request {
    /// Write a new request signed by `group`.
    pub fn create(group: &Group, spec: RequestSpec) -> Result<(Request, String)> {
        if let SessionKind::Release(r) = &spec.kind {
            check_release(r).map_err(|p| {
                let e = Error::new(format!("cannot open this session: {}", p.why));
                match p.help {
                    Some(h) => e.with_help(h),
                    None => e,
                }
            })?;
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
        w = write_kind(w, &spec.kind);
        let text = w.finish()?;
        let r = Request::parse(&text).map_err(|e| Error::new(format!("invalid signing request: {e}")))?;
        for a in r.artifacts() {
            minisign::check_trusted_comment(&r.trusted_comment(a))?;
        }
        Ok((r, text))
    }

    /// Parse and check a request: the header, then exactly one kind of session with exactly its fields.
    pub fn parse(text: &str) -> std::result::Result<Request, DocError> {
        let doc = Document::parse(text, "sign-request", SCHEMA, false)?;
        let group =
            GroupFingerprint::parse(doc.require("group")?).ok_or_else(|| bad("group", "not a group fingerprint"))?;
        let time = |k: &str| doc.require(k).ok().and_then(crate::clock::parse).ok_or_else(|| bad(k, "not a UTC time"));
        let kind = read_kind(&doc)?;
        if let SessionKind::Release(r) = &kind {
            check_release(r).map_err(|p| bad(p.key, p.why))?;
        }
        Ok(Request {
            session: doc.hex("session")?,
            group,
            group_key: doc.hex("group-key")?,
            label: doc.get("label").map(str::to_string),
            threshold: doc.number("threshold")?,
            members: doc.number("members")?,
            created: time("created")?,
            expires: time("expires")?,
            kind,
            digest: sha256(text.as_bytes()),
        })
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
    /// What the session signs.
    pub fn kind(&self) -> &SessionKind {
        &self.kind
    }
    /// The `--comment` of a release.
    pub fn comment(&self) -> Option<&str> {
        match &self.kind {
            SessionKind::Release(r) => r.comment.as_deref(),
            _ => None,
        }
    }
    /// Output formats.
    pub fn formats(&self) -> Vec<Format> {
        match &self.kind {
            SessionKind::Release(r) => r.formats.clone(),
            SessionKind::OpenpgpCertification(_) => vec![Format::OpenpgpCertification],
            SessionKind::GitTag(_) => vec![Format::GitTag],
            SessionKind::MembershipApproval(_) => vec![Format::MembershipApproval],
            SessionKind::Rotation(_) => vec![Format::Minisign],
        }
    }
    /// True if `f` is one of the formats.
    pub fn has(&self, f: Format) -> bool {
        self.formats().contains(&f)
    }
    /// The artifacts of a release (none for the other kinds).
    pub fn artifacts(&self) -> &[Artifact] {
        match &self.kind {
            SessionKind::Release(r) => &r.artifacts,
            SessionKind::Rotation(r) => std::slice::from_ref(&r.artifact),
            _ => &[],
        }
    }
    /// The git tag of a git tag session.
    pub fn git(&self) -> Option<&GitTag> {
        match &self.kind {
            SessionKind::GitTag(g) => Some(g),
            _ => None,
        }
    }
    /// The OpenPGP user id of a certification session.
    pub fn openpgp_uid(&self) -> Option<&str> {
        match &self.kind {
            SessionKind::OpenpgpCertification(c) => Some(&c.uid),
            _ => None,
        }
    }

    /// The group's OpenPGP key as this request fixes it (group key and key creation time), when the
    /// session involves OpenPGP.
    pub fn openpgp_key(&self) -> Option<PgpKey> {
        let created = match &self.kind {
            SessionKind::Release(r) => r.openpgp_key_created?,
            SessionKind::OpenpgpCertification(c) => c.key_created,
            SessionKind::GitTag(_) | SessionKind::MembershipApproval(_) | SessionKind::Rotation(_) => return None,
        };
        Some(PgpKey { pk: self.group_key, created })
    }

    /// The creation time as an OpenPGP signature time.
    pub fn signature_time(&self) -> u32 {
        u32::try_from(self.created).unwrap_or(0)
    }

    /// The trailer every OpenPGP file signature of this request hashes after the file.
    pub fn openpgp_file_trailer(&self) -> Option<Vec<u8>> {
        match &self.kind {
            SessionKind::Release(r) if r.formats.contains(&Format::Openpgp) => {
                self.openpgp_key().map(|k| k.file_trailer(self.signature_time()))
            }
            _ => None,
        }
    }

    /// What the request itself says (the coordinator builds the messages from this).
    pub fn evidence(&self) -> Evidence {
        Evidence {
            files: self.artifacts().iter().map(|a| a.digests.clone()).collect(),
            openpgp: self.artifacts().iter().filter_map(|a| a.openpgp).collect(),
            git_payload: self.git().map(GitTag::payload),
            membership: self.membership().map(|a| a.statement.text.clone()),
        }
    }

    /// The rotation statement a rotation session signs.
    pub fn rotation(&self) -> Option<&RotationSession> {
        match &self.kind {
            SessionKind::Rotation(r) => Some(r),
            _ => None,
        }
    }

    /// The approval a membership approval session asks for.
    pub fn membership(&self) -> Option<&Approval> {
        match &self.kind {
            SessionKind::MembershipApproval(a) => Some(a),
            _ => None,
        }
    }

    /// minisign's trusted comment for an artifact. Built by every party from the request's fields, never
    /// taken as free text, so a signer knows exactly what the second signature covers.
    pub fn trusted_comment(&self, a: &Artifact) -> String {
        if let Some(r) = self.rotation() {
            return crate::group::rotation::trusted_comment(r.role, &r.statement.side(r.role).group);
        }
        let mut tc = format!("timestamp:{}\tfile:{}\thashed\tgroup:{}", self.created, a.name, self.group.compact());
        if let Some(c) = self.comment() {
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
        if let Some(why) = self.rotation().and_then(|r| r.statement.mismatch(r.role, group)) {
            return Err(Error::new(format!("the request's rotation statement does not fit this group: {why}"))
                .with_help("do not sign: ask for a new session opened with `frostsign group rotate`"));
        }
        if self.membership().is_some_and(|a| a.statement.text != group.statement()) {
            return Err(Error::new("the request's membership statement is not the statement of the group file")
                .with_help("do not sign: ask for a new session opened with `frostsign group approve`"));
        }
        Ok(())
    }

    /// The session's plan: the messages of each phase and the outputs that carry their signatures.
    pub fn plan(&self) -> Plan {
        Plan::of(self)
    }

    /// Every file this session writes when it completes, with its file name (checked on parse: one file
    /// name each, all different, none an artifact's or a session file's name).
    pub fn outputs(&self) -> Vec<(Output, String)> {
        let mut outputs = plan_outputs(&self.formats(), self.artifacts(), self.git());
        // A rotation's signature is named after the side that signs: both are published beside the statement.
        if let Some(r) = self.rotation() {
            for (_, name) in &mut outputs {
                *name = r.role.signature_name(crate::group::rotation::STATEMENT_FILE);
            }
        }
        outputs
    }

    /// The manifest text built from `ev`.
    pub fn manifest(&self, ev: &Evidence) -> String {
        let entries: Vec<(&str, &[u8; 32])> =
            self.artifacts().iter().zip(&ev.files).map(|(a, d)| (a.name.as_str(), &d.sha256)).collect();
        signify::manifest(&entries)
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
        if let Some(c) = self.comment() {
            s.push_str(&format!("  comment: {c}\n"));
        }
        s.push_str(&format!("  formats: {}\n", self.formats().iter().map(|f| f.name()).collect::<Vec<_>>().join(", ")));
        if let (Some(uid), Some(key)) = (self.openpgp_uid(), self.openpgp_key()) {
            s.push_str(&format!(
                "  certify the group's OpenPGP key {} (created {}) for the user id \"{uid}\"\n",
                hex::encode_upper(key.fingerprint()),
                crate::clock::format(key.created as i64)
            ));
        }
        if let Some(g) = self.git() {
            s.push_str(&format!(
                "  git tag `{}` on {} {} (`{}` in the release manager's repository)\n  tagger {}\n",
                g.name, g.kind, g.object, g.ref_name, g.tagger
            ));
            for line in g.message.lines() {
                s.push_str(&format!("  | {line}\n"));
            }
        }
        if let Some(r) = self.rotation() {
            let st = &r.statement;
            s.push_str(&format!(
                "  ROTATE TO A NEW KEY: as the {} group, sign that group {} (key {}) hands over to group {} (key {}),\n",
                r.role.name(),
                st.old.group,
                hex::encode(st.old.key),
                st.new.group,
                hex::encode(st.new.key)
            ));
            s.push_str(&format!(
                "  {}-of-{}, these members (as the new group's own file proves: each card confirmed the new key):\n",
                st.new_threshold,
                st.new_members.len()
            ));
            for m in &st.new_members {
                // A member of the old group keeps its card; any other card is someone to check by voice.
                let known = group.members().iter().any(|c| m.split(' ').nth(1) == Some(&c.fingerprint().compact()));
                let mark = match (r.role, known) {
                    (crate::group::rotation::Role::Old, true) => "  (same card as in this group)",
                    (crate::group::rotation::Role::Old, false) => "  (NOT a card of this group: check it by voice)",
                    _ => "",
                };
                s.push_str(&format!("    {m}{mark}\n"));
            }
            s.push_str(&format!("  reason: {}\n  date: {}\n", st.reason, crate::clock::format(st.date)));
            s.push_str("  Users who trust the old key will trust signatures of the new key once both groups signed.\n");
        }
        if let Some(a) = self.membership() {
            let st = &a.statement;
            s.push_str(&format!(
                "  approve version {} of the group's membership: {}-of-{}, these members:\n",
                st.version,
                st.threshold,
                st.members.len()
            ));
            for m in &st.members {
                s.push_str(&format!("    {m}\n"));
            }
            if let Some(p) = st.previous {
                s.push_str(&format!("  it follows the version whose statement has SHA-256 {}\n", hex::encode(p)));
            }
        }
        for a in self.artifacts() {
            s.push_str(&format!("  {}  {} bytes  SHA-256 {}\n", a.name, a.digests.size, hex::encode(a.digests.sha256)));
        }
        s
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    const HEADER: &str = "frostsign-sign-request: 1\nsession: acb08597c977c9e2e0029a950a5770a7\ngroup: 836E8F2777406A99F6A0E6626873D281\ngroup-key: 1534569f93faaf25352a96e6208415382fb77c3cd0b856f2d4c297331f5b68f9\nthreshold: 2\nmembers: 3\ncreated: 2026-12-01T08:11:48Z\nexpires: 2026-12-08T08:11:48Z\n";

    /// An `artifact:` line for `name`, with digests made from the name.
    pub(crate) fn artifact_line(name: &str) -> String {
        let d =
            FileDigests { size: name.len() as u64, blake2b: [name.len() as u8; 64], sha256: sha256(name.as_bytes()) };
        format!("artifact: {} {} {} {name}\n", d.size, hex::encode(d.blake2b), hex::encode(d.sha256))
    }

    /// A request: the fixed header, then `body`.
    pub(crate) fn request(body: &str) -> std::result::Result<Request, DocError> {
        Request::parse(&format!("{HEADER}{body}"))
    }

    fn refused(body: &str) -> (String, String) {
        match request(body) {
            Err(DocError::BadValue { key, reason }) => (key, reason),
            Err(DocError::Missing(key)) => (key, "missing".into()),
            other => panic!("expected a refusal of a field, got {other:?}"),
        }
    }

    #[test]
    fn a_release_request_parses_into_its_kind_with_typed_digests() {
        let body =
            format!("comment: v1\nformat: minisign\nformat: ssh\n{}{}", artifact_line("a.tar"), artifact_line("b.tar"));
        let r = request(&body).unwrap();
        let SessionKind::Release(rel) = r.kind() else { panic!("not a release: {:?}", r.kind()) };
        assert_eq!(rel.formats, [Format::Minisign, Format::Ssh]);
        assert_eq!((rel.comment.as_deref(), rel.openpgp_key_created), (Some("v1"), None));
        let names: Vec<&str> = rel.artifacts.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["a.tar", "b.tar"]);
        assert_eq!(rel.artifacts[1].digests.sha256, sha256(b"b.tar"));
        assert_eq!(rel.artifacts[1].digests.blake2b, [5; 64]);
        assert_eq!(r.digest(), &sha256(format!("{HEADER}{body}").as_bytes()));
    }

    #[test]
    fn a_certification_and_a_git_tag_request_carry_exactly_their_fields() {
        let cert = "format: openpgp-certification\nopenpgp-key-created: 2026-12-01T08:11:48Z\nopenpgp-uid: Demo <d@example.org>\n";
        let r = request(cert).unwrap();
        assert_eq!(r.openpgp_uid(), Some("Demo <d@example.org>"));
        assert!(r.artifacts().is_empty() && r.git().is_none());
        // A certification with a release's artifact, or a release with a user id: refused, naming `format`.
        assert_eq!(refused(&format!("{cert}{}", artifact_line("a"))).0, "format");
        let mixed = format!("format: minisign\nopenpgp-uid: Demo <d@example.org>\n{}", artifact_line("a"));
        assert_eq!(refused(&mixed).0, "format");
    }

    #[test]
    fn a_crafted_release_is_refused_naming_the_field_at_fault() {
        let a = artifact_line("a.tar");
        let cases: [(String, &str, &str); 8] = [
            (format!("format: raw\n{a}"), "format", "unknown format"),
            (format!("format: minisign\nformat: minisign\n{a}"), "format", "listed twice"),
            (format!("format: minisign\nformat: git-tag\n{a}"), "format", "one or more of minisign"),
            ("format: minisign\n".to_string(), "artifact", "1 to 1000 artifacts"),
            (format!("format: minisign\n{a}{a}"), "artifact", "two artifacts are named `a.tar`"),
            (format!("format: minisign\n{a}openpgp-digest: {}\n", "00".repeat(32)), "openpgp-digest", "exactly when"),
            (
                format!("format: ssh\nformat: signify-manifest\n{}", artifact_line("SHA256")),
                "artifact",
                "two outputs would be named `SHA256.sig`",
            ),
            (format!("format: minisign\n{}", a.replacen(" a.tar", " ../a.tar", 1)), "artifact", ""),
        ];
        for (body, key, says) in cases {
            let (k, why) = refused(&body);
            assert_eq!(k, key, "{body}: {why}");
            assert!(why.contains(says), "{body}: {why}");
        }
    }
}
