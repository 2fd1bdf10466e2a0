//! `dkg status`: the public view of a key generation folder. Needs no home and no secret.
//!
//! Every verdict rests on files validly signed by participants of this ceremony:
//! - progress (who has done which round) counts only signed files;
//! - "complete" needs all n acceptances, each signed, all naming the same group file;
//! - "failed" needs a problem that signed files prove (a malformed or invalid round-1 package, one
//!   keyholder's two different signed files for one step, confirmations or acceptances that disagree), or
//!   a participant's signed report that it stopped; a culprit is named only with proof, never on someone's
//!   word;
//! - anything else in the folder (unsigned, tampered, foreign, misnamed or unknown files) is a *stray*: it
//!   is listed, with why, and changes no verdict.
//!
//! One exception fails closed: a `group.pub` in the folder that is not the file all n keyholders
//! accepted is reported, and the exit code says not to publish it.

use super::{
    names, signed_evidence, AcceptPayload, ComplaintPayload, ConfirmPayload, DkgCeremony, Round1Payload,
    SignedEvidence, CEREMONY_FILE, GROUP_FILE, KIND_ACCEPT, KIND_COMPLAINT, KIND_CONFIRM, KIND_DEALT, KIND_DELTA,
    KIND_R1, KIND_R2, KIND_SIGMA, ROUND_DEALT, ROUND_DELTA, ROUND_SIGMA,
};
use crate::error::{Error, Result};
use crate::exchange::folder::{Folder, Received};
use crate::exchange::message::{self, Expect};
use crate::group::{Group, GroupFingerprint};
use crate::text::{escape, escape_max};
use frost_ed25519 as frost;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// The public status of a ceremony folder.
#[derive(Debug, Serialize)]
pub struct Status {
    /// Ceremony id (hex).
    pub ceremony: String,
    /// Label.
    pub label: Option<String>,
    /// t.
    pub threshold: u16,
    /// The dealer's name and fingerprint, when the shares are dealt from one key (`dealer split`) instead of generated.
    pub dealer: Option<String>,
    /// The compact fingerprint of the group whose shares this ceremony refreshes, if it is a refresh.
    pub refresh_of: Option<String>,
    /// The compact fingerprint of the group a share of which this ceremony repairs, if it is a repair.
    pub repair_of: Option<String>,
    /// Per participant, counted from signed files only.
    pub participants: Vec<ParticipantStatus>,
    /// True when all n keyholders accepted the same group file (signed acceptances).
    pub complete: bool,
    /// The group fingerprint, computed from the signed files, when complete.
    pub group_fingerprint: Option<String>,
    /// The folder's `group.pub` compared with what the keyholders accepted.
    pub group_file: GroupFile,
    /// Names of keyholders who have something left to do.
    pub waiting_for: Vec<String>,
    /// Problems proven by signed files, or reported (signed) by a participant who stopped.
    pub problems: Vec<Problem>,
    /// Files that play no part: unsigned, tampered, foreign, misnamed or unknown. Never a verdict.
    pub strays: Vec<Stray>,
}

/// The folder's `group.pub`.
#[derive(Debug, Serialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum GroupFile {
    /// Not there.
    Missing,
    /// Exactly the file all n keyholders accepted.
    Matches,
    /// The file all n keyholders accepted, but without their acceptances in it (written by frostsign 0.1
    /// or planted early): publishable, yet a keyholder who has not finished cannot complete from it alone.
    /// `dkg step` by a keyholder who finished replaces it with the full file.
    MatchesWithoutAcceptances,
    /// This ceremony's group file (every member's signed confirmation is in it), but not every keyholder's
    /// acceptance is visible yet.
    Unaccepted,
    /// Another file: not this ceremony's result. Do not publish it.
    Differs,
}

/// One participant's progress.
#[derive(Debug, Serialize)]
pub struct ParticipantStatus {
    /// Name.
    pub name: String,
    /// Fingerprint.
    pub fingerprint: String,
    /// The dealer's signed share for this keyholder is present (dealt groups only).
    pub dealt: bool,
    /// Signed round-1 file present.
    pub round1: bool,
    /// Number of signed round-2 files sent (out of n-1).
    pub round2_sent: usize,
    /// Signed confirmation present.
    pub confirmed: bool,
    /// Signed acceptance present.
    pub accepted: bool,
}

