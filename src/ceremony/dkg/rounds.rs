//! Key generation as the ceremony engine runs it: one phase per round, each taking its state by value and
//! handing the next one to the engine (which saves it, then publishes the round's files).

use super::evidence::{check_no_equivocation, complaint_names, signed_evidence_in, transcript_mismatch};
use super::state::{Accepted, Confirmed, DkgState, Done, Joined, Phase, Shared};
use super::{
    expect, names, names_of, sha256, AcceptPayload, ConfirmPayload, DkgCeremony, Round1Payload, Round2Payload,
    KIND_ACCEPT, KIND_CONFIRM, KIND_R1, KIND_R2,
};
use crate::ceremony::engine::{Ceremony, Progress, Published, Report, StateFile, Step};
use crate::error::{Error, Result};
use crate::exchange::folder::{Folder, Received};
use crate::exchange::message;
use crate::group::{CheckedDigest, Group};
use crate::home::Unlocked;
use crate::secret::SecretBytes;
use frost_ed25519 as frost;
use frost_ed25519::keys::dkg;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// One keyholder's key generation: who runs it, in which folder, for which ceremony.
#[derive(Clone, Copy)]
pub struct KeyGen<'r> {
    /// The keyholder's unlocked home.
    pub u: &'r Unlocked,
    /// The ceremony folder.
    pub folder: &'r Folder,
    /// The ceremony.
    pub c: &'r DkgCeremony,
    /// The keyholder's position among the participants.
    pub me: usize,
    /// The folder's complaint file names, listed once per step (see [`KeyGen::complaint_names`]).
    pub complaints: &'r std::cell::OnceCell<Vec<String>>,
}

impl KeyGen<'_> {
    /// The folder's complaint file names, taken on first use in this step (from the folder's listing,
    /// [`Folder::names`]) and kept for the rest of it. A complaint that appears later in the step is
    /// found by the next step, as one that appears just after the step is. A folder that cannot be
    /// listed stops the step: its complaints cannot be known.
    pub(super) fn complaint_names(&self) -> Result<&[String]> {
        if let Some(kept) = self.complaints.get() {
            return Ok(kept);
        }
        let listed = complaint_names(self.folder)?;
        Ok(self.complaints.get_or_init(|| listed))
    }
}

/// Where a keyholder's state for the key generation ceremony with id `id` lives in its home (relative
/// path; sealed, see [`KeyGen::state_file`]).
pub(crate) fn state_rel(id: &[u8; 16]) -> String {
    state_file(id).rel
}

pub(super) fn internal(e: impl std::fmt::Display) -> Error {
    Error::new(format!("internal error: {e}"))
}

pub(super) fn json(value: &impl serde::Serialize) -> Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(internal)
}

impl<'r> Ceremony<'r> for KeyGen<'r> {
    type State = DkgState;

    fn state_file(&self) -> StateFile {
        state_file(self.c.id())
    }

    fn published(&self, state: &DkgState) -> Vec<Published> {
        let mine = &self.c.cards()[self.me];
        let file = |name: String, text: &String, what: &str| Published { name, text: text.clone(), what: what.into() };
        match &state.phase {
            Phase::Joined(j) => vec![file(names::round1(mine), &j.message, "your round-1 package")],
            Phase::Shared(s) => self
                .others()
                .zip(&s.outbox)
                .map(|(k, text)| file(names::round2(mine, &self.c.cards()[k]), text, "your round-2 shares"))
                .collect(),
            Phase::Helping(h) => h
                .outbox
                .iter()
                .map(|(name, text)| Published {
                    name: name.clone(),
                    text: text.clone(),
                    what: "your repair values".into(),
                })
                .collect(),
            Phase::Confirmed(cf) => {
                let also = cf.also.iter().map(|(name, text)| Published {
                    name: name.clone(),
                    text: text.clone(),
                    what: "your repair values".into(),
                });
                std::iter::once(file(names::confirm(mine), &cf.message, "your confirmation")).chain(also).collect()
            }
            Phase::Accepted(a) => vec![file(names::accept(mine), &a.message, "your acceptance")],
            Phase::Done(_) => Vec::new(),
        }
    }

    fn advance(&self, state: DkgState, report: &mut Report) -> Result<Progress<'r, DkgState>> {
        match state.phase {
            Phase::Joined(j) => self.round2(j),
            Phase::Shared(s) => self.round3(s),
            Phase::Helping(h) => self.repair_help(h),
            Phase::Confirmed(cf) => self.finish(cf),
            Phase::Accepted(a) => self.accept_round(a, report),
            Phase::Done(d) => Ok(Progress::Finished(self.state(Phase::Done(d)))),
        }
    }

    fn decode_legacy(&self, bytes: &SecretBytes) -> Option<DkgState> {
        super::state::decode_packed(bytes)
    }
}

