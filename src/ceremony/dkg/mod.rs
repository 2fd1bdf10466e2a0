//! Distributed key generation over files (FROST DKG, RFC 9591 companion, frost-ed25519 `keys::dkg`).
//!
//! Rounds, each a set of files in the ceremony folder:
//! 1. `round1-<FPR>.txt` (public): the keyholder's commitment and proof of knowledge.
//! 2. `round2-<FROM>-to-<TO>.txt` (encrypted to TO): FROM's secret share for TO, plus the SHA-256 of every
//!    round-1 file as FROM saw it. A keyholder who showed different round-1 files to different people is
//!    caught when these lists are compared, and named.
//! 3. `confirm-<FPR>.txt` (public): the group key, the hash of the public key package and the transcript
//!    hash the keyholder ended with.
//! 4. `accept-<FPR>.txt` (public): once a keyholder has seen all n confirmations agree, the SHA-256 of the
//!    group file they make (`group.pub`, byte-identical for everyone). A share becomes usable, and the
//!    ceremony complete, only when all n acceptances name the same group file: so a keyholder who shows
//!    different confirmations to different people can never leave one keyholder complete while another
//!    fails over it (the one who saw the other confirmation never accepts).
//!
//! A keyholder's secret state between rounds is encrypted in its home, keyed by the ceremony id and bound
//! to the digest of the ceremony file it joined. `step` is idempotent: it republishes its own earlier
//! output byte for byte and never runs a round twice. The public view of a folder is in [`status`].

pub mod status;

use crate::card::Card;
use crate::error::{Error, Result};
use crate::exchange::folder::{Folder, Received};
use crate::exchange::message::{self, Expect};
use crate::group::{identifier, index_of, Group};
use crate::home::Unlocked;
use crate::secret::{pack, unpack_all, SecretBytes};
use frost_ed25519 as frost;
use frost_ed25519::keys::dkg;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

pub use crate::group::ceremony::{
    check_label, AcceptPayload, ConfirmPayload, DkgCeremony, CEREMONY_FILE, GROUP_FILE, KIND_ACCEPT, KIND_CONFIRM,
};

fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// File names in the folder.
pub mod names {
    use crate::card::Card;
    /// Round-1 file of a keyholder.
    pub fn round1(c: &Card) -> String {
        format!("round1-{}.txt", c.fingerprint().compact())
    }
    /// Round-2 file from one keyholder to another.
    pub fn round2(from: &Card, to: &Card) -> String {
        format!("round2-{}-to-{}.txt", from.fingerprint().compact(), to.fingerprint().compact())
    }
    /// Confirmation of a keyholder.
    pub fn confirm(c: &Card) -> String {
        format!("confirm-{}.txt", c.fingerprint().compact())
    }
    /// Acceptance of a keyholder.
    pub fn accept(c: &Card) -> String {
        format!("accept-{}.txt", c.fingerprint().compact())
    }
    /// Prefix of a keyholder's complaint files.
    pub fn complaint_prefix(c: &Card) -> String {
        format!("complaint-{}-", c.fingerprint().compact())
    }
    /// True for the name of one of `c`'s complaint files: its prefix, 8 lowercase hex digits, `.txt`.
    pub fn is_complaint_of(name: &str, c: &Card) -> bool {
        name.strip_prefix(&complaint_prefix(c))
            .and_then(|rest| rest.strip_suffix(".txt"))
            .is_some_and(|tag| tag.len() == 8 && tag.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Round1Payload {
    package: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Round2Payload {
    package: Zeroizing<String>,
    round1: Vec<String>,
}

/// A signed complaint naming a culprit.
#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields)]
pub struct ComplaintPayload {
    /// Fingerprint of the keyholder blamed, if one could be named.
    pub culprit: Option<String>,
    /// The file that showed the problem.
    pub file: String,
    /// What is wrong.
    pub reason: String,
    /// The suspect's signed file as the complainant saw it (a round-1 file, a confirmation or an acceptance).
    /// Two different files validly signed by the same keyholder for the same step prove it equivocated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
}

const KIND_R1: &str = "dkg-round1";
const KIND_R2: &str = "dkg-round2";
const KIND_COMPLAINT: &str = "dkg-complaint";
/// The round tokens of the public messages that can be equivocated on, with their kinds.
const SIGNED_STEPS: [(&str, &str); 3] = [(KIND_R1, "1"), (KIND_CONFIRM, "3"), (KIND_ACCEPT, "4")];

fn expect<'a>(c: &'a DkgCeremony, kind: &'a str, round: &'a str, private: bool) -> Expect<'a> {
    Expect { kind, ceremony: c.digest(), round, private }
}

/// The per-keyholder secret state between rounds.
enum Phase {
    Round1 {
        secret: SecretBytes,
        message: String,
    },
    Round2 {
        secret: SecretBytes,
        round1: Vec<Vec<u8>>,
        digests: Vec<[u8; 32]>,
        outbox: Vec<String>,
        /// The round-1 files as this keyholder saw them: evidence if someone equivocated.
        texts: Vec<String>,
    },
    Round3 {
        key_package: SecretBytes,
        public: Vec<u8>,
        message: String,
    },
    /// All confirmations agreed; this keyholder accepted the group file and waits for everyone's acceptance.
    Accept {
        key_package: SecretBytes,
        group: String,
        message: String,
    },
    Done {
        group: String,
    },
}

struct State {
    ceremony: [u8; 32],
    phase: Phase,
}

fn state_rel(c: &DkgCeremony) -> String {
    format!("state/dkg-{}.txt", hex::encode(c.id()))
}

fn join(list: &[impl AsRef<[u8]>]) -> SecretBytes {
    let refs: Vec<&[u8]> = list.iter().map(|x| x.as_ref()).collect();
    pack(&refs)
}

fn utf8(b: &SecretBytes) -> Option<String> {
    String::from_utf8(b.expose().to_vec()).ok()
}

impl State {
    fn encode(&self) -> SecretBytes {
        match &self.phase {
            Phase::Round1 { secret, message } => pack(&[b"r1", &self.ceremony, secret.expose(), message.as_bytes()]),
            Phase::Round2 { secret, round1, digests, outbox, texts } => pack(&[
                b"r2",
                &self.ceremony,
                secret.expose(),
                join(round1).expose(),
                &digests.concat(),
                join(outbox).expose(),
                join(texts).expose(),
            ]),
            Phase::Round3 { key_package, public, message } => {
                pack(&[b"r3", &self.ceremony, key_package.expose(), public, message.as_bytes()])
            }
            Phase::Accept { key_package, group, message } => {
                pack(&[b"accept", &self.ceremony, key_package.expose(), group.as_bytes(), message.as_bytes()])
            }
            Phase::Done { group } => pack(&[b"done", &self.ceremony, group.as_bytes()]),
        }
    }

    fn decode(bytes: &SecretBytes) -> Option<State> {
        let f = unpack_all(bytes.expose())?;
        let ceremony: [u8; 32] = f.get(1)?.expose().try_into().ok()?;
        let phase = match (f[0].expose(), f.len()) {
            (b"r1", 4) => Phase::Round1 { secret: f[2].clone(), message: utf8(&f[3])? },
            (b"r2", 7) => Phase::Round2 {
                secret: f[2].clone(),
                round1: unpack_all(f[3].expose())?.iter().map(|x| x.expose().to_vec()).collect(),
                digests: f[4].expose().chunks(32).map(|c| c.try_into().ok()).collect::<Option<_>>()?,
                outbox: unpack_all(f[5].expose())?.iter().map(utf8).collect::<Option<_>>()?,
                texts: unpack_all(f[6].expose())?.iter().map(utf8).collect::<Option<_>>()?,
            },
            (b"r3", 5) => {
                Phase::Round3 { key_package: f[2].clone(), public: f[3].expose().to_vec(), message: utf8(&f[4])? }
            }
            (b"accept", 5) => Phase::Accept { key_package: f[2].clone(), group: utf8(&f[3])?, message: utf8(&f[4])? },
            (b"done", 3) => Phase::Done { group: utf8(&f[2])? },
            _ => return None,
        };
        Some(State { ceremony, phase })
    }
}

fn load_state(u: &Unlocked, c: &DkgCeremony) -> Result<Option<State>> {
    let rel = state_rel(c);
    let Some(bytes) = u.read_secret(&rel, "dkg-state", &hex::encode(c.id()))? else { return Ok(None) };
    let state = State::decode(&bytes).ok_or_else(|| {
        Error::file(&u.home().path(&rel), "damaged key generation state")
            .with_help("this keyholder cannot continue this ceremony: abandon it and start a new one")
    })?;
    if state.ceremony != *c.digest() {
        return Err(Error::new(format!(
            "the ceremony file `{CEREMONY_FILE}` changed after you joined this ceremony (its SHA-256 was {}, it is now {})",
            hex::encode(&state.ceremony[..8]),
            hex::encode(&c.digest()[..8])
        ))
        .with_help("someone edited the ceremony description after round 1; restore the original file, or abandon this ceremony and start a new one"));
    }
    Ok(Some(state))
}

/// A home restored by `holder restore` has no ceremony state, but holds the share this ceremony made:
/// treat the ceremony as finished for it instead of joining it again.
fn finished_in_home(u: &Unlocked, c: &DkgCeremony) -> Result<Option<State>> {
    for gfp in u.home().group_fingerprints()? {
        let gfp = gfp.as_str();
        let made_here = u.home().group(gfp).is_ok_and(|g| g.ceremony() == c.digest());
        if made_here && u.home().has_share(gfp) {
            return Ok(Some(State { ceremony: *c.digest(), phase: Phase::Done { group: gfp.to_string() } }));
        }
    }
    Ok(None)
}

fn save_state(u: &Unlocked, c: &DkgCeremony, state: &State) -> Result<()> {
    u.write_secret(&state_rel(c), "dkg-state", &hex::encode(c.id()), &state.encode())
}

/// What one `dkg step` did.
#[derive(Debug, Default)]
pub struct StepReport {
    /// Actions taken, in plain words.
    pub did: Vec<String>,
    /// Who we are waiting for, if anyone.
    pub waiting: Option<String>,
    /// The finished group, once complete (from this keyholder's own home).
    pub group: Option<Group>,
    /// What the folder's `group.pub` is, once complete.
    pub folder_group: Option<FolderGroup>,
}

/// The folder's `group.pub` compared with the group this keyholder made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FolderGroup {
    /// It was missing; this step wrote it.
    Written,
    /// It is byte-identical to this keyholder's own copy.
    Identical,
    /// Another file is there: what it is (never written over, never trusted).
    Other(String),
}

fn names_of(c: &DkgCeremony, idx: &[usize]) -> String {
    idx.iter().map(|&i| c.cards()[i].name().to_string()).collect::<Vec<_>>().join(", ")
}

/// One keyholder's `step` on one ceremony: who runs it, in which folder, for which ceremony.
#[derive(Clone, Copy)]
struct Run<'a> {
    u: &'a Unlocked,
    folder: &'a Folder,
    c: &'a DkgCeremony,
    me: usize,
}

