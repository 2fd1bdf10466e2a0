//! A session's plan, and each output format's knowledge in one place.
//!
//! The plan is computed once from the request: the messages each phase signs, and for every output file
//! its name and the positions of the signatures it carries. Each format then says here, and nowhere else,
//! the message the group signs ([`Slot::message`]), what a signer compares it with when it refuses
//! ([`Slot::source`]), how the finished file is encoded and re-verified before it is written
//! ([`PlannedOutput::encode`]), and how a written file is checked by `sign status`
//! ([`PlannedOutput::is_valid`]). The byte layouts themselves live in `formats/`.

use super::{sha256, Evidence, Output, Request, Slot};
use crate::error::{Error, Result};
use crate::formats::minisign::{self, MinisignSignature};
use crate::formats::{openpgp, signify, ssh};
use crate::group::{Group, OpenPgpIdentity};
use serde::{Deserialize, Serialize};

/// A signing phase. Phase one signs every output's message; phase two exists only for minisign, whose
/// global signature signs the artifact's phase-one signature. In files and payloads a phase is its
/// number, 1 or 2; any other number is refused where it is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "u8", try_from = "u8")]
pub enum Phase {
    /// Every output's own signature.
    One,
    /// minisign's global signatures.
    Two,
}

impl Phase {
    /// Both phases, in the order they run.
    pub const ALL: [Phase; 2] = [Phase::One, Phase::Two];

    /// The phase's number in file names and payloads.
    pub const fn number(self) -> u8 {
        match self {
            Phase::One => 1,
            Phase::Two => 2,
        }
    }

    /// Position in per-phase arrays (0 or 1).
    pub const fn index(self) -> usize {
        self.number() as usize - 1
    }
}

impl From<Phase> for u8 {
    fn from(p: Phase) -> u8 {
        p.number()
    }
}

impl TryFrom<u8> for Phase {
    type Error = String;
    fn try_from(n: u8) -> std::result::Result<Phase, String> {
        match n {
            1 => Ok(Phase::One),
            2 => Ok(Phase::Two),
            _ => Err(format!("phase {n} does not exist (a signing session has phases 1 and 2)")),
        }
    }
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.number())
    }
}

/// minisign's global signature of an artifact (phase 2): the signature of the artifact's phase-1
/// minisign signature (message `extends` of phase 1) followed by its trusted comment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GlobalSlot {
    /// The artifact.
    pub artifact: usize,
    /// Position in phase 1 of the artifact's minisign message.
    pub extends: usize,
}

/// One output file of the session and where its signatures are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedOutput {
    /// What it is.
    pub output: Output,
    /// Its file name (checked when the request was read: one file name, colliding with nothing).
    pub name: String,
    /// Position in phase 1 of the message whose signature it carries.
    pub phase1: usize,
    /// Position in phase 2 of its second signature (minisign's global signature), if it has one.
    pub phase2: Option<usize>,
}

/// The messages of both phases and the outputs that carry their signatures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// Phase 1: every message built from the signed objects.
    pub phase1: Vec<Slot>,
    /// Phase 2: minisign's global signatures (empty unless minisign is a format).
    pub phase2: Vec<GlobalSlot>,
    /// Every output file, in the order they are written.
    pub outputs: Vec<PlannedOutput>,
}

impl Plan {
    /// The plan of `req`: every output's phase-1 message in output order (the OpenPGP key's two files share
    /// one), and a phase-2 message for every minisign output.
    pub fn of(req: &Request) -> Plan {
        let mut plan = Plan { phase1: Vec::new(), phase2: Vec::new(), outputs: Vec::new() };
        for (output, name) in req.outputs() {
            let slot = output.slot();
            let phase1 = match plan.phase1.iter().position(|s| *s == slot) {
                Some(i) => i,
                None => {
                    plan.phase1.push(slot);
                    plan.phase1.len() - 1
                }
            };
            let phase2 = match output {
                Output::Minisign(artifact) => {
                    plan.phase2.push(GlobalSlot { artifact, extends: phase1 });
                    Some(plan.phase2.len() - 1)
                }
                _ => None,
            };
            plan.outputs.push(PlannedOutput { output, name, phase1, phase2 });
        }
        plan
    }

