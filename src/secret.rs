//! Secret byte strings: zeroized on drop, never printed, kept in locked memory where the platform allows.
//!
//! Everything secret that frostsign holds in memory (identity keys, the home key, passphrases, serialized
//! FROST shares and nonces) lives in one of these types, so that `{:?}` can never leak it into a log and
//! the bytes are wiped when the value goes out of scope.
//!
//! Each of these types keeps its bytes in one heap buffer that never moves while the value lives, and locks
//! the pages of that buffer in RAM (`mlock`) so the kernel does not write them to swap; on drop the buffer
//! is zeroized first, then unlocked. Locking is best effort: when it fails (RLIMIT_MEMLOCK too low for one
//! more page, an unprivileged container, a platform without `mlock`) the secret is kept unlocked and
//! nothing is reported, because swap is only one of the places a secret can reach and refusing to run would
//! help nobody (docs/security.md, K12). See [`locked`] for how pages shared by several secrets are counted.

use std::fmt;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// A secret byte string of any length.
#[derive(Default)]
pub struct SecretBytes(Vec<u8>);

impl SecretBytes {
    /// Take ownership of `bytes`; they are locked in memory (best effort) and wiped when this value drops.
    pub fn new(bytes: Vec<u8>) -> Self {
        locked::lock(bytes.as_ptr(), bytes.capacity());
        SecretBytes(bytes)
    }

    /// Borrow the secret bytes. Callers must not copy them into non-zeroizing storage.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// Length in bytes (not secret).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<Zeroizing<Vec<u8>>> for SecretBytes {
    fn from(mut z: Zeroizing<Vec<u8>>) -> Self {
        SecretBytes::new(std::mem::take(&mut *z))
    }
}

impl Clone for SecretBytes {
    fn clone(&self) -> Self {
        SecretBytes::new(self.0.clone())
    }
}

impl Zeroize for SecretBytes {
    fn zeroize(&mut self) {
        self.0.zeroize();
    }
}

/// Zeroize the whole buffer (its spare capacity too), then unlock its pages.
impl Drop for SecretBytes {
    fn drop(&mut self) {
        let (ptr, capacity) = (self.0.as_ptr(), self.0.capacity());
        self.0.zeroize();
        locked::unlock(ptr, capacity);
    }
}

impl ZeroizeOnDrop for SecretBytes {}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBytes(<{} bytes redacted>)", self.0.len())
    }
}

/// A 32-byte secret key, on the heap (a value on the stack would move, and its copies could not be
/// locked or found again to wipe).
pub struct SecretKey32(Box<[u8; 32]>);

impl SecretKey32 {
    /// Wrap 32 secret bytes: copied into the locked buffer, and this function's copy wiped (the caller
    /// wipes its own).
    pub fn new(mut bytes: [u8; 32]) -> Self {
        let mut key = SecretKey32::zeroed();
        *key.0 = bytes;
        bytes.zeroize();
        key
    }

    /// 32 zero bytes in a locked buffer, to be filled in place.
    fn zeroed() -> Self {
        let key = Box::new([0u8; 32]);
        locked::lock(key.as_ptr(), key.len());
        SecretKey32(key)
    }

    /// Fresh random key from the operating system's CSPRNG, written straight into the locked buffer.
    pub fn random() -> Self {
        use rand_core::{OsRng, RngCore};
        let mut key = SecretKey32::zeroed();
        OsRng.fill_bytes(&mut key.0[..]);
        key
    }

    /// Read exactly 32 bytes from a slice.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != 32 {
            return None;
        }
        let mut key = SecretKey32::zeroed();
        key.0.copy_from_slice(bytes);
        Some(key)
    }

    /// Borrow the key bytes.
    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }
}

impl Clone for SecretKey32 {
    fn clone(&self) -> Self {
        let mut key = SecretKey32::zeroed();
        *key.0 = *self.0;
        key
    }
}

impl Zeroize for SecretKey32 {
    fn zeroize(&mut self) {
        self.0.zeroize();
    }
}

impl Drop for SecretKey32 {
    fn drop(&mut self) {
        self.0.zeroize();
        locked::unlock(self.0.as_ptr(), self.0.len());
    }
}