/// A failure whose culprit can be named: published as a signed complaint, then returned as an error.
fn complain(run: Run<'_>, culprit: Option<usize>, file: &Path, reason: String) -> Error {
    complain_with(run, culprit, file, reason, None)
}

/// [`complain`], with evidence attached to the published complaint.
fn complain_with(
    Run { u, folder, c, .. }: Run<'_>,
    culprit: Option<usize>,
    file: &Path,
    reason: String,
    evidence: Option<String>,
) -> Error {
    let file_name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let payload = ComplaintPayload {
        culprit: culprit.map(|i| c.cards()[i].fingerprint().compact()),
        file: file_name,
        reason: reason.clone(),
        evidence,
    };
    let body = serde_json::to_vec(&payload).expect("serializable");
    let me = u.identity().card();
    let name = format!("{}{}.txt", names::complaint_prefix(me), hex::encode(&sha256(&[&body])[..4]));
    if let Ok(text) = message::seal(u.identity(), KIND_COMPLAINT, c.digest(), "complaint", None, &body) {
        let _ = folder.publish(&name, &text);
    }
    let who = culprit.map(|i| format!("culprit: {}", c.cards()[i].label())).unwrap_or_else(|| "culprit unknown".into());
    Error::file(file, reason).with_note(who).with_note(format!("a signed complaint was published as {name}")).with_help(
        "the ceremony cannot complete with this file; if it was damaged in transit ask the sender for a fresh copy, \
         otherwise abandon this ceremony and start a new one without the culprit",
    )
}

/// Run every round this keyholder can run now. See the module documentation.
///
/// Before: `u` is the unlocked home of a participant. `confirm` is called once, before the first round,
/// with the ceremony summary; returning an error aborts without changing anything.
/// After: every file this keyholder owes for the rounds it has reached is in the folder; its secret
/// state is in its home; on completion its key share is in its home and `group.pub` in the folder.
///
/// `report` collects what was done, also when an error stops the step half-way.
pub fn step(
    u: &Unlocked,
    folder: &Folder,
    report: &mut StepReport,
    confirm: impl FnOnce(&DkgCeremony) -> Result<()>,
) -> Result<()> {
    let c = DkgCeremony::load(folder)?;
    let me_card = u.identity().card().clone();
    let me = c.index_of(me_card.fingerprint()).ok_or_else(|| {
        Error::new(format!("you ({}) are not a participant of this ceremony", me_card.label())).with_help(
            "check --home (is it the right keyholder?) and the participant list shown by `frostsign dkg status`",
        )
    })?;
    let run = Run { u, folder, c: &c, me };
    let state = match load_state(u, &c)? {
        Some(s) => Some(s),
        None => finished_in_home(u, &c)?,
    };
    if state.is_none() {
        confirm(&c)?;
    }
    let mut state = match state {
        Some(s) => s,
        None => start(run, report)?,
    };
    loop {
        let progress = match state.phase {
            Phase::Round1 { .. } => round2(run, state, report)?,
            Phase::Round2 { .. } => round3(run, state, report)?,
            Phase::Round3 { .. } => finish(run, state, report)?,
            Phase::Accept { .. } => accept_round(run, state, report)?,
            Phase::Done { group } => {
                let g = u.home().group(&group)?;
                // Keyholders who completed before acceptances existed (frostsign 0.1) publish theirs now:
                // it is deterministic, so this is also a rerun's no-op.
                folder.publish(&names::accept(&c.cards()[me]), &accept_message(run, &g)?)?;
                report.folder_group = Some(publish_group(folder, &g)?);
                if report.folder_group == Some(FolderGroup::Written) {
                    report.did.push(format!("wrote {GROUP_FILE}"));
                }
                report.group = Some(g);
                break;
            }
        };
        match progress {
            Progress::Advanced(next) => state = next,
            Progress::Waiting(w) => {
                report.waiting = Some(w);
                break;
            }
        }
    }
    Ok(())
}

enum Progress {
    Advanced(State),
    Waiting(String),
}

fn start(Run { u, folder, c, me }: Run<'_>, report: &mut StepReport) -> Result<State> {
    let n = c.cards().len() as u16;
    let (secret, package) = dkg::part1(identifier(me), n, c.threshold(), rand_core::OsRng)
        .map_err(|e| Error::new(format!("key generation round 1 failed: {e}")))?;
    let secret = SecretBytes::from(Zeroizing::new(secret.serialize().map_err(|e| Error::new(e.to_string()))?));
    let payload = Round1Payload { package: hex::encode(package.serialize().map_err(|e| Error::new(e.to_string()))?) };
    let body = serde_json::to_vec(&payload).expect("serializable");
    let message = message::seal(u.identity(), KIND_R1, c.digest(), "1", None, &body)?;
    let state = State { ceremony: *c.digest(), phase: Phase::Round1 { secret, message: message.clone() } };
    // State first: a crash after this point republishes the same file; a crash before it leaves nothing.
    save_state(u, c, &state)?;
    folder.publish(&names::round1(&c.cards()[me]), &message)?;
    report.did.push("joined the ceremony and published your round-1 package".into());
    Ok(state)
}

