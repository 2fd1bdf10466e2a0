//! FROST structures this keyholder's own computation produced and kept in its sealed state, decoded
//! without frost's subgroup checks.
//!
//! frost-ed25519 decodes every point with a check that it is in the prime-order subgroup: one scalar
//! multiplication each (about ten times a decompression). A keyholder's sealed state (encrypted and
//! authenticated under its home key) holds the others' round-1 packages, exactly the bytes round 2 read
//! from the folder and decoded with every check (used again in round 3), and the group's public key
//! package, which frost computed in round 3 from checked points (used in the confirmation step).
//! Checking them again cost t(n-1) and n+1 scalar multiplications per step. Decodings made here are
//! never remembered as checked ones (`group::public_key_package`'s memo holds only frost's).
//!
//! Before a call: the bytes come from this keyholder's sealed home or state, never from a folder or any
//! other place another party can write (those go through frost's checked decoding).
//! After: `Some` only when the bytes are in the layout frost serializes, header included (a round-1
//! package's confirmed on a probe of its first coefficient, a public key package's by serializing it
//! whole); anything unexpected (another frost version's layout) returns `None`, and the caller takes
//! frost's checked path.
//!
//! Layouts are frost's (postcard): a 5-byte header (version, ciphersuite), lengths as LEB128, each
//! point or scalar as its 32 bytes.

use frost_core::keys::{CoefficientCommitment, VerifiableSecretSharingCommitment, VerifyingShare};
use frost_core::{Field, Group};
use frost_ed25519 as frost;
use frost_ed25519::keys::dkg;
use std::collections::BTreeMap;

/// frost's serialization header: a version byte and the ciphersuite's 4-byte id.
const HEADER_LEN: usize = 5;
/// The bytes of an encoded point or scalar.
const ELEMENT_LEN: usize = 32;
/// postcard's tag of a present `Option` value (`min_signers`), and the length of a signature (R, z).
const SOME: u8 = 1;
const SIGNATURE_LEN: u8 = 64;

type Point = <frost::Ed25519Group as Group>::Element;

/// A point decompressed, refused if it is the identity (as frost refuses it), not checked for the
/// subgroup.
fn point(b: &[u8]) -> Option<Point> {
    let b: [u8; ELEMENT_LEN] = b.try_into().ok()?;
    let p = ed25519_dalek::VerifyingKey::from_bytes(&b).ok()?.to_edwards();
    (p != <frost::Ed25519Group as Group>::identity()).then_some(p)
}

/// A postcard length (LEB128, at most 3 bytes here) and the bytes after it.
fn length(bytes: &[u8]) -> Option<(usize, &[u8])> {
    let mut value = 0usize;
    for (i, byte) in bytes.iter().take(3).enumerate() {
        value |= usize::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((value, &bytes[i + 1..]));
        }
    }
    None
}

/// A round-1 package from the sealed state (round 2 read it from the folder with
/// [`dkg::round1::Package::deserialize`], every point checked). Layout: header, the number of
/// coefficients, each coefficient's point, 64 and the proof of knowledge (R, z), nothing after it.
pub(crate) fn round1_package(bytes: &[u8]) -> Option<dkg::round1::Package> {
    let (count, rest) = length(bytes.get(HEADER_LEN..)?)?;
    let points = rest.get(..count.checked_mul(ELEMENT_LEN)?)?;
    let coefficients = points
        .chunks_exact(ELEMENT_LEN)
        .map(|c| point(c).map(CoefficientCommitment::new))
        .collect::<Option<Vec<_>>>()?;
    let sig = rest.get(points.len()..)?.strip_prefix(&[SIGNATURE_LEN])?;
    if sig.len() != usize::from(SIGNATURE_LEN) || count == 0 {
        return None;
    }
    let z = <frost::Ed25519ScalarField as Field>::deserialize(&sig[ELEMENT_LEN..].try_into().ok()?).ok()?;
    let proof = frost::Signature::new(point(&sig[..ELEMENT_LEN])?, z);
    // The layout is confirmed on a probe of the first coefficient and the proof, which must serialize to
    // exactly those bytes: serializing all t points would compress each again (t(n-1) inversions in a
    // round 3, as much as the decompressions saved).
    let probe = dkg::round1::Package::new(VerifiableSecretSharingCommitment::new(coefficients[..1].to_vec()), proof);
    let expected = [&bytes[..HEADER_LEN], &[1u8], &points[..ELEMENT_LEN], &[SIGNATURE_LEN], sig].concat();
    (probe.serialize().ok()? == expected)
        .then(|| dkg::round1::Package::new(VerifiableSecretSharingCommitment::new(coefficients), proof))
}

