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

mod dealt;
mod evidence;
mod idle;
mod repair;
mod rounds;
pub(crate) use rounds::state_rel;
mod state;
pub mod status;

pub use evidence::{signed_evidence, SignedEvidence};
pub use idle::nothing_to_do;
pub use rounds::KeyGen;
use state::{DkgState, Phase};

use crate::card::Card;
use crate::ceremony::engine::{self, Report};
use crate::error::{Error, Result};
use crate::exchange::folder::{Folder, Received};
use crate::exchange::message::Expect;
use crate::group::Group;
use crate::home::Unlocked;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::Path;
use zeroize::Zeroizing;

pub use crate::group::ceremony::{
    AcceptPayload, ConfirmPayload, DkgCeremony, CEREMONY_FILE, GROUP_FILE, KIND_ACCEPT, KIND_CONFIRM,
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
    /// The share a dealer dealt to a keyholder (`dealer split`), encrypted to it.
    pub fn dealt(to: &Card) -> String {
        format!("dealt-to-{}.txt", to.fingerprint().compact())
    }
    /// A repair helper's delta for another helper, encrypted to it.
    pub fn delta(from: &Card, to: &Card) -> String {
        format!("delta-{}-to-{}.txt", from.fingerprint().compact(), to.fingerprint().compact())
    }
    /// A repair helper's sigma for the keyholder whose share is rebuilt, encrypted to it.
    pub fn sigma(from: &Card) -> String {
        format!("sigma-{}.txt", from.fingerprint().compact())
    }
    /// Confirmation of a keyholder.
    pub fn confirm(c: &Card) -> String {
        format!("confirm-{}.txt", c.fingerprint().compact())
    }
    /// Acceptance of a keyholder.
    pub fn accept(c: &Card) -> String {
        format!("accept-{}.txt", c.fingerprint().compact())
    }
    /// The full group file as a keyholder who completed holds it, published when the folder's group.pub
    /// is not that file (planted, damaged, or not a file), so the others can still complete from it.
    pub fn group_copy(c: &Card) -> String {
        format!("group-{}.pub", c.fingerprint().compact())
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

/// A dealt share (`dealer split`): the FROST `SecretShare` (the keyholder's signing share and the
/// dealer's commitment to the whole polynomial), hex, encrypted to its one recipient.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DealtPayload {
    /// `keys::SecretShare`, serialized, hex.
    pub share: Zeroizing<String>,
}

/// A repair value (`share repair`): a helper's delta for another helper, or its sigma for the keyholder
/// whose share is rebuilt; a scalar, hex, encrypted to its one recipient.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepairPayload {
    /// `repairable::Delta` or `repairable::Sigma`, serialized, hex.
    pub value: Zeroizing<String>,
}

/// The kind and round of a repair helper's delta.
pub const KIND_DELTA: &str = "repair-delta";
/// See [`KIND_DELTA`].
pub const ROUND_DELTA: &str = "repair-1";
/// The kind and round of a repair helper's sigma.
pub const KIND_SIGMA: &str = "repair-sigma";
/// See [`KIND_SIGMA`].
pub const ROUND_SIGMA: &str = "repair-2";

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
/// The kind and round of a dealt share.
pub const KIND_DEALT: &str = "dealt-share";
/// See [`KIND_DEALT`].
pub const ROUND_DEALT: &str = "dealt";
/// The round tokens of the public messages that can be equivocated on, with their kinds.
const SIGNED_STEPS: [(&str, &str); 3] = [(KIND_R1, "1"), (KIND_CONFIRM, "3"), (KIND_ACCEPT, "4")];

fn expect<'a>(c: &'a DkgCeremony, kind: &'a str, round: &'a str, private: bool) -> Expect<'a> {
    Expect { kind, ceremony: c.digest(), round, private }
}

