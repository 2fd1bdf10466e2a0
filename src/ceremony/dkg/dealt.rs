//! The keyholder's side of a dealt group (`dealer split`): rounds 1 and 2 of key generation are replaced
//! by one share from the dealer, encrypted to this keyholder and signed by the dealer. The keyholder checks
//! it against the dealer's commitment and the key the ceremony file names, then confirms exactly as in key
//! generation; from there on (confirmations, acceptances, the share stored only when all n agree) the
//! ceremony is key generation's.

use super::rounds::{internal, json};
use super::state::{Confirmed, DkgState, Phase};
use super::{dealt_transcript, expect, names, sha256, ConfirmPayload, DealtPayload, KeyGen, KIND_CONFIRM};
use super::{KIND_DEALT, ROUND_DEALT};
use crate::ceremony::engine::Step;
use crate::error::Result;
use crate::exchange::folder::Received;
use crate::exchange::message;
use crate::secret::SecretBytes;
use frost_ed25519 as frost;
use std::collections::BTreeSet;
use zeroize::Zeroizing;

impl<'r> KeyGen<'r> {
    /// The share dealt to this keyholder, opened (signed by the ceremony's dealer, for this ceremony,
    /// encrypted to this keyholder), or `None` if it is not in the folder yet.
    ///
    /// Before: the ceremony has a dealer.
    pub fn read_dealt(&self) -> Result<Option<Received>> {
        let dealer = self.c.dealer().ok_or_else(|| internal("not a dealt ceremony"))?;
        let e = expect(self.c, KIND_DEALT, ROUND_DEALT, true);
        let name = names::dealt(&self.c.cards()[self.me]);
        self.folder.receive(&name, &e, std::slice::from_ref(&dealer.card), 0, Some(self.u.identity()))
    }

    /// Check the dealt share and confirm: the share is for this keyholder's identifier, matches the
    /// dealer's commitment (`KeyPackage::try_from` verifies it), the commitment is for the ceremony's
    /// threshold, and it makes the key the ceremony file names. Any failure is the dealer's, published as
    /// a signed complaint (which names no keyholder) so the others see the ceremony failed.
    ///
    /// After: the step leads to `Confirmed`, the state key generation reaches after round 3.
    pub fn receive_dealt(&self, r: Received) -> Result<Step<'r, DkgState>> {
        let c = self.c;
        let dealer = c.dealer().ok_or_else(|| internal("not a dealt ceremony"))?;
        let fail = |why: String| {
            let reason = format!("the share dealt by {} {why}", dealer.card.name());
            super::evidence::complain_about_dealer(*self, &dealer.card, &r.path, reason)
        };
        let p: DealtPayload = r.opened.decode().map_err(|e| fail(format!("is malformed: {e}")))?;
        let bytes = Zeroizing::new(hex::decode(p.share.as_bytes()).map_err(|_| fail("is not hex".into()))?);
        let share =
            frost::keys::SecretShare::deserialize(&bytes).map_err(|_| fail("is not a FROST secret share".into()))?;
        if *share.identifier() != c.identifier(self.me) {
            return Err(fail("is for another keyholder's position".into()));
        }
        let commitment = share.commitment().serialize().map_err(|_| fail("has a malformed commitment".into()))?;
        if commitment.len() != c.threshold() as usize {
            return Err(fail(format!("is for a threshold of {}, not {}", commitment.len(), c.threshold())));
        }
        let ids: BTreeSet<frost::Identifier> = c.identifiers().into_iter().collect();
        let public = frost::keys::PublicKeyPackage::from_commitment(&ids, share.commitment())
            .map_err(|_| fail("has a commitment that makes no group key".into()))?;
        let key_package = frost::keys::KeyPackage::try_from(share)
            .map_err(|_| fail("does not match the dealer's commitment".into()))?;
        let group_key: [u8; 32] = public
            .verifying_key()
            .serialize()
            .map_err(internal)?
            .try_into()
            .map_err(|_| internal("the group key is not 32 bytes"))?;
        if group_key != dealer.group_key {
            return Err(fail(format!(
                "makes the key {}, not the key {} the ceremony file names",
                hex::encode(group_key),
                hex::encode(dealer.group_key)
            )));
        }
        let public_bytes = public.serialize().map_err(internal)?;
        let confirm = ConfirmPayload {
            group_key,
            public_key_package: sha256(&[&public_bytes]),
            transcript: dealt_transcript(&commitment),
        };
        let message = message::seal(self.u.identity(), KIND_CONFIRM, c.digest(), "3", None, &json(&confirm)?)?;
        let key_package = SecretBytes::from(Zeroizing::new(key_package.serialize().map_err(internal)?));
        let next =
            self.state(Phase::Confirmed(Confirmed { key_package, public: public_bytes, message, also: Vec::new() }));
        let publish = crate::ceremony::engine::Ceremony::published(self, &next);
        let did = format!(
            "checked the share {} dealt you against the dealer's commitment and key, and published your confirmation",
            dealer.card.name()
        );
        Ok(Step::to(next, did, publish, "dkg-dealt"))
    }
}
