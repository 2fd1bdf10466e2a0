//! Acceptance tests of issue 2, exchanged files: cards and sealed messages. Round trips between three
//! keyholders, and rejection of every kind of damaged or hostile input (one flipped bit anywhere,
//! truncation, trailing garbage, unknown versions and kinds, directories, huge junk, non-UTF-8), each
//! with an error that names the file and the reason, and with bounded memory.

use crate::common::*;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use frostsign::card::{Card, Fingerprint};
use frostsign::exchange::folder::Folder;
use frostsign::exchange::{open, seal, Expect, Opened};
use frostsign::home::{Home, PassphraseSource, Unlocked};
use frostsign::identity::Identity;
use std::path::{Path, PathBuf};

/// A keyholder made through the CLI, then unlocked through the library.
struct Party {
    holder: Holder,
    u: Unlocked,
    card: Card,
}

impl Party {
    fn id(&self) -> &Identity {
        self.u.identity()
    }
}

fn parties(env: &Env, n: usize) -> Vec<Party> {
    env.holders(n)
        .into_iter()
        .map(|holder| {
            let u =
                Home::open(&holder.home).unwrap().unlock(&PassphraseSource::new(Some(holder.pass.clone()))).unwrap();
            let card = Card::load(&holder.card).unwrap();
            assert_eq!(u.identity().card(), &card, "the exported card is the home's identity");
            Party { holder, u, card }
        })
        .collect()
}

fn cards(ps: &[&Party]) -> Vec<Card> {
    ps.iter().map(|p| p.card.clone()).collect()
}

const CER: [u8; 32] = [0x11; 32];
const OTHER_CER: [u8; 32] = [0x12; 32];

fn expect<'a>(kind: &'a str, ceremony: &'a [u8; 32], round: &'a str, private: bool) -> Expect<'a> {
    Expect { kind, ceremony, round, private }
}

/// The error text of a failed open; panics if it opened.
#[track_caller]
fn rejected(r: frostsign::Result<Opened>) -> String {
    match r {
        Ok(o) => panic!("expected a rejection, but it opened: {o:?}"),
        Err(e) => {
            assert_eq!(e.kind().code(), 2);
            e.to_string()
        }
    }
}

#[track_caller]
fn assert_has(text: &str, needles: &[&str]) {
    for n in needles {
        assert!(text.contains(n), "expected {n:?} in:\n{text}");
    }
}

/// Replace the signature line with a fresh signature by `id` over everything above it.
fn resign(id: &Identity, text: &str) -> String {
    let at = text.rfind("\nsignature: ").expect("signed") + 1;
    let body = &text[..at];
    format!("{body}signature: {}\n", B64.encode(id.sign(body.as_bytes())))
}

