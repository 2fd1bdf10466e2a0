//! Group files (`Group::parse`: `group.pub`, `group-FPR.pub`, `verify --key`) and the group's OpenPGP
//! identity (`OpenPgpIdentity::parse`, `group.openpgp`); a group that parses re-parses from its own text
//! and from its core with the same acceptances.
#![no_main]
use frostsign::group::openpgp::OpenPgpIdentity;
use frostsign::group::Group;
use frostsign_fuzz::{example_group, text};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(text) = text(data) else { return };
    if let Ok(g) = Group::parse(text) {
        assert_eq!(g.text(), text);
        let again = Group::parse(g.text()).unwrap();
        assert_eq!(again.fingerprint(), g.fingerprint());
        let _ = (g.display_name(), g.core_text(), g.minisign_key_id(), g.dealer(), g.package());
        let acceptances: Vec<&str> = g.acceptances().iter().map(String::as_str).collect();
        if let Ok(core) = Group::parse(g.core_text()) {
            if let Ok(rebuilt) = core.with_acceptances(&acceptances) {
                assert_eq!(rebuilt.fingerprint(), g.fingerprint());
            }
        }
        let _ = OpenPgpIdentity::parse(text, &g);
    }
    if let Ok(id) = OpenPgpIdentity::parse(text, example_group()) {
        let encoded = id.encode().expect("a parsed identity encodes");
        assert_eq!(OpenPgpIdentity::parse(&encoded, example_group()).unwrap(), id);
        let _ = id.armored_public_key();
    }
});