/// Where a keyholder keeps its state for the ceremony with this id.
fn state_file(ceremony_id: &[u8; 16]) -> StateFile {
    let id = hex::encode(ceremony_id);
    StateFile { rel: format!("state/dkg-{id}.txt"), purpose: "dkg-state", id }
}

/// The keyholder's saved state for the ceremony with this id, if it joined it: what
/// [`crate::ceremony::engine::load`] reads for a [`KeyGen`], read before the ceremony file is checked (its
/// `ceremony` digest says which file this keyholder checked when it joined).
pub(super) fn saved_state(u: &Unlocked, ceremony_id: &[u8; 16]) -> Result<Option<DkgState>> {
    crate::ceremony::engine::load_file(u, &state_file(ceremony_id), super::state::decode_packed)
}

impl<'r> KeyGen<'r> {
    pub(super) fn state(&self, phase: Phase) -> DkgState {
        DkgState { ceremony: *self.c.digest(), phase }
    }

    fn waiting(&self, phase: Phase, missing: &[usize], what: &str) -> Progress<'r, DkgState> {
        Progress::Waiting(self.state(phase), format!("{what} from {}", names_of(self.c, missing)))
    }

    /// The other participants' positions, in order.
    fn others(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.c.cards().len()).filter(move |j| *j != self.me)
    }

    /// Round 1: make the commitment and proof of knowledge (the step that joins the ceremony).
    pub fn join(&self) -> Result<Step<'r, DkgState>> {
        let n = self.c.cards().len() as u16;
        let (id, t) = (self.c.identifier(self.me), self.c.threshold());
        // A refresh deals shares of zero (no constant term), so the key stays; key generation, of a new key.
        let (secret, package) = match self.c.refresh() {
            Some(_) => frost::keys::refresh::refresh_dkg_part1(id, n, t, rand_core::OsRng),
            None => dkg::part1(id, n, t, rand_core::OsRng),
        }
        .map_err(|e| Error::new(format!("key generation round 1 failed: {e}")))?;
        let secret = SecretBytes::from(Zeroizing::new(secret.serialize().map_err(internal)?));
        let body = json(&Round1Payload { package: hex::encode(package.serialize().map_err(internal)?) })?;
        let message = message::seal(self.u.identity(), KIND_R1, self.c.digest(), "1", None, &body)?;
        let publish = vec![Published {
            name: names::round1(&self.c.cards()[self.me]),
            text: message.clone(),
            what: "your round-1 package".into(),
        }];
        let next = self.state(Phase::Joined(Joined { secret, message }));
        Ok(Step::to(next, "joined the ceremony and published your round-1 package", publish, "dkg-round1"))
    }

    /// Every participant's round-1 file; `None` entries are missing.
    fn read_round1(&self) -> Result<Vec<Option<Received>>> {
        let e = expect(self.c, KIND_R1, "1", false);
        (0..self.c.cards().len())
            .map(|j| self.folder.receive(&names::round1(&self.c.cards()[j]), &e, self.c.cards(), j, None))
            .collect()
    }

    /// Round 2: check every round-1 file, then send each co-keyholder its secret share, encrypted to it.
    fn round2(&self, j1: Joined) -> Result<Progress<'r, DkgState>> {
        let (c, me) = (self.c, self.me);
        let received = self.read_round1()?;
        let missing: Vec<usize> = (0..c.cards().len()).filter(|j| received[*j].is_none()).collect();
        if !missing.is_empty() {
            return Ok(self.waiting(Phase::Joined(j1), &missing, "round 1"));
        }
        let received: Vec<Received> = received.into_iter().flatten().collect();
        if received[me].text != j1.message {
            return Err(Error::file(&received[me].path, "is not the round-1 file you published (it was replaced)")
                .with_help("restore your original file: run `dkg step` after removing this one"));
        }
        let mut packages = BTreeMap::new();
        let mut round1 = Vec::new();
        for (j, r) in received.iter().enumerate() {
            let (pkg, bytes) = self.round1_package(j, r)?;
            round1.push(bytes);
            if j != me {
                packages.insert(c.identifier(j), pkg);
            }
        }
        let digests: Vec<[u8; 32]> = received.iter().map(|r| sha256(&[r.text.as_bytes()])).collect();
        let r1_secret = dkg::round1::SecretPackage::deserialize(j1.secret.expose())
            .map_err(|_| Error::new("damaged key generation state (round 1)"))?;
        let part2 = match c.refresh() {
            Some(_) => frost::keys::refresh::refresh_dkg_part2(r1_secret, &packages),
            None => dkg::part2(r1_secret, &packages),
        };
        let (r2_secret, outgoing) = part2.map_err(|e| match e {
            frost::Error::InvalidProofOfKnowledge { culprit } => match c.position_of(&culprit) {
                Some(j) => self.complain(
                    Some(j),
                    &received[j].path,
                    format!("the round-1 package of {} has an invalid proof of knowledge", c.cards()[j].name()),
                ),
                None => internal("a culprit outside the ceremony"),
            },
            other => Error::new(format!("key generation round 2 failed: {other}")),
        })?;
        let digest_hex: Vec<String> = digests.iter().map(hex::encode).collect();
        let mut outbox = Vec::new();
        for k in self.others() {
            let pkg = outgoing.get(&c.identifier(k)).ok_or_else(|| internal("no round-2 package"))?;
            let package = Zeroizing::new(hex::encode(Zeroizing::new(pkg.serialize().map_err(internal)?)));
            let payload = Round2Payload { package, round1: digest_hex.clone() };
            let body = crate::secret::secret_json(&payload).map_err(internal)?;
            outbox.push(message::seal(
                self.u.identity(),
                KIND_R2,
                c.digest(),
                "2",
                Some(&c.cards()[k]),
                body.expose(),
            )?);
        }
        let secret = SecretBytes::from(Zeroizing::new(r2_secret.serialize().map_err(internal)?));
        let texts = received.iter().map(|r| r.text.clone()).collect();
        let next = self.state(Phase::Shared(Shared { secret, round1, digests, outbox, texts }));
        let publish = self.published(&next);
        let did = format!(
            "checked all {} round-1 packages and published an encrypted round-2 share for each co-keyholder",
            c.cards().len()
        );
        Ok(Progress::Advanced(Step::to(next, did, publish, "dkg-round2")))
    }

    /// A round-1 file's FROST package (and its bytes), checked for the ceremony's threshold; a bad one is
    /// its signer's fault.
    fn round1_package(&self, j: usize, r: &Received) -> Result<(dkg::round1::Package, Vec<u8>)> {
        let p: Round1Payload = r
            .opened
            .decode()
            .map_err(|e| self.complain(Some(j), &r.path, format!("malformed round-1 payload: {e}")))?;
        let bytes =
            hex::decode(&p.package).map_err(|_| self.complain(Some(j), &r.path, "malformed round-1 package".into()))?;
        let pkg = dkg::round1::Package::deserialize(&bytes)
            .map_err(|_| self.complain(Some(j), &r.path, "malformed FROST round-1 package".into()))?;
        // Counted, not serialized: serializing compresses every point again (t(n-1) per step).
        let degree = pkg.commitment().coefficients().len();
        if degree != super::round1_degree(self.c) {
            return Err(self.complain(
                Some(j),
                &r.path,
                format!(
                    "round-1 package has {degree} coefficient commitments, not {} (threshold {})",
                    super::round1_degree(self.c),
                    self.c.threshold()
                ),
            ));
        }
        Ok((pkg, bytes))
    }

    /// Round 3: open the shares sent to this keyholder, check that every sender saw the same round-1 files
    /// and that each share matches its sender's commitment, compute the key share, confirm the result.
    fn round3(&self, s: Shared) -> Result<Progress<'r, DkgState>> {
        let (c, me) = (self.c, self.me);
        let e = expect(c, KIND_R2, "2", true);
        let mut missing = Vec::new();
        let mut incoming = BTreeMap::new();
        for j in self.others() {
            let name = names::round2(&c.cards()[j], &c.cards()[me]);
            let Some(r) = self.folder.receive(&name, &e, c.cards(), j, Some(self.u.identity()))? else {
                missing.push(j);
                continue;
            };
            incoming.insert(c.identifier(j), (self.round2_package(j, &r, &s)?, r.path));
        }
        if !missing.is_empty() {
            return Ok(self.waiting(Phase::Shared(s), &missing, "round 2"));
        }
        let mut r1 = BTreeMap::new();
        for (j, bytes) in s.round1.iter().enumerate().filter(|(j, _)| *j != me) {
            let pkg = crate::group::own::round1_package(bytes)
                .or_else(|| dkg::round1::Package::deserialize(bytes).ok())
                .ok_or_else(|| Error::new("damaged key generation state"))?;
            r1.insert(c.identifier(j), pkg);
        }
        let r2_secret = dkg::round2::SecretPackage::deserialize(s.secret.expose())
            .map_err(|_| Error::new("damaged key generation state (round 2)"))?;
        let r2: BTreeMap<_, _> = incoming.iter().map(|(id, (p, _))| (*id, p.clone())).collect();
        let result = match c.refresh() {
            Some(refresh) => {
                let (old, old_key) = self.refreshed_group(refresh)?;
                self.refresh_shares(&r2_secret, &r1, &r2, old.package()?.clone(), old_key)
            }
            None => dkg::part3(&r2_secret, &r1, &r2),
        };
        let (key_package, public) = result.map_err(|e| match e {
            frost::Error::InvalidSecretShare { culprit: Some(id) } => match c.position_of(&id) {
                Some(j) => self.complain(
                    Some(j),
                    &incoming[&id].1,
                    format!(
                        "the secret share {} sent {} does not match {}'s round-1 commitment",
                        c.cards()[j].name(),
                        c.cards()[me].name(),
                        c.cards()[j].name()
                    ),
                ),
                None => internal("a culprit outside the ceremony"),
            },
            other => Error::new(format!("key generation round 3 failed: {other}")),
        })?;
        let public_bytes = public.serialize().map_err(internal)?;
        if c.refresh().is_some_and(|r| public.verifying_key().serialize().ok().as_deref() != Some(&r.group_key[..])) {
            return Err(internal("the refreshed shares make another key"));
        }
        let confirm = ConfirmPayload {
            group_key: public
                .verifying_key()
                .serialize()
                .map_err(internal)?
                .try_into()
                .map_err(|_| internal("the group key is not 32 bytes"))?,
            public_key_package: sha256(&[&public_bytes]),
            transcript: super::transcript(&s.digests),
        };
        let message = message::seal(self.u.identity(), KIND_CONFIRM, c.digest(), "3", None, &json(&confirm)?)?;
        let key_package = SecretBytes::from(Zeroizing::new(key_package.serialize().map_err(internal)?));
        let next =
            self.state(Phase::Confirmed(Confirmed { key_package, public: public_bytes, message, also: Vec::new() }));
        let publish = self.published(&next);
        let did = "verified the shares sent to you, computed your key share and published your confirmation";
        Ok(Progress::Advanced(Step::to(next, did, publish, "dkg-round3")))
    }

    /// A refresh's round 3: each share checked against its sender's commitment first (frost's
    /// `refresh_dkg_shares` checks them too, but names no culprit), then added to this keyholder's share
    /// of the group being refreshed, from its own home.
    fn refresh_shares(
        &self,
        r2_secret: &dkg::round2::SecretPackage,
        r1: &BTreeMap<frost::Identifier, dkg::round1::Package>,
        r2: &BTreeMap<frost::Identifier, dkg::round2::Package>,
        old_public: frost::keys::PublicKeyPackage,
        old_key: frost::keys::KeyPackage,
    ) -> std::result::Result<(frost::keys::KeyPackage, frost::keys::PublicKeyPackage), frost::Error> {
        use frost_core::keys::{CoefficientCommitment, VerifiableSecretSharingCommitment};
        let me = self.c.identifier(self.me);
        for (id, package) in r2 {
            let sender = r1.get(id).ok_or(frost::Error::PackageNotFound)?;
            // A refresh commitment omits its constant term, which is zero: put the identity back.
            let identity = <frost::Ed25519Group as frost_core::Group>::identity();
            let coefficients = std::iter::once(CoefficientCommitment::new(identity))
                .chain(sender.commitment().coefficients().iter().copied())
                .collect();
            let share = frost::keys::SecretShare::new(
                me,
                *package.signing_share(),
                VerifiableSecretSharingCommitment::new(coefficients),
            );
            share.verify().map_err(|_| frost::Error::InvalidSecretShare { culprit: Some(*id) })?;
        }
        frost::keys::refresh::refresh_dkg_shares(r2_secret, r1, r2, old_public, old_key)
    }

    /// The group a refresh renews and this keyholder's share of it, from its own home.
    pub fn refreshed_group(
        &self,
        refresh: &crate::group::ceremony::Refresh,
    ) -> Result<(Group, frost::keys::KeyPackage)> {
        let old = self.u.home().group(&refresh.group)?;
        let key = self.u.load_share(&old)?;
        Ok((old, key))
    }

    /// A round-2 file from `j`: its payload, the transcript check (did `j` see exactly the round-1 files
    /// this keyholder saw?), and the FROST package inside.
    fn round2_package(&self, j: usize, r: &Received, s: &Shared) -> Result<dkg::round2::Package> {
        let p: Round2Payload =
            r.opened.decode().map_err(|_| self.complain(Some(j), &r.path, "malformed round-2 payload".into()))?;
        if p.round1.len() != s.digests.len() {
            return Err(self.complain(Some(j), &r.path, "malformed round-2 payload (wrong transcript length)".into()));
        }
        for (k, (theirs, ours)) in p.round1.iter().zip(&s.digests).enumerate() {
            if *theirs != hex::encode(ours) {
                return Err(transcript_mismatch(*self, j, k, &s.texts[k], &r.path));
            }
        }
        let bytes = Zeroizing::new(
            hex::decode(p.package.as_bytes())
                .map_err(|_| self.complain(Some(j), &r.path, "malformed round-2 package".into()))?,
        );
        dkg::round2::Package::deserialize(&bytes)
            .map_err(|_| self.complain(Some(j), &r.path, "malformed FROST round-2 package".into()))
    }

    /// After round 3: once all n confirmations agree (and nobody is proven to have signed two), build the
    /// group file and accept it.
    fn finish(&self, cf: Confirmed) -> Result<Progress<'r, DkgState>> {
        let c = self.c;
        let malformed = |j, path: &Path, why| self.complain(Some(j), path, why);
        let confirmations = match super::read_confirmations(self.folder, c, malformed)? {
            Ok(found) => found,
            Err(missing) => return Ok(self.waiting(Phase::Confirmed(cf), &missing, "confirmations")),
        };
        let texts: Vec<&str> = confirmations.iter().map(|(_, r)| r.text.as_str()).collect();
        check_no_equivocation(*self, KIND_CONFIRM, &texts)?;
        let mine = confirmations[self.me].0.clone();
        for (j, (p, r)) in confirmations.iter().enumerate() {
            if *p != mine {
                let what = match (p.transcript != mine.transcript, c.dealer().is_some()) {
                    (true, false) => "round-1 transcript",
                    (true, true) => "commitment from the dealer",
                    (false, _) => "group key",
                };
                let reason = format!(
                    "{} ended with a different {what} than {} did: the ceremony cannot complete",
                    c.cards()[j].name(),
                    c.cards()[self.me].name()
                );
                return Err(self.complain_with(None, &r.path, reason, Some(r.text.clone())).with_note(format!(
                    "either {} computed something else, or someone showed different files to different keyholders",
                    c.cards()[j].name()
                )));
            }
        }
        // From this keyholder's sealed state: decoded without the subgroup checks (see `group::own`), and
        // not decoded again by the group file built from it.
        let package = crate::group::own::public_key_package(&cf.public)
            .or_else(|| crate::group::public_key_package(&cf.public))
            .ok_or_else(|| Error::new("damaged key generation state (round 3)"))?;
        let group = Group::build(c, &texts, &package)?;
        let message = self.acceptance(&group)?;
        let did = format!(
            "all {} confirmations agree; you accepted group {} and published your acceptance",
            c.cards().len(),
            group.fingerprint()
        );
        let next =
            self.state(Phase::Accepted(Accepted { key_package: cf.key_package, group: group.text().into(), message }));
        let publish = self.published(&next);
        Ok(Progress::Advanced(Step::to(next, did, publish, "dkg-accept")))
    }

    /// This keyholder's acceptance of `group`'s core: deterministic (an Ed25519 signature over a fixed
    /// text), so republishing it is always byte-identical.
    pub fn acceptance(&self, group: &Group) -> Result<String> {
        let payload = AcceptPayload { group_file: sha256(&[group.core_text().as_bytes()]) };
        message::seal(self.u.identity(), KIND_ACCEPT, self.c.digest(), "4", None, &json(&payload)?)
    }

    /// Round 4: complete once every participant's signed acceptance of this keyholder's group file is
    /// visible (see [`visible_acceptances`]); then store the share and the group file carrying the n
    /// acceptances, which proves to anyone, and to any keyholder who has not finished yet, that everyone
    /// accepted it. A participant whose visible acceptances all name another file stops the ceremony.
    fn accept_round(&self, a: Accepted, report: &mut Report) -> Result<Progress<'r, DkgState>> {
        let c = self.c;
        // The core this keyholder built and checked in round 4, from its own sealed state.
        let core = Group::parse_known(&a.group, Some(&CheckedDigest::of_sealed_text(a.group.as_bytes())))
            .map_err(|_| Error::new("damaged key generation state (round 4)"))?;
        let mine = core.core_digest();
        let visible = visible_acceptances(self, &mine)?;
        let n = c.cards().len();
        let (chosen, other) = sort_acceptances(&visible, n, mine.bytes());
        if let Some((j, (text, path))) =
            other.iter().enumerate().find_map(|(j, o)| o.filter(|_| chosen[j].is_none()).map(|o| (j, o)))
        {
            let reason = format!(
                "{} accepted another group file than {} did: the ceremony cannot complete",
                c.cards()[j].name(),
                c.cards()[self.me].name()
            );
            return Err(self.complain_with(None, path, reason, Some(text.to_string())));
        }
        let missing: Vec<usize> = (0..n).filter(|&j| chosen[j].is_none()).collect();
        if !missing.is_empty() {
            return Ok(self.waiting(Phase::Accepted(a), &missing, "acceptances"));
        }
        for j in (0..n).filter(|&j| other[j].is_some()) {
            report.did.push(format!(
                "note: {} also signed an acceptance of another group file (proven equivocation; `frostsign dkg status` shows it); every keyholder accepted yours, so your key generation completes",
                c.cards()[j].name()
            ));
        }
        let acceptances: Vec<&str> = chosen.iter().map(|a| a.map(|v| v.text.as_str()).unwrap_or_default()).collect();
        let group = core.with_acceptances(&acceptances)?;
        let next = self.state(Phase::Done(Done { group: group.fingerprint().compact() }));
        let (u, key_package) = (self.u, a.key_package);
        let mut step = Step::to(
            next,
            format!("all {n} keyholders accepted the same group file; your share is stored in your home"),
            Vec::new(),
            "dkg-done",
        );
        // The share is stored before the state forgets it: a crash in between stores it again. A refresh
        // destroys the old share only now, when every member accepted the new group.
        let retired = c.renews().map(|(group, _)| group.to_string());
        step.before_save = Some(Box::new(move || {
            u.store_share(&group, &key_package)?;
            retired.map_or(Ok(()), |old| {
                u.retire_share(&old)?;
                crate::ceremony::refresh::release(u, &old)
            })
        }));
        Ok(Progress::Advanced(step))
    }

    /// A failure whose culprit can be named: published as a signed complaint, then returned as an error.
    pub fn complain(&self, culprit: Option<usize>, file: &Path, reason: String) -> Error {
        self.complain_with(culprit, file, reason, None)
    }

    /// [`KeyGen::complain`], with evidence (the suspect's signed file as this keyholder saw it) attached
    /// to the published complaint.
    pub fn complain_with(
        &self,
        culprit: Option<usize>,
        file: &Path,
        reason: String,
        evidence: Option<String>,
    ) -> Error {
        super::evidence::complain(*self, culprit, file, reason, evidence)
    }
}

