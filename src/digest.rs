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

/// Read `path` once, in 1 MiB chunks, handing each chunk to `update`; returns the size read.
fn stream(path: &Path, mut update: impl FnMut(&[u8])) -> Result<u64> {
    let mut file = crate::fsx::open_regular(path)?;
    let meta = file.metadata().map_err(|e| Error::io("read", path, e))?;
    let total = meta.len();
    let show = total >= PROGRESS_FROM;
    let name = crate::text::escape(&path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default());
    let mut buf = vec![0u8; CHUNK];
    let (mut size, mut last_pct) = (0u64, u64::MAX);
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::io("read", path, e)),
        };
        update(&buf[..n]);
        size += n as u64;
        let pct = size * 100 / total.max(1);
        if show && pct != last_pct {
            last_pct = pct;
            report::event(&Event::Progress { what: &name, done: size, total });
        }
    }
    if show {
        report::event(&Event::ProgressDone);
    }
    Ok(size)
}

/// Hash `path` in one pass (BLAKE2b-512 and SHA-256).
pub fn hash_file(path: &Path) -> Result<FileDigests> {
    hash_file_with_trailer(path, None).map(|(d, _)| d)
}

/// Like [`hash_file`], and also SHA-256(file || `trailer`) in the same pass (OpenPGP signs that).
pub fn hash_file_with_trailer(path: &Path, trailer: Option<&[u8]>) -> Result<(FileDigests, Option<[u8; 32]>)> {
    let (mut b2, mut s256) = (Blake2b512::new(), Sha256::new());
    let size = stream(path, |chunk| {
        b2.update(chunk);
        s256.update(chunk);
    })?;
    // The OpenPGP digest continues the file's SHA-256 state with the signature trailer.
    let openpgp = trailer.map(|t| {
        let mut h = s256.clone();
        h.update(t);
        h.finalize().into()
    });
    Ok((FileDigests { size, blake2b: b2.finalize().into(), sha256: s256.finalize().into() }, openpgp))
}

/// BLAKE2b-512 only (what `verify` needs for minisign): no time spent on a digest nobody checks.
pub fn blake2b_file(path: &Path) -> Result<[u8; 64]> {
    let mut b2 = Blake2b512::new();
    stream(path, |chunk| b2.update(chunk))?;
    Ok(b2.finalize().into())
}

/// SHA-256 of a file, or SHA-512 if asked (SSHSIG may use either).
pub fn sha2_file(path: &Path, sha512: bool) -> Result<Vec<u8>> {
    if sha512 {
        let mut h = Sha512::new();
        stream(path, |chunk| h.update(chunk))?;
        Ok(h.finalize().to_vec())
    } else {
        let mut h = Sha256::new();
        stream(path, |chunk| h.update(chunk))?;
        Ok(h.finalize().to_vec())
    }
}

/// SHA-256(file || trailer) (to verify an OpenPGP signature).
pub fn sha256_with_trailer(path: &Path, trailer: &[u8]) -> Result<[u8; 32]> {
    let mut h = Sha256::new();
    stream(path, |chunk| h.update(chunk))?;
    h.update(trailer);
    Ok(h.finalize().into())
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
}
