//! frost-ed25519 alone, on the rounds one keyholder runs, for comparison with `frostsign` steps
//! (`make bench`; docs/performance.md). No files, no encryption, no signatures on messages: only the
//! FROST mathematics of one participant's key generation and signing steps, in memory.
//!
//!   cargo run --release --example frost_alone -- T N [T N ...]
//!
//! Prints, per (T, N), the CPU time (of this thread) of one participant's part 1, part 2 and part 3 of key generation, the
//! deserialization of the n-1 round-1 packages it reads (each point is checked to be in the prime-order
//! subgroup), and signing round 1, round 2 and the aggregation of T shares.

use frost_ed25519 as frost;
use frost_ed25519::keys::dkg;
use rand_core::OsRng;
use std::collections::BTreeMap;
/// A point in this thread's CPU time (not wall time: other load on the machine changes it less).
#[derive(Clone, Copy)]
struct Instant(f64);

impl Instant {
    fn now() -> Instant {
        let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: clock_gettime writes one timespec, which `ts` is.
        let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
        assert_eq!(rc, 0, "clock_gettime");
        Instant(ts.tv_sec as f64 * 1000.0 + ts.tv_nsec as f64 / 1e6)
    }
}

/// Milliseconds of this thread's CPU time since `start`.
fn ms(start: Instant) -> f64 {
    Instant::now().0 - start.0
}

fn main() {
    let args: Vec<u16> = std::env::args().skip(1).map(|a| a.parse().expect("numbers: T N ...")).collect();
    let args = if args.is_empty() { vec![2, 3, 7, 10, 34, 50, 67, 100] } else { args };
    println!("frost-ed25519 alone, one participant's steps (ms of CPU time):");
    for pair in args.chunks(2) {
        let (t, n) = (pair[0], pair[1]);
        run(t, n);
    }
}

fn run(t: u16, n: u16) {
    let ids: Vec<frost::Identifier> = (1..=n).map(|i| i.try_into().unwrap()).collect();
    // Every participant's part 1 (only the first is timed: each keyholder runs its own).
    let mut r1_secret = BTreeMap::new();
    let mut r1_pkg = BTreeMap::new();
    let mut part1 = 0.0;
    for (k, id) in ids.iter().enumerate() {
        let s = Instant::now();
        let (sec, pkg) = dkg::part1(*id, n, t, OsRng).unwrap();
        if k == 0 {
            part1 = ms(s);
        }
        r1_secret.insert(*id, sec);
        r1_pkg.insert(*id, pkg);
    }
    let others = |me: &frost::Identifier| -> BTreeMap<_, _> {
        r1_pkg.iter().filter(|(id, _)| *id != me).map(|(id, p)| (*id, p.clone())).collect()
    };
    // Reading the others' round-1 packages from bytes, as a keyholder does in its own process.
    let me = ids[0];
    let bytes: Vec<Vec<u8>> = others(&me).values().map(|p| p.serialize().unwrap()).collect();
    let s = Instant::now();
    for b in &bytes {
        dkg::round1::Package::deserialize(b).unwrap();
    }
    let deser = ms(s);
    // Part 2 for everyone (participant 1 timed), then part 3 for participant 1.
    let mut r2_secret = BTreeMap::new();
    let mut r2_out: BTreeMap<frost::Identifier, BTreeMap<frost::Identifier, dkg::round2::Package>> = BTreeMap::new();
    let mut part2 = 0.0;
    for id in &ids {
        let s = Instant::now();
        let (sec, out) = dkg::part2(r1_secret.remove(id).unwrap(), &others(id)).unwrap();
        if *id == me {
            part2 = ms(s);
        }
        r2_secret.insert(*id, sec);
        for (to, pkg) in out {
            r2_out.entry(to).or_default().insert(*id, pkg);
        }
    }
    let mut key_packages = BTreeMap::new();
    let mut public = None;
    let mut part3 = 0.0;
    for id in &ids {
        let s = Instant::now();
        let (kp, pp) = dkg::part3(&r2_secret[id], &others(id), &r2_out[id]).unwrap();
        if *id == me {
            part3 = ms(s);
        }
        key_packages.insert(*id, kp);
        public = Some(pp);
        if key_packages.len() >= t as usize {
            break; // enough for signing; part 3 is the same work for everyone
        }
    }
    let public = public.unwrap();
    // Signing by the first t participants.
    let message = [7u8; 64];
    let signers: Vec<_> = key_packages.keys().copied().take(t as usize).collect();
    let mut nonces = BTreeMap::new();
    let mut commitments = BTreeMap::new();
    let mut sround1 = 0.0;
    for id in &signers {
        let s = Instant::now();
        let (non, com) = frost::round1::commit(key_packages[id].signing_share(), &mut OsRng);
        if *id == me {
            sround1 = ms(s);
        }
        nonces.insert(*id, non);
        commitments.insert(*id, com);
    }
    let package = frost::SigningPackage::new(commitments, &message);
    let mut shares = BTreeMap::new();
    let mut sround2 = 0.0;
    for id in &signers {
        let s = Instant::now();
        let share = frost::round2::sign(&package, &nonces[id], &key_packages[id]).unwrap();
        if *id == me {
            sround2 = ms(s);
        }
        shares.insert(*id, share);
    }
    let s = Instant::now();
    let sig = frost::aggregate(&package, &shares, &public).unwrap();
    let aggregate = ms(s);
    assert!(public.verifying_key().verify(&message, &sig).is_ok());
    println!(
        "  {t:>3}-of-{n:<3} dkg part1 {part1:7.2}  read n-1 round-1 packages {deser:7.2}  part2 {part2:7.2}  part3 {part3:7.2}  | sign round1 {sround1:5.2}  round2 {sround2:6.2}  aggregate {aggregate:6.2}"
    );
}
