//! One streaming pass over an artifact computing every digest a session needs.
//!
//! Constant memory (a 1 MiB buffer), whatever the file size. On a terminal, a progress line on stderr for
//! files over 64 MiB.

use crate::error::{Error, Result};
use crate::report::{self, Event};
use blake2::Blake2b512;
use sha2::{Digest, Sha256, Sha512};
use std::io::Read;
use std::path::Path;

/// Digests of one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileDigests {
    /// Size in bytes.
    pub size: u64,
    /// BLAKE2b-512: what minisign signs.
    pub blake2b: [u8; 64],
    /// SHA-256: for humans, SSHSIG, OpenPGP and signify manifests.
    pub sha256: [u8; 32],
}

const CHUNK: usize = 1 << 20;
const PROGRESS_FROM: u64 = 64 << 20;
/// From this size on, BLAKE2b-512 is computed by the faster of its two implementations here ([`Blake2b`]).
const RACE_FROM: u64 = 8 << 20;

/// A file read once from start to end, in chunks, with a progress line for large files on a terminal.
struct Reader<'p> {
    file: std::fs::File,
    path: &'p Path,
    name: String,
    total: u64,
    size: u64,
    last_pct: u64,
}

impl<'p> Reader<'p> {
    fn open(path: &'p Path) -> Result<Reader<'p>> {
        let file = crate::fsx::open_regular(path)?;
        let total = file.metadata().map_err(|e| Error::io("read", path, e))?.len();
        let name = crate::text::escape(&path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default());
        Ok(Reader { file, path, name, total, size: 0, last_pct: u64::MAX })
    }

    /// Read the next chunk into `buf`; 0 at the end of the file.
    fn fill(&mut self, buf: &mut [u8]) -> Result<usize> {
        let n = loop {
            match self.file.read(buf) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::io("read", self.path, e)),
            }
        };
        self.size += n as u64;
        let pct = self.size * 100 / self.total.max(1);
        if self.total >= PROGRESS_FROM && n > 0 && pct != self.last_pct {
            self.last_pct = pct;
            report::event(&Event::Progress { what: &self.name, done: self.size, total: self.total });
        }
        Ok(n)
    }

    /// The number of bytes read.
    fn finish(self) -> u64 {
        if self.total >= PROGRESS_FROM {
            report::event(&Event::ProgressDone);
        }
        self.size
    }
}

/// Read `path` once, in 1 MiB chunks, handing each chunk to `update`; returns the size read.
fn stream(path: &Path, mut update: impl FnMut(&[u8])) -> Result<u64> {
    let mut reader = Reader::open(path)?;
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = reader.fill(&mut buf)?;
        if n == 0 {
            break;
        }
        update(&buf[..n]);
    }
    Ok(reader.finish())
}

/// Which digests one pass over a file computes: only these are computed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Want {
    /// BLAKE2b-512 (minisign).
    pub blake2b: bool,
    /// SHA-256 (SSHSIG as frostsign makes it, OpenPGP, the signify manifest, the request file).
    pub sha256: bool,
    /// SHA-512 (an SSHSIG made with `sha512`, ssh-keygen's default).
    pub sha512: bool,
}

impl Want {
    /// How many digests are asked for.
    pub fn count(&self) -> usize {
        usize::from(self.blake2b) + usize::from(self.sha256) + usize::from(self.sha512)
    }
}

/// What one pass computed: exactly the digests asked for, `None` for the others.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Computed {
    /// Size in bytes.
    pub size: u64,
    /// BLAKE2b-512, if asked for.
    pub blake2b: Option<[u8; 64]>,
    /// SHA-256, if asked for.
    pub sha256: Option<[u8; 32]>,
    /// SHA-512, if asked for.
    pub sha512: Option<[u8; 64]>,
    /// SHA-256(file || trailer), when a trailer was given (OpenPGP signs that).
    pub sha256_trailer: Option<[u8; 32]>,
}

/// How many chunks of a large file both BLAKE2b implementations hash before the faster one goes on alone.
const RACE_CHUNKS: u32 = 2;

/// A running BLAKE2b-512 from one of two implementations of the same function: `blake2` (portable code,
/// the crate argon2 already compiles) and `blake2b_simd` (AVX2 chosen at run time). Which is faster depends
/// on the CPU, by 1.4x to 1.8x either way (docs/dependencies.md, "BLAKE2b: two implementations, the faster
/// one chosen at run time"), and a large file's digest must not be slower than minisign's on either, so
/// both hash a large file's first [`RACE_CHUNKS`] chunks, timed, and the faster one hashes the rest.
/// Both compute the same digest (unit test `both_blake2b_implementations_and_the_race_compute_the_same_digest`);
/// only the time it takes depends on the choice.
#[derive(Clone)]
enum Blake2b {
    Racing { portable: Box<Blake2b512>, simd: Box<blake2b_simd::State>, timed: [std::time::Duration; 2], chunks: u32 },
    Portable(Box<Blake2b512>),
    Simd(Box<blake2b_simd::State>),
}

