//! Exchanged messages (`exchange::message::open`, `peek`, `signer_and_ceremony`): any text, as read from
//! a ceremony or session folder, opened as every kind a ceremony expects, public and private; then the same
//! text re-signed by a known sender, so the checks after the signature (kind, ceremony, round, recipient,
//! decryption) are fuzzed too.
#![no_main]
use frostsign::exchange::message::{open, peek, signer_and_ceremony, Expect};
use frostsign_fuzz::{ids, resign, text};
use libfuzzer_sys::fuzz_target;
use std::path::Path;

const CEREMONY: [u8; 32] = [0x11; 32];

fn open_all(text: &str) {
    let [sender, me] = ids();
    let known = [sender.card().clone(), me.card().clone()];
    for (kind, round, private) in [("dkg-round1", "1", false), ("dkg-round2", "2", true), ("sign-commit", "a1", false)]
    {
        let expect = Expect { kind, ceremony: &CEREMONY, round, private };
        if let Ok(o) = open(text, Path::new("fuzz.txt"), &expect, &known, Some(me)) {
            assert!(o.sender < known.len());
            assert_eq!(o.recipient.is_some(), private);
        }
        let _ = open(text, Path::new("fuzz.txt"), &expect, &known, None);
    }
    let _ = peek(text, &known, &CEREMONY);
    let _ = signer_and_ceremony(text, &known);
    let _ = peek(text, frostsign_fuzz::example_cards(), &CEREMONY);
}

fuzz_target!(|data: &[u8]| {
    let Some(text) = text(data) else { return };
    open_all(text);
    if let Some(signed) = resign(text, &ids()[0]) {
        open_all(&signed);
    }
});