    /// Number of messages of `phase`.
    pub fn count(&self, phase: Phase) -> usize {
        match phase {
            Phase::One => self.phase1.len(),
            Phase::Two => self.phase2.len(),
        }
    }

    /// The phase-1 messages built from `ev` (a keyholder's own digests, or the request's).
    pub fn phase1_messages(&self, req: &Request, ev: &Evidence) -> Vec<Vec<u8>> {
        self.phase1.iter().map(|s| s.message(req, ev)).collect()
    }
}

impl Slot {
    /// The message the group signs, built from `ev`. Evidence that lacks a part gives an empty message,
    /// which matches no package: the signer refuses.
    pub fn message(self, req: &Request, ev: &Evidence) -> Vec<u8> {
        match self {
            Slot::Minisign(k) => ev.files.get(k).map(|d| d.blake2b.to_vec()).unwrap_or_default(),
            Slot::Ssh(k) => ev.files.get(k).map(|d| ssh::signed_data("file", &d.sha256)).unwrap_or_default(),
            Slot::Openpgp(k) => ev.openpgp.get(k).map(|h| h.to_vec()).unwrap_or_default(),
            Slot::SignifyManifest => req.manifest(ev).into_bytes(),
            Slot::OpenpgpCertification => match (req.openpgp_key(), req.openpgp_uid()) {
                (Some(key), Some(uid)) => key.certification_digest(uid, req.signature_time()).to_vec(),
                _ => Vec::new(),
            },
            Slot::GitTag => ssh::signed_data("git", &sha256(ev.git_payload.as_deref().unwrap_or_default())),
            Slot::Membership => ev.membership.as_deref().map(crate::group::membership::message).unwrap_or_default(),
        }
    }

    /// What a signer built this message from, for its refusal.
    pub fn source(self, req: &Request) -> String {
        let artifact = |k: usize| req.artifacts().get(k).map(|a| a.name.as_str()).unwrap_or("?").to_string();
        match self {
            Slot::Minisign(k) | Slot::Ssh(k) | Slot::Openpgp(k) => format!("your own copy of `{}`", artifact(k)),
            Slot::SignifyManifest => "your own digests (the manifest)".to_string(),
            Slot::OpenpgpCertification => "the group key and the request's user id".to_string(),
            Slot::GitTag => "the tag object rebuilt from your clone".to_string(),
            Slot::Membership => "the membership statement of your own copy of the group".to_string(),
        }
    }
}

impl GlobalSlot {
    /// The phase-2 message: `sig1` (the artifact's phase-1 minisign signature) and the trusted comment.
    pub fn message(self, req: &Request, sig1: &[u8; 64]) -> Vec<u8> {
        let comment = req.artifacts().get(self.artifact).map(|a| req.trusted_comment(a)).unwrap_or_default();
        minisign::global_message(sig1, &comment)
    }
}

/// What a finished session's outputs are made from.
pub struct Finished<'a> {
    /// The request.
    pub req: &'a Request,
    /// The group.
    pub group: &'a Group,
    /// The request's evidence.
    pub ev: &'a Evidence,
    /// Who signed, in words (for the untrusted comments).
    pub who: &'a str,
    /// The aggregated phase-1 signatures.
    pub sig1: &'a [[u8; 64]],
    /// The aggregated phase-2 signatures.
    pub sig2: &'a [[u8; 64]],
}

fn internal(what: &str) -> Error {
    Error::new(format!("internal error: {what}"))
}