impl KeyGen<'_> {
    /// `group` (this keyholder's accepted group, without acceptances: completed under frostsign 0.1)
    /// with every member's acceptance of it, if all n are visible in the folder.
    pub fn with_visible_acceptances(&self, group: &Group) -> Result<Option<Group>> {
        let mine = group.core_digest();
        let visible = visible_acceptances(self, &mine)?;
        let (chosen, _) = sort_acceptances(&visible, self.c.cards().len(), mine.bytes());
        let Some(texts) = chosen.iter().map(|v| v.map(|v| v.text.as_str())).collect::<Option<Vec<&str>>>() else {
            return Ok(None);
        };
        group.with_acceptances(&texts).map(Some)
    }
}

/// For each participant: the acceptance of the group file `mine` to embed (see [`preferred`]), and one
/// acceptance of another file with where it was found, if it signed one.
#[allow(clippy::type_complexity)]
fn sort_acceptances<'v>(
    visible: &'v [Visible],
    n: usize,
    mine: &[u8; 32],
) -> (Vec<Option<&'v Visible>>, Vec<Option<(&'v str, &'v Path)>>) {
    let mut chosen: Vec<Option<&Visible>> = vec![None; n];
    let mut other: Vec<Option<(&str, &Path)>> = vec![None; n];
    for v in visible.iter().filter(|v| v.sender < n) {
        if v.payload.group_file == *mine {
            chosen[v.sender] = Some(preferred(chosen[v.sender], v));
        } else {
            other[v.sender].get_or_insert((v.text.as_str(), v.path.as_path()));
        }
    }
    (chosen, other)
}

