//! A keyholder's side of a share repair or enrolment (`share repair`), on key generation's engine:
//! FROST's repairable threshold scheme (`keys::repairable`, frost-ed25519 3.x) rebuilds the share of one
//! identifier from t helpers, none of whom learns it.
//!
//! - Each helper splits (its share x its Lagrange coefficient at the target) into t random deltas, keeps
//!   one and sends one to each other helper, encrypted to it (`delta-FROM-to-TO.txt`); once it has the
//!   others' deltas it sends their sum, its sigma, to the target, encrypted (`sigma-FROM.txt`).
//! - The target sums the t sigmas into its share and checks it against the verifying share the group
//!   implies for its identifier (frost does not check this); a mismatch stops the repair and names no one:
//!   the files cannot tell which helper sent a wrong value.
//! - Every other member's share is unchanged.
//!
//! Then every member (helpers, target and the others) confirms the same new public key package (the old
//! one, plus the target's verifying share when it is new) and accepts the new group file as in key
//! generation; each stores its share under the new group and retires its share of the old one.

use super::rounds::{internal, json};
use super::state::{Confirmed, DkgState, Helping, Phase};
use super::{
    expect, names, sha256, ConfirmPayload, KeyGen, RepairPayload, KIND_CONFIRM, KIND_DELTA, KIND_SIGMA, ROUND_DELTA,
    ROUND_SIGMA,
};
use crate::ceremony::engine::{Progress, Step};
use crate::error::{Error, Result};
use crate::exchange::folder::Received;
use crate::exchange::message;
use crate::group::ceremony::{DkgCeremony, Repair};
use crate::group::{frost_identifier, Group};
use crate::secret::SecretBytes;
use frost_ed25519 as frost;
use frost_ed25519::keys::repairable;
use std::collections::BTreeMap;
use zeroize::Zeroizing;

/// What a keyholder does in a repair.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Role {
    /// The keyholder whose share is rebuilt.
    Target,
    /// One of the t helpers.
    Helper,
    /// Any other member: only confirms and accepts.
    Other,
}

fn repair_of(c: &DkgCeremony) -> Result<&Repair> {
    c.repair().ok_or_else(|| internal("not a repair"))
}

impl<'r> KeyGen<'r> {
    fn role(&self) -> Result<Role> {
        let r = repair_of(self.c)?;
        let me = self.c.identifier_numbers()[self.me];
        Ok(if me == r.target {
            Role::Target
        } else if r.helpers.contains(&me) {
            Role::Helper
        } else {
            Role::Other
        })
    }

    /// The participant position of identifier number `id`.
    fn position(&self, id: u16) -> Result<usize> {
        self.c.position_of(&frost_identifier(id)).ok_or_else(|| internal("an identifier outside the ceremony"))
    }

    /// The group repaired, as this keyholder's home holds it (a new keyholder's home keeps the copy it
    /// was given, checked against the ceremony's fingerprint, before it joins).
    fn repaired_group(&self) -> Result<Group> {
        self.u.home().group(&repair_of(self.c)?.group)
    }

    /// The new group's public key package: the old one, with the target's verifying share (derived from
    /// the old group, see [`Group::verifying_share_of`]) for the new card or new identifier.
    fn repaired_package(&self, old: &Group) -> Result<frost::keys::PublicKeyPackage> {
        let r = repair_of(self.c)?;
        let target = frost_identifier(r.target);
        let mut shares = BTreeMap::new();
        for id in self.c.identifiers() {
            let share = match old.package()?.verifying_shares().get(&id) {
                Some(s) if id != target => *s,
                _ => old.verifying_share_of(id)?,
            };
            shares.insert(id, share);
        }
        Ok(frost::keys::PublicKeyPackage::new(shares, *old.package()?.verifying_key(), Some(old.threshold())))
    }