/// The folder's `group.pub` compared with the group this keyholder made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FolderGroup {
    /// It was missing; this step wrote it.
    Written,
    /// It holds the group this keyholder accepted (the same core; its acceptances may be other signed
    /// copies of the same decisions, or absent if this keyholder finished under frostsign 0.1).
    Identical,
    /// It held the accepted group without the acceptances; this step replaced it with the full file.
    Completed,
    /// Another file is there: what it is (never written over, never trusted).
    Other(String),
}

fn names_of(c: &DkgCeremony, idx: &[usize]) -> String {
    idx.iter().map(|&i| c.cards()[i].name().to_string()).collect::<Vec<_>>().join(", ")
}

/// What a completed key generation left, as this keyholder's own home holds it.
#[derive(Debug)]
pub struct Completed {
    /// The group, from the home (never the folder's word).
    pub group: Group,
    /// What the folder's `group.pub` is.
    pub folder_group: FolderGroup,
}

/// Run every round this keyholder can run now, on the ceremony engine (see the module documentation).
///
/// Before: `u` is the unlocked home of a participant. `confirm` is called once, before the keyholder
/// joins, with the ceremony description; returning an error aborts without changing anything.
/// After: every file this keyholder owes for the rounds it has reached is in the folder; its secret state
/// is in its home; once every participant accepted the same group file, its share and the group file are in
/// its home and `group.pub` in the folder, and the group is returned.
///
/// `report` collects what was done, also when an error stops the step half-way.
pub fn step(
    u: &Unlocked,
    folder: &Folder,
    report: &mut Report,
    confirm: impl FnOnce(&DkgCeremony) -> Result<()>,
) -> Result<Option<Completed>> {
    // The state first: it names the ceremony file this keyholder checked in full when it joined, whose
    // exact bytes need no second check of their n cards (any other file is checked, then refused).
    let text = DkgCeremony::read(folder)?;
    // The id the file claims says where that state is; the file itself is checked just below.
    let saved = match DkgCeremony::claims_in(&text) {
        Some(claims) => rounds::saved_state(u, &claims.id)?,
        None => None,
    };
    let joined = saved.as_ref().map(|s| crate::group::CheckedDigest::sealed(s.ceremony));
    let c = DkgCeremony::load_known(folder, &text, joined.as_ref())?;
    let me_card = u.identity().card().clone();
    let me = c.index_of(me_card.fingerprint()).ok_or_else(|| {
        Error::new(format!("you ({}) are not a participant of this ceremony", me_card.label())).with_help(
            "check --home (is it the right keyholder?) and the participant list shown by `frostsign dkg status`",
        )
    })?;
    let complaints = std::cell::OnceCell::new();
    let keygen = KeyGen { u, folder, c: &c, me, complaints: &complaints };
    let state = match saved {
        Some(s) => Some(joined_this(s, &c)?),
        None => finished_in_home(u, &c)?,
    };
    let state = match state {
        Some(s) => s,
        None if c.dealer().is_some() => {
            // A dealt group: the keyholder's first step is checking the share dealt to it.
            let Some(dealt) = keygen.read_dealt()? else {
                let dealer = c.dealer().map(|d| d.card.name().to_string()).unwrap_or_default();
                report.waiting = Some(format!("the share {dealer} deals you"));
                return Ok(None);
            };
            confirm(&c)?;
            engine::apply(&keygen, u, folder, keygen.receive_dealt(dealt)?, report)?
        }
        None if c.repair().is_some() => {
            crate::ceremony::repair::check_joinable(u, &c)?;
            // The keyholder whose share is rebuilt starts once every helper's value is there.
            let Some(first) = keygen.repair_first_step(confirm)? else {
                report.waiting = Some(keygen.repair_waiting());
                return Ok(None);
            };
            crate::ceremony::refresh::claim(u, &c)?;
            engine::apply(&keygen, u, folder, first, report)?
        }
        None => {
            crate::ceremony::refresh::check_joinable(u, &c)?;
            confirm(&c)?;
            crate::ceremony::refresh::claim(u, &c)?;
            engine::apply(&keygen, u, folder, keygen.join()?, report)?
        }
    };
    let state = engine::run(&keygen, u, folder, state, report)?;
    let Phase::Done(done) = state.phase else { return Ok(None) };
    let mut group = u.group(&done.group)?;
    // Keyholders who completed before acceptances existed (frostsign 0.1) publish theirs now: it is
    // deterministic, so this is also a rerun's no-op. Once every acceptance is visible, such a keyholder
    // keeps the full group file too.
    folder.publish(&names::accept(&c.cards()[me]), &keygen.acceptance(&group)?)?;
    if group.acceptances().is_empty() {
        if let Some(full) = keygen.with_visible_acceptances(&group)? {
            u.replace_group_copy(&full)?;
            group = full;
            report.did.push("your home's group file now carries every keyholder's signed acceptance".into());
        }
    }
    let folder_group = publish_group(folder, &group)?;
    match &folder_group {
        FolderGroup::Written => report.did.push(format!("wrote {GROUP_FILE}")),
        FolderGroup::Completed => {
            report.did.push(format!("added every keyholder's signed acceptance to the folder's {GROUP_FILE}"))
        }
        FolderGroup::Identical => {}
        // The folder's group.pub cannot carry the proof that everyone accepted: this keyholder's copy
        // does, under its own name, so nobody who has not finished is stranded.
        FolderGroup::Other(_) if !group.acceptances().is_empty() => {
            let name = names::group_copy(&c.cards()[me]);
            let path = folder.path(&name);
            if crate::fsx::read_text_untrusted(&path, crate::group::MAX_GROUP_BYTES).ok().as_deref()
                != Some(group.text())
            {
                crate::fsx::atomic_write(&path, group.text().as_bytes(), crate::fsx::PUBLIC_FILE)?;
                report.did.push(format!("wrote your copy of the group file as {name}, as {GROUP_FILE} is not it"));
            }
        }
        FolderGroup::Other(_) => {}
    }
    Ok(Some(Completed { group, folder_group }))
}