fn contains_bytes(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn private_message_from_a_opens_for_b_only_in_this_ceremony_and_round() {
    let env = Env::new();
    let ps = parties(&env, 3);
    let (a, b, c) = (&ps[0], &ps[1], &ps[2]);
    let known = cards(&[a, b, c]);
    let payload = b"FROM-A-TO-B: the round-2 secret share for Bob only";
    let text = seal(a.id(), "dkg-round2", &CER, "2", Some(&b.card), payload).unwrap();

    // Self-describing text; the payload is not readable in it.
    assert!(text.starts_with("frostsign-message: 1\nkind: dkg-round2\n"), "{text}");
    assert_has(
        &text,
        &[
            &format!("\nceremony: {}\n", hex::encode(CER)),
            "\nround: 2\n",
            &format!("\nfrom: {}\n", a.card.fingerprint().compact()),
            &format!("\nto: {}\n", b.card.fingerprint().compact()),
            "\nencryption: hpke-",
            "\nsignature: ",
        ],
    );
    assert!(!contains_bytes(text.as_bytes(), b"FROM-A-TO-B") && !text.contains(&B64.encode(payload)[..40]));
    assert!(text.is_ascii() && text.ends_with('\n'));

    let path = Path::new("cer/round2-a-to-b.txt");
    let e = expect("dkg-round2", &CER, "2", true);
    let opened = open(&text, path, &e, &known, Some(b.id())).expect("B opens A's message");
    assert_eq!(opened.sender, 0);
    assert_eq!(opened.recipient, Some(b.card.fingerprint()));
    assert_eq!(opened.payload.expose(), payload);
    // The sender is reported as an index into the list of known cards, whatever its order.
    let reordered = cards(&[c, b, a]);
    assert_eq!(open(&text, path, &e, &reordered, Some(b.id())).unwrap().sender, 2);
    // Sealing twice gives different files (fresh encryption), both open.
    let again = seal(a.id(), "dkg-round2", &CER, "2", Some(&b.card), payload).unwrap();
    assert_ne!(again, text);
    assert_eq!(open(&again, path, &e, &known, Some(b.id())).unwrap().payload.expose(), payload);

    // Not for C: the error says whom it is addressed to.
    let err = rejected(open(&text, path, &e, &known, Some(c.id())));
    assert_has(
        &err,
        &["cer/round2-a-to-b.txt", "addressed to Bob", &b.card.fingerprint().to_string(), "not to you", "Carol"],
    );
    // Not for the sender either, and not without an identity.
    assert_has(&rejected(open(&text, path, &e, &known, Some(a.id()))), &["addressed to Bob"]);
    assert_has(&rejected(open(&text, path, &e, &known, None)), &["only its recipient"]);

    // Not for B under another ceremony id, another round, another kind, or as a public message.
    let err = rejected(open(&text, path, &expect("dkg-round2", &OTHER_CER, "2", true), &known, Some(b.id())));
    assert_has(&err, &["cer/round2-a-to-b.txt", "another ceremony"]);
    let err = rejected(open(&text, path, &expect("dkg-round2", &CER, "3", true), &known, Some(b.id())));
    assert_has(&err, &["cer/round2-a-to-b.txt", "round `2`", "expected round `3`"]);
    let err = rejected(open(&text, path, &expect("dkg-round1", &CER, "2", true), &known, Some(b.id())));
    assert_has(&err, &["cer/round2-a-to-b.txt", "`dkg-round2`", "expected `dkg-round1`"]);
    let err = rejected(open(&text, path, &expect("dkg-round2", &CER, "2", false), &known, Some(b.id())));
    assert_has(&err, &["cer/round2-a-to-b.txt", "wrong recipient or encryption"]);

    // A message to B signed by A cannot be passed off as C's to B: changing `from` breaks the signature
    // (or, if re-signed by C, the payload no longer decrypts as coming from C).
    let forged = text.replace(&a.card.fingerprint().compact(), &c.card.fingerprint().compact());
    assert_has(&rejected(open(&forged, path, &e, &known, Some(b.id()))), &["signature of Carol", "does not verify"]);
    let forged = resign(c.id(), &forged);
    assert_has(&rejected(open(&forged, path, &e, &known, Some(b.id()))), &["could not decrypt", "Carol"]);
}

#[test]
fn public_message_opens_for_anyone_who_knows_the_senders_card() {
    let env = Env::new();
    let ps = parties(&env, 3);
    let (a, b, c) = (&ps[0], &ps[1], &ps[2]);
    let payload = b"{\"commitment\":\"public round-1 data of Alice\"}";
    let text = seal(a.id(), "dkg-round1", &CER, "1", None, payload).unwrap();
    assert!(text.contains("\nencryption: none\n") && !text.contains("\nto: "), "{text}");

    let path = Path::new("cer/round1-a.txt");
    let e = expect("dkg-round1", &CER, "1", false);
    for known in [cards(&[a, b, c]), cards(&[a])] {
        for me in [None, Some(a.id()), Some(b.id()), Some(c.id())] {
            let opened = open(&text, path, &e, &known, me).expect("a public message opens for anyone");
            assert_eq!(opened.sender, 0);
            assert_eq!(opened.recipient, None);
            assert_eq!(opened.payload.expose(), payload);
        }
    }
    // Expected private, found public: rejected.
    let err = rejected(open(&text, path, &expect("dkg-round1", &CER, "1", true), &cards(&[a, b]), Some(b.id())));
    assert_has(&err, &["cer/round1-a.txt", "wrong recipient or encryption"]);
    assert_has(
        &rejected(open(&text, path, &expect("dkg-round1", &OTHER_CER, "1", false), &cards(&[a]), None)),
        &["another ceremony"],
    );
    assert_has(
        &rejected(open(&text, path, &expect("dkg-round1", &CER, "2", false), &cards(&[a]), None)),
        &["expected round `2`"],
    );
}

#[test]
fn message_from_an_unknown_sender_is_rejected() {
    let env = Env::new();
    let ps = parties(&env, 4);
    let (a, b, c, eve) = (&ps[0], &ps[1], &ps[2], &ps[3]);
    let path = Path::new("cer/from-a.txt");
    let private = seal(a.id(), "dkg-round2", &CER, "2", Some(&b.card), b"secret").unwrap();
    let public = seal(a.id(), "dkg-round1", &CER, "1", None, b"public").unwrap();
    let a_fp = a.card.fingerprint().compact();
    for known in [cards(&[b, c]), cards(&[b, c, eve]), Vec::new()] {
        let err = rejected(open(&private, path, &expect("dkg-round2", &CER, "2", true), &known, Some(b.id())));
        assert_has(&err, &["cer/from-a.txt", "unknown sender", &a_fp]);
        let err = rejected(open(&public, path, &expect("dkg-round1", &CER, "1", false), &known, None));
        assert_has(&err, &["cer/from-a.txt", "unknown sender", &a_fp]);
    }
    // Eve, an outsider with a perfectly valid identity, is not a participant either.
    let from_eve = seal(eve.id(), "dkg-round2", &CER, "2", Some(&b.card), b"poison").unwrap();
    let err = rejected(open(&from_eve, path, &expect("dkg-round2", &CER, "2", true), &cards(&[a, b, c]), Some(b.id())));
    assert_has(&err, &["unknown sender", &eve.card.fingerprint().compact()]);
    // Nor can she claim to be Alice: her signature does not verify under Alice's key.
    let claimed = resign(eve.id(), &from_eve.replace(&eve.card.fingerprint().compact(), &a_fp));
    let err = rejected(open(&claimed, path, &expect("dkg-round2", &CER, "2", true), &cards(&[a, b, c]), Some(b.id())));
    assert_has(&err, &["signature of Alice", "does not verify"]);
}

/// Flip every bit of every byte of `text`. Flips that leave valid UTF-8 go to `check_str`; the others
/// (every flip of bit 7 of an ASCII byte) are written to `file` and go to `check_file`.
/// Returns (string-level checks, file-level checks).
fn every_bit_flip(
    text: &str,
    file: &Path,
    mut check_str: impl FnMut(usize, u8, &str),
    mut check_file: impl FnMut(usize, u8),
) -> (usize, usize) {
    let (mut n_str, mut n_file) = (0, 0);
    for i in 0..text.len() {
        for bit in 0..8u8 {
            let mut bytes = text.as_bytes().to_vec();
            bytes[i] ^= 1 << bit;
            match String::from_utf8(bytes) {
                Ok(t) => {
                    check_str(i, bit, &t);
                    n_str += 1;
                }
                Err(e) => {
                    std::fs::write(file, e.as_bytes()).unwrap();
                    check_file(i, bit);
                    n_file += 1;
                }
            }
        }
    }
    (n_str, n_file)
}

#[test]
fn every_bit_flip_anywhere_in_a_sealed_message_is_rejected_with_a_named_reason() {
    let env = Env::new();
    let ps = parties(&env, 3);
    let (a, b, c) = (&ps[0], &ps[1], &ps[2]);
    let known = cards(&[a, b, c]);
    let inbox = env.path("inbox");
    std::fs::create_dir(&inbox).unwrap();
    let folder = Folder::open(&inbox).unwrap();
    let name = "msg.txt";
    let file = inbox.join(name);
    let path_text = file.display().to_string();

    let private = seal(a.id(), "dkg-round2", &CER, "2", Some(&b.card), b"share for bob, 32 bytes of it!!!").unwrap();
    let public = seal(a.id(), "dkg-round1", &CER, "1", None, b"{\"public\":\"round one package\"}").unwrap();
    let e_private = expect("dkg-round2", &CER, "2", true);
    let e_public = expect("dkg-round1", &CER, "1", false);
    for (text, e) in [(&private, &e_private), (&public, &e_public)] {
        // The untouched file opens, from a string and from the folder.
        assert!(open(text, &file, e, &known, Some(b.id())).is_ok());
        std::fs::write(&file, text).unwrap();
        assert!(folder.receive(name, e, &known, 0, Some(b.id())).unwrap().is_some());

        let (n_str, n_file) = every_bit_flip(
            text,
            &file,
            |i, bit, t| {
                let err = match open(t, &file, e, &known, Some(b.id())) {
                    Ok(_) => panic!("flip of bit {bit} at byte {i} was accepted:\n{t}"),
                    Err(err) => err.to_string(),
                };
                let reason =
                    err.strip_prefix(&path_text).unwrap_or_else(|| panic!("error does not name the file: {err}"));
                assert!(reason.trim_start_matches(':').trim().len() >= 10, "no reason given: {err}");
            },
            |i, _| {
                let err = folder.receive(name, e, &known, 0, Some(b.id())).unwrap_err().to_string();
                assert_has(&err, &[&path_text, "is not UTF-8", &format!("offset {i}")]);
            },
        );
        assert_eq!(n_file, text.len(), "every bit-7 flip of ASCII text is invalid UTF-8");
        assert_eq!(n_str, 7 * text.len());
    }
}

#[test]
fn every_bit_flip_anywhere_in_a_card_is_rejected_by_the_library_and_the_cli() {
    let env = Env::new();
    let a = env.holder("Alice");
    let b = env.holder("Bob");
    let text = std::fs::read_to_string(&a.card).unwrap();
    assert!(text.is_ascii());
    let flipped = env.path("flipped.card");
    let flipped_text = flipped.display().to_string();
    let (n_str, n_file) = every_bit_flip(
        &text,
        &flipped,
        |i, bit, t| {
            if let Ok(card) = Card::parse(t) {
                panic!("flip of bit {bit} at byte {i} was accepted as {card:?}");
            }
        },
        |i, _| {
            let err = Card::load(&flipped).unwrap_err().to_string();
            assert_has(&err, &[&flipped_text, "is not UTF-8", &format!("offset {i}")]);
        },
    );
    assert_eq!((n_str, n_file), (7 * text.len(), text.len()));

    // Through the CLI (`dkg init` imports cards): one flip that stays text and one that does not, at
    // every position; run on two threads.
    let jobs: Vec<(usize, u8)> = (0..text.len()).flat_map(|i| [(i, 0u8), (i, 7u8)]).collect();
    let run_job = |&(i, bit): &(usize, u8)| {
        let mut bytes = text.as_bytes().to_vec();
        bytes[i] ^= 1 << bit;
        let card = env.path(&format!("flip-{i}-{bit}.card"));
        std::fs::write(&card, &bytes).unwrap();
        let dir = format!("cer-{i}-{bit}");
        let o = env.dkg_init_cards(&dir, &[s(&card), s(&b.card)]);
        refused(&o, &[s(&card)]);
        let reason = if bit == 7 { "not UTF-8" } else { "not a valid keyholder card" };
        assert!(o.stderr.contains(reason), "flip of bit {bit} at byte {i}: expected {reason:?} in\n{}", o.stderr);
        assert!(!env.path(&dir).exists(), "a refused `dkg init` created {dir}");
        std::fs::remove_file(&card).unwrap();
    };
    let (first, second) = jobs.split_at(jobs.len() / 2);
    std::thread::scope(|scope| {
        scope.spawn(|| first.iter().for_each(run_job));
        second.iter().for_each(run_job);
    });
}

#[test]
fn a_card_whose_name_or_keys_were_edited_is_rejected_on_import() {
    let env = Env::new();
    let a = env.holder("Alice");
    let b = env.holder("Bob");
    let text = std::fs::read_to_string(&a.card).unwrap();
    let (ca, cb) = (Card::load(&a.card).unwrap(), Card::load(&b.card).unwrap());
    let line = |t: &str, key: &str| t.lines().find(|l| l.starts_with(&format!("{key}: "))).unwrap().to_string();

    // A faked key with a matching, recomputed fingerprint: only the self-signature can catch it.
    let fake_enc_fp = Fingerprint::of_keys(ca.signing_key(), cb.encryption_key()).to_string();
    let swapped_enc = text
        .replace(&line(&text, "encryption-key"), &format!("encryption-key: {}", hex::encode(cb.encryption_key())))
        .replace(&line(&text, "fingerprint"), &format!("fingerprint: {fake_enc_fp}"));
    let fake_sig_fp = Fingerprint::of_keys(cb.signing_key(), ca.encryption_key()).to_string();
    let swapped_sig = text
        .replace(&line(&text, "signing-key"), &format!("signing-key: {}", hex::encode(cb.signing_key())))
        .replace(&line(&text, "fingerprint"), &format!("fingerprint: {fake_sig_fp}"));
    let cases = [
        ("renamed", text.replace("name: Alice", "name: Alise"), "self-signature does not verify"),
        ("renamed, longer", text.replace("name: Alice", "name: Alice Liddell"), "self-signature does not verify"),
        ("encryption key swapped", swapped_enc, "self-signature does not verify"),
        ("signing key swapped", swapped_sig, "self-signature does not verify"),
        (
            "fingerprint edited",
            text.replace(&line(&text, "fingerprint"), &format!("fingerprint: {}", cb.fingerprint())),
            "does not match the card's keys",
        ),
        (
            "created edited",
            text.replace(&line(&text, "created"), "created: 2020-01-01T00:00:00Z"),
            "self-signature does not verify",
        ),
    ];
    for (what, edited, reason) in cases {
        assert_ne!(edited, text, "{what}: the edit did nothing");
        let err = Card::parse(&edited).unwrap_err().to_string();
        assert!(err.contains(reason), "{what}: expected {reason:?} in {err}");
        let file = env.path("edited.card");
        std::fs::write(&file, &edited).unwrap();
        let o = env.dkg_init_cards("cer", &[s(&file), s(&b.card)]);
        refused(&o, &[s(&file), "not a valid keyholder card", reason]);
        assert!(!env.path("cer").exists());
    }
}

#[test]
fn truncated_empty_and_trailing_garbage_files_are_rejected_with_a_named_reason() {
    let env = Env::new();
    let ps = parties(&env, 2);
    let (a, b) = (&ps[0], &ps[1]);
    let known = cards(&[a, b]);
    let path = Path::new("cer/m.txt");
    let msg = seal(a.id(), "dkg-round2", &CER, "2", Some(&b.card), b"payload").unwrap();
    let e = expect("dkg-round2", &CER, "2", true);
    let card = a.card.text().to_string();

    // Every truncation, of a message and of a card.
    for cut in 0..msg.len() {
        let err = rejected(open(&msg[..cut], path, &e, &known, Some(b.id())));
        assert!(err.starts_with("cer/m.txt: "), "{err}");
    }
    for cut in 0..card.len() {
        assert!(Card::parse(&card[..cut]).is_err(), "card truncated to {cut} bytes was accepted");
    }
    assert_has(&rejected(open("", path, &e, &known, Some(b.id()))), &["cer/m.txt", "empty"]);
    assert_has(
        &rejected(open(&msg[..msg.len() - 1], path, &e, &known, Some(b.id()))),
        &["does not end with a newline"],
    );
    let before_sig = &msg[..msg.rfind("signature: ").unwrap()];
    assert_has(&rejected(open(before_sig, path, &e, &known, Some(b.id()))), &["`signature` is missing"]);

    // Trailing garbage after the signature line.
    for tail in ["junk\n", "\n", " \n", "signature: AAAA\n"] {
        let err = rejected(open(&format!("{msg}{tail}"), path, &e, &known, Some(b.id())));
        assert_has(&err, &["cer/m.txt", "after the signature"]);
        assert!(Card::parse(&format!("{card}{tail}")).is_err());
    }
    assert_has(&rejected(open(&format!("{msg}{msg}"), path, &e, &known, Some(b.id()))), &["after the signature"]);
    assert_has(&rejected(open(&format!("{msg}x"), path, &e, &known, Some(b.id()))), &["does not end with a newline"]);

    // The same through the CLI, with a card.
    let file = env.path("bad.card");
    let cases: Vec<(String, &str)> = vec![
        (String::new(), "empty"),
        (card[..card.len() / 2].to_string(), "not a valid keyholder card"),
        (card[..card.rfind("signature: ").unwrap()].to_string(), "`signature` is missing"),
        (card[..card.len() - 1].to_string(), "does not end with a newline"),
        (format!("{card}junk\n"), "after the signature"),
        (format!("{card}{card}"), "after the signature"),
        (card.replace('\n', "\r\n"), "carriage return"),
    ];
    for (content, reason) in cases {
        std::fs::write(&file, &content).unwrap();
        let o = env.dkg_init_cards("cer", &[s(&file), s(&b.holder.card)]);
        refused(&o, &[s(&file), reason]);
        assert!(!env.path("cer").exists());
    }
}

#[test]
fn unknown_format_version_and_unknown_kind_are_rejected_even_when_properly_signed() {
    let env = Env::new();
    let ps = parties(&env, 2);
    let (a, b) = (&ps[0], &ps[1]);
    let known = cards(&[a, b]);
    let path = Path::new("cer/m.txt");
    let msg = seal(a.id(), "dkg-round1", &CER, "1", None, b"payload").unwrap();
    let e = expect("dkg-round1", &CER, "1", false);
    // The re-signing helper itself is sound: a re-signed, unchanged message opens.
    assert!(open(&resign(a.id(), &msg), path, &e, &known, None).is_ok());

    let edit = |from: &str, to: &str| {
        assert!(msg.contains(from));
        resign(a.id(), &msg.replacen(from, to, 1))
    };
    let cases = [
        (edit("frostsign-message: 1\n", "frostsign-message: 2\n"), vec!["unsupported", "version `2`"]),
        (edit("frostsign-message: 1\n", "frostsign-message: 1.0\n"), vec!["unsupported", "version `1.0`"]),
        (edit("kind: dkg-round1\n", "kind: dkg-round9\n"), vec!["is a `dkg-round9` message", "expected `dkg-round1`"]),
        (edit("kind: dkg-round1\n", "kind: DKG-ROUND1\n"), vec!["malformed message kind `DKG-ROUND1`"]),
        (edit("round: 1\n", "round: 1\nx-extra: 1\n"), vec!["unexpected field `x-extra`"]),
        (edit("round: 1\n", "round: 1\nround: 1\n"), vec!["unexpected field `round`"]),
        (edit("frostsign-message: 1\n", "frostsign-card: 1\n"), vec!["not a frostsign message"]),
        (resign(a.id(), &msg.replace('\n', "\r\n")), vec!["carriage return"]),
    ];
    for (text, needles) in &cases {
        let err = rejected(open(text, path, &e, &known, None));
        let mut all = vec!["cer/m.txt"];
        all.extend(needles);
        assert_has(&err, &all);
    }
    // A card is not a message, and a message is not a card.
    assert_has(&rejected(open(a.card.text(), path, &e, &known, None)), &["not a frostsign message"]);

    // The same for cards, through the CLI.
    let card = a.card.text();
    let file = env.path("odd.card");
    let msg_file = env.path("message.txt");
    std::fs::write(&msg_file, &msg).unwrap();
    let cards_cases = [
        (
            resign(a.id(), &card.replacen("frostsign-card: 1\n", "frostsign-card: 2\n", 1)),
            "unsupported card format version `2`",
        ),
        (resign(a.id(), &card.replacen("name: Alice\n", "name: Alice\nx-extra: 1\n", 1)), "unexpected field `x-extra`"),
    ];
    for (content, reason) in cards_cases {
        std::fs::write(&file, content).unwrap();
        let o = env.dkg_init_cards("cer", &[s(&file), s(&b.holder.card)]);
        refused(&o, &[s(&file), reason]);
    }
    let o = env.dkg_init_cards("cer", &[s(&msg_file), s(&b.holder.card)]);
    refused(&o, &[s(&msg_file), "not a frostsign card file"]);
    assert!(!env.path("cer").exists());
}

#[test]
fn a_directory_given_as_a_file_is_refused() {
    let env = Env::new();
    let ps = parties(&env, 2);
    let (a, b) = (&ps[0].holder, &ps[1].holder);
    let dir = env.path("a-folder");
    std::fs::create_dir(&dir).unwrap();

    let o = a.run(&["holder", "export", "--out", s(&dir)]);
    refused(&o, &[s(&dir), "is a folder"]);
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "nothing may be written into the folder");

    let o = env.dkg_init_cards("cer", &[s(&dir), s(&b.card)]);
    refused(&o, &[s(&dir), "is a directory"]);
    assert!(!env.path("cer").exists());

    let o = env.run(&[
        "--home",
        s(&env.path("home-x")),
        "--passphrase-file",
        s(&dir),
        "holder",
        "new",
        "--name",
        "X",
        "--insecure-fast-kdf",
    ]);
    refused(&o, &[s(&dir), "is a directory"]);
    assert!(!env.path("home-x").exists());

    // A message file that is a folder.
    let inbox = env.path("inbox");
    std::fs::create_dir_all(inbox.join("msg.txt")).unwrap();
    let folder = Folder::open(&inbox).unwrap();
    let known = cards(&[&ps[0], &ps[1]]);
    let err =
        folder.receive("msg.txt", &expect("dkg-round1", &CER, "1", false), &known, 0, None).unwrap_err().to_string();
    assert_has(&err, &["msg.txt", "is a directory"]);
    assert_has(&Card::load(&dir).unwrap_err().to_string(), &[s(&dir), "is a directory"]);
}