impl ZeroizeOnDrop for SecretKey32 {}

impl fmt::Debug for SecretKey32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey32(<redacted>)")
    }
}

/// A passphrase as typed or read from a file (without the trailing newline).
pub struct Passphrase(String);

impl Passphrase {
    /// Wrap a passphrase string; its buffer is locked in memory (best effort) and wiped on drop.
    pub fn new(s: String) -> Self {
        locked::lock(s.as_ptr(), s.capacity());
        Passphrase(s)
    }

    /// Borrow it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Clone for Passphrase {
    fn clone(&self) -> Self {
        Passphrase::new(self.0.clone())
    }
}

impl Zeroize for Passphrase {
    fn zeroize(&mut self) {
        self.0.zeroize();
    }
}

impl Drop for Passphrase {
    fn drop(&mut self) {
        let (ptr, capacity) = (self.0.as_ptr(), self.0.capacity());
        self.0.zeroize();
        locked::unlock(ptr, capacity);
    }
}

impl ZeroizeOnDrop for Passphrase {}

impl fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Passphrase(<redacted>)")
    }
}

/// Locking the pages of secret buffers in RAM (`mlock`), best effort, counted per page.
///
/// A page may hold several small secrets (and other data), and `munlock` does not nest: unlocking one
/// secret's page would unlock it for its neighbours too. So every page under a live secret buffer has a
/// count of the secret buffers on it; the page is locked when its first buffer appears and unlocked when
/// its last one is dropped (after that buffer was zeroized). A page that could not be locked
/// (`RLIMIT_MEMLOCK` reached: 8 MiB by default on current Linux, 64 KiB on older kernels; or no `mlock` on
/// the platform) is counted the same way and simply stays unlocked; nothing is reported.
pub mod locked {
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    /// Page index -> (live secret buffers on the page, whether `mlock` succeeded on it).
    static PAGES: Mutex<BTreeMap<usize, (usize, bool)>> = Mutex::new(BTreeMap::new());

    fn page_size() -> usize {
        #[cfg(unix)]
        return rustix::param::page_size();
        #[cfg(not(unix))]
        return 4096;
    }

    /// The page indices covering `len` bytes at `ptr`.
    fn pages(ptr: *const u8, len: usize) -> std::ops::Range<usize> {
        let size = page_size();
        let start = ptr as usize;
        start / size..(start + len).div_ceil(size)
    }

    /// Lock or unlock one page. The only unsafe code in frostsign.
    #[allow(unsafe_code)]
    fn set_locked(page: usize, lock: bool) -> bool {
        #[cfg(unix)]
        {
            let size = page_size();
            let start = (page * size) as *mut std::ffi::c_void;
            // SAFETY: mlock and munlock only change whether the kernel may swap out the pages of the range;
            // they neither read nor write its memory (on an unmapped range they fail with ENOMEM), so no
            // Rust reference or value is affected. The page belongs to a live secret buffer.
            let result = unsafe {
                if lock {
                    rustix::mm::mlock(start, size)
                } else {
                    rustix::mm::munlock(start, size)
                }
            };
            result.is_ok()
        }
        #[cfg(not(unix))]
        {
            let _ = (page, lock);
            false
        }
    }

    fn table() -> std::sync::MutexGuard<'static, BTreeMap<usize, (usize, bool)>> {
        PAGES.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A secret buffer of `len` bytes at `ptr` appeared: count it on its pages, locking the new ones.
    pub(super) fn lock(ptr: *const u8, len: usize) {
        if len == 0 {
            return;
        }
        let mut table = table();
        for page in pages(ptr, len) {
            let entry = table.entry(page).or_insert((0, false));
            entry.0 += 1;
            if !entry.1 {
                entry.1 = set_locked(page, true);
            }
        }
    }

    /// A secret buffer (already zeroized) is going away: uncount it, unlocking the pages it was last on.
    pub(super) fn unlock(ptr: *const u8, len: usize) {
        if len == 0 {
            return;
        }
        let mut table = table();
        for page in pages(ptr, len) {
            if let Some(entry) = table.get_mut(&page) {
                entry.0 -= 1;
                if entry.0 == 0 {
                    if entry.1 {
                        set_locked(page, false);
                    }
                    table.remove(&page);
                }
            }
        }
    }