/// A saved state belongs to the ceremony file this keyholder joined: an edited `ceremony.txt` is refused.
fn joined_this(state: DkgState, c: &DkgCeremony) -> Result<DkgState> {
    if state.ceremony == *c.digest() {
        return Ok(state);
    }
    Err(Error::new(format!(
        "the ceremony file `{CEREMONY_FILE}` changed after you joined this ceremony (its SHA-256 was {}, it is now {})",
        hex::encode(&state.ceremony[..8]),
        hex::encode(&c.digest()[..8])
    ))
    .with_help("someone edited the ceremony description after round 1; restore the original file, or abandon this ceremony and start a new one"))
}

/// A home restored by `holder restore` has no ceremony state, but holds the share this ceremony made:
/// treat the ceremony as finished for it instead of joining it again.
fn finished_in_home(u: &Unlocked, c: &DkgCeremony) -> Result<Option<DkgState>> {
    for gfp in u.home().group_fingerprints()? {
        let made_here = u.home().group(&gfp).is_ok_and(|g| g.ceremony() == c.digest());
        if made_here && u.home().has_share(&gfp) {
            return Ok(Some(DkgState { ceremony: *c.digest(), phase: Phase::Done(state::Done { group: gfp }) }));
        }
    }
    Ok(None)
}

/// The transcript of a dealt group: the dealer's commitment, which every keyholder must have been dealt
/// alike (a dealer who gave two keyholders different commitments is caught when confirmations differ).
fn dealt_transcript(commitment: &[Vec<u8>]) -> [u8; 32] {
    let mut parts: Vec<&[u8]> = vec![b"frostsign dealer transcript v1\0"];
    parts.extend(commitment.iter().map(Vec::as_slice));
    sha256(&parts)
}

/// The number of coefficients in a round-1 commitment: t for key generation; t - 1 for a refresh, whose
/// polynomials have a zero constant term that the commitment leaves out.
pub(crate) fn round1_degree(c: &DkgCeremony) -> usize {
    c.threshold() as usize - usize::from(c.refresh().is_some())
}

