//! Each output format, built by frostsign's format code and signed with a plain Ed25519 key (a FROST group
//! signature is exactly such a signature), is accepted by the stock verifier. Guards the byte layouts
//! independently of the ceremonies. Stock tools are required under CI=true.
use crate::common::*;
use ed25519_dalek::{Signer, SigningKey};
use frostsign::formats::{minisign, openpgp, signify, ssh};
use sha2::{Digest, Sha256};
use std::fs;
use std::process::Command;

fn key() -> SigningKey {
    SigningKey::from_bytes(&[42u8; 32])
}

fn sh(dir: &std::path::Path, cmd: &str) -> (bool, String) {
    let o = Command::new("sh").arg("-c").arg(cmd).current_dir(dir).output().unwrap();
    (o.status.success(), format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)))
}

#[test]
fn sshsig_is_accepted_by_ssh_keygen() {
    if !require_tool("ssh-keygen", INSTALL_TOOLS) {
        return;
    }
    let env = Env::new();
    let sk = key();
    let pk = sk.verifying_key().to_bytes();
    let data = b"release bytes\n".repeat(1000);
    fs::write(env.path("a.bin"), &data).unwrap();
    let msg = ssh::signed_data("file", &Sha256::digest(&data).into());
    let sig = sk.sign(&msg).to_bytes();
    fs::write(env.path("a.bin.sig"), ssh::armored_signature(&pk, "file", &sig)).unwrap();
    fs::write(env.path("allowed"), ssh::allowed_signers_line("release@example.org", &pk) + "\n").unwrap();
    let (ok, out) =
        sh(env.dir.path(), "ssh-keygen -Y verify -f allowed -I release@example.org -n file -s a.bin.sig < a.bin");
    assert!(ok, "ssh-keygen rejected the SSHSIG: {out}");
    fs::write(env.path("a.bin"), b"tampered").unwrap();
    let (ok, _) =
        sh(env.dir.path(), "ssh-keygen -Y verify -f allowed -I release@example.org -n file -s a.bin.sig < a.bin");
    assert!(!ok, "ssh-keygen accepted a tampered file");
}

#[test]
fn signify_manifest_is_accepted_by_signify() {
    if !require_tool("signify-openbsd", INSTALL_TOOLS) {
        return;
    }
    let env = Env::new();
    let sk = key();
    let pk = sk.verifying_key().to_bytes();
    let id = minisign::key_id(&pk);
    fs::write(env.path("one.tar.gz"), b"one").unwrap();
    fs::write(env.path("two.zip"), b"two").unwrap();
    let m = signify::manifest(&[
        ("one.tar.gz", &Sha256::digest(b"one").into()),
        ("two.zip", &Sha256::digest(b"two").into()),
    ]);
    let sig = sk.sign(m.as_bytes()).to_bytes();
    fs::write(env.path("SHA256.sig"), signify::signed_manifest(&id, &sig, "verify with group.pub", &m)).unwrap();
    fs::write(env.path("group.pub"), signify::public_key_file(&pk, &id, "signify public key")).unwrap();
    let (ok, out) = sh(env.dir.path(), "signify-openbsd -C -p group.pub -x SHA256.sig");
    assert!(ok, "signify rejected the manifest: {out}");
    fs::write(env.path("two.zip"), b"tampered").unwrap();
    let (ok, _) = sh(env.dir.path(), "signify-openbsd -C -p group.pub -x SHA256.sig");
    assert!(!ok);
}

#[test]
fn openpgp_key_and_signature_are_accepted_by_gpg() {
    if !require_tool("gpg", INSTALL_TOOLS) || !require_tool("gpgv", INSTALL_TOOLS) {
        return;
    }
    let env = Env::new();
    let sk = key();
    let k = openpgp::PgpKey { pk: sk.verifying_key().to_bytes(), created: 1_790_000_000 };
    let uid = "Example Group <releases@example.org>";
    let cert = sk.sign(&k.certification_digest(uid, 1_790_000_000)).to_bytes();
    fs::write(env.path("key.asc"), k.armored_public_key(uid, 1_790_000_000, &cert)).unwrap();
    let data = b"openpgp release\n".repeat(500);
    fs::write(env.path("a.bin"), &data).unwrap();
    let t = 1_790_000_100;
    let mut h = Sha256::new();
    h.update(&data);
    h.update(k.file_trailer(t));
    let digest: [u8; 32] = h.finalize().into();
    fs::write(env.path("a.bin.asc"), k.armored_signature(t, &digest, &sk.sign(&digest).to_bytes())).unwrap();
    fs::create_dir(env.path("gnupg")).unwrap();
    let gpg = "gpg --batch --no-autostart --homedir gnupg";
    let (ok, out) = sh(env.dir.path(), &format!("chmod 700 gnupg && {gpg} --import key.asc"));
    assert!(ok && out.contains("imported: 1"), "gpg did not import the key: {out}");
    let (ok, out) = sh(env.dir.path(), &format!("{gpg} --verify a.bin.asc a.bin"));
    assert!(ok && out.contains("Good signature"), "gpg --verify failed: {out}");
    let (ok, out) =
        sh(env.dir.path(), &format!("{gpg} --export > keyring.gpg && gpgv --keyring ./keyring.gpg a.bin.asc a.bin"));
    assert!(ok, "gpgv failed: {out}");
    fs::write(env.path("a.bin"), b"tampered").unwrap();
    let (ok, _) = sh(env.dir.path(), &format!("{gpg} --verify a.bin.asc a.bin"));
    assert!(!ok);
}