    /// This keyholder's confirmation of the repaired group, holding `key_package` (its own unchanged
    /// share, or the target's rebuilt one), with `also` (a helper's values) still republished.
    fn repair_confirm(
        &self,
        key_package: SecretBytes,
        old: &Group,
        also: Vec<(String, String)>,
        did: String,
    ) -> Result<Step<'r, DkgState>> {
        let public = self.repaired_package(old)?;
        let public_bytes = public.serialize().map_err(internal)?;
        let confirm = ConfirmPayload {
            group_key: *old.key(),
            public_key_package: sha256(&[&public_bytes]),
            transcript: sha256(&[b"frostsign repair transcript v1\0", &public_bytes]),
        };
        let c = self.c;
        let message = message::seal(self.u.identity(), KIND_CONFIRM, c.digest(), "3", None, &json(&confirm)?)?;
        let next = self.state(Phase::Confirmed(Confirmed { key_package, public: public_bytes, message, also }));
        let publish = crate::ceremony::engine::Ceremony::published(self, &next);
        Ok(Step::to(next, did, publish, "dkg-repair"))
    }

    /// The first step of a repair, by role: a helper sends its deltas; another member confirms at once;
    /// the target, once every helper's sigma is there, rebuilds its share and confirms (`None` while it
    /// waits). `confirm` asks the keyholder to join, once it has something to do.
    pub fn repair_first_step(
        &self,
        confirm: impl FnOnce(&DkgCeremony) -> Result<()>,
    ) -> Result<Option<Step<'r, DkgState>>> {
        match self.role()? {
            Role::Helper => {
                confirm(self.c)?;
                self.repair_send_deltas().map(Some)
            }
            Role::Other => {
                confirm(self.c)?;
                let old = self.repaired_group()?;
                let own = self.u.load_share(&old)?;
                let key_package = SecretBytes::from(Zeroizing::new(own.serialize().map_err(internal)?));
                let did = "checked the repair and published your confirmation of the repaired group".to_string();
                self.repair_confirm(key_package, &old, Vec::new(), did).map(Some)
            }
            Role::Target => {
                let Some(sigmas) = self.read_sigmas()? else { return Ok(None) };
                confirm(self.c)?;
                self.repair_receive(sigmas).map(Some)
            }
        }
    }

    /// Whom a keyholder with no state in a repair waits for (only the target waits before joining).
    pub fn repair_waiting(&self) -> String {
        let names: Vec<&str> = repair_of(self.c)
            .map(|r| {
                r.helpers.iter().filter_map(|h| self.position(*h).ok()).map(|j| self.c.cards()[j].name()).collect()
            })
            .unwrap_or_default();
        format!("the repair values of {}", names.join(", "))
    }

    /// A helper's first step: split its share's contribution into t deltas, keep its own, send the rest.
    fn repair_send_deltas(&self) -> Result<Step<'r, DkgState>> {
        let r = repair_of(self.c)?;
        let old = self.repaired_group()?;
        let own = self.u.load_share(&old)?;
        let helpers: Vec<frost::Identifier> = r.helpers.iter().map(|h| frost_identifier(*h)).collect();
        let deltas = repairable::repair_share_part1::<frost::Ed25519Sha512, _>(
            &helpers,
            &own,
            &mut rand_core::OsRng,
            frost_identifier(r.target),
        )
        .map_err(|e| Error::new(format!("repair step 1 failed: {e}")))?;
        let me = self.c.identifier(self.me);
        let mut own_delta = None;
        let mut outbox = Vec::new();
        for (id, delta) in &deltas {
            let value = SecretBytes::from(Zeroizing::new(delta.serialize()));
            if *id == me {
                own_delta = Some(value);
                continue;
            }
            let to =
                &self.c.cards()[self.c.position_of(id).ok_or_else(|| internal("a helper outside the ceremony"))?];
            let body =
                crate::secret::secret_json(&RepairPayload { value: Zeroizing::new(hex::encode(value.expose())) })
                    .map_err(internal)?;
            let sealed =
                message::seal(self.u.identity(), KIND_DELTA, self.c.digest(), ROUND_DELTA, Some(to), body.expose())?;
            outbox.push((names::delta(&self.c.cards()[self.me], to), sealed));
        }
        let own_delta = own_delta.ok_or_else(|| internal("no delta for this helper"))?;
        let next = self.state(Phase::Helping(Helping { own_delta, outbox }));
        let publish = crate::ceremony::engine::Ceremony::published(self, &next);
        let did = "joined the repair and sent your encrypted repair values to the other helpers".to_string();
        Ok(Step::to(next, did, publish, "dkg-repair-deltas"))
    }

    /// A helper's second step: with every other helper's delta, send the target its sigma and confirm.
    pub(super) fn repair_help(&self, h: Helping) -> Result<Progress<'r, DkgState>> {
        let r = repair_of(self.c)?;
        let mine = &self.c.cards()[self.me];
        let e = expect(self.c, KIND_DELTA, ROUND_DELTA, true);
        let mut deltas =
            vec![repairable::Delta::deserialize(h.own_delta.expose()).map_err(|_| Error::new("damaged repair state"))?];
        let mut missing = Vec::new();
        for &id in r.helpers.iter().filter(|&&id| id != self.c.identifier_numbers()[self.me]) {
            let j = self.position(id)?;
            let name = names::delta(&self.c.cards()[j], mine);
            match self.folder.receive(&name, &e, self.c.cards(), j, Some(self.u.identity()))? {
                None => missing.push(j),
                Some(received) => deltas.push(self.repair_value(j, &received, repairable::Delta::deserialize)?),
            }
        }
        if !missing.is_empty() {
            let names: Vec<&str> = missing.iter().map(|&j| self.c.cards()[j].name()).collect();
            return Ok(Progress::Waiting(
                self.state(Phase::Helping(h)),
                format!("repair values from {}", names.join(", ")),
            ));
        }
        let sigma = repairable::repair_share_part2(&deltas);
        let target = &self.c.cards()[self.position(r.target)?];
        let value = Zeroizing::new(hex::encode(Zeroizing::new(sigma.serialize())));
        let body = crate::secret::secret_json(&RepairPayload { value }).map_err(internal)?;
        let sealed =
            message::seal(self.u.identity(), KIND_SIGMA, self.c.digest(), ROUND_SIGMA, Some(target), body.expose())?;
        let mut also = h.outbox;
        also.push((names::sigma(mine), sealed));
        let old = self.repaired_group()?;
        let own = self.u.load_share(&old)?;
        let key_package = SecretBytes::from(Zeroizing::new(own.serialize().map_err(internal)?));
        let did = format!(
            "combined the helpers' values, sent {} its encrypted repair value and published your confirmation",
            target.name()
        );
        self.repair_confirm(key_package, &old, also, did).map(Progress::Advanced)
    }

    /// One helper's value (a delta or a sigma) from a received file; a malformed one is its sender's fault.
    fn repair_value<T>(
        &self,
        j: usize,
        r: &Received,
        parse: impl Fn(&[u8]) -> std::result::Result<T, frost::Error>,
    ) -> Result<T> {
        let p: RepairPayload =
            r.opened.decode().map_err(|e| self.complain(Some(j), &r.path, format!("malformed repair value: {e}")))?;
        let bytes = Zeroizing::new(
            hex::decode(p.value.as_bytes())
                .map_err(|_| self.complain(Some(j), &r.path, "malformed repair value".into()))?,
        );
        parse(&bytes).map_err(|_| self.complain(Some(j), &r.path, "malformed repair value (not a scalar)".into()))
    }

    /// The target's view of the helpers' sigmas: all t, or `None` while some are missing.
    fn read_sigmas(&self) -> Result<Option<Vec<(usize, Received)>>> {
        let r = repair_of(self.c)?;
        let e = expect(self.c, KIND_SIGMA, ROUND_SIGMA, true);
        let mut found = Vec::new();
        for &id in &r.helpers {
            let j = self.position(id)?;
            match self.folder.receive(
                &names::sigma(&self.c.cards()[j]),
                &e,
                self.c.cards(),
                j,
                Some(self.u.identity()),
            )? {
                Some(received) => found.push((j, received)),
                None => return Ok(None),
            }
        }
        Ok(Some(found))
    }

    /// The target rebuilds its share from the t sigmas and checks it against the verifying share the
    /// group implies for its identifier before confirming anything.
    fn repair_receive(&self, sigmas: Vec<(usize, Received)>) -> Result<Step<'r, DkgState>> {
        let r = repair_of(self.c)?;
        let values = sigmas
            .iter()
            .map(|(j, rc)| self.repair_value(*j, rc, repairable::Sigma::deserialize))
            .collect::<Result<Vec<_>>>()?;
        let old = self.repaired_group()?;
        let public = self.repaired_package(&old)?;
        let id = frost_identifier(r.target);
        let key_package = repairable::repair_share_part3(&values, id, &public)
            .map_err(|e| Error::new(format!("repair failed: {e}")))?;
        if Some(key_package.verifying_share()) != public.verifying_shares().get(&id) {
            let helpers: Vec<&str> = sigmas.iter().map(|(j, _)| self.c.cards()[*j].name()).collect();
            let path = &sigmas[0].1.path;
            return Err(self
                .complain(
                    None,
                    path,
                    format!(
                        "the share rebuilt from the helpers' values does not match identifier {}'s verifying share in the group",
                        r.target
                    ),
                )
                .with_note(format!(
                    "one of the helpers ({}) sent a wrong value, or one was replaced: these files cannot tell which",
                    helpers.join(", ")
                )));
        }
        let key_package = SecretBytes::from(Zeroizing::new(key_package.serialize().map_err(internal)?));
        let did = "rebuilt your share from the helpers' values, checked it against the group, and published your confirmation"
            .to_string();
        self.repair_confirm(key_package, &old, Vec::new(), did)
    }
}