/// A problem that stops the ceremony.
#[derive(Debug, Serialize)]
pub struct Problem {
    /// The file it is about.
    pub file: String,
    /// The culprit's name, only when signed files prove it.
    pub culprit: Option<String>,
    /// What is wrong.
    pub reason: String,
}

/// A file that plays no part in the ceremony.
#[derive(Debug, Serialize)]
pub struct Stray {
    /// Its name (escaped).
    pub file: String,
    /// Why it plays no part.
    pub reason: String,
}

impl Status {
    /// The exit code of `dkg status`: 0 complete, 2 failed (or a `group.pub` that must not be published),
    /// 3 in progress.
    pub fn exit_code(&self) -> i32 {
        if self.group_file == GroupFile::Differs {
            2
        } else if self.complete {
            0
        } else if !self.problems.is_empty() {
            2
        } else {
            3
        }
    }
}

/// What the folder holds, read once: the signed files of each public step, and the strays found so far.
struct View<'a> {
    folder: &'a Folder,
    c: &'a DkgCeremony,
    problems: Vec<Problem>,
    strays: Vec<Stray>,
    /// Participants' files signed for another ceremony: (signer, that ceremony's digest).
    foreign: Vec<(usize, [u8; 32])>,
}

/// The header a private file must have (its payload is for its recipient only).
struct Private<'a> {
    /// Who may have signed it, and which of them must have.
    known: &'a [crate::card::Card],
    sender: usize,
    /// Its one recipient.
    to: &'a crate::card::Card,
    kind: &'a str,
    round: &'a str,
    /// What it is, in words, for a stray's reason.
    what: &'a str,
}

impl View<'_> {
    /// True if the private file `name` is there, signed by its sender for this ceremony, addressed to its
    /// recipient, of its kind and round (the payload is not opened: it is not ours). Anything else under
    /// that name is a stray; an absent file is just not there yet.
    fn private_file(&mut self, name: &str, p: &Private<'_>) -> bool {
        let text = match self.folder.read(name, message::MAX_MESSAGE_BYTES) {
            Ok(Some(t)) => t,
            Ok(None) => return false,
            Err(e) => {
                self.stray(name, &e);
                return false;
            }
        };
        match message::peek(&text, p.known, self.c.digest()) {
            Some((s, Some(r), kind, round))
                if s == p.sender && r == p.to.fingerprint() && kind == p.kind && round == p.round =>
            {
                true
            }
            _ => {
                let who = &p.known[p.sender];
                let reason = format!("not {} signed by {} for this ceremony, to {}", p.what, who.name(), p.to.name());
                self.stray(name, &Error::new(reason));
                false
            }
        }
    }

    fn stray(&mut self, name: &str, e: &Error) {
        let prefix = format!("{}: ", crate::text::path(&self.folder.path(name)));
        let reason = e.message().strip_prefix(&prefix).unwrap_or(e.message()).to_string();
        self.strays.push(Stray { file: escape(name), reason });
    }

    fn proven(&mut self, file: String, culprit: usize, reason: String) {
        self.problems.push(Problem { file, culprit: Some(self.c.cards()[culprit].name().to_string()), reason });
    }

    /// Each participant's signed file of one step, or `None`; a file that does not open is a stray.
    fn signed(&mut self, kind: &str, round: &str, name: fn(&crate::card::Card) -> String) -> Vec<Option<Received>> {
        let e = Expect { kind, ceremony: self.c.digest(), round, private: false };
        let mut out = Vec::new();
        for j in 0..self.c.cards().len() {
            let file = name(&self.c.cards()[j]);
            match self.folder.receive(&file, &e, self.c.cards(), j, None) {
                Ok(r) => out.push(r),
                Err(err) => {
                    self.stray(&file, &err);
                    self.note_foreign(&file);
                    out.push(None);
                }
            }
        }
        out
    }

    fn note_foreign(&mut self, file: &str) {
        let Ok(Some(text)) = self.folder.read(file, message::MAX_MESSAGE_BYTES) else { return };
        if let Some((j, digest)) = message::signer_and_ceremony(&text, self.c.cards()) {
            if digest != *self.c.digest() {
                self.foreign.push((j, digest));
            }
        }
    }

    /// The typed payload of each signed file; a payload its signer got wrong is proof against the signer.
    fn payloads<T: serde::de::DeserializeOwned + serde::Serialize>(
        &mut self,
        files: &[Option<Received>],
        what: &str,
    ) -> Vec<Option<T>> {
        let mut out = Vec::new();
        for (j, r) in files.iter().enumerate() {
            let parsed = r.as_ref().map(|r| (r.opened.decode::<T>(), r));
            out.push(match parsed {
                Some((Ok(p), _)) => Some(p),
                Some((Err(_), r)) => {
                    let file = file_name(&r.path);
                    let who = self.c.cards()[j].name().to_string();
                    self.proven(file, j, format!("{who} signed a malformed {what}"));
                    None
                }
                None => None,
            });
        }
        out
    }
}