impl Blake2b {
    fn portable() -> Blake2b {
        Blake2b::Portable(Box::default())
    }

    fn simd() -> Box<blake2b_simd::State> {
        Box::new(blake2b_simd::Params::new().hash_length(64).to_state())
    }

    fn racing() -> Blake2b {
        Blake2b::Racing { portable: Box::default(), simd: Blake2b::simd(), timed: Default::default(), chunks: 0 }
    }

    fn update(&mut self, chunk: &[u8]) {
        match self {
            Blake2b::Portable(h) => h.update(chunk),
            Blake2b::Simd(h) => {
                h.update(chunk);
            }
            Blake2b::Racing { portable, simd, timed, chunks } => {
                let start = std::time::Instant::now();
                portable.update(chunk);
                let middle = std::time::Instant::now();
                simd.update(chunk);
                timed[0] += middle - start;
                timed[1] += middle.elapsed();
                *chunks += 1;
                if *chunks >= RACE_CHUNKS {
                    let faster = if timed[1] < timed[0] {
                        Blake2b::Simd(std::mem::replace(simd, Blake2b::simd()))
                    } else {
                        Blake2b::Portable(std::mem::take(portable))
                    };
                    *self = faster;
                }
            }
        }
    }

    fn finalize(self) -> [u8; 64] {
        match self {
            Blake2b::Portable(h) | Blake2b::Racing { portable: h, .. } => h.finalize().into(),
            Blake2b::Simd(h) => {
                let mut out = [0u8; 64];
                out.copy_from_slice(h.finalize().as_bytes());
                out
            }
        }
    }
}

/// One running digest.
#[derive(Clone)]
enum Hasher {
    Blake2b(Blake2b),
    Sha256(Sha256),
    Sha512(Box<Sha512>),
}

impl Hasher {
    fn update(&mut self, chunk: &[u8]) {
        match self {
            Hasher::Blake2b(h) => h.update(chunk),
            Hasher::Sha256(h) => h.update(chunk),
            Hasher::Sha512(h) => h.update(chunk),
        }
    }
}

/// Read `path` once and compute the digests in `want` (and SHA-256(file || `trailer`) if a trailer is
/// given), nothing else.
///
/// Constant memory: for one digest, or on one core, one 1 MiB buffer and no thread (each chunk is hashed
/// while it is still in the cache that read it: measured on 1 GiB, a reader thread feeding one digest
/// thread took 8% more CPU for 12% less wall time, docs/performance.md); for two or more digests, two 1 MiB
/// buffers and one thread per digest, fed by this thread's reads (each chunk is hashed by every digest
/// thread while the next one is read), so the pass takes about as long as its slowest digest alone.
pub fn compute(path: &Path, want: Want, trailer: Option<&[u8]>) -> Result<Computed> {
    // Only chooses how to hash: the file is opened and checked by the pass itself.
    let large = std::fs::metadata(path).is_ok_and(|m| m.len() >= RACE_FROM);
    let mut hashers = Vec::new();
    if want.blake2b {
        hashers.push(Hasher::Blake2b(if large { Blake2b::racing() } else { Blake2b::portable() }));
    }
    if want.sha256 || trailer.is_some() {
        hashers.push(Hasher::Sha256(Sha256::new()));
    }
    if want.sha512 {
        hashers.push(Hasher::Sha512(Box::default()));
    }
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let (size, hashers) = if cores >= 2 && hashers.len() >= 2 {
        stream_parallel(path, hashers)?
    } else {
        let mut hashers = hashers;
        let size = stream(path, |chunk| hashers.iter_mut().for_each(|h| h.update(chunk)))?;
        (size, hashers)
    };
    let mut out = Computed { size, ..Computed::default() };
    for h in hashers {
        match h {
            Hasher::Blake2b(h) => out.blake2b = Some(h.finalize()),
            Hasher::Sha256(h) => {
                // The OpenPGP digest continues the file's SHA-256 state with the signature trailer.
                if let Some(t) = trailer {
                    let mut h = h.clone();
                    h.update(t);
                    out.sha256_trailer = Some(h.finalize().into());
                }
                if want.sha256 {
                    out.sha256 = Some(h.finalize().into());
                }
            }
            Hasher::Sha512(h) => out.sha512 = Some(h.finalize().into()),
        }
    }
    Ok(out)
}