#[test]
fn non_utf8_and_binary_card_files_are_refused() {
    let env = Env::new();
    let b = env.holder("Bob");
    let file = env.path("latin1.card");
    let card = std::fs::read_to_string(&b.card).unwrap().replace("name: Bob", "name: B\u{f6}b");
    let mut bytes = card.into_bytes();
    // Re-encode the "ö" as Latin-1: one byte 0xF6, invalid UTF-8.
    let at = bytes.windows(2).position(|w| w == [0xC3, 0xB6]).unwrap();
    bytes.splice(at..at + 2, [0xF6]);
    std::fs::write(&file, &bytes).unwrap();
    let o = env.dkg_init_cards("cer", &[s(&file), s(&b.card)]);
    refused(&o, &[s(&file), "not UTF-8", &format!("offset {at}")]);

    let bin_file = env.path("binary.card");
    std::fs::write(&bin_file, (0..=255u8).cycle().take(3000).collect::<Vec<u8>>()).unwrap();
    let o = env.dkg_init_cards("cer", &[s(&bin_file), s(&b.card)]);
    refused(&o, &[s(&bin_file), "not UTF-8", "offset 128"]);
    let nul_file = env.path("nul.card");
    std::fs::write(&nul_file, vec![0u8; 100]).unwrap();
    let o = env.dkg_init_cards("cer", &[s(&nul_file), s(&b.card)]);
    refused(&o, &[s(&nul_file), "not a valid keyholder card"]);
    assert!(!env.path("cer").exists());
}

