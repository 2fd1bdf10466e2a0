//! What a session writes: its formats, the messages the group signs (slots) and the output files, named
//! and checked in one place.

use super::*;
use serde::Serialize;
use std::path::Path;

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
    /// The group's approval of a version of its membership (a session of its own, no artifacts).
    MembershipApproval,
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
            Format::MembershipApproval => "membership-approval",
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
            Format::MembershipApproval,
        ]
        .into_iter()
        .find(|f| f.name() == s)
    }
}

/// One message the group signs in phase 1 of a session (phase 2 is [`GlobalSlot`]).
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
    /// The membership statement of the session's group, with its context (phase 1).
    Membership,
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
    /// `group-approved.pub`, the group file with the group's approval of its membership statement.
    ApprovedGroup,
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
            Output::ApprovedGroup => "membership-approval",
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
            Output::ApprovedGroup => Slot::Membership,
        }
    }
}

/// Every file a session with these formats, artifacts and tag writes, with its file name, in the order of
/// the phase-1 messages. The one place output names are made.
pub(crate) fn plan_outputs(formats: &[Format], artifacts: &[Artifact], git: Option<&GitTag>) -> Vec<(Output, String)> {
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
    if has(Format::MembershipApproval) {
        out.push((Output::ApprovedGroup, APPROVED_GROUP_FILE.to_string()));
    }
    out
}

/// The approved group file a membership approval session writes.
pub const APPROVED_GROUP_FILE: &str = "group-approved.pub";

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

/// A file name as a case-insensitive file system (macOS, Windows) compares it: every character
/// upper-cased, then lower-cased, so that the letters one of them folds together meet (`S`, `s` and long
/// `ſ`; final `ς`, `σ` and `Σ`; `ϐ` and `β`; dotless `ı` and `i`). Not caught: names equal only under
/// Unicode normalization (`café` composed and decomposed are one file on macOS); frostsign carries no
/// normalization tables, so a release with such a pair must be checked by its manager
/// (docs/ceremony-signing.md).
fn case_folded(s: &str) -> String {
    s.chars().flat_map(char::to_uppercase).flat_map(char::to_lowercase).collect()
}

/// Two file names that a case-insensitive file system treats as one file (see [`case_folded`]).
fn same_file_name(a: &str, b: &str) -> bool {
    case_folded(a) == case_folded(b)
}

/// Check a plan of outputs: each is one file name directly in the output folder, none is a session file
/// or an artifact's name (with `--out DIST` it would overwrite the artifact), no two are the same; names
/// are compared ignoring case, as the output folder may be on a case-insensitive file system.
pub(crate) fn check_outputs(plan: &[(Output, String)], artifacts: &[Artifact]) -> std::result::Result<(), String> {
    let what = |o: Output| match o.artifact() {
        Some(k) => format!("the {} signature of `{}`", o.format(), artifacts[k].name),
        None => match o {
            Output::SignifyManifest => "the signify manifest".to_string(),
            Output::GitTag => "the signed git tag".to_string(),
            Output::ApprovedGroup => "the approved group file".to_string(),
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
        if is_session_file(name) || is_session_file(&case_folded(name)) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn artifact(name: &str) -> Artifact {
        Artifact {
            name: crate::plain_text::PlainText::new(crate::plain_text::TextKind::ArtifactName, name).unwrap(),
            digests: FileDigests { size: 0, blake2b: [0; 64], sha256: [0; 32] },
            openpgp: None,
        }
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
        // Names one file on a case-insensitive file system: case, and final sigma against sigma.
        let folded = check_outputs(&[(m, "X.SIG".into()), (s, "x.sig".into())], &arts).unwrap_err();
        assert!(folded.starts_with("two outputs would be named `x.sig`"), "{folded}");
        for (a, b) in [
            ("\u{3a3}\u{3c2}.sig", "\u{3c3}\u{3c3}.sig"),
            ("\u{17f}.sig", "s.sig"),
            ("\u{3d0}.sig", "\u{3b2}.sig"),
            ("\u{131}.sig", "I.sig"),
        ] {
            let folded = check_outputs(&[(m, a.into()), (s, b.into())], &arts);
            assert!(folded.unwrap_err().starts_with("two outputs would be named"), "{a} {b}");
        }
        let own = check_outputs(&[(m, "COMMIT-A1-X.TXT".into())], &arts).unwrap_err();
        assert!(own.ends_with("like a file of the session itself"), "{own}");
    }
}
