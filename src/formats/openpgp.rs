//! OpenPGP (RFC 4880 v4 packets, EdDSA "legacy" algorithm 22 as GnuPG 2.2 knows it) for a FROST group key.
//!
//! The group key becomes a v4 OpenPGP key whose creation time is fixed once, when the group enables
//! OpenPGP; the v4 fingerprint covers that time, so it never changes. A key is only usable by GnuPG with a
//! self-certification, which the group signs in a normal signing session. Detached signatures over files
//! are type 0x00 (binary document) with SHA-256.
//!
//! Messages the group signs (each a 32-byte SHA-256 output that the signer computes itself):
//! - certification: SHA-256(0x99 || u16(len key) || key || 0xB4 || u32(len uid) || uid || H || 04 FF || u32(len H))
//! - file: SHA-256(file || H || 04 FF || u32(len H)), H = the signature's hashed part.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use sha1::Sha1;
use sha2::{Digest, Sha256};

const ALGO_EDDSA_LEGACY: u8 = 22;
const HASH_SHA256: u8 = 8;
const ED25519_OID: [u8; 9] = [0x2b, 0x06, 0x01, 0x04, 0x01, 0xda, 0x47, 0x0f, 0x01];
const SIG_BINARY: u8 = 0x00;
const SIG_POSITIVE_CERT: u8 = 0x13;

/// The group key as an OpenPGP v4 key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PgpKey {
    /// Ed25519 public key.
    pub pk: [u8; 32],
    /// Key creation time (Unix seconds), fixed when the group enables OpenPGP.
    pub created: u32,
}

fn mpi(bytes: &[u8]) -> Vec<u8> {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    let b = &bytes[start..];
    let bits = if b.is_empty() { 0 } else { (b.len() as u16 - 1) * 8 + (8 - b[0].leading_zeros() as u16) };
    let mut out = bits.to_be_bytes().to_vec();
    out.extend_from_slice(b);
    out
}

fn packet(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![0xC0 | tag];
    let n = body.len();
    if n < 192 {
        out.push(n as u8);
    } else if n < 8384 {
        out.push((((n - 192) >> 8) + 192) as u8);
        out.push(((n - 192) & 0xFF) as u8);
    } else {
        out.push(0xFF);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    }
    out.extend_from_slice(body);
    out
}

fn subpacket(kind: u8, data: &[u8]) -> Vec<u8> {
    let mut out = vec![(data.len() + 1) as u8, kind];
    out.extend_from_slice(data);
    out
}

impl PgpKey {
    /// The public key packet body.
    pub fn key_body(&self) -> Vec<u8> {
        let mut b = vec![4];
        b.extend_from_slice(&self.created.to_be_bytes());
        b.push(ALGO_EDDSA_LEGACY);
        b.push(ED25519_OID.len() as u8);
        b.extend_from_slice(&ED25519_OID);
        let mut point = vec![0x40];
        point.extend_from_slice(&self.pk);
        b.extend_from_slice(&mpi(&point));
        b
    }

    fn key_hash_prefix(&self) -> Vec<u8> {
        let body = self.key_body();
        let mut out = vec![0x99];
        out.extend_from_slice(&(body.len() as u16).to_be_bytes());
        out.extend_from_slice(&body);
        out
    }

    /// The v4 fingerprint (SHA-1, as RFC 4880 defines it).
    pub fn fingerprint(&self) -> [u8; 20] {
        Sha1::digest(self.key_hash_prefix()).into()
    }

    /// The key id (last 8 bytes of the fingerprint).
    pub fn key_id(&self) -> [u8; 8] {
        let fingerprint = self.fingerprint();
        std::array::from_fn(|i| fingerprint[12 + i])
    }

    /// The hashed part of a signature by this key: version, type, algorithms, hashed subpackets.
    fn hashed_part(&self, sig_type: u8, time: u32) -> Vec<u8> {
        let mut subs = subpacket(2, &time.to_be_bytes());
        if sig_type == SIG_POSITIVE_CERT {
            subs.extend(subpacket(27, &[0x03])); // key flags: certify and sign
            subs.extend(subpacket(21, &[HASH_SHA256, 10])); // preferred hashes: SHA-256, SHA-512
        }
        let mut fpr = vec![4];
        fpr.extend_from_slice(&self.fingerprint());
        subs.extend(subpacket(33, &fpr));
        let mut h = vec![4, sig_type, ALGO_EDDSA_LEGACY, HASH_SHA256];
        h.extend_from_slice(&(subs.len() as u16).to_be_bytes());
        h.extend(subs);
        h
    }