fn write_junk(path: &Path, bytes: usize) {
    use std::io::Write;
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut chunk = vec![0u8; 1 << 20];
    for _ in 0..bytes / chunk.len() {
        for b in chunk.iter_mut() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = x as u8;
        }
        f.write_all(&chunk).unwrap();
    }
    f.flush().unwrap();
}

#[test]
fn a_100_mb_junk_file_is_refused_as_too_large_with_bounded_memory() {
    const LIMIT_KIB: u64 = 64 * 1024;
    let env = Env::new();
    let hs = env.holders(2);
    let junk: PathBuf = env.path("junk");
    write_junk(&junk, 100 << 20);
    assert_eq!(std::fs::metadata(&junk).unwrap().len(), 100 << 20);

    // As a card.
    let (o, rss) = run_measured(
        env.dir.path(),
        &["dkg", "init", "--allow-insecure-cards", "--dir", "X", "--threshold", "2", "junk", s(&hs[0].card)],
    );
    refused(&o, &["junk", "too large"]);
    assert!(rss > 0 && rss < LIMIT_KIB, "peak RSS {rss} KiB reading a 100 MB card");
    assert!(!env.path("X").exists());

    // As a passphrase file.
    let home = env.path("home-j");
    let (o, rss) = run_measured(
        env.dir.path(),
        &["--home", s(&home), "--passphrase-file", "junk", "holder", "new", "--name", "J", "--insecure-fast-kdf"],
    );
    refused(&o, &["junk", "too large"]);
    assert!(rss < LIMIT_KIB, "peak RSS {rss} KiB reading a 100 MB passphrase file");
    assert!(!home.exists());

    // As a message dropped into a shared ceremony folder (anyone with write access could do that).
    env.dkg_init("cer", 2, &hs).ok();
    let a_fp = Card::load(&hs[0].card).unwrap().fingerprint().compact();
    let dropped = env.path(&format!("cer/round1-{a_fp}.txt"));
    std::fs::rename(&junk, &dropped).unwrap();
    let (o, rss) = run_measured(env.dir.path(), &["dkg", "status", "--dir", "cer"]);
    no_panic(&o);
    assert_ne!(o.code, 0, "a ceremony with a junk file is not complete:\n{}", o.all());
    assert!(o.all().contains("too large"), "the junk file must be reported:\n{}", o.all());
    assert!(rss < LIMIT_KIB, "peak RSS {rss} KiB with a 100 MB message file");
    let (o, rss) = run_measured(
        env.dir.path(),
        &["--home", s(&hs[1].home), "--passphrase-file", s(&hs[1].pass), "dkg", "step", "--dir", "cer", "--yes"],
    );
    refused(&o, &[&format!("round1-{a_fp}.txt"), "too large"]);
    assert!(rss < LIMIT_KIB, "peak RSS {rss} KiB stepping with a 100 MB message file");
}

