//! What a keyholder can prove about others from the folder: signed complaints it publishes, and signed
//! messages found outside their own files (evidence in complaints, confirmations and acceptances embedded
//! in group.pub). Two different files signed by one keyholder for one step are proof that it equivocated;
//! anything less names suspects, never a culprit.

use super::rounds::KeyGen;
use super::{
    expect, names, sha256, ComplaintPayload, DkgCeremony, GROUP_FILE, KIND_ACCEPT, KIND_COMPLAINT, KIND_CONFIRM,
    KIND_R1, SIGNED_STEPS,
};
use crate::card::Card;
use crate::error::{Error, Result};
use crate::exchange::folder::Folder;
use crate::exchange::message;
use crate::group::{CheckedDigest, Group};
use std::path::Path;

/// A failure whose culprit can be named: published as a signed complaint (with `evidence`, the suspect's
/// signed file as this keyholder saw it), then returned as an error.
pub(super) fn complain(
    kg: KeyGen<'_>,
    culprit: Option<usize>,
    file: &Path,
    reason: String,
    evidence: Option<String>,
) -> Error {
    let c = kg.c;
    let name = publish_complaint(kg, culprit, file, &reason, evidence);
    let who = culprit.map(|i| format!("culprit: {}", c.cards()[i].label())).unwrap_or_else(|| "culprit unknown".into());
    Error::file(file, reason).with_note(who).with_note(format!("a signed complaint was published as {name}")).with_help(
        "the ceremony cannot complete with this file; if it was damaged in transit ask the sender for a fresh copy, \
         otherwise abandon this ceremony and start a new one without the culprit",
    )
}

/// A dealt share that fails its checks: the dealer signed it, so the fault is the dealer's; but the share
/// is encrypted to this keyholder, so only it can check that. Published as a signed complaint naming no
/// keyholder (the ceremony fails for everyone), returned as an error.
pub(super) fn complain_about_dealer(kg: KeyGen<'_>, dealer: &Card, file: &Path, reason: String) -> Error {
    let name = publish_complaint(kg, None, file, &reason, None);
    Error::file(file, reason)
        .with_note(format!(
            "the dealer {} signed this share (it is encrypted to you: only you can check it)",
            dealer.label()
        ))
        .with_note(format!("a signed complaint was published as {name}"))
        .with_help("do not use this group: ask the dealer to deal again, into a new folder")
}

/// Sign and publish a complaint; returns its file name.
fn publish_complaint(
    KeyGen { u, folder, c, .. }: KeyGen<'_>,
    culprit: Option<usize>,
    file: &Path,
    reason: &str,
    evidence: Option<String>,
) -> String {
    let file_name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let payload = ComplaintPayload {
        culprit: culprit.map(|i| c.cards()[i].fingerprint().compact()),
        file: file_name,
        reason: reason.to_string(),
        evidence,
    };
    let body = serde_json::to_vec(&payload).unwrap_or_default();
    let me = u.identity().card();
    let name = format!("{}{}.txt", names::complaint_prefix(me), hex::encode(&sha256(&[&body])[..4]));
    if let Ok(text) = message::seal(u.identity(), KIND_COMPLAINT, c.digest(), "complaint", None, &body) {
        let _ = folder.publish(&name, &text);
    }
    name
}

/// Sender `j` saw a round-1 file of `k` other than ours. Either `k` equivocated or `j` misreports; we can
/// only tell with proof: a second round-1 file validly signed by `k`, published as evidence in another
/// keyholder's complaint. Our own view goes into our complaint, so the next keyholder can prove it.
pub(super) fn transcript_mismatch(run: KeyGen<'_>, j: usize, k: usize, mine: &str, path: &Path) -> Error {
    let KeyGen { folder, c, me, .. } = run;
    let (jn, kn, mn) = (c.cards()[j].name(), c.cards()[k].name(), c.cards()[me].name());
    let proof = signed_evidence(folder, c).into_iter().find(|e| e.kind == KIND_R1 && e.sender == k && e.text != mine);
    let (culprit, reason) = match proof {
        Some(e) => (
            Some(k),
            format!("{kn} signed two different round-1 files (equivocation): {mn} saw one, the other is {}", e.source),
        ),
        None => (
            None,
            format!(
                "{jn} saw a different round-1 file of {kn} than {mn} did: either {kn} showed different round-1 files to different keyholders (equivocation), or {jn} misreports what it saw"
            ),
        ),
    };
    let mut e = complain(run, culprit, path, reason, Some(mine.to_string()));
    if culprit.is_none() {
        e = e.with_note(format!(
            "suspects: {kn} or {jn}; once {jn}'s complaint (with its copy of {kn}'s round-1 file) is in the folder, `frostsign dkg status` shows which"
        ));
    }
    e
}

/// A public message validly signed by a participant for this ceremony, found outside the file that
/// normally holds it: carried as evidence in a complaint, or embedded in the folder's group file.
#[derive(Debug, Clone)]
pub struct SignedEvidence {
    /// Its kind (round 1, confirmation or acceptance).
    pub kind: &'static str,
    /// The participant who signed it.
    pub sender: usize,
    /// The message text.
    pub text: String,
    /// Where it was found, in words ("carried as evidence in Carol's complaint complaint-....txt").
    pub source: String,
    /// Whether it was found embedded in the folder's group file.
    pub in_group_file: bool,
}