fn file_name(path: &std::path::Path) -> String {
    escape(&path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default())
}

/// Compute the public status of a ceremony folder (see the module documentation).
pub fn status(folder: &Folder) -> Result<Status> {
    let c = DkgCeremony::load(folder)?;
    let mut v = View { folder, c: &c, problems: Vec::new(), strays: Vec::new(), foreign: Vec::new() };
    // A dealt group has no rounds 1 and 2 (their names are strays there, see `is_known_name`).
    // Neither a dealt group nor a repair has key generation's rounds 1 and 2.
    let dealt_group = c.dealer().is_some() || c.repair().is_some();
    let round1 =
        if dealt_group { c.cards().iter().map(|_| None).collect() } else { v.signed(KIND_R1, "1", names::round1) };
    let confirms = v.signed(KIND_CONFIRM, "3", names::confirm);
    let accepts = v.signed(KIND_ACCEPT, "4", names::accept);
    check_round1(&mut v, &round1);
    let round2_sent = if dealt_group { vec![0; c.cards().len()] } else { count_round2(&mut v) };
    let dealt = count_dealt(&mut v);
    check_repair_values(&mut v);
    let confirm_payloads: Vec<Option<ConfirmPayload>> = v.payloads(&confirms, "confirmation");
    let accept_payloads: Vec<Option<AcceptPayload>> = v.payloads(&accepts, "acceptance");
    read_complaints(&mut v)?;
    check_equivocation(&mut v, &[(KIND_R1, &round1), (KIND_CONFIRM, &confirms), (KIND_ACCEPT, &accepts)]);
    check_agreement(&mut v, &confirm_payloads, "confirmed", |p| (p.group_key, p.transcript));
    let accepted_by = acceptances_by_member(&v, &accept_payloads);
    let accepted = agreed(&accepted_by);
    if accepted.is_none() {
        check_agreement(&mut v, &accept_payloads, "accepted", |p| p.group_file);
    }
    list_unknown_files(&mut v)?;
    let any_signed_here = [&round1, &confirms, &accepts].iter().any(|files| files.iter().any(Option::is_some))
        || round2_sent.iter().any(|n| *n > 0)
        || dealt.iter().any(|d| *d);
    if !any_signed_here {
        check_ceremony_file(&mut v);
    }

    let n = c.cards().len();
    let participants: Vec<ParticipantStatus> = (0..n)
        .map(|j| ParticipantStatus {
            name: c.cards()[j].name().into(),
            fingerprint: c.cards()[j].fingerprint().to_string(),
            dealt: dealt[j],
            round1: round1[j].is_some(),
            round2_sent: round2_sent[j],
            confirmed: confirm_payloads[j].is_some(),
            accepted: !accepted_by[j].is_empty(),
        })
        .collect();
    let accepted = accepted.as_ref();
    let complete = accepted.is_some();
    let (group_file, group_fingerprint) = check_group_file(&mut v, accepted, &confirm_payloads)?;
    let dealer = c.dealer().map(|d| d.card.label());
    let waiting_for = match &dealer {
        _ if complete => Vec::new(),
        Some(name) if !participants.iter().all(|p| p.dealt) => vec![name.clone()],
        Some(_) => waiting_for(&participants, n, true),
        None => waiting_for(&participants, n, c.repair().is_some()),
    };
    Ok(Status {
        ceremony: hex::encode(c.id()),
        label: c.label().map(str::to_string),
        threshold: c.threshold(),
        dealer,
        refresh_of: c.refresh().map(|r| r.group.clone()),
        repair_of: c.repair().map(|r| r.group.clone()),
        participants,
        complete,
        group_fingerprint,
        group_file,
        waiting_for,
        problems: v.problems,
        strays: v.strays,
    })
}