#[test]
fn a_tampered_message_in_the_ceremony_folder_is_named_by_the_cli() {
    let env = Env::new();
    let hs = env.holders(2);
    env.dkg_init("cer", 2, &hs).ok();
    let cer = env.path("cer");
    hs[0].dkg_step(&cer).ok();
    let a_fp = Card::load(&hs[0].card).unwrap().fingerprint().compact();
    let file = cer.join(format!("round1-{a_fp}.txt"));
    let original = std::fs::read(&file).unwrap();
    // Flip one bit in the payload (text stays valid), then a bit that breaks UTF-8.
    let at = original.windows(9).position(|w| w == b"payload:\n").unwrap() + 12;
    for (bit, reason) in [(0u8, "does not verify"), (7u8, "not UTF-8")] {
        let mut bytes = original.clone();
        bytes[at] ^= 1 << bit;
        std::fs::write(&file, &bytes).unwrap();
        let status = env.run(&["dkg", "status", "--dir", "cer"]);
        no_panic(&status);
        assert_ne!(status.code, 0);
        assert_has(&status.all(), &[&format!("round1-{a_fp}.txt"), reason]);
        let step = hs[1].dkg_step(&cer);
        refused(&step, &[&format!("round1-{a_fp}.txt"), reason]);
    }
}
