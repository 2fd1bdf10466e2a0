//! Signing requests (`Request::parse`, `request.txt`, read by every signer, the coordinator and `sign
//! status`): any text; one that parses re-parses to the same digest, and everything a signer computes from
//! it (plan, outputs, trusted comments, manifest, summary, OpenPGP trailer) is computed without panicking.
#![no_main]
use frostsign::ceremony::signing::Request;
use frostsign_fuzz::{example_group, text};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(text) = text(data) else { return };
    if let Ok(r) = Request::parse(text) {
        assert_eq!(Request::parse(text).unwrap().digest(), r.digest());
        let _ = (r.plan(), r.outputs(), r.formats(), r.git(), r.openpgp_uid(), r.openpgp_key());
        let _ = (r.signature_time(), r.openpgp_file_trailer(), r.label(), r.comment(), r.kind());
        for a in r.artifacts() {
            let _ = r.trusted_comment(a);
        }
        let _ = r.manifest(&r.evidence());
        let _ = r.check_group(example_group());
        let _ = r.summary(example_group());
    }
});