    /// The number of pages this process holds locked for secrets now (for tests and diagnostics).
    pub fn locked_pages() -> usize {
        table().values().filter(|(_, locked)| *locked).count()
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn state(page: usize) -> Option<(usize, bool)> {
            table().get(&page).copied()
        }

        #[test]
        fn a_page_shared_by_two_secrets_stays_locked_until_the_last_one_goes() {
            // A buffer of three pages owns its middle page outright: no other allocation can share it.
            let size = page_size();
            let buf = vec![0u8; 3 * size];
            let first = (buf.as_ptr() as usize).div_ceil(size) * size;
            let at = |offset: usize| buf.as_ptr().wrapping_add(first - buf.as_ptr() as usize + offset);
            let page = first / size;
            assert_eq!(state(page), None);
            lock(at(0), 32);
            let locked = state(page).expect("counted").1;
            lock(at(64), 32);
            assert_eq!(state(page), Some((2, locked)));
            unlock(at(0), 32);
            assert_eq!(state(page), Some((1, locked)), "still locked for the second secret");
            unlock(at(64), 32);
            assert_eq!(state(page), None);
            // A secret across a page boundary counts on both pages.
            lock(at(size - 8), 16);
            assert_eq!((state(page).map(|s| s.0), state(page + 1).map(|s| s.0)), (Some(1), Some(1)));
            unlock(at(size - 8), 16);
            assert_eq!((state(page), state(page + 1)), (None, None));
        }

        #[test]
        fn secrets_lock_their_buffer_when_the_limit_allows() {
            let key = crate::secret::SecretKey32::random();
            let page = key.expose().as_ptr() as usize / page_size();
            let (count, locked) = state(page).expect("a live key's page is counted");
            assert!(count >= 1);
            // RLIMIT_MEMLOCK permitting (it is at least 64 KiB on Linux), the page is locked.
            let limit = rustix::process::getrlimit(rustix::process::Resource::Memlock).current;
            if limit.is_none_or(|l| l >= 64 * 1024) {
                assert!(locked, "mlock failed with RLIMIT_MEMLOCK {limit:?}");
            }
        }
    }
}

/// Pack several secret fields into one buffer: each field is a u32 big-endian length then the bytes.
pub fn pack(fields: &[&[u8]]) -> SecretBytes {
    let mut out = Vec::with_capacity(fields.iter().map(|f| f.len() + 4).sum());
    for f in fields {
        out.extend_from_slice(&(f.len() as u32).to_be_bytes());
        out.extend_from_slice(f);
    }
    SecretBytes::new(out)
}

/// Inverse of [`pack`]: exactly `count` fields, or `None` if the layout does not match.
pub fn unpack(bytes: &[u8], count: usize) -> Option<Vec<SecretBytes>> {
    unpack_all(bytes).filter(|fields| fields.len() == count)
}

