//! Fixtures shared by the fuzz targets: a deterministic keyholder identity (so a crash reproduces from its
//! input alone), re-signing of a fuzzed document with it (so the fuzzer reaches the checks that come after
//! a signature), and the example group of `keys-example/` (real files made by the real binary).

use base64::Engine;
use ed25519_dalek::{Signer, SigningKey};
use frostsign::card::Card;
use frostsign::group::Group;
use frostsign::identity::Identity;
use frostsign::secret::{pack, SecretKey32};
use std::sync::OnceLock;

/// Text of a fuzz input: libFuzzer's bytes, lossily as UTF-8 (parsers take `&str`, as files are read as
/// text and refused when not UTF-8 before any parser sees them).
pub fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// A keyholder identity made from fixed seeds: the same card and keys in every run.
pub fn identity(n: u8) -> Identity {
    let seed = [n; 32];
    let enc = SecretKey32::new([n.wrapping_add(100); 32]);
    let signing = SigningKey::from_bytes(&seed);
    let name = format!("Fuzz{n}");
    let card = Card::create(
        &name,
        1_764_547_200,
        signing.verifying_key().to_bytes(),
        frostsign::identity::x25519_public(&enc).expect("x25519"),
        None,
        |m| signing.sign(m).to_bytes(),
    )
    .expect("card");
    Identity::from_secret_bytes(&pack(&[&seed, enc.expose()]), card).expect("identity")
}

/// The two fixed identities: `ids()[0]` sends, `ids()[1]` receives.
pub fn ids() -> &'static [Identity; 2] {
    static IDS: OnceLock<[Identity; 2]> = OnceLock::new();
    IDS.get_or_init(|| [identity(1), identity(2)])
}

/// `text` with its `signature:` line (if any) replaced by `id`'s signature over every byte before it, as
/// the textdoc syntax signs: the fuzzer then gets past signature checks and into what follows them.
pub fn resign(text: &str, id: &Identity) -> Option<String> {
    let body = match text.rfind("\nsignature: ") {
        Some(at) => &text[..=at],
        None if text.ends_with('\n') => text,
        None => return None,
    };
    let sig = id.sign(body.as_bytes());
    Some(format!("{body}signature: {}\n", base64::engine::general_purpose::STANDARD.encode(sig)))
}

/// The example group (keys-example/group.pub).
pub fn example_group() -> &'static Group {
    static G: OnceLock<Group> = OnceLock::new();
    G.get_or_init(|| Group::parse(include_str!("../../keys-example/group.pub")).expect("example group"))
}

/// The example cards (keys-example/cards).
pub fn example_cards() -> &'static [Card] {
    static C: OnceLock<Vec<Card>> = OnceLock::new();
    C.get_or_init(|| {
        [
            include_str!("../../keys-example/cards/alice.card"),
            include_str!("../../keys-example/cards/bob.card"),
            include_str!("../../keys-example/cards/carol.card"),
        ]
        .iter()
        .map(|t| Card::parse(t).expect("example card"))
        .collect()
    })
}

/// The FROST values frostsign reads from the payloads of others (key generation round-1 and round-2
/// packages, signing commitments, signature shares, signing packages, public key packages): each
/// deserializer on the same bytes, raw and hex-decoded, as the ceremonies call them.
pub fn frost_packages(bytes: &[u8]) -> usize {
    use frost_ed25519 as frost;
    let mut ok = 0;
    let hexed = std::str::from_utf8(bytes).ok().and_then(|t| hex::decode(t.trim_matches('"')).ok());
    for b in std::iter::once(bytes).chain(hexed.as_deref()) {
        ok += usize::from(frost::keys::dkg::round1::Package::deserialize(b).is_ok());
        ok += usize::from(frost::keys::dkg::round2::Package::deserialize(b).is_ok());
        ok += usize::from(frost::round1::SigningCommitments::deserialize(b).is_ok());
        ok += usize::from(frost::round2::SignatureShare::deserialize(b).is_ok());
        ok += usize::from(frost::SigningPackage::deserialize(b).is_ok());
        ok += usize::from(frost::keys::PublicKeyPackage::deserialize(b).is_ok());
        ok += usize::from(frost::keys::SecretShare::deserialize(b).is_ok());
    }
    ok
}
