//! The floor under a key generation step: the cryptography per exchanged file that the design requires
//! (docs/security.md: every file signed and checked, every round-2 share encrypted in HPKE auth mode),
//! timed alone, in memory, with no files, parsing or encoding. For `make bench` (docs/performance.md):
//! a step's cost beyond FROST minus this floor is what frostsign's own engineering adds.
//!
//!   cargo run --release --example crypto_floor -- T N [T N ...]
//!
//! Each primitive is timed over many runs (CPU time of this thread) and its mean multiplied by how often
//! one keyholder's step performs it at (T, N), as frostsign's steps do:
//! - round 2: n checks of round-1 files, n-1 HPKE seals of a share, n-1 signatures of a round-2 file;
//! - round 3: n-1 checks and HPKE opens of round-2 files, t(n-1) points of the stored round-1 commitments
//!   decompressed (checked in round 2 already: no subgroup check);
//! - confirmation: n checks of confirmations, the n+1 points of the public key package round 3 computed
//!   decompressed (no subgroup check: it comes from the sealed state), one signature (the acceptance);
//! - acceptance: n checks of acceptances.
//!
//! Not counted, as engineering rather than required cryptography: compressing points again to confirm a
//! layout or to write a file (the confirmation step serializes its n+1-point package to confirm it).
//!
//! Message sizes follow frostsign's files at that size (a round-1 file is about 96t bytes, a round-2
//! file about 98n); a signature check's cost hardly depends on them.

use ed25519_dalek::{Signer, SigningKey};
use frost_core::{Field, Group};
use hpke::aead::ChaCha20Poly1305;
use hpke::kdf::HkdfSha256;
use hpke::kem::X25519HkdfSha256;
use hpke::{Kem, OpModeR, OpModeS};
use rand_core::OsRng;

/// A point in this thread's CPU time, in milliseconds.
fn now_ms() -> f64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes one timespec, which `ts` is.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime");
    ts.tv_sec as f64 * 1000.0 + ts.tv_nsec as f64 / 1e6
}

/// Mean CPU milliseconds of one call of `f`, over `runs` calls.
fn mean_ms(runs: u32, mut f: impl FnMut()) -> f64 {
    f(); // warm-up: tables, caches
    let start = now_ms();
    for _ in 0..runs {
        f();
    }
    (now_ms() - start) / f64::from(runs)
}

const INFO: &[u8] = b"frostsign crypto floor";
const RUNS: u32 = 400;

/// Per-primitive costs (ms) for messages of the given sizes. `checked_point` (frost's decoding of a point
/// from a folder, with its subgroup check) is printed beside `decompress` for comparison.
struct Costs {
    check_round1: f64,
    check_round2: f64,
    check_small: f64,
    sign_round2: f64,
    sign_small: f64,
    seal_share: f64,
    open_share: f64,
    decompress: f64,
    checked_point: f64,
}

fn costs(t: usize, n: usize) -> Costs {
    let key = SigningKey::generate(&mut OsRng);
    let public = key.verifying_key();
    let check = |len: usize| {
        let msg = vec![b'a'; len];
        let sig = key.sign(&msg);
        mean_ms(RUNS, || assert!(public.verify_strict(&msg, &sig).is_ok()))
    };
    let sign = |len: usize| {
        let msg = vec![b'a'; len];
        mean_ms(RUNS, || {
            std::hint::black_box(key.sign(&msg));
        })
    };
    let (sk_s, pk_s) = X25519HkdfSha256::gen_keypair(&mut OsRng);
    let (sk_r, pk_r) = X25519HkdfSha256::gen_keypair(&mut OsRng);
    let share = vec![b's'; 64 * n + 150];
    let seal = || {
        hpke::single_shot_seal::<ChaCha20Poly1305, HkdfSha256, X25519HkdfSha256, _>(
            &OpModeS::Auth((sk_s.clone(), pk_s.clone())),
            &pk_r,
            INFO,
            &share,
            b"aad",
            &mut OsRng,
        )
        .unwrap()
    };
    let seal_share = mean_ms(RUNS, || drop(seal()));
    let (enc, ct) = seal();
    let open_share = mean_ms(RUNS, || {
        hpke::single_shot_open::<ChaCha20Poly1305, HkdfSha256, X25519HkdfSha256>(
            &OpModeR::Auth(pk_s.clone()),
            &sk_r,
            &enc,
            INFO,
            &ct,
            b"aad",
        )
        .unwrap();
    });
    let scalar = <frost_ed25519::Ed25519ScalarField as Field>::random(&mut OsRng);
    let point = frost_ed25519::Ed25519Group::serialize(&(frost_ed25519::Ed25519Group::generator() * scalar)).unwrap();
    // Decompression alone, as frostsign's round 3 decodes its own stored round-1 points.
    let decompress = || ed25519_dalek::VerifyingKey::from_bytes(&point).unwrap().to_edwards();
    Costs {
        check_round1: check(96 * t + 32),
        check_round2: check(98 * n),
        check_small: check(600),
        sign_round2: sign(98 * n),
        sign_small: sign(400),
        seal_share,
        open_share,
        decompress: mean_ms(RUNS * 10, || {
            std::hint::black_box(decompress());
        }),
        checked_point: mean_ms(RUNS, || assert!(frost_ed25519::Ed25519Group::deserialize(&point).is_ok())),
    }
}

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).map(|a| a.parse().expect("numbers: T N ...")).collect();
    let args = if args.is_empty() { vec![2, 3, 7, 10, 34, 50, 67, 100] } else { args };
    println!("the per-file cryptography a keyholder step requires, alone (ms of CPU time):");
    for pair in args.chunks(2) {
        let (t, n) = (pair[0] as f64, pair[1] as f64);
        let c = costs(pair[0], pair[1]);
        let round2 = n * c.check_round1 + (n - 1.0) * (c.seal_share + c.sign_round2);
        let round3 = (n - 1.0) * (c.check_round2 + c.open_share) + t * (n - 1.0) * c.decompress;
        let confirm = n * c.check_small + (n + 1.0) * c.decompress + c.sign_small;
        let accept = n * c.check_small;
        println!(
            "  {:>3}-of-{:<3} floor round2 {round2:7.2}  round3 {round3:7.2}  confirm {confirm:6.2}  accept {accept:6.2}  | check {:.3}  sign {:.3}  seal {:.3}  open {:.3}  decompress {:.4}  checked point {:.3}",
            pair[0], pair[1], c.check_small, c.sign_small, c.seal_share, c.open_share, c.decompress, c.checked_point
        );
    }
}