/// Every signed message found as evidence in the folder (see [`SignedEvidence`]). Compared with the
/// messages under their own names, two different texts from one sender for one step prove equivocation.
pub fn signed_evidence(folder: &Folder, c: &DkgCeremony) -> Vec<SignedEvidence> {
    signed_evidence_in(folder, c, &complaint_names(folder).unwrap_or_default(), None, None)
}

/// [`signed_evidence`], with the folder's complaint names as [`complaint_names`] listed them; `checked`
/// is the SHA-256 of a group file core this keyholder checked in full (see `Group::parse_known`), if any;
/// `only`, the one kind of message wanted, if the caller looks for one kind only (the others are not opened).
pub(super) fn signed_evidence_in(
    folder: &Folder,
    c: &DkgCeremony,
    listed: &[String],
    checked: Option<&CheckedDigest>,
    only: Option<&str>,
) -> Vec<SignedEvidence> {
    let mut out = Vec::new();
    let wanted = |kind: &str| only.is_none_or(|o| o == kind);
    let mut add = |text: String, source: String, in_group_file: bool| {
        for (kind, round) in SIGNED_STEPS.into_iter().filter(|(kind, _)| wanted(kind)) {
            if let Ok(opened) =
                message::open(&text, Path::new("evidence"), &expect(c, kind, round, false), c.cards(), None)
            {
                out.push(SignedEvidence { kind, sender: opened.sender, text, source, in_group_file });
                return;
            }
        }
    };
    let ec = expect(c, KIND_COMPLAINT, "complaint", false);
    for (i, card) in c.cards().iter().enumerate() {
        for name in complaints_in(listed, card) {
            let Ok(Some(r)) = folder.receive(&name, &ec, c.cards(), i, None) else { continue };
            let Ok(p) = r.opened.decode::<ComplaintPayload>() else { continue };
            if let Some(text) = p.evidence {
                let source =
                    format!("carried as evidence in {}'s complaint {}", card.name(), crate::text::escape(&name));
                add(text, source, false);
            }
        }
    }
    // A group file made by this ceremony embeds every confirmation a keyholder completed with, and the
    // acceptances of every member: the folder's group.pub, and the copies keyholders who completed
    // published under their own names when group.pub was not theirs.
    let files = std::iter::once(GROUP_FILE.to_string()).chain(c.cards().iter().map(names::group_copy));
    for file in files {
        if let Ok(Some(text)) = folder.read(&file, crate::group::MAX_GROUP_BYTES) {
            if let Ok(g) = Group::parse_known(&text, checked) {
                if g.ceremony() == c.digest() {
                    let confirmations = if wanted(KIND_CONFIRM) { g.confirmations() } else { &[] };
                    let acceptances = if wanted(KIND_ACCEPT) { g.acceptances() } else { &[] };
                    for signed in confirmations.iter().chain(acceptances) {
                        add(signed.clone(), format!("embedded in {}", crate::text::escape(&file)), true);
                    }
                }
            }
        }
    }
    out
}

/// The file a participant's message of `kind` lives in.
pub(super) fn file_of(c: &DkgCeremony, kind: &str, j: usize) -> String {
    match kind {
        KIND_R1 => names::round1(&c.cards()[j]),
        KIND_CONFIRM => names::confirm(&c.cards()[j]),
        _ => names::accept(&c.cards()[j]),
    }
}

/// What a message kind is called in messages.
pub(super) fn kind_noun(kind: &str) -> &'static str {
    match kind {
        KIND_R1 => "round-1",
        KIND_CONFIRM => "confirmation",
        _ => "acceptance",
    }
}

/// Refuse to go on if a keyholder is proven to have signed two different files of `kind` for this
/// ceremony: the copy in `seen` (what this keyholder read) and another one carried as evidence in a
/// complaint or embedded in the folder's group file.
pub(super) fn check_no_equivocation(run: KeyGen<'_>, kind: &str, seen: &[&str]) -> Result<()> {
    let KeyGen { folder, c, .. } = run;
    let proof = signed_evidence_in(folder, c, run.complaint_names()?, None, Some(kind))
        .into_iter()
        .find(|e| e.kind == kind && seen.get(e.sender).is_some_and(|mine| *mine != e.text));
    let Some(e) = proof else { return Ok(()) };
    let reason = format!(
        "{} signed two different {} files (equivocation): one is in the folder, the other is {}",
        c.cards()[e.sender].name(),
        kind_noun(kind),
        e.source
    );
    Err(complain(run, Some(e.sender), &folder.path(&file_of(c, kind, e.sender)), reason, None))
}

/// The folder's file names that start like a complaint's, sorted, from the folder's one listing
/// ([`Folder::names`]): a key generation folder holds n(n-1) round-2 files; listing it once per
/// participant made each step cubic in n, and once per reader listed it twice per step.
pub(super) fn complaint_names(folder: &Folder) -> Result<Vec<String>> {
    Ok(folder
        .names()?
        .iter()
        .filter_map(|n| n.to_str())
        .filter(|n| n.starts_with("complaint-"))
        .map(String::from)
        .collect())
}

/// Of `listed` (from [`complaint_names`]), the names of `card`'s complaint files (exactly the names
/// `complain` writes), sorted. Any other name is not read: `dkg status` lists it as a stray, escaped.
pub(super) fn complaints_in(listed: &[String], card: &Card) -> Vec<String> {
    listed.iter().filter(|n| names::is_complaint_of(n, card)).cloned().collect()
}