impl PlannedOutput {
    /// The file's text, re-verified against the group key and the request before anything is written.
    pub fn encode(&self, f: &Finished<'_>) -> Result<String> {
        let (req, key) = (f.req, f.group.key());
        let sig = f.sig1.get(self.phase1).ok_or_else(|| internal("a phase-1 signature is missing"))?;
        let key_id = *f.group.minisign_key_id();
        Ok(match self.output {
            Output::Minisign(k) => {
                let a = req.artifacts().get(k).ok_or_else(|| internal("no such artifact"))?;
                let global = self.phase2.and_then(|g| f.sig2.get(g));
                let m = MinisignSignature {
                    key_id,
                    signature: *sig,
                    trusted_comment: req.trusted_comment(a),
                    global_signature: *global.ok_or_else(|| internal("a phase-2 signature is missing"))?,
                };
                crate::verify::check_minisign(key, &key_id, &a.digests.blake2b, &m)
                    .map_err(|e| internal(&format!("the finished signature does not verify: {e}")))?;
                m.encode(&format!("signature from {}", f.who))
            }
            Output::Ssh(_) => ssh::armored_signature(key, "file", sig),
            Output::Openpgp(k) => {
                let pgp = req.openpgp_key().ok_or_else(|| internal("no OpenPGP key"))?;
                let digest = f.ev.openpgp.get(k).ok_or_else(|| internal("no OpenPGP digest"))?;
                pgp.armored_signature(req.signature_time(), digest, sig)
            }
            Output::SignifyManifest => signify::signed_manifest(
                &key_id,
                sig,
                &format!("verify with the signify key of {}", f.who),
                &req.manifest(f.ev),
            ),
            Output::OpenpgpIdentity | Output::OpenpgpPublicKey => {
                let id = OpenPgpIdentity {
                    group: f.group.fingerprint(),
                    key: req.openpgp_key().ok_or_else(|| internal("no OpenPGP key"))?,
                    uid: req.openpgp_uid().unwrap_or_default().to_string(),
                    certification: *sig,
                };
                let encoded = id.encode()?;
                OpenPgpIdentity::parse(&encoded, f.group)
                    .map_err(|e| internal(&format!("the certification does not verify: {e}")))?;
                if self.output == Output::OpenpgpIdentity {
                    encoded
                } else {
                    id.armored_public_key()
                }
            }
            Output::GitTag => super::git::signed_object(req.git().ok_or_else(|| internal("no git tag"))?, key, sig),
            Output::ApprovedGroup => f
                .group
                .with_approval(sig)
                .map_err(|e| internal(&format!("the approval does not verify: {}", e.message())))?
                .text()
                .to_string(),
        })
    }

