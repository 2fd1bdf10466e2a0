//! The session's exchanged files: their names, the keyholders' commitments and shares, the coordinator's
//! packages and restarts.

use super::*;
use crate::error::{Error, Result};
use crate::group::Group;
use crate::textdoc::{parse_hex, printable, DocError, DocWriter, Document, Need, Spec};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// File names in a session folder.
pub mod names {
    use super::Phase;
    use crate::card::Card;
    /// A keyholder's commitment for attempt `a`.
    pub fn commit(a: u32, c: &Card) -> String {
        format!("commit-a{a}-{}.txt", c.fingerprint().compact())
    }
    /// The coordinator's signing package for attempt `a`, phase `p`.
    pub fn package(a: u32, p: Phase) -> String {
        format!("package-a{a}-p{p}.txt")
    }
    /// A keyholder's signature shares.
    pub fn share(a: u32, p: Phase, c: &Card) -> String {
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
    pub fn share_round(a: u32, p: Phase) -> String {
        format!("a{a}-p{p}")
    }
}

/// The largest signing package file read (a package of many artifacts and signers stays far below).
pub const MAX_PACKAGE_BYTES: u64 = 64 << 20;

/// Message kinds of a signing session.
pub const KIND_COMMIT: &str = "sign-commit";
/// Message kinds of a signing session.
pub const KIND_SHARE: &str = "sign-share";

/// The digests a keyholder attests it computed from its own copy of one artifact (decoded and checked:
/// compared as bytes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attested {
    /// File name.
    pub name: String,
    /// The digests.
    pub digests: FileDigests,
}

impl Serialize for Attested {
    /// As in the commitment (`sign status --json` shows it so).
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        AttestedArtifact::new(&self.name, &self.digests).serialize(s)
    }
}

/// [`Attested`] as a commitment carries it: the digests in lowercase hex.
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
    pub phase: Phase,
    /// Hex SHA-256 of the package file the shares answer.
    pub package: String,
    /// Hex FROST SignatureShare per message.
    pub shares: Vec<String>,
}

/// A keyholder's commitment file, decoded in full and checked against the request when it is read, so that
/// a malformed one is caught where the keyholder's signature on it proves who sent it.
#[derive(Clone, Debug)]
pub struct Commitment {
    /// The digests the keyholder attests it computed, one per artifact of the request, in its order.
    pub attested: Vec<Attested>,
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
        let p: CommitPayload = crate::exchange::decode_payload(payload)
            .map_err(|e| format!("its payload is not a signing commitment ({e})"))?;
        if p.attempt != attempt {
            return Err(format!("its payload says attempt {}, but it is signed for attempt {attempt}", p.attempt));
        }
        let decode = |list: &[String], phase: Phase, want: usize| {
            if list.len() != want {
                return Err(format!("it holds {} phase-{phase} commitments, the request needs {want}", list.len()));
            }
            list.iter()
                .enumerate()
                .map(|(k, h)| {
                    hex::decode(h)
                        .ok()
                        .and_then(|b| {
                            decoded_once(&COMMITMENTS, &b, frost_ed25519::round1::SigningCommitments::deserialize)
                        })
                        .ok_or_else(|| format!("its phase-{phase} commitment {} is not a FROST commitment", k + 1))
                })
                .collect::<std::result::Result<Vec<_>, String>>()
        };
        let phase1 = decode(&p.phase1, Phase::One, req.plan().count(Phase::One))?;
        let phase2 = decode(&p.phase2, Phase::Two, req.plan().count(Phase::Two))?;
        if p.artifacts.len() != req.artifacts().len() {
            return Err(format!(
                "it attests digests of {} artifacts, but the request lists {}",
                p.artifacts.len(),
                req.artifacts().len()
            ));
        }
        let mut attested = Vec::new();
        for (k, (x, a)) in p.artifacts.into_iter().zip(req.artifacts()).enumerate() {
            if x.name != a.name {
                return Err(format!(
                    "its attested artifact {} is not `{}`, the request's artifact {}",
                    k + 1,
                    a.name,
                    k + 1
                ));
            }
            let (Some(blake2b), Some(sha256)) = (parse_hex::<64>(&x.blake2b), parse_hex::<32>(&x.sha256)) else {
                return Err(format!("its attested digests of `{}` are not a BLAKE2b-512 and a SHA-256 digest", a.name));
            };
            attested.push(Attested { name: x.name, digests: FileDigests { size: x.size, blake2b, sha256 } });
        }
        let matches_request = attested.iter().zip(req.artifacts()).all(|(x, a)| x.digests == a.digests);
        Ok(Commitment { attested, matches_request, phase1, phase2 })
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
    let p: SharePayload = crate::exchange::decode_payload(payload)
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
    /// Phase.
    pub phase: Phase,
    /// The chosen signers (member indices, sorted).
    pub signers: Vec<usize>,
    /// One FROST signing package per message.
    pub packages: Vec<frost_ed25519::SigningPackage>,
    /// SHA-256 of the file text.
    pub digest: [u8; 32],
}

