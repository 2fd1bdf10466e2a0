//! Regressions of what coverage-guided fuzzing (fuzz/, `make fuzz`) found: each test replays a failing
//! input, or the property it broke, through the library's public API. docs/security.md ("Fuzzing") lists
//! the targets and the time fuzzed.

use frostsign::exchange::message::{open, seal, Expect};
use frostsign::identity::Identity;
use frostsign::textdoc::{DocWriter, Document, Need, Spec};
use std::path::Path;

/// fuzz target `textdoc`, first minutes: `DocWriter::block` with empty data wrote `key:` and no
/// continuation line, which `Document::parse` refuses ("field has no value"): the writer produced a file
/// its own parser cannot read (a sealed message with an empty payload could never be opened). The writer
/// now refuses an empty block, naming the field, as it refuses a bad one-line value.
#[test]
fn an_empty_block_is_refused_by_the_writer_instead_of_written_unreadable() {
    let schema = [Spec::line("kind", Need::Required), Spec::block("part", Need::Repeated)];
    let e = DocWriter::new("t", 1).field("kind", "k").block("part", b"x").block("part", b"").finish().unwrap_err();
    assert!(e.to_string().contains("part") && e.to_string().contains("empty"), "{e}");
    // The replayed input: every document the writer does write, its parser reads back.
    let text = DocWriter::new("t", 1).field("kind", "k").block("part", b"x").finish().unwrap();
    assert_eq!(Document::parse(&text, "t", &schema, false).unwrap().blocks("part"), vec!["eA=="]);

    let alice = Identity::generate("Alice", 1_764_547_200, None).unwrap();
    let e = seal(&alice, "dkg-round1", &[7; 32], "1", None, b"").unwrap_err();
    assert!(e.message().contains("payload"), "{}", e.message());
    let text = seal(&alice, "dkg-round1", &[7; 32], "1", None, b"{}").unwrap();
    let expect = Expect { kind: "dkg-round1", ceremony: &[7; 32], round: "1", private: false };
    let opened = open(&text, Path::new("m.txt"), &expect, &[alice.card().clone()], None).unwrap();
    assert_eq!(opened.payload.expose(), b"{}");
}

/// Random bytes from the operating system (the property tests below need no generator crate).
fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut b);
    b
}

/// A random printable string of up to `max` characters, with spaces, tabs, parentheses and non-ASCII
/// letters where a format allows them.
fn random_text(max: usize) -> String {
    const ALPHABET: &[char] = &['a', 'Z', '0', ' ', '(', ')', '=', '-', '.', '/', 'é', 'ß', '\u{4e2d}', '\t'];
    let len = random::<1>()[0] as usize % (max + 1);
    random::<256>()[..len].iter().map(|b| ALPHABET[*b as usize % ALPHABET.len()]).collect()
}

/// Property test of the codecs in the normal suite (the fuzz targets `formats_roundtrip`, `textdoc` and
/// `message_roundtrip` explore the same properties with coverage guidance): 300 random cases of every
/// signature and key writer read back by its parser, the file syntax, and sealed messages.
#[test]
fn every_writer_is_read_back_by_its_parser_for_random_values() {
    use frostsign::formats::{minisign, openpgp, signify, ssh};
    let alice = Identity::generate("Alice", 1_764_547_200, None).unwrap();
    let bob = Identity::generate("Bob", 1_764_547_200, None).unwrap();
    for _ in 0..300 {
        let (pk, id, sig, sig2, digest) =
            (random::<32>(), random::<8>(), random::<64>(), random::<64>(), random::<32>());
        let time = u32::from_be_bytes(random::<4>());
        let comment = random_text(40).replace('\t', " ");
        let tc = random_text(60);

        let m = minisign::MinisignSignature {
            key_id: id,
            signature: sig,
            trusted_comment: tc.clone(),
            global_signature: sig2,
        };
        assert_eq!(minisign::MinisignSignature::parse(&m.encode(&comment)), Ok(m));
        assert_eq!(minisign::parse_public_key(&minisign::public_key_file(&id, &pk)), Some((id, pk)));

        let p = ssh::parse_signature(&ssh::armored_signature(&pk, &comment, &sig)).unwrap();
        assert_eq!((p.public_key, p.namespace, p.signature), (pk, comment.clone(), sig));
        assert_eq!(ssh::parse_public_key(&ssh::public_key_line(&pk, &comment)), Some(pk));

        let key = openpgp::PgpKey { pk, created: time };
        let p = openpgp::parse_signature(&key.armored_signature(time, &digest, &sig)).unwrap();
        assert_eq!((p.signature, p.trailer()), (sig, key.file_trailer(time)));
        assert_eq!(openpgp::parse_public_key(&key.armored_public_key(&tc, time, &sig)), Some(pk));

        let name = format!("{}.tar.gz", random_text(20).replace('\t', "_"));
        let manifest = signify::manifest(&[(name.as_str(), &digest)]);
        let p = signify::parse_signed_manifest(&signify::signed_manifest(&id, &sig, &comment, &manifest)).unwrap();
        assert_eq!((p.key_id, p.signature, signify::lookup(&p.manifest, &name)), (id, sig, Some(digest)));

        let payload = random::<64>();
        let payload = &payload[..1 + payload[0] as usize % 63];
        let text = DocWriter::new("t", 1).field("kind", "k").block("part", payload).finish().unwrap();
        let schema = [Spec::line("kind", Need::Required), Spec::block("part", Need::Repeated)];
        assert_eq!(Document::parse(&text, "t", &schema, false).unwrap().block("part").unwrap(), payload);

        let ceremony = random::<32>();
        let sealed = seal(&alice, "dkg-round2", &ceremony, "2", Some(bob.card()), payload).unwrap();
        let expect = Expect { kind: "dkg-round2", ceremony: &ceremony, round: "2", private: true };
        let known = [alice.card().clone(), bob.card().clone()];
        let opened = open(&sealed, Path::new("m.txt"), &expect, &known, Some(&bob)).unwrap();
        assert_eq!(opened.payload.expose(), payload);
        assert!(open(&sealed, Path::new("m.txt"), &expect, &known, Some(&alice)).is_err());
    }
}