/// A signed round-1 file whose package is malformed, is for another threshold, or carries an invalid
/// proof of knowledge is proof against its signer: anyone can check it.
fn check_round1(v: &mut View<'_>, round1: &[Option<Received>]) {
    let t = super::round1_degree(v.c);
    let mut packages = BTreeMap::new();
    for (j, r) in round1.iter().enumerate() {
        let Some(r) = r else { continue };
        let who = v.c.cards()[j].name().to_string();
        let package = r
            .opened
            .decode::<Round1Payload>()
            .ok()
            .and_then(|p| hex::decode(p.package).ok())
            .and_then(|b| frost::keys::dkg::round1::Package::deserialize(&b).ok());
        let Some(package) = package else {
            v.proven(file_name(&r.path), j, format!("{who} signed a malformed round-1 package"));
            continue;
        };
        let degree = package.commitment().coefficients().len();
        if degree != t {
            let msg = format!("{who}'s round-1 package has {degree} coefficient commitments, not {t}");
            v.proven(file_name(&r.path), j, msg);
            continue;
        }
        packages.insert(v.c.identifier(j), package);
    }
    // A refresh's round-1 packages are checked by the shares' commitments, not by a proof of knowledge
    // (frost's refresh does not verify one: the constant term is zero by construction).
    if v.c.refresh().is_some() {
        return;
    }
    if let Some(j) = invalid_proof_of_knowledge(v.c, &packages) {
        let file = escape(&names::round1(&v.c.cards()[j]));
        let who = v.c.cards()[j].name().to_string();
        v.proven(file, j, format!("the round-1 package of {who} has an invalid proof of knowledge"));
    }
}

/// The first participant whose proof of knowledge does not verify. frost-ed25519 checks every proof in
/// `part2`; a throwaway participant outside the group (identifier 65535) runs it over all the packages.
fn invalid_proof_of_knowledge(
    c: &DkgCeremony,
    packages: &BTreeMap<frost::Identifier, frost::keys::dkg::round1::Package>,
) -> Option<usize> {
    let outsider = frost::Identifier::try_from(u16::MAX).ok()?;
    let max = u16::try_from(packages.len() + 1).ok()?;
    let (secret, _) = frost::keys::dkg::part1(outsider, max, c.threshold(), rand_core::OsRng).ok()?;
    match frost::keys::dkg::part2(secret, packages) {
        Err(frost::Error::InvalidProofOfKnowledge { culprit }) => c.position_of(&culprit),
        _ => None,
    }
}

/// How many signed round-2 files each participant sent (their payloads are private: only the signature,
/// the names and the header are checked).
fn count_round2(v: &mut View<'_>) -> Vec<usize> {
    let cards = v.c.cards();
    let mut sent = vec![0; cards.len()];
    for (j, from) in cards.iter().enumerate() {
        for (_, to) in cards.iter().enumerate().filter(|(k, _)| *k != j) {
            let expected = Private { known: cards, sender: j, to, kind: KIND_R2, round: "2", what: "a round-2 file" };
            if v.private_file(&names::round2(from, to), &expected) {
                sent[j] += 1;
            }
        }
    }
    sent
}

/// Which keyholders the dealer's signed share file is there for (dealt groups; only the signature, the
/// names and the header are checked: the share is private). Anything else under such a name is a stray.
fn count_dealt(v: &mut View<'_>) -> Vec<bool> {
    let cards = v.c.cards();
    let Some(dealer) = v.c.dealer() else { return vec![false; cards.len()] };
    let mut dealt = vec![false; cards.len()];
    for (j, to) in cards.iter().enumerate() {
        let known = std::slice::from_ref(&dealer.card);
        let expected = Private { known, sender: 0, to, kind: KIND_DEALT, round: ROUND_DEALT, what: "a dealt share" };
        dealt[j] = v.private_file(&names::dealt(to), &expected);
    }
    dealt
}

/// The participant positions of a repair's helpers (none for another ceremony).
fn repair_helpers(c: &DkgCeremony) -> Vec<usize> {
    c.repair()
        .map(|r| r.helpers.iter().filter_map(|h| c.position_of(&crate::group::frost_identifier(*h))).collect())
        .unwrap_or_default()
}