/// A signed acceptance found in the folder.
struct Visible {
    sender: usize,
    payload: AcceptPayload,
    text: String,
    path: PathBuf,
    in_group_file: bool,
}

/// Every acceptance validly signed by a participant for this ceremony that the folder shows: under its
/// own name, carried as evidence in a complaint, or embedded in the folder's group file. A keyholder who
/// signed two different acceptances may appear twice; that is proof it equivocated, but each acceptance
/// it signed still stands for what it names.
fn visible_acceptances(run: &KeyGen<'_>, mine: &CheckedDigest) -> Result<Vec<Visible>> {
    let (folder, c) = (run.folder, run.c);
    let e = expect(c, KIND_ACCEPT, "4", false);
    let mut out = Vec::new();
    for j in 0..c.cards().len() {
        let name = names::accept(&c.cards()[j]);
        if let Ok(Some(r)) = folder.receive(&name, &e, c.cards(), j, None) {
            if let Ok(payload) = r.opened.decode::<AcceptPayload>() {
                out.push(Visible { sender: j, payload, text: r.text, path: r.path, in_group_file: false });
            }
        }
    }
    for ev in signed_evidence_in(folder, c, run.complaint_names()?, Some(mine), Some(KIND_ACCEPT))
        .into_iter()
        .filter(|ev| ev.kind == KIND_ACCEPT)
    {
        let opened = message::open(&ev.text, Path::new("evidence"), &e, c.cards(), None);
        if let Some(payload) = opened.ok().and_then(|o| o.decode::<AcceptPayload>().ok()) {
            let path = folder.path(&names::accept(&c.cards()[ev.sender]));
            out.push(Visible { sender: ev.sender, payload, text: ev.text, path, in_group_file: ev.in_group_file });
        }
    }
    Ok(out)
}

/// Of the texts of one keyholder's acceptance of one group, the one that goes into the group file: one
/// embedded in a group file in the folder (`group.pub` or a finisher's `group-FPR.pub`) if there is one
/// (so every keyholder completes with the same bytes as the first), the smallest of those or else of all. Several texts of one decision are one signer signing it twice (frostsign's signatures are
/// deterministic), not a contradiction.
fn preferred<'v>(current: Option<&'v Visible>, candidate: &'v Visible) -> &'v Visible {
    match current {
        Some(c)
            if (c.in_group_file, std::cmp::Reverse(&c.text))
                >= (candidate.in_group_file, std::cmp::Reverse(&candidate.text)) =>
        {
            c
        }
        _ => candidate,
    }
}