    /// What follows the signed data in the hash of a signature: H || 04 FF || u32(len H).
    pub fn trailer(&self, sig_type: u8, time: u32) -> Vec<u8> {
        let h = self.hashed_part(sig_type, time);
        let mut t = h.clone();
        t.extend_from_slice(&[4, 0xFF]);
        t.extend_from_slice(&(h.len() as u32).to_be_bytes());
        t
    }

    /// Trailer of a detached signature over a file, made at `time`.
    pub fn file_trailer(&self, time: u32) -> Vec<u8> {
        self.trailer(SIG_BINARY, time)
    }

    /// The 32-byte message the group signs to certify `uid` on this key, at `time`.
    pub fn certification_digest(&self, uid: &str, time: u32) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(self.key_hash_prefix());
        h.update([0xB4]);
        h.update((uid.len() as u32).to_be_bytes());
        h.update(uid.as_bytes());
        h.update(self.trailer(SIG_POSITIVE_CERT, time));
        h.finalize().into()
    }

    fn signature_packet(&self, sig_type: u8, time: u32, digest: &[u8; 32], sig: &[u8; 64]) -> Vec<u8> {
        let mut body = self.hashed_part(sig_type, time);
        let unhashed = subpacket(16, &self.key_id());
        body.extend_from_slice(&(unhashed.len() as u16).to_be_bytes());
        body.extend(unhashed);
        body.extend_from_slice(&digest[..2]);
        body.extend(mpi(&sig[..32]));
        body.extend(mpi(&sig[32..]));
        packet(2, &body)
    }

    /// The armored public key: key packet, user id, self-certification.
    pub fn armored_public_key(&self, uid: &str, cert_time: u32, cert_sig: &[u8; 64]) -> String {
        let digest = self.certification_digest(uid, cert_time);
        let mut bytes = packet(6, &self.key_body());
        bytes.extend(packet(13, uid.as_bytes()));
        bytes.extend(self.signature_packet(SIG_POSITIVE_CERT, cert_time, &digest, cert_sig));
        armor("PGP PUBLIC KEY BLOCK", &bytes)
    }

    /// The armored detached signature over a file whose signed digest is `digest`.
    pub fn armored_signature(&self, time: u32, digest: &[u8; 32], sig: &[u8; 64]) -> String {
        armor("PGP SIGNATURE", &self.signature_packet(SIG_BINARY, time, digest, sig))
    }
}

fn crc24(data: &[u8]) -> u32 {
    let mut crc: u32 = 0xB704CE;
    for &b in data {
        crc ^= (b as u32) << 16;
        for _ in 0..8 {
            crc <<= 1;
            if crc & 0x1000000 != 0 {
                crc ^= 0x1864CFB;
            }
        }
    }
    crc & 0xFFFFFF
}

/// ASCII armor (RFC 4880 section 6): header, base64 in lines of 64, CRC-24 checksum line, footer.
pub fn armor(kind: &str, bytes: &[u8]) -> String {
    let mut out = format!("-----BEGIN {kind}-----\n\n");
    let b64 = B64.encode(bytes);
    for chunk in b64.as_bytes().chunks(64) {
        out.extend(chunk.iter().map(|&b| char::from(b)));
        out.push('\n');
    }
    out.push('=');
    out.push_str(&B64.encode(&crc24(bytes).to_be_bytes()[1..]));
    out.push_str(&format!("\n-----END {kind}-----\n"));
    out
}