/// The group's public key package from the sealed state (round 3 computed it with frost from checked
/// commitments; a dealt or repaired group's from a checked commitment or group). Layout: header, the
/// number of members, each member's identifier (scalar) and verifying share (point), the group key,
/// then `min_signers` (absent, or 1 and a LEB128 number).
pub(crate) fn public_key_package(bytes: &[u8]) -> Option<frost::keys::PublicKeyPackage> {
    let (count, rest) = length(bytes.get(HEADER_LEN..)?)?;
    let entries = rest.get(..count.checked_mul(2 * ELEMENT_LEN)?)?;
    let mut shares = BTreeMap::new();
    for entry in entries.chunks_exact(2 * ELEMENT_LEN) {
        let id = frost::Identifier::deserialize(&entry[..ELEMENT_LEN]).ok()?;
        shares.insert(id, VerifyingShare::new(point(&entry[ELEMENT_LEN..])?));
    }
    let rest = rest.get(entries.len()..)?;
    let key = frost::VerifyingKey::new(point(rest.get(..ELEMENT_LEN)?)?);
    let min_signers = match rest.get(ELEMENT_LEN..)? {
        [] => None,
        [SOME, more @ ..] => Some(u16::try_from(length(more)?.0).ok()?),
        _ => return None,
    };
    let package = frost::keys::PublicKeyPackage::new_internal(shares, key, min_signers);
    (package.serialize().ok()? == bytes).then_some(package)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Anything but exactly `bytes` is refused or decodes to what serializes to itself (never to
    /// something else).
    fn refuses_every_alteration<T: PartialEq + std::fmt::Debug>(
        bytes: &[u8],
        decode: fn(&[u8]) -> Option<T>,
        serialize: fn(&T) -> Vec<u8>,
    ) {
        assert!(decode(&bytes[..bytes.len() - 1]).is_none());
        assert!(decode(&[bytes, &[0]].concat()).is_none());
        assert!(decode(&bytes[..40]).is_none());
        for i in [0, 4, 5, 6, 40, bytes.len() - 65, bytes.len() - 3, bytes.len() - 1] {
            let mut b = bytes.to_vec();
            b[i] ^= 0x80;
            if let Some(p) = decode(&b) {
                assert_eq!(serialize(&p), b, "byte {i}");
            }
        }
    }

    #[test]
    fn own_round1_packages_decode_as_frost_decodes_them() {
        // 130 coefficients: the count takes two bytes.
        for (t, n) in [(2u16, 3u16), (3, 5), (130, 140)] {
            let (_, package) = dkg::part1(1u16.try_into().unwrap(), n, t, rand_core::OsRng).unwrap();
            let bytes = package.serialize().unwrap();
            let fast = round1_package(&bytes).expect("frost's own bytes decode");
            assert_eq!(fast, dkg::round1::Package::deserialize(&bytes).unwrap());
            refuses_every_alteration(&bytes, round1_package, |p| p.serialize().unwrap());
        }
    }

    #[test]
    fn own_public_key_packages_decode_as_frost_decodes_them() {
        // 140 members: the count takes two bytes; a threshold of 130 too.
        for (t, n) in [(2u16, 3u16), (3, 5), (130, 140)] {
            let (_, public) =
                frost::keys::generate_with_dealer(n, t, frost::keys::IdentifierList::Default, rand_core::OsRng)
                    .unwrap();
            let bytes = public.serialize().unwrap();
            let fast = public_key_package(&bytes).expect("frost's own bytes decode");
            assert_eq!(fast, frost::keys::PublicKeyPackage::deserialize(&bytes).unwrap());
            assert_eq!(fast.min_signers(), Some(t));
            refuses_every_alteration(&bytes, public_key_package, |p| p.serialize().unwrap());
        }
    }
}
