//! Key generation ceremony files (`DkgCeremony::parse`: `ceremony.txt`, also embedded in every group
//! file), including a dealt group's dealer fields; one that parses re-parses to the same digest.
#![no_main]
use frostsign::group::ceremony::DkgCeremony;
use frostsign_fuzz::text;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(text) = text(data) else { return };
    if let Ok(c) = DkgCeremony::parse(text) {
        assert_eq!(c.text(), text);
        assert_eq!(DkgCeremony::parse(c.text()).unwrap().digest(), c.digest());
        assert!(c.cards().len() >= c.threshold() as usize);
        let _ = (c.summary(), c.label(), c.dealer().map(|d| d.group_key));
        for card in c.cards() {
            assert_eq!(
                c.index_of(card.fingerprint()).map(|i| &c.cards()[i]).map(|x| x.fingerprint()),
                Some(card.fingerprint())
            );
        }
    }
});