fn dearmor(text: &str, kind: &str) -> Result<Vec<u8>, String> {
    let begin = format!("-----BEGIN {kind}-----");
    let end = format!("-----END {kind}-----");
    let body =
        text.trim().strip_prefix(&begin).and_then(|t| t.strip_suffix(&end)).ok_or(format!("missing {kind} armor"))?;
    // After the BEGIN line: armor headers ("Key: value", e.g. "Comment: ..."), an empty line, then the
    // base64 and the optional "=" checksum line (RFC 4880 section 6.2). A header line always holds ": ",
    // which base64 never does.
    let mut lines = body.split('\n').map(str::trim).peekable();
    if lines.next() != Some("") {
        return Err(format!("text after the BEGIN {kind} line"));
    }
    let mut headers = 0;
    while lines.next_if(|l| l.contains(": ")).is_some() {
        headers += 1;
    }
    if headers > 0 && lines.next() != Some("") {
        return Err("no empty line after the armor headers".into());
    }
    let mut b64 = String::new();
    let mut crc = None;
    for line in lines {
        if let Some(c) = line.strip_prefix('=') {
            crc = Some(c.to_string());
        } else {
            b64.push_str(line);
        }
    }
    let bytes = B64.decode(b64).map_err(|_| "invalid base64 in the armor".to_string())?;
    if let Some(c) = crc {
        let raw = B64.decode(c).map_err(|_| "invalid armor checksum".to_string())?;
        if raw.len() != 3 || raw[..] != crc24(&bytes).to_be_bytes()[1..] {
            return Err("the armor checksum does not match (damaged file)".into());
        }
    }
    Ok(bytes)
}

/// Split a byte string into (tag, body) packets (new and old formats).
fn packets(mut data: &[u8]) -> Result<Vec<(u8, &[u8])>, String> {
    let bad = || "malformed OpenPGP packet".to_string();
    let mut out = Vec::new();
    while !data.is_empty() {
        let h = data[0];
        if h & 0x80 == 0 {
            return Err(bad());
        }
        let (tag, len, hdr) = if h & 0x40 != 0 {
            let tag = h & 0x3F;
            let b1 = *data.get(1).ok_or_else(bad)? as usize;
            match b1 {
                0..=191 => (tag, b1, 2),
                192..=223 => (tag, ((b1 - 192) << 8) + *data.get(2).ok_or_else(bad)? as usize + 192, 3),
                255 => (
                    tag,
                    u32::from_be_bytes(data.get(2..6).ok_or_else(bad)?.try_into().map_err(|_| bad())?) as usize,
                    6,
                ),
                _ => return Err("partial-length OpenPGP packets are not supported".into()),
            }
        } else {
            let tag = (h >> 2) & 0x0F;
            match h & 3 {
                0 => (tag, *data.get(1).ok_or_else(bad)? as usize, 2),
                1 => (
                    tag,
                    u16::from_be_bytes(data.get(1..3).ok_or_else(bad)?.try_into().map_err(|_| bad())?) as usize,
                    3,
                ),
                2 => (
                    tag,
                    u32::from_be_bytes(data.get(1..5).ok_or_else(bad)?.try_into().map_err(|_| bad())?) as usize,
                    5,
                ),
                _ => return Err("indeterminate-length OpenPGP packets are not supported".into()),
            }
        };
        let body = data.get(hdr..hdr + len).ok_or_else(bad)?;
        out.push((tag, body));
        data = &data[hdr + len..];
    }
    Ok(out)
}

/// A parsed detached signature (EdDSA legacy only).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PgpSignature {
    /// Signature type (0x00 binary document).
    pub sig_type: u8,
    /// Hash algorithm id (8 SHA-256, 10 SHA-512).
    pub hash_algo: u8,
    /// The hashed part as it is hashed.
    pub hashed_part: Vec<u8>,
    /// The left 16 bits of the digest.
    pub left16: [u8; 2],
    /// r || s, each left-padded to 32 bytes.
    pub signature: [u8; 64],
}

impl PgpSignature {
    /// H || 04 FF || u32(len H).
    pub fn trailer(&self) -> Vec<u8> {
        let mut t = self.hashed_part.clone();
        t.extend_from_slice(&[4, 0xFF]);
        t.extend_from_slice(&(self.hashed_part.len() as u32).to_be_bytes());
        t
    }
}

fn read_mpi(data: &[u8]) -> Option<(Vec<u8>, &[u8])> {
    let bits = u16::from_be_bytes(data.get(..2)?.try_into().ok()?) as usize;
    let n = bits.div_ceil(8);
    Some((data.get(2..2 + n)?.to_vec(), &data[2 + n..]))
}

fn pad32(v: &[u8]) -> Option<[u8; 32]> {
    if v.len() > 32 {
        return None;
    }
    let mut out = [0u8; 32];
    out[32 - v.len()..].copy_from_slice(v);
    Some(out)
}