/// A repair's helper values (private: only the signature, the names and the header are checked): each
/// helper's delta for each other helper and its sigma for the keyholder repaired. Anything else under such a
/// name is a stray, as in key generation's round 2.
fn check_repair_values(v: &mut View<'_>) {
    let c = v.c;
    let Some(target) = c.repair().and_then(|r| c.position_of(&crate::group::frost_identifier(r.target))) else {
        return;
    };
    let cards = c.cards();
    let helpers = repair_helpers(c);
    let mut expected = Vec::new();
    for &j in &helpers {
        for &k in helpers.iter().filter(|&&k| k != j) {
            expected.push((names::delta(&cards[j], &cards[k]), j, k, KIND_DELTA, ROUND_DELTA));
        }
        expected.push((names::sigma(&cards[j]), j, target, KIND_SIGMA, ROUND_SIGMA));
    }
    for (name, j, k, kind, round) in expected {
        let to = &cards[k];
        v.private_file(&name, &Private { known: cards, sender: j, to, kind, round, what: "a repair value" });
    }
}

/// A participant's signed complaint means it stopped: the ceremony cannot complete. What it says about
/// others is its word, not proof, so no culprit is taken from it.
/// A folder that cannot be listed is an error: its complaints cannot be known.
fn read_complaints(v: &mut View<'_>) -> Result<()> {
    let e = Expect { kind: KIND_COMPLAINT, ceremony: v.c.digest(), round: "complaint", private: false };
    let listed = super::evidence::complaint_names(v.folder)?;
    for (j, card) in v.c.cards().iter().enumerate() {
        for name in super::evidence::complaints_in(&listed, card) {
            let payload = match v.folder.receive(&name, &e, v.c.cards(), j, None) {
                Ok(Some(r)) => r.opened.decode::<ComplaintPayload>(),
                Ok(None) => continue,
                Err(err) => {
                    v.stray(&name, &err);
                    continue;
                }
            };
            match payload {
                Ok(p) => v.problems.push(Problem {
                    file: escape_max(&p.file, 100),
                    culprit: None,
                    reason: format!("{} stopped and reports: {}", card.name(), escape_max(&p.reason, 500)),
                }),
                Err(_) => v.proven(escape(&name), j, format!("{} signed a malformed complaint", card.name())),
            }
        }
    }
    Ok(())
}

/// What a signed file of `kind` decides, for telling equivocation from a repeat. A round-1 file or a
/// confirmation is decided by its whole text (round-1 texts are hashed into the transcript, confirmation
/// texts into the group file's core); an acceptance only by the group file it names, since the group file
/// is built from the core it names (two texts of one acceptance are one decision signed twice).
fn decision(c: &DkgCeremony, kind: &str, text: &str) -> String {
    if kind != KIND_ACCEPT {
        return text.to_string();
    }
    let e = Expect { kind, ceremony: c.digest(), round: "4", private: false };
    match message::open(text, std::path::Path::new("evidence"), &e, c.cards(), None)
        .map(|o| o.decode::<AcceptPayload>())
    {
        Ok(Ok(p)) => hex::encode(p.group_file),
        _ => text.to_string(),
    }
}

/// Two different files signed by one participant for one step (one under its name, the other carried as
/// evidence or embedded in group.pub; or two pieces of evidence) prove that it equivocated.
fn check_equivocation(v: &mut View<'_>, steps: &[(&str, &Vec<Option<Received>>)]) {
    let evidence = signed_evidence(v.folder, v.c);
    for &(kind, files) in steps {
        for (j, card) in v.c.cards().iter().enumerate() {
            let mut seen: Vec<(String, String)> = Vec::new();
            if let Some(r) = &files[j] {
                seen.push((decision(v.c, kind, &r.text), format!("the file {}", escape(&file_name(&r.path)))));
            }
            for e in evidence.iter().filter(|e: &&SignedEvidence| e.kind == kind && e.sender == j) {
                let d = decision(v.c, kind, &e.text);
                if !seen.iter().any(|(t, _)| *t == d) {
                    seen.push((d, e.source.clone()));
                }
            }
            if seen.len() >= 2 {
                let noun = super::evidence::kind_noun(kind);
                let sources: Vec<&str> = seen.iter().map(|(_, s)| s.as_str()).collect();
                let reason = format!(
                    "proven equivocation: {} signed {} different {noun} files ({})",
                    card.name(),
                    seen.len(),
                    sources.join("; ")
                );
                v.proven(escape(&super::evidence::file_of(v.c, kind, j)), j, reason);
            }
        }
    }
}

