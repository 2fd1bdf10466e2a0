//! The keyholder's long-term identity: an Ed25519 key that signs every file the keyholder sends, and an
//! X25519 key that others encrypt private ceremony messages to. Both secret; the public halves are the card.

use crate::card::Card;
use crate::error::{Error, Result};
use crate::secret::{pack, unpack, SecretBytes, SecretKey32};
use ed25519_dalek::{Signer, SigningKey};
use hpke::kem::{Kem as _, X25519HkdfSha256};
use hpke::{Deserializable, Serializable};
use std::fmt;

/// A keyholder's secret identity. Zeroized on drop; `Debug` shows only the card.
pub struct Identity {
    signing: SigningKey,
    encryption: SecretKey32,
    card: Card,
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Identity({}, <secret keys redacted>)", self.card.label())
    }
}

/// The X25519 public key of an X25519 secret (as HPKE serializes it).
pub fn x25519_public(secret: &SecretKey32) -> Result<[u8; 32]> {
    let sk = <X25519HkdfSha256 as hpke::Kem>::PrivateKey::from_bytes(secret.expose())
        .map_err(|_| Error::new("invalid X25519 secret key"))?;
    let pk = X25519HkdfSha256::sk_to_pk(&sk);
    Ok(pk.to_bytes().into())
}

impl Identity {
    /// Make a fresh identity with a self-signed card.
    pub fn generate(name: &str, created: i64, insecure: Option<crate::card::InsecureHome>) -> Result<Identity> {
        let mut rng = rand_core::OsRng;
        let signing = SigningKey::generate(&mut rng);
        let (sk, _) = X25519HkdfSha256::gen_keypair(&mut rng);
        let encryption = SecretKey32::from_slice(&sk.to_bytes())
            .ok_or_else(|| crate::error::Error::new("internal error: an X25519 secret key is not 32 bytes"))?;
        let card = Card::create(
            name,
            created,
            signing.verifying_key().to_bytes(),
            x25519_public(&encryption)?,
            insecure,
            |m| signing.sign(m).to_bytes(),
        )?;
        Ok(Identity { signing, encryption, card })
    }

    /// Serialize the secret keys for storage in the home (encrypted by the caller).
    pub fn secret_bytes(&self) -> SecretBytes {
        pack(&[self.signing.as_bytes(), self.encryption.expose()])
    }

    /// Rebuild from stored secret bytes; the keys must match `card`.
    pub fn from_secret_bytes(bytes: &SecretBytes, card: Card) -> Result<Identity> {
        let damaged = || Error::new("damaged identity: the secret keys do not match the card in the home");
        let fields = unpack(bytes.expose(), 2).ok_or_else(damaged)?;
        let seed: [u8; 32] = fields[0].expose().try_into().map_err(|_| damaged())?;
        let signing = SigningKey::from_bytes(&seed);
        let encryption = SecretKey32::from_slice(fields[1].expose()).ok_or_else(damaged)?;
        if signing.verifying_key().to_bytes() != *card.signing_key()
            || x25519_public(&encryption)? != *card.encryption_key()
        {
            return Err(damaged());
        }
        Ok(Identity { signing, encryption, card })
    }

    /// Sign bytes with the identity key.
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.signing.sign(message).to_bytes()
    }

    /// The public card.
    pub fn card(&self) -> &Card {
        &self.card
    }

    /// The X25519 secret key (for opening private messages).
    pub fn encryption_secret(&self) -> &SecretKey32 {
        &self.encryption
    }
}