/// Is this an armored OpenPGP signature?
pub fn looks_like(text: &str) -> bool {
    text.trim_start().starts_with("-----BEGIN PGP SIGNATURE-----")
}

/// Parse an armored detached signature.
pub fn parse_signature(text: &str) -> Result<PgpSignature, String> {
    let bytes = dearmor(text, "PGP SIGNATURE")?;
    let pk = packets(&bytes)?;
    let [(2, body)] = pk.as_slice() else { return Err("expected exactly one OpenPGP signature packet".into()) };
    let bad = || "malformed OpenPGP signature".to_string();
    if body.first() != Some(&4) {
        return Err("only version 4 OpenPGP signatures are supported".into());
    }
    let sig_type = *body.get(1).ok_or_else(bad)?;
    if body.get(2) != Some(&ALGO_EDDSA_LEGACY) {
        return Err("not an EdDSA (Ed25519) signature".into());
    }
    let hash_algo = *body.get(3).ok_or_else(bad)?;
    let hlen = u16::from_be_bytes(body.get(4..6).ok_or_else(bad)?.try_into().map_err(|_| bad())?) as usize;
    let hashed_part = body.get(..6 + hlen).ok_or_else(bad)?.to_vec();
    let rest = &body[6 + hlen..];
    let ulen = u16::from_be_bytes(rest.get(..2).ok_or_else(bad)?.try_into().map_err(|_| bad())?) as usize;
    let rest = rest.get(2 + ulen..).ok_or_else(bad)?;
    let left16 = rest.get(..2).ok_or_else(bad)?.try_into().map_err(|_| bad())?;
    let (r, rest) = read_mpi(&rest[2..]).ok_or_else(bad)?;
    let (s, rest) = read_mpi(rest).ok_or_else(bad)?;
    if !rest.is_empty() {
        return Err(bad());
    }
    let mut signature = [0u8; 64];
    signature[..32].copy_from_slice(&pad32(&r).ok_or_else(bad)?);
    signature[32..].copy_from_slice(&pad32(&s).ok_or_else(bad)?);
    Ok(PgpSignature { sig_type, hash_algo, hashed_part, left16, signature })
}

/// The Ed25519 key in an armored OpenPGP public key (its primary EdDSA key).
pub fn parse_public_key(text: &str) -> Option<[u8; 32]> {
    let bytes = dearmor(text, "PGP PUBLIC KEY BLOCK").ok()?;
    let pk = packets(&bytes).ok()?;
    let (_, body) = pk.iter().find(|(tag, _)| *tag == 6)?;
    if body.first() != Some(&4)
        || body.get(5) != Some(&ALGO_EDDSA_LEGACY)
        || body.get(6) != Some(&9)
        || body.get(7..16)? != ED25519_OID
    {
        return None;
    }
    let (point, _) = read_mpi(body.get(16..)?)?;
    (point.len() == 33 && point[0] == 0x40).then(|| point[1..].try_into().ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mpi_strips_leading_zeros() {
        assert_eq!(mpi(&[0, 0, 1]), vec![0, 1, 1]);
        assert_eq!(mpi(&[0x40, 7]), vec![0, 15, 0x40, 7]);
    }

    #[test]
    fn crc24_known_answers() {
        // The check value of CRC-24/OPENPGP in the CRC catalogue (reveng): CRC of the ASCII "123456789".
        assert_eq!(crc24(b"123456789"), 0x21CF02);
        // One flipped bit changes it; the empty string leaves the RFC 4880 initial value.
        assert_ne!(crc24(b"123456788"), 0x21CF02);
        assert_eq!(crc24(b""), 0xB704CE);
    }

    #[test]
    fn signature_round_trip() {
        let key = PgpKey { pk: [9u8; 32], created: 1_700_000_000 };
        let mut sig = [5u8; 64];
        sig[0] = 0; // r with a leading zero byte, as real signatures sometimes have
        let text = key.armored_signature(1_700_000_100, &[1u8; 32], &sig);
        let p = parse_signature(&text).unwrap();
        assert_eq!(p.signature, sig);
        assert_eq!(p.trailer(), key.file_trailer(1_700_000_100));
        assert_eq!(p.left16, [1, 1]);
        let pubkey = key.armored_public_key("Group <g@example.org>", 1_700_000_000, &[3u8; 64]);
        assert_eq!(parse_public_key(&pubkey), Some([9u8; 32]));
    }
}
