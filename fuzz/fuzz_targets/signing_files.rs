//! A signing session's exchanged contents, after their envelope: the coordinator's package file
//! (`PackageFile::parse`, unsigned, read by every signer), a signer's commitment payload
//! (`Commitment::decode`) and signature-share payload (`decode_shares`), against the example group's real
//! request and package (keys-example/sign-hello); and the coordinator's unsigned restart file
//! (`restart-aN.txt`, read by `excluded`). A package that parses, written again by `PackageFile::encode`,
//! parses to the same package. The first byte of the input chooses which.
#![no_main]
use frostsign::ceremony::signing::{current_attempt, decode_shares, excluded, Commitment, PackageFile, Request};
use frostsign_fuzz::{example_group, text};
use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use std::sync::OnceLock;

fn request() -> &'static Request {
    static R: OnceLock<Request> = OnceLock::new();
    R.get_or_init(|| Request::parse(include_str!("../../keys-example/sign-hello/request.txt")).unwrap())
}

fn package() -> &'static PackageFile {
    static P: OnceLock<PackageFile> = OnceLock::new();
    P.get_or_init(|| {
        PackageFile::parse(include_str!("../../keys-example/sign-hello/package-a1-p1.txt"), example_group()).unwrap()
    })
}

/// A session folder for the restart file.
fn dir() -> &'static PathBuf {
    static D: OnceLock<PathBuf> = OnceLock::new();
    D.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("frostsign-fuzz-session-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else { return };
    match which % 4 {
        0 => {
            let Some(text) = text(rest) else { return };
            let group = example_group();
            if let Ok(p) = PackageFile::parse(text, group) {
                let again = PackageFile::encode(&p.session, p.attempt, p.phase, &p.signers, group, &p.packages)
                    .expect("a parsed package encodes");
                let q = PackageFile::parse(&again, group).expect("an encoded package parses");
                assert_eq!((q.session, q.attempt, q.phase, &q.signers), (p.session, p.attempt, p.phase, &p.signers));
                assert_eq!(q.packages, p.packages);
            }
        }
        1 => {
            for attempt in [1, 2] {
                if let Ok(c) = Commitment::decode(rest, request(), attempt) {
                    assert_eq!(c.attested.len(), request().artifacts().len());
                }
            }
        }
        2 => {
            let d = dir();
            std::fs::write(d.join("restart-a2.txt"), rest).unwrap();
            assert_eq!(current_attempt(d).unwrap(), 2);
            if let Ok(without) = excluded(d, 2, example_group()) {
                assert!(without.iter().all(|&i| i < example_group().members().len()));
            }
        }
        _ => {
            if let Ok(shares) = decode_shares(rest, package()) {
                assert_eq!(shares.len(), package().packages.len());
            }
        }
    }
});
