//! Round trip of exchanged messages: `seal` (public, and private to a recipient with HPKE) then `open`
//! gives back the sender, recipient and payload; nobody else opens a private one; and a payload decoded
//! by `decode_payload` re-encodes to the same bytes (the one-spelling rule).
#![no_main]
use frostsign::ceremony::dkg::ComplaintPayload;
use frostsign::ceremony::signing::{CommitPayload, SharePayload};
use frostsign::exchange::message::{decode_payload, open, seal, Expect};
use frostsign::group::ceremony::{AcceptPayload, ConfirmPayload};
use frostsign_fuzz::ids;
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fn same<T: serde::de::DeserializeOwned + serde::Serialize>(payload: &[u8]) {
    if let Ok(v) = decode_payload::<T>(payload) {
        assert_eq!(serde_json::to_vec(&v).unwrap(), payload, "decode_payload accepted a second spelling");
    }
}

fuzz_target!(|data: &[u8]| {
    let (kind, round, payload) = match data {
        [k, r, rest @ ..] => (["dkg-round1", "dkg-round2", "sign-share", "x"][(*k & 3) as usize], format!("{r}"), rest),
        _ => return,
    };
    let [a, b] = ids();
    let ceremony = [data[0]; 32];
    let known = [a.card().clone(), b.card().clone()];
    for private in [false, true] {
        let to = private.then(|| b.card());
        let Ok(text) = seal(a, kind, &ceremony, &round, to, payload) else {
            assert!(payload.is_empty() && !private, "only an empty public payload cannot be sealed");
            continue;
        };
        let expect = Expect { kind, ceremony: &ceremony, round: &round, private };
        let opened = open(&text, Path::new("m"), &expect, &known, Some(b)).expect("open what was sealed");
        assert_eq!(opened.sender, 0);
        assert_eq!(opened.payload.expose(), payload);
        if private {
            assert!(open(&text, Path::new("m"), &expect, &known, Some(a)).is_err(), "only the recipient opens it");
        }
    }
    same::<ConfirmPayload>(payload);
    same::<AcceptPayload>(payload);
    same::<ComplaintPayload>(payload);
    same::<CommitPayload>(payload);
    same::<SharePayload>(payload);
});