/// Read every other participant's round-1 file; `None` entries are missing.
fn read_round1(folder: &Folder, c: &DkgCeremony) -> Result<Vec<Option<Received>>> {
    let e = expect(c, KIND_R1, "1", false);
    (0..c.cards().len()).map(|j| folder.receive(&names::round1(&c.cards()[j]), &e, c.cards(), j, None)).collect()
}

fn round2(run: Run<'_>, s: State, report: &mut StepReport) -> Result<Progress> {
    let Run { u, folder, c, me } = run;
    let Phase::Round1 { secret, message } = s.phase else { unreachable!("called in round 1") };
    if folder.publish(&names::round1(&c.cards()[me]), &message)? {
        report.did.push("published your round-1 package again (it was missing)".into());
    }
    let received = read_round1(folder, c)?;
    let missing: Vec<usize> = (0..c.cards().len()).filter(|j| received[*j].is_none()).collect();
    if !missing.is_empty() {
        return Ok(Progress::Waiting(format!("round 1 from {}", names_of(c, &missing))));
    }
    let received: Vec<Received> = received.into_iter().map(|r| r.expect("all present")).collect();
    if received[me].text != message {
        return Err(Error::file(&received[me].path, "is not the round-1 file you published (it was replaced)")
            .with_help("restore your original file: run `dkg step` after removing this one"));
    }
    let mut packages = BTreeMap::new();
    let mut round1_bytes = Vec::new();
    for (j, r) in received.iter().enumerate() {
        let p: Round1Payload = serde_json::from_slice(r.opened.payload.expose())
            .map_err(|e| complain(run, Some(j), &r.path, format!("malformed round-1 payload: {e}")))?;
        let bytes =
            hex::decode(&p.package).map_err(|_| complain(run, Some(j), &r.path, "malformed round-1 package".into()))?;
        let pkg = dkg::round1::Package::deserialize(&bytes)
            .map_err(|_| complain(run, Some(j), &r.path, "malformed FROST round-1 package".into()))?;
        let degree = pkg.commitment().serialize().map(|v| v.len()).unwrap_or(0);
        if degree != c.threshold() as usize {
            return Err(complain(
                run,
                Some(j),
                &r.path,
                format!("round-1 package is for a threshold of {degree}, not {}", c.threshold()),
            ));
        }
        if j != me {
            packages.insert(identifier(j), pkg);
        }
        round1_bytes.push(bytes);
    }
    let digests: Vec<[u8; 32]> = received.iter().map(|r| sha256(&[r.text.as_bytes()])).collect();
    let r1_secret = dkg::round1::SecretPackage::deserialize(secret.expose())
        .map_err(|_| Error::new("damaged key generation state (round 1)"))?;
    let (r2_secret, outgoing) = dkg::part2(r1_secret, &packages).map_err(|e| match e {
        frost::Error::InvalidProofOfKnowledge { culprit } => {
            let j = index_of(&culprit, c.cards().len()).expect("identifier from our map");
            complain(
                run,
                Some(j),
                &received[j].path,
                format!("the round-1 package of {} has an invalid proof of knowledge", c.cards()[j].name()),
            )
        }
        other => Error::new(format!("key generation round 2 failed: {other}")),
    })?;
    let digest_hex: Vec<String> = digests.iter().map(hex::encode).collect();
    let mut outbox = Vec::new();
    for (j, card) in c.cards().iter().enumerate() {
        if j == me {
            continue;
        }
        let pkg = outgoing.get(&identifier(j)).ok_or_else(|| Error::new("internal error: no round-2 package"))?;
        let pkg_hex =
            Zeroizing::new(hex::encode(Zeroizing::new(pkg.serialize().map_err(|e| Error::new(e.to_string()))?)));
        let payload = Round2Payload { package: pkg_hex, round1: digest_hex.clone() };
        let mut body = Zeroizing::new(Vec::with_capacity(payload.package.len() + 70 * digest_hex.len() + 64));
        serde_json::to_writer(&mut *body, &payload).expect("serializable");
        outbox.push(message::seal(u.identity(), KIND_R2, c.digest(), "2", Some(card), &body)?);
    }
    let secret = SecretBytes::from(Zeroizing::new(r2_secret.serialize().map_err(|e| Error::new(e.to_string()))?));
    let texts = received.iter().map(|r| r.text.clone()).collect();
    let state =
        State { ceremony: *c.digest(), phase: Phase::Round2 { secret, round1: round1_bytes, digests, outbox, texts } };
    save_state(u, c, &state)?;
    publish_outbox(folder, c, me, &state)?;
    report.did.push(format!(
        "checked all {} round-1 packages and published an encrypted round-2 share for each co-keyholder",
        c.cards().len()
    ));
    Ok(Progress::Advanced(state))
}