const PACKAGE_SCHEMA: &[Spec] = &[
    Spec::line("session", Need::Required),
    Spec::line("attempt", Need::Required),
    Spec::line("phase", Need::Required),
    Spec::line("signer", Need::Repeated),
    Spec::block("package", Need::Repeated),
];

impl PackageFile {
    /// Encode.
    pub fn encode(
        session: &[u8; 32],
        attempt: u32,
        phase: Phase,
        signers: &[usize],
        group: &Group,
        packages: &[frost_ed25519::SigningPackage],
    ) -> Result<String> {
        let mut w = DocWriter::new("sign-package", 1)
            .field("session", hex::encode(session))
            .field("attempt", attempt)
            .field("phase", phase.number());
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
        let phase = Phase::try_from(doc.number::<u8>("phase")?).map_err(|r| bad("phase", r))?;
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
        for b64 in doc.blocks("package") {
            let raw = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map_err(|_| bad("package", "invalid base64".into()))?;
            packages.push(
                decoded_once(&PACKAGES, &raw, frost_ed25519::SigningPackage::deserialize)
                    .ok_or_else(|| bad("package", "not a FROST signing package".into()))?,
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

/// Most values each of [`COMMITMENTS`] and [`PACKAGES`] remembers (cleared when full).
const DECODED_MAX: usize = 4096;

/// The signing commitments decoded in this process, by SHA-256 of their bytes.
static COMMITMENTS: Memo<frost_ed25519::round1::SigningCommitments> = Memo::new(BTreeMap::new());

/// The signing packages decoded in this process, by SHA-256 of their bytes.
static PACKAGES: Memo<frost_ed25519::SigningPackage> = Memo::new(BTreeMap::new());

type Memo<T> = std::sync::Mutex<BTreeMap<[u8; 32], T>>;

/// `decode(bytes)`, each distinct byte string once per process (successes only). frost checks every point
/// it decodes (a scalar multiplication each), and one signing step reads the same package, with two
/// commitments per signer, several times (is there anything to do, the phase's package, what it published).
fn decoded_once<T: Clone, E>(
    memo: &Memo<T>,
    bytes: &[u8],
    decode: impl FnOnce(&[u8]) -> std::result::Result<T, E>,
) -> Option<T> {
    let tag = sha256(bytes);
    if let Some(v) = memo.lock().ok().and_then(|m| m.get(&tag).cloned()) {
        return Some(v);
    }
    let v = decode(bytes).ok()?;
    if let Ok(mut m) = memo.lock() {
        if m.len() >= DECODED_MAX {
            m.clear();
        }
        m.insert(tag, v.clone());
    }
    Some(v)
}

/// The current attempt: the highest `restart-a<A>.txt` present, or 1.
pub fn current_attempt(dir: &Path) -> Result<u32> {
    let mut a = 1;
    while dir.join(names::restart(a + 1)).exists() {
        a += 1;
    }
    Ok(a)
}

const RESTART_SCHEMA: &[Spec] = &[Spec::line("attempt", Need::Required), Spec::line("without", Need::Repeated)];

/// Members excluded from attempt `a` by `collect --restart --without`.
pub fn excluded(dir: &Path, a: u32, group: &Group) -> Result<Vec<usize>> {
    if a < 2 {
        return Ok(Vec::new());
    }
    let path = dir.join(names::restart(a));
    let text = crate::fsx::read_text_untrusted(&path, 64 * 1024)?;
    let doc = Document::parse(&text, "sign-restart", RESTART_SCHEMA, false)
        .map_err(|e| Error::file(&path, format!("not a valid restart file: {e}")))?;
    if doc.number::<u32>("attempt").ok() != Some(a) {
        return Err(Error::file(&path, format!("does not open attempt {a} (renamed file?)")));
    }
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
    use frost_ed25519 as frost;

    fn group() -> Group {
        Group::parse(include_str!("../../../keys-example/group.pub")).expect("the example group parses")
    }

    /// A signing package for members 0 and 1 over `message` (commitments from made-up shares: parsing
    /// checks structure and membership, not the mathematics).
    fn package(message: &[u8]) -> frost::SigningPackage {
        let mut rng = rand_core::OsRng;
        let commitments = (0..2u16)
            .map(|i| {
                let share = frost::keys::SigningShare::deserialize(&[i as u8 + 1; 32]).expect("a scalar");
                (frost::Identifier::try_from(i + 1).expect("nonzero"), frost::round1::commit(&share, &mut rng).1)
            })
            .collect();
        frost::SigningPackage::new(commitments, message)
    }

    fn encoded(phase: Phase) -> String {
        PackageFile::encode(&[7; 32], 3, phase, &[1, 0], &group(), &[package(b"m1"), package(b"m2")]).unwrap()
    }

    fn refusal(text: &str) -> (String, String) {
        match PackageFile::parse(text, &group()) {
            Err(DocError::BadValue { key, reason }) => (key, reason),
            other => panic!("expected a refused field, got {other:?}"),
        }
    }

    #[test]
    fn a_package_round_trips_with_its_phase_sorted_signers_and_digest() {
        let text = encoded(Phase::Two);
        let p = PackageFile::parse(&text, &group()).unwrap();
        assert_eq!((p.session, p.attempt, p.phase, p.signers.clone()), ([7; 32], 3, Phase::Two, vec![0, 1]));
        assert_eq!(
            p.packages.iter().map(|p| p.message().to_vec()).collect::<Vec<_>>(),
            [b"m1".to_vec(), b"m2".to_vec()]
        );
        assert_eq!(p.digest, sha256(text.as_bytes()));
    }

    #[test]
    fn a_package_of_a_phase_that_does_not_exist_is_refused() {
        for n in ["0", "3", "255"] {
            let text = encoded(Phase::One).replace("phase: 1\n", &format!("phase: {n}\n"));
            let (key, reason) = refusal(&text);
            assert_eq!(key, "phase");
            assert_eq!(reason, format!("phase {n} does not exist (a signing session has phases 1 and 2)"));
        }
    }

    #[test]
    fn a_package_naming_a_stranger_or_a_signer_twice_is_refused() {
        let text = encoded(Phase::One);
        let first = text.lines().find(|l| l.starts_with("signer: ")).unwrap().to_string();
        let stranger = text.replace(&first, "signer: 00000000000000000000000000000000 Mallory");
        let (key, reason) = refusal(&stranger);
        assert_eq!((key.as_str(), reason.contains("is not a member of the group")), ("signer", true), "{reason}");
        let twice = text.replacen(&first, &format!("{first}\n{first}"), 1);
        let (key, reason) = refusal(&twice);
        assert_eq!((key.as_str(), reason.contains("is listed twice")), ("signer", true), "{reason}");
    }

    #[test]
    fn a_package_whose_block_is_not_a_frost_package_is_refused() {
        let text = encoded(Phase::One);
        let start = text.find("package:").unwrap();
        let mut garbled = text.clone();
        // Replace the first base64 payload line of the first block with other valid base64.
        let line_start = start + text[start..].find("\n ").unwrap() + 2;
        let line_end = line_start + text[line_start..].find('\n').unwrap();
        garbled.replace_range(line_start..line_end, &"A".repeat(line_end - line_start));
        let (key, reason) = refusal(&garbled);
        assert_eq!(key, "package");
        assert!(reason == "not a FROST signing package" || reason == "invalid base64", "{reason}");
    }

    #[test]
    fn remembered_decodings_answer_as_frost_does_and_never_remember_a_failure() {
        let share = frost_ed25519::keys::SigningShare::deserialize(&[7u8; 32]).unwrap();
        let (_, commitments) = frost_ed25519::round1::commit(&share, &mut rand_core::OsRng);
        let bytes = commitments.serialize().unwrap();
        let decode = frost_ed25519::round1::SigningCommitments::deserialize;
        for _ in 0..2 {
            // The second round answers from the memo: the same value, and the same refusals.
            assert_eq!(decoded_once(&COMMITMENTS, &bytes, decode), Some(commitments));
            let mut other = bytes.clone();
            *other.last_mut().unwrap() ^= 1;
            assert_eq!(decoded_once(&COMMITMENTS, &other, decode).ok_or(()), decode(&other).map_err(|_| ()));
            assert_eq!(decoded_once(&COMMITMENTS, &bytes[1..], decode), None);
        }
    }
}