    /// True if `text` is this output, valid for the request (its digests, not the artifacts) and the group
    /// key. `identity` is the session's `group.openpgp`, parsed and matching the request, if there is one.
    pub fn is_valid(&self, req: &Request, group: &Group, identity: Option<&OpenPgpIdentity>, text: &str) -> bool {
        let key = group.key();
        let key_id = *group.minisign_key_id();
        let ev = req.evidence();
        match self.output {
            Output::Minisign(k) => req.artifacts().get(k).is_some_and(|a| {
                MinisignSignature::parse(text).is_ok_and(|sig| {
                    sig.trusted_comment == req.trusted_comment(a)
                        && crate::verify::check_minisign(key, &key_id, &a.digests.blake2b, &sig).is_ok()
                })
            }),
            Output::Ssh(k) => req.artifacts().get(k).is_some_and(|a| {
                ssh::parse_signature(text).is_ok_and(|sig| {
                    sig.hash == "sha256" && crate::verify::check_ssh(key, "file", &a.digests.sha256, &sig).is_ok()
                })
            }),
            Output::Openpgp(k) => ev.openpgp.get(k).is_some_and(|digest| {
                openpgp::parse_signature(text).is_ok_and(|sig| {
                    Some(sig.trailer()) == req.openpgp_file_trailer()
                        && crate::verify::check_openpgp(key, digest, &sig).is_ok()
                })
            }),
            Output::SignifyManifest => signify::parse_signed_manifest(text).is_ok_and(|sm| {
                sm.manifest == req.manifest(&ev) && crate::verify::check_manifest(key, &key_id, &sm).is_ok()
            }),
            Output::OpenpgpIdentity => identity.is_some(),
            Output::OpenpgpPublicKey => identity.is_some_and(|id| text == id.armored_public_key()),
            Output::ApprovedGroup => {
                Group::parse(text).is_ok_and(|g| g.core_text() == group.core_text() && g.approval().is_some())
            }
            Output::GitTag => req.git().is_some_and(|tag| {
                let payload = tag.payload();
                let digest = sha256(&payload);
                text.as_bytes().strip_prefix(payload.as_slice()).is_some_and(|rest| {
                    std::str::from_utf8(rest).ok().and_then(|sig| ssh::parse_signature(sig).ok()).is_some_and(|sig| {
                        sig.hash == "sha256" && crate::verify::check_ssh(key, "git", &digest, &sig).is_ok()
                    })
                })
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::request::tests::{artifact_line, request};
    use super::*;

    fn plan(body: &str) -> Plan {
        request(body).unwrap().plan()
    }

    #[test]
    fn every_output_points_at_its_messages_and_minisign_adds_one_global_message_per_artifact() {
        let p = plan(&format!("format: minisign\nformat: ssh\n{}{}", artifact_line("a"), artifact_line("b")));
        assert_eq!(p.phase1, [Slot::Minisign(0), Slot::Ssh(0), Slot::Minisign(1), Slot::Ssh(1)]);
        assert_eq!(p.phase2, [GlobalSlot { artifact: 0, extends: 0 }, GlobalSlot { artifact: 1, extends: 2 }]);
        let outputs: Vec<(&str, usize, Option<usize>)> =
            p.outputs.iter().map(|o| (o.name.as_str(), o.phase1, o.phase2)).collect();
        assert_eq!(
            outputs,
            [("a.minisig", 0, Some(0)), ("a.sig", 1, None), ("b.minisig", 2, Some(1)), ("b.sig", 3, None)]
        );
        assert_eq!((p.count(Phase::One), p.count(Phase::Two)), (4, 2));

        let p = plan(&format!("format: signify-manifest\n{}{}", artifact_line("a"), artifact_line("b")));
        assert_eq!(
            (p.phase1.as_slice(), p.phase2.len(), p.outputs[0].name.as_str()),
            ([Slot::SignifyManifest].as_slice(), 0, "SHA256.sig")
        );
    }

    #[test]
    fn the_openpgp_key_files_share_the_one_certification_message() {
        let p = plan("format: openpgp-certification\nopenpgp-key-created: 2026-12-01T08:11:48Z\nopenpgp-uid: D <d@example.org>\n");
        assert_eq!(p.phase1, [Slot::OpenpgpCertification]);
        let outputs: Vec<(&str, usize)> = p.outputs.iter().map(|o| (o.name.as_str(), o.phase1)).collect();
        assert_eq!(outputs, [("group.openpgp", 0), ("group-openpgp.asc", 0)]);
    }

    #[test]
    fn messages_are_built_from_the_evidence_and_missing_evidence_matches_nothing() {
        let req = request(&format!("format: minisign\nformat: ssh\n{}", artifact_line("a"))).unwrap();
        let ev = req.evidence();
        let m = req.plan().phase1_messages(&req, &ev);
        assert_eq!(m[0], ev.files[0].blake2b.to_vec());
        assert_eq!(m[1], ssh::signed_data("file", &ev.files[0].sha256));
        assert!(m[1].starts_with(b"SSHSIG"));
        let nothing = Evidence::default();
        assert!(
            Slot::Minisign(0).message(&req, &nothing).is_empty() && Slot::Openpgp(0).message(&req, &nothing).is_empty()
        );
        assert_eq!(Slot::Ssh(0).source(&req), "your own copy of `a`");
    }
}