fn publish_outbox(folder: &Folder, c: &DkgCeremony, me: usize, state: &State) -> Result<bool> {
    let Phase::Round2 { outbox, .. } = &state.phase else { return Ok(false) };
    let mut any = false;
    let others = (0..c.cards().len()).filter(|j| *j != me);
    for (j, text) in others.zip(outbox) {
        any |= folder.publish(&names::round2(&c.cards()[me], &c.cards()[j]), text)?;
    }
    Ok(any)
}

/// Sender `j` saw a round-1 file of `k` other than ours. Either `k` equivocated or `j` misreports; we can
/// only tell with proof: a second round-1 file validly signed by `k`, published as evidence in another
/// keyholder's complaint. Our own view goes into our complaint, so the next keyholder can prove it.
#[allow(clippy::too_many_arguments)]
fn transcript_mismatch(run: Run<'_>, j: usize, k: usize, mine: &str, path: &Path) -> Error {
    let Run { folder, c, me, .. } = run;
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
    let mut e = complain_with(run, culprit, path, reason, Some(mine.to_string()));
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
}

/// Every signed message found as evidence in the folder (see [`SignedEvidence`]). Compared with the
/// messages under their own names, two different texts from one sender for one step prove equivocation.
pub fn signed_evidence(folder: &Folder, c: &DkgCeremony) -> Vec<SignedEvidence> {
    let mut out = Vec::new();
    let mut add = |text: String, source: String| {
        for (kind, round) in SIGNED_STEPS {
            if let Ok(opened) =
                message::open(&text, Path::new("evidence"), &expect(c, kind, round, false), c.cards(), None)
            {
                out.push(SignedEvidence { kind, sender: opened.sender, text, source });
                return;
            }
        }
    };
    let ec = expect(c, KIND_COMPLAINT, "complaint", false);
    for (i, card) in c.cards().iter().enumerate() {
        for name in complaints_of(folder, card).unwrap_or_default() {
            let Ok(Some(r)) = folder.receive(&name, &ec, c.cards(), i, None) else { continue };
            let Ok(p) = serde_json::from_slice::<ComplaintPayload>(r.opened.payload.expose()) else { continue };
            if let Some(text) = p.evidence {
                add(text, format!("carried as evidence in {}'s complaint {}", card.name(), crate::text::escape(&name)));
            }
        }
    }
    // A group file made by this ceremony embeds every confirmation a keyholder completed with, and the
    // acceptances of every member.
    if let Ok(Some(text)) = folder.read(GROUP_FILE, crate::group::MAX_GROUP_BYTES) {
        if let Ok(g) = Group::parse(&text) {
            if g.ceremony() == c.digest() {
                for signed in g.confirmations().iter().chain(g.acceptances()) {
                    add(signed.clone(), format!("embedded in {GROUP_FILE}"));
                }
            }
        }
    }
    out
}

/// The file a participant's message of `kind` lives in.
fn file_of(c: &DkgCeremony, kind: &str, j: usize) -> String {
    match kind {
        KIND_R1 => names::round1(&c.cards()[j]),
        KIND_CONFIRM => names::confirm(&c.cards()[j]),
        _ => names::accept(&c.cards()[j]),
    }
}

/// What a message kind is called in messages.
fn kind_noun(kind: &str) -> &'static str {
    match kind {
        KIND_R1 => "round-1",
        KIND_CONFIRM => "confirmation",
        _ => "acceptance",
    }
}

fn transcript(digests: &[[u8; 32]]) -> [u8; 32] {
    let mut parts: Vec<&[u8]> = vec![b"frostsign dkg transcript v1\0"];
    parts.extend(digests.iter().map(|d| d.as_slice()));
    sha256(&parts)
}