fn transcript(digests: &[[u8; 32]]) -> [u8; 32] {
    let mut parts: Vec<&[u8]> = vec![b"frostsign dkg transcript v1\0"];
    parts.extend(digests.iter().map(|d| d.as_slice()));
    sha256(&parts)
}

/// Every participant's signed file of one public step with its payload, or the indices of the
/// participants whose file is not there yet.
pub type AllSigned<T> = std::result::Result<Vec<(T, Received)>, Vec<usize>>;

/// Read every participant's confirmation: each must open as a confirmation signed by its owner. A payload
/// its signer got wrong (not a confirmation, or not in frostsign's one form) is proof against the signer:
/// `malformed(j, path, reason)` makes the error, a complaint naming `j`. `Ok(Err(missing))` lists who has
/// not confirmed yet.
pub fn read_confirmations(
    folder: &Folder,
    c: &DkgCeremony,
    malformed: impl Fn(usize, &Path, String) -> Error,
) -> Result<AllSigned<ConfirmPayload>> {
    let e = expect(c, KIND_CONFIRM, "3", false);
    let mut missing = Vec::new();
    let mut found = Vec::new();
    for j in 0..c.cards().len() {
        match folder.receive(&names::confirm(&c.cards()[j]), &e, c.cards(), j, None)? {
            None => missing.push(j),
            Some(r) => {
                let p =
                    r.opened.decode().map_err(|why| malformed(j, &r.path, format!("malformed confirmation: {why}")))?;
                found.push((p, r));
            }
        }
    }
    Ok(if missing.is_empty() { Ok(found) } else { Err(missing) })
}

/// Put this keyholder's group file in the folder, or compare it with what is there. Another file is never
/// overwritten and never trusted: it is described, so the keyholder can report it.
fn publish_group(folder: &Folder, group: &Group) -> Result<FolderGroup> {
    let path = folder.path(GROUP_FILE);
    if crate::fsx::atomic_create(&path, group.text().as_bytes(), crate::fsx::PUBLIC_FILE)? {
        return Ok(FolderGroup::Written);
    }
    let there = folder.read(GROUP_FILE, crate::group::MAX_GROUP_BYTES);
    let parsed = match &there {
        Ok(Some(t)) => Some(Group::parse(t)),
        _ => None,
    };
    match &parsed {
        // The same group (the accepted core). A file without the acceptances (written by frostsign 0.1,
        // or planted early) would leave keyholders who have not finished without the proof that everyone
        // accepted: it is replaced by the full file, which says nothing else.
        Some(Ok(g)) if g.core_text() == group.core_text() => {
            if g.acceptances().is_empty() && !group.acceptances().is_empty() {
                crate::fsx::atomic_write(&path, group.text().as_bytes(), crate::fsx::PUBLIC_FILE)?;
                return Ok(FolderGroup::Completed);
            }
            Ok(FolderGroup::Identical)
        }
        Some(Ok(other)) => Ok(FolderGroup::Other(format!(
            "the group {} ({}-of-{}, fingerprint {})",
            crate::text::escape(&other.display_name()),
            other.threshold(),
            other.members().len(),
            other.fingerprint()
        ))),
        _ => Ok(FolderGroup::Other("a file that is not a valid group file".to_string())),
    }
}

/// Start a ceremony: write `DIR/ceremony.txt`. Refuses if the folder already holds one.
pub fn init(
    dir: &Path,
    label: Option<&str>,
    threshold: u16,
    cards: Vec<Card>,
    allow_insecure: bool,
) -> Result<DkgCeremony> {
    let (c, text) =
        DkgCeremony::create(label, threshold, cards, crate::group::ceremony::Origin::KeyGen, allow_insecure)?;
    crate::fsx::ensure_dir(dir)?;
    let path = dir.join(CEREMONY_FILE);
    if !crate::fsx::atomic_create(&path, text.as_bytes(), crate::fsx::PUBLIC_FILE)? {
        return Err(Error::file(&path, "already exists: this folder already holds a ceremony")
            .with_help("use a new, empty folder for each ceremony"));
    }
    Ok(c)
}