/// [`stream`] with one thread per digest. This thread reads chunk k+1 into one buffer while the digest
/// threads hash chunk k from the other; a barrier ends each round, so a buffer is refilled only when
/// every digest thread is done with it (the locks are never contended, they only make that visible to
/// the compiler). A read error ends the rounds for every thread before it is returned.
fn stream_parallel(path: &Path, hashers: Vec<Hasher>) -> Result<(u64, Vec<Hasher>)> {
    use std::sync::{Barrier, RwLock};
    let mut reader = Reader::open(path)?;
    let bufs = [RwLock::new((vec![0u8; CHUNK], 0usize)), RwLock::new((vec![0u8; CHUNK], 0usize))];
    let barrier = Barrier::new(hashers.len() + 1);
    std::thread::scope(|scope| {
        let threads: Vec<_> = hashers
            .into_iter()
            .map(|mut h| {
                let (bufs, barrier) = (&bufs, &barrier);
                scope.spawn(move || {
                    for round in 0.. {
                        barrier.wait();
                        let b = bufs[round % 2].read().unwrap_or_else(|e| e.into_inner());
                        if b.1 == 0 {
                            break;
                        }
                        h.update(&b.0[..b.1]);
                    }
                    h
                })
            })
            .collect();
        let mut failed = None;
        for round in 0.. {
            let read = {
                let mut b = bufs[round % 2].write().unwrap_or_else(|e| e.into_inner());
                let (buf, len) = &mut *b;
                let read = reader.fill(buf);
                *len = *read.as_ref().unwrap_or(&0);
                read
            };
            barrier.wait();
            match read {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        let hashers: Vec<Hasher> =
            threads.into_iter().map(|t| t.join().unwrap_or_else(|p| std::panic::resume_unwind(p))).collect();
        match failed {
            Some(e) => Err(e),
            None => Ok((reader.finish(), hashers)),
        }
    })
}

/// Hash `path` in one pass (BLAKE2b-512 and SHA-256).
pub fn hash_file(path: &Path) -> Result<FileDigests> {
    hash_file_with_trailer(path, None).map(|(d, _)| d)
}

/// Like [`hash_file`], and also SHA-256(file || `trailer`) in the same pass (OpenPGP signs that).
pub fn hash_file_with_trailer(path: &Path, trailer: Option<&[u8]>) -> Result<(FileDigests, Option<[u8; 32]>)> {
    let c = compute(path, Want { blake2b: true, sha256: true, sha512: false }, trailer)?;
    let (Some(blake2b), Some(sha256)) = (c.blake2b, c.sha256) else {
        return Err(Error::new("internal error: a digest asked for was not computed"));
    };
    Ok((FileDigests { size: c.size, blake2b, sha256 }, c.sha256_trailer))
}

/// BLAKE2b-512 only (what `verify` needs for minisign): no time spent on a digest nobody checks.
pub fn blake2b_file(path: &Path) -> Result<[u8; 64]> {
    let c = compute(path, Want { blake2b: true, ..Want::default() }, None)?;
    c.blake2b.ok_or_else(|| Error::new("internal error: BLAKE2b-512 was not computed"))
}

/// SHA-256 of a file, or SHA-512 if asked (SSHSIG may use either).
pub fn sha2_file(path: &Path, sha512: bool) -> Result<Vec<u8>> {
    let c = compute(path, Want { sha256: !sha512, sha512, ..Want::default() }, None)?;
    c.sha512
        .map(|d| d.to_vec())
        .or(c.sha256.map(|d| d.to_vec()))
        .ok_or_else(|| Error::new("internal error: SHA-2 was not computed"))
}

/// SHA-256(file || trailer) (to verify an OpenPGP signature).
pub fn sha256_with_trailer(path: &Path, trailer: &[u8]) -> Result<[u8; 32]> {
    let c = compute(path, Want::default(), Some(trailer))?;
    c.sha256_trailer.ok_or_else(|| Error::new("internal error: SHA-256 was not computed"))
}

/// The digests of bytes in memory (a statement a session signs as its one artifact).
pub fn hash_bytes(bytes: &[u8]) -> FileDigests {
    FileDigests {
        size: bytes.len() as u64,
        blake2b: Blake2b512::digest(bytes).into(),
        sha256: Sha256::digest(bytes).into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("abc");
        std::fs::write(&p, b"abc").unwrap();
        let h = hash_file(&p).unwrap();
        assert_eq!(h.size, 3);
        assert_eq!(hex::encode(h.sha256), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert!(hex::encode(h.blake2b).starts_with("ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"));
        assert_eq!(blake2b_file(&p).unwrap(), h.blake2b);
        assert_eq!(sha2_file(&p, false).unwrap(), h.sha256.to_vec());
        let (_, pgp) = hash_file_with_trailer(&p, Some(b"T")).unwrap();
        assert_eq!(pgp.unwrap(), sha256_with_trailer(&p, b"T").unwrap());
        assert_eq!(pgp.unwrap().to_vec(), Sha256::digest(b"abcT").to_vec());
    }

    fn reference(data: &[u8], trailer: &[u8]) -> Computed {
        Computed {
            size: data.len() as u64,
            blake2b: Some(Blake2b512::digest(data).into()),
            sha256: Some(Sha256::digest(data).into()),
            sha512: Some(Sha512::digest(data).into()),
            sha256_trailer: Some(Sha256::new().chain_update(data).chain_update(trailer).finalize().into()),
        }
    }

    #[test]
    fn only_the_digests_asked_for_are_computed_and_each_equals_the_reference() {
        let d = tempfile::tempdir().unwrap();
        // Several chunks and a partial one, so that both buffers of the parallel pass are reused.
        let data: Vec<u8> = (0..(5 * CHUNK / 2 + 3)).map(|i| (i * 7 + i / 1000) as u8).collect();
        for (name, bytes) in [("empty", &data[..0]), ("abc", &b"abc"[..]), ("large", &data[..])] {
            let p = d.path().join(name);
            std::fs::write(&p, bytes).unwrap();
            let all = reference(bytes, b"TRAILER");
            for bits in 0..8u8 {
                let want = Want { blake2b: bits & 1 != 0, sha256: bits & 2 != 0, sha512: bits & 4 != 0 };
                for trailer in [None, Some(&b"TRAILER"[..])] {
                    let got = compute(&p, want, trailer).unwrap();
                    let expected = Computed {
                        size: all.size,
                        blake2b: all.blake2b.filter(|_| want.blake2b),
                        sha256: all.sha256.filter(|_| want.sha256),
                        sha512: all.sha512.filter(|_| want.sha512),
                        sha256_trailer: all.sha256_trailer.filter(|_| trailer.is_some()),
                    };
                    assert_eq!(got, expected, "{name}, {want:?}, trailer {}", trailer.is_some());
                }
            }
            // The one-digest helpers verify uses compute exactly one digest each, with the same values.
            assert_eq!(blake2b_file(&p).unwrap(), all.blake2b.unwrap());
            assert_eq!(sha2_file(&p, false).unwrap(), all.sha256.unwrap().to_vec());
            assert_eq!(sha2_file(&p, true).unwrap(), all.sha512.unwrap().to_vec());
            assert_eq!(sha256_with_trailer(&p, b"TRAILER").unwrap(), all.sha256_trailer.unwrap());
            // The threaded pass gives what the sequential one gives, whatever the machine's core count.
            let hashers = vec![Hasher::Blake2b(Blake2b::portable()), Hasher::Sha512(Box::default())];
            let (size, hashers) = stream_parallel(&p, hashers).unwrap();
            assert_eq!(size, bytes.len() as u64);
            let Hasher::Blake2b(b2) = &hashers[0] else { panic!("order kept") };
            assert_eq!(b2.clone().finalize(), all.blake2b.unwrap());
        }
        assert_eq!(
            hex::encode(reference(b"abc", b"").sha512.unwrap()),
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
        );
    }

    #[test]
    fn both_blake2b_implementations_and_the_race_compute_the_same_digest() {
        let data: Vec<u8> = (0..3 * CHUNK + 777).map(|i| (i * 7 % 253) as u8).collect();
        let reference: [u8; 64] = Blake2b512::digest(&data).into();
        for chunk in [1, 127, 128, 129, 4096, CHUNK, 3 * CHUNK + 777] {
            let simd = Blake2b::Simd(Blake2b::simd());
            for mut h in [Blake2b::portable(), simd, Blake2b::racing()] {
                data.chunks(chunk).for_each(|c| h.update(c));
                assert_eq!(h.finalize(), reference, "chunks of {chunk}");
            }
        }
        // A race ends after RACE_CHUNKS chunks, with one implementation going on alone.
        let mut h = Blake2b::racing();
        for c in data.chunks(CHUNK).take(RACE_CHUNKS as usize) {
            h.update(c);
        }
        assert!(matches!(h, Blake2b::Portable(_) | Blake2b::Simd(_)));
    }

    #[test]
    fn a_missing_file_is_an_error_in_both_passes() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("missing");
        assert!(compute(&p, Want { blake2b: true, ..Want::default() }, None).is_err());
        assert!(compute(&p, Want { blake2b: true, sha256: true, sha512: true }, None).is_err());
    }
}