fn round3(run: Run<'_>, s: State, report: &mut StepReport) -> Result<Progress> {
    let Run { u, folder, c, me } = run;
    if publish_outbox(folder, c, me, &s)? {
        report.did.push("published your round-2 shares again (some were missing)".into());
    }
    let Phase::Round2 { secret, round1, digests, texts, .. } = &s.phase else { unreachable!("called in round 2") };
    let e = expect(c, KIND_R2, "2", true);
    let mut missing = Vec::new();
    let mut incoming = BTreeMap::new();
    for j in (0..c.cards().len()).filter(|j| *j != me) {
        let name = names::round2(&c.cards()[j], &c.cards()[me]);
        let Some(r) = folder.receive(&name, &e, c.cards(), j, Some(u.identity()))? else {
            missing.push(j);
            continue;
        };
        let p: Round2Payload = serde_json::from_slice(r.opened.payload.expose())
            .map_err(|_| complain(run, Some(j), &r.path, "malformed round-2 payload".into()))?;
        // The transcript check: did the sender see exactly the round-1 files we saw?
        if p.round1.len() != digests.len() {
            return Err(complain(run, Some(j), &r.path, "malformed round-2 payload (wrong transcript length)".into()));
        }
        for (k, (theirs, ours)) in p.round1.iter().zip(digests).enumerate() {
            if *theirs != hex::encode(ours) {
                return Err(transcript_mismatch(run, j, k, &texts[k], &r.path));
            }
        }
        let bytes = Zeroizing::new(
            hex::decode(p.package.as_bytes())
                .map_err(|_| complain(run, Some(j), &r.path, "malformed round-2 package".into()))?,
        );
        let pkg = dkg::round2::Package::deserialize(&bytes)
            .map_err(|_| complain(run, Some(j), &r.path, "malformed FROST round-2 package".into()))?;
        incoming.insert(identifier(j), (pkg, r.path));
    }
    if !missing.is_empty() {
        return Ok(Progress::Waiting(format!("round 2 from {}", names_of(c, &missing))));
    }
    let mut r1 = BTreeMap::new();
    for (j, bytes) in round1.iter().enumerate().filter(|(j, _)| *j != me) {
        r1.insert(
            identifier(j),
            dkg::round1::Package::deserialize(bytes).map_err(|_| Error::new("damaged key generation state"))?,
        );
    }
    let r2_secret = dkg::round2::SecretPackage::deserialize(secret.expose())
        .map_err(|_| Error::new("damaged key generation state (round 2)"))?;
    let r2: BTreeMap<_, _> = incoming.iter().map(|(id, (p, _))| (*id, p.clone())).collect();
    let (key_package, public) = dkg::part3(&r2_secret, &r1, &r2).map_err(|e| match e {
        frost::Error::InvalidSecretShare { culprit: Some(id) } => {
            let j = index_of(&id, c.cards().len()).expect("identifier from our map");
            let path = &incoming[&id].1;
            complain(
                run,
                Some(j),
                path,
                format!(
                    "the secret share {} sent {} does not match {}'s round-1 commitment",
                    c.cards()[j].name(),
                    c.cards()[me].name(),
                    c.cards()[j].name()
                ),
            )
        }
        other => Error::new(format!("key generation round 3 failed: {other}")),
    })?;
    let public_bytes = public.serialize().map_err(|e| Error::new(e.to_string()))?;
    let confirm = ConfirmPayload {
        group_key: hex::encode(public.verifying_key().serialize().map_err(|e| Error::new(e.to_string()))?),
        public_key_package: hex::encode(sha256(&[&public_bytes])),
        transcript: hex::encode(transcript(digests)),
    };
    let body = serde_json::to_vec(&confirm).expect("serializable");
    let message = message::seal(u.identity(), KIND_CONFIRM, c.digest(), "3", None, &body)?;
    let key_package =
        SecretBytes::from(Zeroizing::new(key_package.serialize().map_err(|e| Error::new(e.to_string()))?));
    let state = State {
        ceremony: *c.digest(),
        phase: Phase::Round3 { key_package, public: public_bytes, message: message.clone() },
    };
    save_state(u, c, &state)?;
    folder.publish(&names::confirm(&c.cards()[me]), &message)?;
    report.did.push("verified the shares sent to you, computed your key share and published your confirmation".into());
    Ok(Progress::Advanced(state))
}

/// Every participant's signed file of one public step with its payload, or the indices of the
/// participants whose file is not there yet.
pub type AllSigned<T> = std::result::Result<Vec<(T, Received)>, Vec<usize>>;

/// Read every participant's file of a public step (`name` gives the file of a card): each must open as
/// `kind` of `round` signed by its owner, with a payload of type `T` (`what` names it in errors).
fn read_all<T: serde::de::DeserializeOwned>(
    folder: &Folder,
    c: &DkgCeremony,
    (kind, round, what): (&str, &str, &str),
    name: fn(&Card) -> String,
) -> Result<AllSigned<T>> {
    let e = expect(c, kind, round, false);
    let mut missing = Vec::new();
    let mut found = Vec::new();
    for j in 0..c.cards().len() {
        match folder.receive(&name(&c.cards()[j]), &e, c.cards(), j, None)? {
            None => missing.push(j),
            Some(r) => {
                let p: T = serde_json::from_slice(r.opened.payload.expose())
                    .map_err(|e| Error::file(&r.path, format!("malformed {what}: {e}")))?;
                found.push((p, r));
            }
        }
    }
    Ok(if missing.is_empty() { Ok(found) } else { Err(missing) })
}

/// Read all confirmations; `Ok(Err(missing))` lists who has not confirmed yet.
pub fn read_confirmations(folder: &Folder, c: &DkgCeremony) -> Result<AllSigned<ConfirmPayload>> {
    read_all(folder, c, (KIND_CONFIRM, "3", "confirmation"), names::confirm)
}

