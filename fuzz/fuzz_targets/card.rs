//! Keyholder cards (`Card::parse`, as `holder import`, `dkg init` and every ceremony file read them): any
//! text, then the same text re-signed by the fixed identity (whose key a fuzzed card may carry), so the
//! checks after the self-signature run too; and the round trip `Card::create` -> `Card::parse` for any name.
#![no_main]
use ed25519_dalek::{Signer, SigningKey};
use frostsign::card::{Card, InsecureHome};
use frostsign_fuzz::{ids, resign, text};
use libfuzzer_sys::fuzz_target;

fn parse(text: &str) {
    if let Ok(card) = Card::parse(text) {
        assert_eq!(card.text(), text);
        assert_eq!(Card::parse(card.text()).unwrap().fingerprint(), card.fingerprint());
        let _ = (card.label(), card.insecure(), card.created());
    }
}

fuzz_target!(|data: &[u8]| {
    let Some(text) = text(data) else { return };
    parse(text);
    if let Some(signed) = resign(text, &ids()[0]) {
        parse(&signed);
    }
    // Round trip: a card made for any name either is refused at creation or parses back identical.
    let (name, created) = text.split_once('\n').unwrap_or((text, ""));
    let created = created.len() as i64 * 86_400;
    let sk = SigningKey::from_bytes(&[3; 32]);
    for insecure in [None, Some(InsecureHome::FastKdf)] {
        if let Ok(card) =
            Card::create(name, created, sk.verifying_key().to_bytes(), [4; 32], insecure, |m| sk.sign(m).to_bytes())
        {
            let back = Card::parse(card.text()).expect("a created card parses");
            assert_eq!(back.name(), name);
            assert_eq!(back.insecure(), insecure);
            assert_eq!(back.fingerprint(), card.fingerprint());
        }
    }
});