/// The group files each participant accepted, in a signed acceptance visible anywhere in the folder: under
/// its own name, as evidence in a complaint, or embedded in group.pub.
fn acceptances_by_member(v: &View<'_>, in_folder: &[Option<AcceptPayload>]) -> Vec<BTreeSet<[u8; 32]>> {
    let mut by: Vec<BTreeSet<[u8; 32]>> = in_folder.iter().map(|p| p.iter().map(|p| p.group_file).collect()).collect();
    let e = Expect { kind: KIND_ACCEPT, ceremony: v.c.digest(), round: "4", private: false };
    for ev in signed_evidence(v.folder, v.c).into_iter().filter(|ev| ev.kind == KIND_ACCEPT) {
        let Ok(opened) = message::open(&ev.text, std::path::Path::new("evidence"), &e, v.c.cards(), None) else {
            continue;
        };
        if let Ok(p) = opened.decode::<AcceptPayload>() {
            by[ev.sender].insert(p.group_file);
        }
    }
    by
}

/// The group file every participant accepted, if there is one: the ceremony is complete.
fn agreed(by: &[BTreeSet<[u8; 32]>]) -> Option<[u8; 32]> {
    by.first()?.iter().find(|h| by.iter().all(|set| set.contains(*h))).cloned()
}

/// When every participant has signed a step's result, they must all agree; if they do not, the signed
/// files cannot tell who is wrong, so the camps are listed and nobody is called the culprit.
fn check_agreement<T, K: PartialEq>(v: &mut View<'_>, payloads: &[Option<T>], verb: &str, key: impl Fn(&T) -> K) {
    let Some(all) = payloads.iter().map(Option::as_ref).collect::<Option<Vec<&T>>>() else { return };
    let mut camps: Vec<(K, Vec<&str>)> = Vec::new();
    for (j, p) in all.iter().enumerate() {
        let k = key(p);
        let name = v.c.cards()[j].name();
        match camps.iter_mut().find(|(c, _)| *c == k) {
            Some((_, names)) => names.push(name),
            None => camps.push((k, vec![name])),
        }
    }
    if camps.len() > 1 {
        let list: Vec<String> = camps.iter().map(|(_, names)| names.join(", ")).collect();
        let reason = format!(
            "the keyholders {verb} different results ({} groups: {}); the signed files cannot tell who is wrong",
            camps.len(),
            list.join(" / ")
        );
        v.problems.push(Problem { file: format!("{verb} files"), culprit: None, reason });
    }
}

/// No file here was signed for this ceremony.txt, but participants signed files for another one: the
/// description was edited or replaced after they joined (or those files were copied from elsewhere).
fn check_ceremony_file(v: &mut View<'_>) {
    let Some(&(_, theirs)) = v.foreign.first() else { return };
    let mut who: Vec<&str> =
        v.foreign.iter().filter(|(_, d)| *d == theirs).map(|(j, _)| v.c.cards()[*j].name()).collect();
    who.dedup();
    let reason = format!(
        "{} signed their files for ceremony {}, not for this {CEREMONY_FILE} ({}): it was edited or replaced after they joined, or their files come from another folder; restore the original {CEREMONY_FILE}",
        who.join(", "),
        hex::encode(&theirs[..8]),
        hex::encode(&v.c.digest()[..8])
    );
    v.problems.push(Problem { file: CEREMONY_FILE.into(), culprit: None, reason });
}

/// Every file whose name the ceremony does not use.
fn list_unknown_files(v: &mut View<'_>) -> Result<()> {
    let mut unknown = Vec::new();
    for name in v.folder.names()?.iter() {
        let shown = escape(&name.to_string_lossy());
        let known = name.to_str().is_some_and(|n| is_known_name(v.c, n));
        if !known {
            let reason = if name.to_string_lossy().starts_with('.') && name.to_string_lossy().contains(".tmp-") {
                "a temporary file left by an interrupted write; it plays no part"
            } else {
                "not a file of this ceremony; it plays no part"
            };
            unknown.push(Stray { file: shown, reason: reason.into() });
        }
    }
    unknown.sort_by(|a, b| a.file.cmp(&b.file));
    v.strays.extend(unknown);
    Ok(())
}