fn finish(run: Run<'_>, s: State, report: &mut StepReport) -> Result<Progress> {
    let Run { folder, c, me, .. } = run;
    let Phase::Round3 { key_package, public, message } = s.phase else {
        return Err(Error::new("internal error: finish called outside round 3"));
    };
    if folder.publish(&names::confirm(&c.cards()[me]), &message)? {
        report.did.push("published your confirmation again (it was missing)".into());
    }
    let confirmations = match read_confirmations(folder, c)? {
        Ok(found) => found,
        Err(missing) => return Ok(Progress::Waiting(format!("confirmations from {}", names_of(c, &missing)))),
    };
    let texts: Vec<&str> = confirmations.iter().map(|(_, r)| r.text.as_str()).collect();
    check_no_equivocation(run, KIND_CONFIRM, &texts)?;
    let mine = confirmations[me].0.clone();
    for (j, (p, r)) in confirmations.iter().enumerate() {
        if *p != mine {
            let what = if p.transcript != mine.transcript { "round-1 transcript" } else { "group key" };
            let reason = format!(
                "{} ended with a different {what} than {} did: the ceremony cannot complete",
                c.cards()[j].name(),
                c.cards()[me].name()
            );
            return Err(complain_with(run, None, &r.path, reason, Some(r.text.clone())).with_note(format!(
                "either {} computed something else, or someone showed different files to different keyholders",
                c.cards()[j].name()
            )));
        }
    }
    let package = frost::keys::PublicKeyPackage::deserialize(&public)
        .map_err(|_| Error::new("damaged key generation state (round 3)"))?;
    let group = Group::build(c, &texts, &package)?;
    let accept = accept_message(run, &group)?;
    let phase = Phase::Accept { key_package, group: group.text().into(), message: accept.clone() };
    let state = State { ceremony: *c.digest(), phase };
    // State first: a crash after this point republishes the same acceptance.
    save_state(run.u, c, &state)?;
    folder.publish(&names::accept(&c.cards()[me]), &accept)?;
    report.did.push(format!(
        "all {} confirmations agree; you accepted group {} and published your acceptance",
        c.cards().len(),
        group.fingerprint()
    ));
    Ok(Progress::Advanced(state))
}

/// This keyholder's acceptance of `group`: deterministic (an Ed25519 signature over a fixed text), so
/// republishing it is always byte-identical.
fn accept_message(Run { u, c, .. }: Run<'_>, group: &Group) -> Result<String> {
    let payload = AcceptPayload { group_file: hex::encode(sha256(&[group.core_text().as_bytes()])) };
    let body = serde_json::to_vec(&payload).map_err(|e| Error::new(format!("internal error: {e}")))?;
    message::seal(u.identity(), KIND_ACCEPT, c.digest(), "4", None, &body)
}

/// Every acceptance validly signed by a participant for this ceremony that the folder shows: under its
/// own name, carried as evidence in a complaint, or embedded in the folder's group file. A keyholder who
/// signed two different acceptances may appear twice; that is proof it equivocated, but each acceptance
/// it signed still stands for what it names.
fn visible_acceptances(folder: &Folder, c: &DkgCeremony) -> Vec<(usize, AcceptPayload, String, PathBuf)> {
    let e = expect(c, KIND_ACCEPT, "4", false);
    let mut out = Vec::new();
    for j in 0..c.cards().len() {
        let name = names::accept(&c.cards()[j]);
        if let Ok(Some(r)) = folder.receive(&name, &e, c.cards(), j, None) {
            if let Ok(p) = serde_json::from_slice::<AcceptPayload>(r.opened.payload.expose()) {
                out.push((j, p, r.text, r.path));
            }
        }
    }
    for ev in signed_evidence(folder, c).into_iter().filter(|ev| ev.kind == KIND_ACCEPT) {
        let opened = message::open(&ev.text, Path::new("evidence"), &e, c.cards(), None);
        if let Ok(p) = opened.and_then(|o| {
            serde_json::from_slice::<AcceptPayload>(o.payload.expose()).map_err(|_| Error::new("malformed"))
        }) {
            out.push((ev.sender, p, ev.text, folder.path(&names::accept(&c.cards()[ev.sender]))));
        }
    }
    out
}

/// Round 4: complete once every participant's signed acceptance of this keyholder's group file is
/// visible (see [`visible_acceptances`]); then store the share and the group file carrying the n
/// acceptances, which proves to anyone, and to any keyholder who has not finished yet, that everyone
/// accepted it. A participant whose visible acceptances all name another file stops the ceremony here.
fn accept_round(run: Run<'_>, s: State, report: &mut StepReport) -> Result<Progress> {
    let Run { u, folder, c, me } = run;
    let Phase::Accept { key_package, group, message } = &s.phase else {
        return Err(Error::new("internal error: accept round called outside round 4"));
    };
    if folder.publish(&names::accept(&c.cards()[me]), message)? {
        report.did.push("published your acceptance again (it was missing)".into());
    }
    let core = Group::parse(group).map_err(|_| Error::new("damaged key generation state (round 4)"))?;
    let mine = hex::encode(sha256(&[core.core_text().as_bytes()]));
    let visible = visible_acceptances(folder, c);
    let mut chosen: Vec<Option<&str>> = vec![None; c.cards().len()];
    let mut other: Vec<Option<(&str, &Path)>> = vec![None; c.cards().len()];
    for (j, p, text, path) in &visible {
        if p.group_file == mine {
            chosen[*j].get_or_insert(text.as_str());
        } else {
            other[*j].get_or_insert((text.as_str(), path.as_path()));
        }
    }
    if let Some((j, (text, path))) =
        other.iter().enumerate().find_map(|(j, o)| o.filter(|_| chosen[j].is_none()).map(|o| (j, o)))
    {
        let reason = format!(
            "{} accepted another group file than {} did: the ceremony cannot complete",
            c.cards()[j].name(),
            c.cards()[me].name()
        );
        return Err(complain_with(run, None, path, reason, Some(text.to_string())));
    }
    let missing: Vec<usize> = (0..chosen.len()).filter(|&j| chosen[j].is_none()).collect();
    if !missing.is_empty() {
        return Ok(Progress::Waiting(format!("acceptances from {}", names_of(c, &missing))));
    }
    for j in (0..other.len()).filter(|&j| other[j].is_some()) {
        report.did.push(format!(
            "note: {} also signed an acceptance of another group file (proven equivocation; `frostsign dkg status` shows it); every keyholder accepted yours, so your key generation completes",
            c.cards()[j].name()
        ));
    }
    let acceptances: Vec<&str> = chosen.iter().map(|a| a.unwrap_or_default()).collect();
    let group = core.with_acceptances(&acceptances)?;
    u.store_share(&group, key_package)?;
    let state = State { ceremony: *c.digest(), phase: Phase::Done { group: group.fingerprint().compact() } };
    // The DKG secrets are replaced by a marker that only remembers which group this ceremony made.
    save_state(u, c, &state)?;
    report.did.push(format!(
        "all {} keyholders accepted the same group file; your share is stored in your home",
        c.cards().len()
    ));
    Ok(Progress::Advanced(state))
}

