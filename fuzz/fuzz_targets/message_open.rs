//! Exchanged messages (`exchange::message::open`, `peek`, `signer_and_ceremony`): any text, as read from
//! a ceremony or session folder, opened as each kind a ceremony expects, public and private, and its
//! payload decoded as that kind's payload; then the same text with its `from`, `to` and `ceremony` lines
//! pointed at the fixed identities and ceremony and re-signed by the sender, so that the checks after the
//! signature (kind, ceremony, round, recipient, decryption, payload) are fuzzed too. Seeds: real messages
//! of keys-example/ (key generation rounds 1 and 2, confirmations, signing commitments and shares).
#![no_main]
use frostsign::ceremony::dkg::ComplaintPayload;
use frostsign::ceremony::signing::{CommitPayload, SharePayload};
use frostsign::exchange::message::{open, peek, signer_and_ceremony, Expect};
use frostsign::group::ceremony::{AcceptPayload, ConfirmPayload};
use frostsign_fuzz::{ids, resign, text};
use libfuzzer_sys::fuzz_target;
use std::path::Path;

const CEREMONY: [u8; 32] = [0x11; 32];

const EXPECTED: &[(&str, &str, bool)] = &[
    ("dkg-round1", "1", false),
    ("dkg-round2", "2", true),
    ("dkg-confirm", "3", false),
    ("dkg-accept", "4", false),
    ("dkg-complaint", "complaint", false),
    ("sign-commit", "a1-commit", false),
    ("sign-share", "a1-p1", false),
];

fn open_all(text: &str) {
    let [sender, me] = ids();
    let known = [sender.card().clone(), me.card().clone()];
    for &(kind, round, private) in EXPECTED {
        let expect = Expect { kind, ceremony: &CEREMONY, round, private };
        if let Ok(o) = open(text, Path::new("fuzz.txt"), &expect, &known, Some(me)) {
            assert!(o.sender < known.len());
            assert_eq!(o.recipient.is_some(), private);
            let _ = o.decode::<ConfirmPayload>();
            let _ = o.decode::<AcceptPayload>();
            let _ = o.decode::<ComplaintPayload>();
            let _ = o.decode::<CommitPayload>();
            let _ = o.decode::<SharePayload>();
            let _ = frostsign_fuzz::frost_packages(o.payload.expose());
        }
        let _ = open(text, Path::new("fuzz.txt"), &expect, &known, None);
    }
    let _ = peek(text, &known, &CEREMONY);
    let _ = signer_and_ceremony(text, &known);
    let _ = peek(text, frostsign_fuzz::example_cards(), &CEREMONY);
}

/// The sender, recipient and ceremony lines replaced by the fixed ones.
fn redirect(text: &str) -> String {
    let [sender, me] = ids();
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let fixed = match line.split_once(": ") {
            Some(("from", _)) => format!("from: {}\n", sender.card().fingerprint().compact()),
            Some(("to", _)) => format!("to: {}\n", me.card().fingerprint().compact()),
            Some(("ceremony", _)) => format!("ceremony: {}\n", hex::encode(CEREMONY)),
            _ => line.to_string(),
        };
        out.push_str(&fixed);
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some(text) = text(data) else { return };
    open_all(text);
    if let Some(signed) = resign(&redirect(text), &ids()[0]) {
        open_all(&signed);
    }
});
