//! A keyholder's key generation state between steps: one type per phase, each consumed by the next phase,
//! kept encrypted in the home by the ceremony engine (JSON inside the vault's sealed file). Every state is
//! bound to the digest of the ceremony file the keyholder joined.
//!
//! States written by frostsign 0.1 (a packed binary layout, docs/formats.md section 8.4) are still read.

use crate::secret::codec::{b64, b64_list, hex32, hex32_list};
use crate::secret::{unpack_all, SecretBytes};
use serde::{Deserialize, Serialize};

/// The state, bound to the ceremony it belongs to.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DkgState {
    /// SHA-256 of the ceremony file joined.
    #[serde(with = "hex32")]
    pub ceremony: [u8; 32],
    /// Where the keyholder is.
    pub phase: Phase,
}

/// The phases, in order.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// Round 1 published.
    Joined(Joined),
    /// Round 2 published.
    Shared(Shared),
    /// A repair helper sent its deltas to the other helpers (`share repair`).
    Helping(Helping),
    /// Key share computed, confirmation published.
    Confirmed(Confirmed),
    /// All confirmations agreed; acceptance published.
    Accepted(Accepted),
    /// Complete: the share and the group file are in the home.
    Done(Done),
}

/// After round 1: the round-1 secret and the published round-1 file.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Joined {
    /// `dkg::round1::SecretPackage`.
    pub secret: SecretBytes,
    /// This keyholder's round-1 file.
    pub message: String,
}

/// After round 2.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shared {
    /// `dkg::round2::SecretPackage`.
    pub secret: SecretBytes,
    /// Every participant's round-1 package bytes, in order.
    #[serde(with = "b64_list")]
    pub round1: Vec<Vec<u8>>,
    /// SHA-256 of every round-1 file as this keyholder read it.
    #[serde(with = "hex32_list")]
    pub digests: Vec<[u8; 32]>,
    /// The round-2 files sent, in recipient order (this keyholder left out).
    pub outbox: Vec<String>,
    /// The round-1 files as this keyholder saw them: evidence if someone equivocated.
    pub texts: Vec<String>,
}

/// A repair helper after its first step: its own delta (kept) and the deltas it sent, in helper order
/// (itself left out).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Helping {
    /// `repairable::Delta`: the part of this helper's share meant for itself.
    pub own_delta: SecretBytes,
    /// The delta files sent to the other helpers (names and texts).
    pub outbox: Vec<(String, String)>,
}

/// After round 3.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Confirmed {
    /// `keys::KeyPackage`: the key share.
    pub key_package: SecretBytes,
    /// `keys::PublicKeyPackage`.
    #[serde(with = "b64")]
    pub public: Vec<u8>,
    /// This keyholder's confirmation file.
    pub message: String,
    /// Files from an earlier step that others may still need (a repair helper's deltas and sigma):
    /// republished while this state lasts. Names and texts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also: Vec<(String, String)>,
}

/// After accepting the group file.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Accepted {
    /// The key share.
    pub key_package: SecretBytes,
    /// The group file's core (without acceptances).
    pub group: String,
    /// This keyholder's acceptance file.
    pub message: String,
}

/// Complete: only which group this ceremony made (the secrets are gone from the state).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Done {
    /// Compact group fingerprint.
    pub group: String,
}

/// Read a state in frostsign 0.1's packed layout (tag, ceremony digest, then the phase's fields).
pub fn decode_packed(bytes: &SecretBytes) -> Option<DkgState> {
    let utf8 = |b: &SecretBytes| String::from_utf8(b.expose().to_vec()).ok();
    let f = unpack_all(bytes.expose())?;
    let ceremony: [u8; 32] = f.get(1)?.expose().try_into().ok()?;
    let phase = match (f[0].expose(), f.len()) {
        (b"r1", 4) => Phase::Joined(Joined { secret: f[2].clone(), message: utf8(&f[3])? }),
        (b"r2", 7) => Phase::Shared(Shared {
            secret: f[2].clone(),
            round1: unpack_all(f[3].expose())?.iter().map(|x| x.expose().to_vec()).collect(),
            digests: f[4].expose().chunks(32).map(|c| c.try_into().ok()).collect::<Option<_>>()?,
            outbox: unpack_all(f[5].expose())?.iter().map(utf8).collect::<Option<_>>()?,
            texts: unpack_all(f[6].expose())?.iter().map(utf8).collect::<Option<_>>()?,
        }),
        (b"r3", 5) => Phase::Confirmed(Confirmed {
            key_package: f[2].clone(),
            public: f[3].expose().to_vec(),
            message: utf8(&f[4])?,
            also: Vec::new(),
        }),
        (b"done", 3) => Phase::Done(Done { group: utf8(&f[2])? }),
        _ => return None,
    };
    Some(DkgState { ceremony, phase })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::pack;

    #[test]
    fn states_round_trip_through_json_and_read_the_packed_layout_of_0_1() {
        let s = DkgState {
            ceremony: [3; 32],
            phase: Phase::Shared(Shared {
                secret: SecretBytes::new(vec![1, 2, 3]),
                round1: vec![vec![4; 10], vec![5; 11]],
                digests: vec![[6; 32], [7; 32]],
                outbox: vec!["a".into()],
                texts: vec!["t1".into(), "t2".into()],
            }),
        };
        let json = serde_json::to_vec(&s).unwrap();
        assert!(!String::from_utf8_lossy(&json).contains("[1,2,3]"), "secrets are base64 text");
        let back: DkgState = serde_json::from_slice(&json).unwrap();
        let Phase::Shared(sh) = back.phase else { panic!("another phase") };
        assert_eq!(
            (sh.round1, sh.digests, sh.outbox),
            (vec![vec![4; 10], vec![5; 11]], vec![[6; 32], [7; 32]], vec!["a".to_string()])
        );
        assert_eq!(sh.secret.expose(), &[1, 2, 3]);

        let packed = pack(&[b"r1", &[9; 32], b"secret", b"round-1 text"]);
        let old = decode_packed(&packed).unwrap();
        assert_eq!(old.ceremony, [9; 32]);
        assert!(matches!(old.phase, Phase::Joined(j) if j.message == "round-1 text" && j.secret.expose() == b"secret"));
        assert!(decode_packed(&pack(&[b"r9", &[9; 32]])).is_none());
    }
}