/// Put this keyholder's group file in the folder, or compare it with what is there. Another file is never
/// overwritten and never trusted: it is described, so the keyholder can report it.
fn publish_group(folder: &Folder, group: &Group) -> Result<FolderGroup> {
    if crate::fsx::atomic_create(&folder.path(GROUP_FILE), group.text().as_bytes(), crate::fsx::PUBLIC_FILE)? {
        return Ok(FolderGroup::Written);
    }
    let there = folder.read(GROUP_FILE, crate::group::MAX_GROUP_BYTES);
    // The same group: byte-identical, or the same core with or without the acceptances (a file written
    // by frostsign 0.1, or before this keyholder finished).
    let same = |t: &str| t == group.text() || Group::parse(t).is_ok_and(|g| g.core_text() == group.core_text());
    if matches!(&there, Ok(Some(t)) if same(t)) {
        return Ok(FolderGroup::Identical);
    }
    let what = match there.ok().flatten().map(|t| Group::parse(&t)) {
        Some(Ok(other)) => format!(
            "the group {} ({}-of-{}, fingerprint {})",
            crate::text::escape(&other.display_name()),
            other.threshold(),
            other.members().len(),
            other.fingerprint()
        ),
        _ => "a file that is not a valid group file".to_string(),
    };
    Ok(FolderGroup::Other(what))
}

/// Refuse to go on if a keyholder is proven to have signed two different files of `kind` for this
/// ceremony: the copy in `seen` (what this keyholder read) and another one carried as evidence in a
/// complaint or embedded in the folder's group file.
fn check_no_equivocation(run: Run<'_>, kind: &str, seen: &[&str]) -> Result<()> {
    let Run { folder, c, .. } = run;
    let proof = signed_evidence(folder, c)
        .into_iter()
        .find(|e| e.kind == kind && seen.get(e.sender).is_some_and(|mine| *mine != e.text));
    let Some(e) = proof else { return Ok(()) };
    let reason = format!(
        "{} signed two different {} files (equivocation): one is in the folder, the other is {}",
        c.cards()[e.sender].name(),
        kind_noun(kind),
        e.source
    );
    Err(complain_with(run, Some(e.sender), &folder.path(&file_of(c, kind, e.sender)), reason, None))
}

/// The names of `card`'s complaint files in the folder (exactly the names `complain` writes), sorted.
/// Any other name is not read: `dkg status` lists it as a stray, escaped.
fn complaints_of(folder: &Folder, card: &Card) -> Result<Vec<String>> {
    let rd = std::fs::read_dir(folder.dir()).map_err(|e| Error::io("list", folder.dir(), e))?;
    let mut v: Vec<String> = rd
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| names::is_complaint_of(n, card))
        .collect();
    v.sort();
    Ok(v)
}

/// Start a ceremony: write `DIR/ceremony.txt`. Refuses if the folder already holds one.
pub fn init(
    dir: &Path,
    label: Option<&str>,
    threshold: u16,
    cards: Vec<Card>,
    allow_insecure: bool,
) -> Result<DkgCeremony> {
    let (c, text) = DkgCeremony::create(label, threshold, cards, allow_insecure)?;
    crate::fsx::ensure_dir(dir)?;
    let path = dir.join(CEREMONY_FILE);
    if !crate::fsx::atomic_create(&path, text.as_bytes(), crate::fsx::PUBLIC_FILE)? {
        return Err(Error::file(&path, "already exists: this folder already holds a ceremony")
            .with_help("use a new, empty folder for each ceremony"));
    }
    Ok(c)
}

/// Sanity check used by tests: the unpack helper must accept what State::encode writes.
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trips() {
        let s = State {
            ceremony: [3; 32],
            phase: Phase::Round2 {
                secret: SecretBytes::new(vec![1, 2, 3]),
                round1: vec![vec![4; 10], vec![5; 11]],
                digests: vec![[6; 32], [7; 32]],
                outbox: vec!["a".into()],
                texts: vec!["t1".into(), "t2".into()],
            },
        };
        let back = State::decode(&s.encode()).unwrap();
        let Phase::Round2 { round1, digests, outbox, .. } = back.phase else { panic!() };
        assert_eq!(round1, vec![vec![4; 10], vec![5; 11]]);
        assert_eq!(digests, vec![[6; 32], [7; 32]]);
        assert_eq!(outbox, vec!["a".to_string()]);
        assert!(crate::secret::unpack(b"\0\0\0\x05ab", 1).is_none());
    }
}