/// Like [`unpack`], but reads as many fields as there are.
pub fn unpack_all(bytes: &[u8]) -> Option<Vec<SecretBytes>> {
    let mut rest = bytes;
    let mut fields = Vec::new();
    while !rest.is_empty() {
        if rest.len() < 4 {
            return None;
        }
        let len = u32::from_be_bytes(rest[..4].try_into().ok()?) as usize;
        rest = &rest[4..];
        if rest.len() < len {
            return None;
        }
        fields.push(SecretBytes::new(rest[..len].to_vec()));
        rest = &rest[len..];
    }
    Some(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_secret_bytes() {
        let s = SecretBytes::new(b"hunter2-secret".to_vec());
        let p = Passphrase::new("correct horse".into());
        let k = SecretKey32::new([0x41; 32]);
        let shown = format!("{s:?} {p:?} {k:?}");
        assert!(!shown.contains("hunter2"));
        assert!(!shown.contains("correct"));
        assert!(!shown.contains("AAAA") && !shown.contains("65, 65"));
    }

    #[test]
    fn pack_round_trips_and_rejects_wrong_layouts() {
        let packed = pack(&[b"ab", b"", b"cde"]);
        let fields = unpack(packed.expose(), 3).unwrap();
        assert_eq!(fields[0].expose(), b"ab");
        assert_eq!(fields[1].expose(), b"");
        assert_eq!(fields[2].expose(), b"cde");
        assert!(unpack(packed.expose(), 2).is_none());
        assert!(unpack(&packed.expose()[..5], 3).is_none());
    }

    #[test]
    fn secret_json_is_written_once_into_a_buffer_of_its_exact_size() {
        #[derive(serde::Serialize)]
        struct State {
            secret: SecretBytes,
            round: u8,
        }
        let json = secret_json(&State { secret: SecretBytes::from(Zeroizing::new(vec![1, 2, 3])), round: 2 }).unwrap();
        assert_eq!(json.expose(), br#"{"secret":"AQID","round":2}"#);
        assert_eq!(json.0.capacity(), json.0.len());
    }
}

/// `value` as compact JSON in a buffer allocated once, at its final size (counted in a first pass): a
/// growing `Vec` would free, without zeroizing, the smaller copies of the secrets it held.
pub fn secret_json<T: serde::Serialize>(value: &T) -> serde_json::Result<SecretBytes> {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    serde_json::to_writer(&mut count, value)?;
    let mut out = Zeroizing::new(Vec::with_capacity(count.0));
    serde_json::to_writer(&mut *out, value)?;
    debug_assert_eq!(out.len(), count.0);
    Ok(SecretBytes::from(out))
}

/// A secret is serialized as base64 text, built and parsed in zeroizing buffers: the ceremony states the
/// engine keeps in the home (sealed under the home key) hold secrets this way.
impl serde::Serialize for SecretBytes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use base64::Engine;
        let text = Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(&self.0));
        s.serialize_str(&text)
    }
}

impl<'de> serde::Deserialize<'de> for SecretBytes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use base64::Engine;
        let text = Zeroizing::new(String::deserialize(d)?);
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.as_bytes())
            .map_err(|_| serde::de::Error::custom("invalid base64 in a secret"))?;
        Ok(SecretBytes::new(bytes))
    }
}

/// serde helpers for public byte strings in ceremony states: base64 text for `Vec<u8>` and lists of them,
/// lowercase hex for 32-byte digests and lists of them.
pub mod codec {
    use base64::engine::general_purpose::STANDARD as B64;
    use base64::Engine;
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    fn digest<E: Error>(s: &str) -> Result<[u8; 32], E> {
        crate::textdoc::parse_hex(s).ok_or_else(|| E::custom("expected 64 lowercase hex digits"))
    }

    /// `Vec<u8>` as base64.
    pub mod b64 {
        use super::*;
        /// Serialize.
        pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
            s.serialize_str(&B64.encode(v))
        }
        /// Deserialize.
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
            B64.decode(String::deserialize(d)?).map_err(|_| D::Error::custom("invalid base64"))
        }
    }

    /// `Vec<Vec<u8>>` as a list of base64 strings.
    pub mod b64_list {
        use super::*;
        /// Serialize.
        pub fn serialize<S: Serializer>(v: &[Vec<u8>], s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq(v.iter().map(|b| B64.encode(b)))
        }
        /// Deserialize.
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<u8>>, D::Error> {
            Vec::<String>::deserialize(d)?
                .iter()
                .map(|t| B64.decode(t).map_err(|_| D::Error::custom("invalid base64")))
                .collect()
        }
    }

    /// `[u8; 32]` as hex.
    pub mod hex32 {
        use super::*;
        /// Serialize.
        pub fn serialize<S: Serializer>(v: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
            s.serialize_str(&hex::encode(v))
        }
        /// Deserialize.
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
            digest(&String::deserialize(d)?)
        }
    }

    /// `Vec<[u8; 32]>` as a list of hex strings.
    pub mod hex32_list {
        use super::*;
        /// Serialize.
        pub fn serialize<S: Serializer>(v: &[[u8; 32]], s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq(v.iter().map(hex::encode))
        }
        /// Deserialize.
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<[u8; 32]>, D::Error> {
            Vec::<String>::deserialize(d)?.iter().map(|t| digest(t)).collect()
        }
    }
}
