//! Secret byte strings: zeroized on drop, never printed.
//!
//! Everything secret that frostsign holds in memory (identity keys, the home key, passphrases, serialized
//! FROST shares and nonces) lives in one of these types, so that `{:?}` can never leak it into a log and
//! the bytes are wiped when the value goes out of scope.

use std::fmt;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// A secret byte string of any length.
#[derive(Clone, Default, Zeroize, ZeroizeOnDrop)]
pub struct SecretBytes(Vec<u8>);

impl SecretBytes {
    /// Take ownership of `bytes`; they are wiped when this value drops.
    pub fn new(bytes: Vec<u8>) -> Self {
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
        SecretBytes(std::mem::take(&mut *z))
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBytes(<{} bytes redacted>)", self.0.len())
    }
}

/// A 32-byte secret key.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SecretKey32([u8; 32]);

impl SecretKey32 {
    /// Wrap 32 secret bytes.
    pub fn new(bytes: [u8; 32]) -> Self {
        SecretKey32(bytes)
    }

    /// Fresh random key from the operating system's CSPRNG.
    pub fn random() -> Self {
        use rand_core::{OsRng, RngCore};
        let mut k = [0u8; 32];
        OsRng.fill_bytes(&mut k);
        let key = SecretKey32(k);
        k.zeroize();
        key
    }

    /// Read exactly 32 bytes from a slice.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        let arr: [u8; 32] = bytes.try_into().ok()?;
        Some(SecretKey32(arr))
    }

    /// Borrow the key bytes.
    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for SecretKey32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey32(<redacted>)")
    }
}

/// A passphrase as typed or read from a file (without the trailing newline).
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Passphrase(String);

impl Passphrase {
    /// Wrap a passphrase string.
    pub fn new(s: String) -> Self {
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

impl fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Passphrase(<redacted>)")
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
        Ok(SecretBytes(bytes))
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