fn is_known_name(c: &DkgCeremony, name: &str) -> bool {
    if name == CEREMONY_FILE || name == GROUP_FILE || crate::exchange::git::is_exchange_file(name) {
        return true;
    }
    // A dealt group and a repair have no rounds 1 and 2: files under those names play no part in them.
    let dealt = c.dealer().is_some();
    let rounds = !dealt && c.repair().is_none();
    // A repair's values go from a helper to a helper (deltas) or to the keyholder repaired (sigmas).
    let helpers = repair_helpers(c);
    let helper = |a: &crate::card::Card| helpers.iter().any(|&j| c.cards()[j].fingerprint() == a.fingerprint());
    c.cards().iter().any(|a| {
        name == names::group_copy(a)
            || name == names::confirm(a)
            || name == names::accept(a)
            || names::is_complaint_of(name, a)
            || (dealt && name == names::dealt(a))
            || (helper(a) && name == names::sigma(a))
            || (helper(a) && c.cards().iter().any(|b| a != b && helper(b) && name == names::delta(a, b)))
            || (rounds && name == names::round1(a))
            || (rounds && c.cards().iter().any(|b| a != b && name == names::round2(a, b)))
    })
}

/// The folder's `group.pub` against the file all n keyholders accepted; and the group fingerprint.
fn check_group_file(
    v: &mut View<'_>,
    accepted: Option<&[u8; 32]>,
    confirms: &[Option<ConfirmPayload>],
) -> Result<(GroupFile, Option<String>)> {
    // Without the accepted file itself, the fingerprint is shown only if all n signed confirmations name
    // one group key: one participant's confirmation alone could name any key.
    let keys: Option<Vec<[u8; 32]>> = confirms.iter().map(|p| p.as_ref().map(|p| p.group_key)).collect();
    let from_confirmations = keys
        .filter(|k| k.iter().all(|x| *x == k[0]))
        .and_then(|k| Some(GroupFingerprint::of(k.first()?, v.c.digest()).to_string()));
    let text = match v.folder.read(GROUP_FILE, crate::group::MAX_GROUP_BYTES) {
        Ok(Some(t)) => t,
        Ok(None) => return Ok((GroupFile::Missing, accepted.and(from_confirmations))),
        Err(e) => {
            v.stray(GROUP_FILE, &e);
            return Ok((GroupFile::Differs, accepted.and(from_confirmations)));
        }
    };
    // What is accepted is the file's core: a group.pub with or without the acceptances matches.
    let core = Group::parse(&text).map(|g| g.core_text().to_string()).unwrap_or_else(|_| text.clone());
    if accepted == Some(&super::sha256(&[core.as_bytes()])) {
        let parsed = Group::parse(&text).ok();
        let fingerprint = parsed.as_ref().map(|g| g.fingerprint().to_string()).or(from_confirmations);
        let full = parsed.is_some_and(|g| !g.acceptances().is_empty());
        return Ok((if full { GroupFile::Matches } else { GroupFile::MatchesWithoutAcceptances }, fingerprint));
    }
    let parsed = Group::parse(&text);
    // Before everyone has accepted, a file made by this very ceremony (it embeds every member's signed
    // confirmation of its key) is early, not planted: a keyholder wrote it, or a 0.1 keyholder did.
    if let (None, Ok(g)) = (accepted, &parsed) {
        if g.ceremony() == v.c.digest() {
            return Ok((GroupFile::Unaccepted, None));
        }
    }
    let what = match parsed {
        Ok(g) => format!("it holds the group {} (fingerprint {})", escape(&g.display_name()), g.fingerprint()),
        Err(_) => "it is not a valid group file".to_string(),
    };
    let when = if accepted.is_some() {
        "the file all keyholders accepted"
    } else {
        "the result of this ceremony, which is not complete"
    };
    v.problems.push(Problem {
        file: GROUP_FILE.into(),
        culprit: None,
        reason: format!("{GROUP_FILE} is not {when}: {what}; someone replaced or planted it: do not publish it"),
    });
    Ok((GroupFile::Differs, accepted.and(from_confirmations)))
}

/// The earliest unfinished step decides whom we wait for (a dealt group starts at the confirmations).
fn waiting_for(parts: &[ParticipantStatus], n: usize, dealt: bool) -> Vec<String> {
    let steps: [&dyn Fn(&ParticipantStatus) -> bool; 4] =
        [&|p| p.round1, &|p| p.round2_sent == n - 1, &|p| p.confirmed, &|p| p.accepted];
    for done in &steps[if dealt { 2 } else { 0 }..] {
        if !parts.iter().all(done) {
            return parts.iter().filter(|p| !done(p)).map(|p| p.name.clone()).collect();
        }
    }
    Vec::new()
}
