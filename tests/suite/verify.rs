//! Acceptance tests for issue 4, the end user's side: `frostsign verify` (and the stock tools) on a
//! signature made by a threshold signing session.
//!
//! Exit codes are part of the contract: 0 valid, 1 invalid or wrong key, 2 usage or malformed input.

use crate::common::*;

use std::fs;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

// ---------------------------------------------------------------------------------------------------------
// Local helpers
// ---------------------------------------------------------------------------------------------------------

/// Run a whole DKG in `dir` and make sure every keyholder stored its share.
fn dkg(env: &Env, dir: &str, t: usize, holders: &[Holder]) -> PathBuf {
    let group = env.dkg(dir, t, holders);
    for h in holders {
        h.dkg_step(&env.path(dir)).ok();
    }
    assert!(group.exists());
    group
}

/// Sign `artifact` in session folder `dir` with `signers` (each uses the file itself as its copy);
/// returns the .minisig path.
fn sign(env: &Env, group: &Path, artifact: &Path, dir: &str, signers: &[&Holder]) -> PathBuf {
    let d = env.path(dir);
    env.run(&["sign", "init", "--dir", s(&d), "--group", s(group), "--file", s(artifact), "--comment", "v1.0"]).ok();
    for _ in 0..3 {
        for h in signers {
            h.run(&["sign", "step", "--dir", s(&d), "--file", s(artifact), "--yes"]).ok();
        }
        if env.run(&["sign", "collect", "--dir", s(&d)]).code == 0 {
            let sig = d.join(format!("{}.minisig", artifact.file_name().unwrap().to_string_lossy()));
            assert!(sig.exists());
            return sig;
        }
    }
    panic!("the signing session did not complete");
}

/// A 2-of-3 group and one signed artifact.
struct Signed {
    env: Env,
    holders: Vec<Holder>,
    group: PathBuf,
    artifact: PathBuf,
    sig: PathBuf,
}

impl Signed {
    fn new() -> Signed {
        let env = Env::new();
        let holders = env.holders(3);
        let group = dkg(&env, "dkg", 2, &holders);
        let artifact = env.path("app-1.0.tar.gz");
        fs::write(&artifact, b"the release, byte for byte\n".repeat(100)).unwrap();
        let sig = sign(&env, &group, &artifact, "session", &[&holders[0], &holders[2]]);
        Signed { env, holders, group, artifact, sig }
    }

    /// `verify --key FILE`.
    fn verify(&self, key: &str, artifact: &Path, sig: &Path, json: bool) -> Out {
        self.verify_as("--key", key, artifact, sig, json)
    }

    /// `verify` with the key given by `flag` (`--key` or `--key-line`).
    fn verify_as(&self, flag: &str, key: &str, artifact: &Path, sig: &Path, json: bool) -> Out {
        let mut args = vec!["verify", flag, key, s(artifact), "--sig", s(sig)];
        if json {
            args.push("--json");
        }
        self.env.run(&args)
    }

    fn group_field(&self, key: &str) -> String {
        group_field(&self.group, key)
    }

    /// The group's Ed25519 public key.
    fn group_key(&self) -> [u8; 32] {
        hex::decode(self.group_field("group-key")).unwrap().try_into().unwrap()
    }

    /// A minisign public key file made from group.pub's line, as a user would publish it.
    fn minisign_pub(&self) -> PathBuf {
        let p = self.env.path("minisign.pub");
        let id = self.group_field("minisign-key-id");
        let line = self.group_field("minisign-public-key");
        fs::write(&p, format!("untrusted comment: minisign public key {id}\n{line}\n")).unwrap();
        p
    }

    /// The trusted comment as written in the .minisig.
    fn trusted_comment(&self) -> String {
        let text = fs::read_to_string(&self.sig).unwrap();
        text.lines().nth(2).unwrap().strip_prefix("trusted comment: ").unwrap().to_string()
    }

    /// Write a copy of the .minisig with line `line` (0-based) transformed.
    fn sig_with(&self, name: &str, line: usize, f: impl Fn(&str) -> String) -> PathBuf {
        let text = fs::read_to_string(&self.sig).unwrap();
        let lines: Vec<String> =
            text.lines().enumerate().map(|(i, l)| if i == line { f(l) } else { l.to_string() }).collect();
        let p = self.env.path(name);
        fs::write(&p, lines.join("\n") + "\n").unwrap();
        p
    }
}

fn group_field(group: &Path, key: &str) -> String {
    let prefix = format!("{key}: ");
    fs::read_to_string(group)
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix(prefix.as_str()).map(str::to_string))
        .unwrap_or_else(|| panic!("group.pub has no {key}"))
}

/// Change the base64 character at `i` into another one (still valid base64, so the change is a
/// changed byte, not a parse error).
fn change_b64_char(line: &str, i: usize) -> String {
    let mut b = line.as_bytes().to_vec();
    b[i] = if b[i] == b'A' { b'B' } else { b'A' };
    String::from_utf8(b).unwrap()
}

fn json(out: &Out) -> serde_json::Value {
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("--json output is not JSON ({e}):\n{}", out.all()))
}

/// Run stock minisign (if installed): Some(success, output).
fn stock_minisign(env: &Env, pubfile: &Path, artifact: &Path, sig: &Path) -> Option<(bool, String)> {
    if !require_tool("minisign", INSTALL_TOOLS) {
        return None;
    }
    let o = Command::new("minisign")
        .current_dir(env.dir.path())
        .args(["-Vm", s(artifact), "-x", s(sig), "-p", s(pubfile)])
        .output()
        .expect("run minisign");
    Some((o.status.success(), String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr)))
}

// ---------------------------------------------------------------------------------------------------------
// Valid signatures
// ---------------------------------------------------------------------------------------------------------

#[test]
fn a_valid_signature_verifies_with_group_pub_minisign_pub_file_and_bare_key_line() {
    let x = Signed::new();
    let tc = x.trusted_comment();
    assert!(tc.starts_with("timestamp:") && tc.contains("\tfile:app-1.0.tar.gz\t") && tc.ends_with("\tcomment:v1.0"));
    let key_id = x.group_field("minisign-key-id");
    let line = x.group_field("minisign-public-key");
    let pubfile = x.minisign_pub();

    // group.pub: also says which group signed.
    x.verify(s(&x.group), &x.artifact, &x.sig, false)
        .ok()
        .contains("Signature and comment signature verified")
        .contains(&format!("Trusted comment: {tc}"))
        .contains("Signed by group Test group (2-of-3");
    // A plain minisign public key file, and the bare key line.
    for (flag, key) in [("--key", s(&pubfile)), ("--key-line", line.as_str())] {
        let out = x.verify_as(flag, key, &x.artifact, &x.sig, false);
        out.ok().contains("Signature and comment signature verified").contains(&format!("Trusted comment: {tc}"));
        let v = json(x.verify_as(flag, key, &x.artifact, &x.sig, true).ok());
        assert_eq!(v["valid"], true);
        assert_eq!(v["key_id"], key_id.as_str());
        assert_eq!(v["trusted_comment"], tc.as_str());
        assert_eq!(v["file"], s(&x.artifact));
    }
    let v = json(x.verify(s(&x.group), &x.artifact, &x.sig, true).ok());
    assert_eq!((v["valid"].clone(), v["key_id"].clone()), (true.into(), key_id.as_str().into()));

    // Default signature path: ARTIFACT.minisig next to the artifact.
    fs::copy(&x.sig, x.env.path("app-1.0.tar.gz.minisig")).unwrap();
    x.env.run(&["verify", "--key", s(&x.group), s(&x.artifact)]).ok().contains(&tc);

    // The minisign-verify crate, with the line exactly as group.pub holds it.
    let pk = minisign_verify::PublicKey::from_base64(&line).unwrap();
    let sig = minisign_verify::Signature::decode(&fs::read_to_string(&x.sig).unwrap()).unwrap();
    pk.verify(&fs::read(&x.artifact).unwrap(), &sig, false).unwrap();
    assert_eq!(sig.trusted_comment(), tc);

    // Stock minisign with the public key file (group.pub's line unchanged).
    if let Some((ok, out)) = stock_minisign(&x.env, &pubfile, &x.artifact, &x.sig) {
        assert!(ok && out.contains("Signature and comment signature verified") && out.contains(&tc), "{out}");
    }
}

// ---------------------------------------------------------------------------------------------------------
// Invalid signatures: exit 1
// ---------------------------------------------------------------------------------------------------------

#[test]
fn a_one_byte_change_anywhere_or_another_groups_key_is_invalid() {
    let x = Signed::new();
    let group = s(&x.group);
    let pubfile = x.minisign_pub();

    // Tampered copies. Each differs from the genuine file in exactly one byte.
    let mut bytes = fs::read(&x.artifact).unwrap();
    bytes[1234] ^= 0x20;
    let bad_artifact = x.env.path("tampered.tar.gz");
    fs::write(&bad_artifact, &bytes).unwrap();
    let bad_sig_line = x.sig_with("sig-line.minisig", 1, |l| change_b64_char(l, 40));
    let bad_tc = x.sig_with("tc.minisig", 2, |l| l.replace("file:app-1.0.tar.gz", "file:app-1.1.tar.gz"));
    let bad_global = x.sig_with("global.minisig", 3, |l| change_b64_char(l, 10));
    let cases: [(&str, &Path, &Path, &str); 4] = [
        ("artifact", &bad_artifact, &x.sig, "signature verification failed"),
        ("signature line", &x.artifact, &bad_sig_line, "signature verification failed"),
        ("trusted comment", &x.artifact, &bad_tc, "trusted comment"),
        ("global signature", &x.artifact, &bad_global, "trusted comment"),
    ];
    for (what, artifact, sig, needle) in cases {
        let out = x.verify(group, artifact, sig, false);
        out.expect_code(1).contains(needle);
        assert!(!out.stdout.contains("verified"), "{what}: claims success:\n{}", out.all());
        let out = x.verify(group, artifact, sig, true);
        assert_eq!(out.code, 1, "{what}");
        let v = json(&out);
        assert_eq!(v["valid"], false, "{what}");
        assert!(v["trusted_comment"].is_null(), "{what}: an unverified comment must not be reported");
        if let Some((ok, out)) = stock_minisign(&x.env, &pubfile, artifact, sig) {
            assert!(!ok, "stock minisign accepted the tampered {what}:\n{out}");
        }
    }

    // The untrusted comment is not signed (as in minisign): changing it changes nothing.
    let uc = x.sig_with("uc.minisig", 0, |_| "untrusted comment: edited".into());
    x.verify(group, &x.artifact, &uc, false).ok();

    // Another group (same keyholders, new DKG): wrong key.
    let other = dkg(&x.env, "dkg-other", 2, &x.holders);
    x.verify(s(&other), &x.artifact, &x.sig, false).expect_code(1).contains("another key");
    let v = json(&x.verify(s(&other), &x.artifact, &x.sig, true));
    assert_eq!(v["valid"], false);
    // Another group's key carrying this group's key id: the signatures themselves fail.
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let mine = b64.decode(x.group_field("minisign-public-key")).unwrap();
    let mut theirs = b64.decode(group_field(&other, "minisign-public-key")).unwrap();
    theirs[2..10].copy_from_slice(&mine[2..10]);
    x.verify_as("--key-line", &b64.encode(&theirs), &x.artifact, &x.sig, false)
        .expect_code(1)
        .contains("verification failed");
    if require_tool("minisign", INSTALL_TOOLS) {
        let p = x.env.path("other.pub");
        fs::write(&p, format!("untrusted comment: other\n{}\n", group_field(&other, "minisign-public-key"))).unwrap();
        let (ok, out) = stock_minisign(&x.env, &p, &x.artifact, &x.sig).unwrap();
        assert!(!ok, "stock minisign accepted another group's key:\n{out}");
    }
}

// ---------------------------------------------------------------------------------------------------------
// Malformed input: exit 2
// ---------------------------------------------------------------------------------------------------------

#[test]
fn malformed_or_missing_input_is_exit_2() {
    let x = Signed::new();
    let group = s(&x.group);
    let write = |name: &str, text: &str| {
        let p = x.env.path(name);
        fs::write(&p, text).unwrap();
        p
    };
    let garbage = write("garbage.minisig", "this is not a signature\n");
    x.verify(group, &x.artifact, &garbage, false).refused_with("not a valid minisign signature");
    let v = json(&x.verify(group, &x.artifact, &garbage, true));
    assert_eq!((v["valid"].clone(), v["file"].clone()), (false.into(), s(&x.artifact).into()));
    let empty = write("empty.minisig", "");
    x.verify(group, &x.artifact, &empty, false).expect_code(2);
    let text = fs::read_to_string(&x.sig).unwrap();
    let truncated = write("truncated.minisig", &text.lines().take(2).collect::<Vec<_>>().join("\n"));
    x.verify(group, &x.artifact, &truncated, false).refused_with("not a valid minisign signature");
    let not_b64 = x.sig_with("notb64.minisig", 1, |l| format!("!{}", &l[1..]));
    x.verify(group, &x.artifact, &not_b64, false).refused_with("base64");
    let binary = x.env.path("binary.minisig");
    fs::write(&binary, [0xffu8, 0xfe, 0, 1, 2, 3]).unwrap();
    x.verify(group, &x.artifact, &binary, false).expect_code(2);

    // Missing artifact, missing signature, missing or unusable key.
    let missing = x.env.path("no-such-file.tar.gz");
    x.verify(group, &missing, &x.sig, false).expect_code(2).contains("no-such-file.tar.gz");
    x.verify(group, &x.artifact, &x.env.path("no-such.minisig"), false).expect_code(2).contains("no-such.minisig");
    x.verify(s(&x.env.path("no-such.pub")), &x.artifact, &x.sig, false).expect_code(2);
    let bad_key = write("bad.pub", "untrusted comment: x\nnot a key\n");
    x.verify(s(&bad_key), &x.artifact, &x.sig, false).refused_with("not a public key frostsign knows");
    // Usage errors.
    x.env.run(&["verify", s(&x.artifact)]).expect_code(2);
    x.env.run(&["verify", "--key", group]).expect_code(2);
}

// ---------------------------------------------------------------------------------------------------------
// Hardening: an unambiguous key, no special files, nothing raw on the terminal, a quiet broken pipe
// ---------------------------------------------------------------------------------------------------------

/// A key that is not the group's, and a .minisig it made for `artifact` (what an attacker ships).
fn attacker_signature(x: &Signed, artifact: &Path, name: &str) -> (String, PathBuf) {
    use ed25519_dalek::{Signer, SigningKey};
    use frostsign::formats::minisign::{self, MinisignSignature};
    let sk = SigningKey::from_bytes(&[0x66; 32]);
    let pk = sk.verifying_key().to_bytes();
    let digest = frostsign::digest::blake2b_file(artifact).unwrap();
    let signature = sk.sign(&digest).to_bytes();
    let trusted_comment = "timestamp:1\tfile:app-1.0.tar.gz".to_string();
    let global_signature = sk.sign(&minisign::global_message(&signature, &trusted_comment)).to_bytes();
    let sig = MinisignSignature { key_id: minisign::key_id(&pk), signature, trusted_comment, global_signature };
    let path = x.env.path(name);
    fs::write(&path, sig.encode("attacker")).unwrap();
    (minisign::public_key_line(&minisign::key_id(&pk), &pk), path)
}

#[test]
fn a_key_line_given_to_key_is_refused_and_never_read_as_a_planted_file() {
    let x = Signed::new();
    let line = x.group_field("minisign-public-key");
    let evil = x.env.path("evil-1.0.tar.gz");
    fs::write(&evil, b"malware").unwrap();
    let (evil_line, evil_sig) = attacker_signature(&x, &evil, "evil.minisig");
    // The release archive plants a file whose path is the project's key line (its `/` become folders),
    // holding the attacker's key, in the folder where CI runs `verify --key LINE`.
    // (A line ending in `/` cannot name a file; then only the refusal below is tested.)
    let planted = x.env.path(&line);
    if !line.ends_with('/') {
        fs::create_dir_all(planted.parent().unwrap()).unwrap();
        fs::write(&planted, format!("untrusted comment: planted\n{evil_line}\n")).unwrap();
    }

    let out = x.env.run(&["verify", "--key", &line, s(&evil), "--sig", s(&evil_sig)]);
    refused(&out, &["looks like a public key itself", "--key-line"]);
    assert!(!out.stdout.contains("verified"), "{}", out.all());
    // With --key-line the attacker's signature is another key's: invalid, whatever the folder holds.
    x.verify_as("--key-line", &line, &evil, &evil_sig, false).expect_code(1).contains("another key");
    x.verify_as("--key-line", &line, &x.artifact, &x.sig, false)
        .ok()
        .contains("Signature and comment signature verified");
    // A key line, even one that names an existing file, is never opened as a file by --key-line...
    let pubfile = x.minisign_pub();
    refused(&x.verify_as("--key-line", s(&pubfile), &x.artifact, &x.sig, false), &["not a public key line"]);
    // ...and the other key forms work as lines too; other key-looking values are refused by --key.
    let ssh_line = frostsign::formats::ssh::public_key_line(&x.group_key(), "releases");
    let signers_line = frostsign::formats::ssh::allowed_signers_line("releases@example.org", &x.group_key());
    for key in [ssh_line.as_str(), signers_line.as_str()] {
        x.verify_as("--key-line", key, &x.artifact, &x.sig, false).ok();
        refused(&x.verify(key, &x.artifact, &x.sig, false), &["looks like a public key itself"]);
    }
    // A key FILE whose name merely mentions a key type is still a file.
    let named = x.env.path("keys-ssh-ed25519.pub");
    fs::copy(x.minisign_pub(), &named).unwrap();
    x.verify(s(&named), &x.artifact, &x.sig, false).ok();
    // Exactly one of the two options.
    let both = x.env.run(&["verify", "--key", s(&x.group), "--key-line", &line, s(&x.artifact)]);
    refused(&both, &["cannot be used with"]);
    refused(&x.env.run(&["verify", s(&x.artifact)]), &["--key <FILE>|--key-line <TEXT>"]);
}

#[test]
fn a_fifo_or_device_as_signature_key_or_artifact_is_refused_without_blocking() {
    let x = Signed::new();
    let fifo = x.env.path("fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let (group, artifact, sig, f) = (s(&x.group), s(&x.artifact), s(&x.sig), s(&fifo));
    for args in [
        ["verify", "--key", group, artifact, "--sig", f],
        ["verify", "--key", f, artifact, "--sig", sig],
        ["verify", "--key", group, f, "--sig", sig],
        ["verify", "--key", group, "/dev/zero", "--sig", sig],
    ] {
        refused(&run_with_deadline(x.env.dir.path(), &args), &["is not a regular file"]);
    }
}

#[test]
fn text_from_a_hostile_signature_is_escaped_and_never_fakes_a_verdict() {
    let x = Signed::new();
    // An SSHSIG whose namespace clears the line and draws "Signature verified" (the exit code is 1).
    let fake = "file\u{1b}[1A\u{1b}[2K\rSignature verified\u{202e}";
    let sig = x.env.path("hostile.sig");
    fs::write(&sig, frostsign::formats::ssh::armored_signature(&x.group_key(), fake, &[7u8; 64])).unwrap();
    let out = x.verify(s(&x.group), &x.artifact, &sig, false);
    out.expect_code(1).contains("namespace `file\\033[1A\\033[2K\\015Signature verified\\u{202e}`");
    for o in [&out, &x.verify(s(&x.group), &x.artifact, &sig, true)] {
        let raw = o.all();
        assert!(
            !raw.contains('\u{1b}') && !raw.contains('\r') && !raw.contains('\u{202e}'),
            "raw control in:\n{raw:?}"
        );
    }
    // The same through a hash name the parser does not know.
    let text = fs::read_to_string(&sig).unwrap();
    let b64: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    use base64::Engine;
    let engine = base64::engine::general_purpose::STANDARD;
    let blob = engine.decode(b64).unwrap();
    let pos = blob.windows(6).position(|w| w == b"sha256").unwrap();
    let mut evil = blob.clone();
    evil[pos..pos + 6].copy_from_slice(b"\x1b[2J\x07X");
    let armored = format!("-----BEGIN SSH SIGNATURE-----\n{}\n-----END SSH SIGNATURE-----\n", engine.encode(evil));
    fs::write(&sig, armored).unwrap();
    let out = x.verify(s(&x.group), &x.artifact, &sig, false);
    refused(&out, &["not a valid SSH signature: unsupported SSHSIG hash algorithm `\\033[2J\\007X`"]);
    assert!(!out.all().contains('\u{1b}') && !out.all().contains('\u{7}'), "{:?}", out.all());
}

#[test]
fn a_closed_standard_output_is_a_quiet_exit_141_never_a_panic() {
    let x = Signed::new();
    let dkg_dir = x.env.path("dkg");
    let session = x.env.path("session");
    for args in [
        vec!["verify", "--key", s(&x.group), s(&x.artifact), "--sig", s(&x.sig)],
        vec!["verify", "--key", s(&x.group), s(&x.artifact), "--sig", s(&x.sig), "--json"],
        vec!["dkg", "status", "--dir", s(&dkg_dir), "--json"],
        vec!["group", "show", "--key", s(&x.group)],
        vec!["sign", "collect", "--dir", s(&session)],
        vec!["sign", "status", "--dir", s(&session)],
        vec!["completions", "bash"],
        vec!["man"],
    ] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let o = Command::new(bin())
            .args(&args)
            .stdin(Stdio::null())
            .stdout(writer)
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(141), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked") && stderr.is_empty(), "{args:?}: {stderr}");
    }
}

// ---------------------------------------------------------------------------------------------------------
// No home, no secret
// ---------------------------------------------------------------------------------------------------------

#[test]
fn verify_needs_no_home_and_no_secret() {
    let x = Signed::new();
    let empty_home = x.env.path("empty-home");
    fs::create_dir_all(&empty_home).unwrap();
    let elsewhere = x.env.path("elsewhere");
    fs::create_dir_all(&elsewhere).unwrap();
    let args = ["verify", "--key", s(&x.group), s(&x.artifact), "--sig", s(&x.sig)];
    // run_env removes every FROSTSIGN_* variable; HOME points at an empty folder.
    run_env(&elsewhere, &args, &[("HOME", s(&empty_home))]).ok().contains("Signature and comment signature verified");
    // Even a FROSTSIGN_HOME that does not exist is irrelevant.
    let nowhere = x.env.path("nowhere");
    run_env(&elsewhere, &args, &[("HOME", s(&empty_home)), ("FROSTSIGN_HOME", s(&nowhere))]).ok();
    assert!(files_under(&empty_home).is_empty(), "verify wrote into HOME: {:?}", files_under(&empty_home));
    assert!(!nowhere.exists(), "verify created a home");
    assert!(!empty_home.join(".frostsign").exists());
}

// ---------------------------------------------------------------------------------------------------------
// Large artifacts: streaming, constant memory
// ---------------------------------------------------------------------------------------------------------

#[test]
fn a_300_mb_artifact_verifies_in_constant_memory() {
    const SIZE: u64 = 300 << 20;
    let env = Env::new();
    let holders = env.holders(2);
    let group = dkg(&env, "dkg", 2, &holders);
    // Sparse, so the test costs no disk space; a marker at the very end proves the file is read fully.
    let big = env.path("big-release.img");
    let mut f = fs::File::create(&big).unwrap();
    f.set_len(SIZE).unwrap();
    f.seek(SeekFrom::Start(SIZE - 4)).unwrap();
    f.write_all(b"END\n").unwrap();
    drop(f);
    let sig = sign(&env, &group, &big, "session", &[&holders[0], &holders[1]]);

    let args = ["verify", "--key", s(&group), s(&big), "--sig", s(&sig)];
    let (out, rss_kib) = run_measured(env.dir.path(), &args);
    out.ok().contains("Signature and comment signature verified").contains("file:big-release.img");
    assert!(rss_kib > 0, "no RSS measured");
    assert!(rss_kib < 64 * 1024, "verify of a 300 MB file peaked at {} MiB of RSS (limit 64 MiB)", rss_kib / 1024);
    eprintln!("verify of 300 MB: peak RSS {} KiB", rss_kib);

    // The last byte counts: change it and the signature no longer verifies.
    let mut f = fs::OpenOptions::new().write(true).open(&big).unwrap();
    f.seek(SeekFrom::Start(SIZE - 1)).unwrap();
    f.write_all(b"!").unwrap();
    drop(f);
    let (out, rss_kib) = run_measured(env.dir.path(), &args);
    out.expect_code(1);
    assert!(rss_kib < 64 * 1024);
}

/// An armored OpenPGP signature with header lines (`Comment:`, `Version:`, as gpg and others write)
/// verifies like the bare one; text on the BEGIN line, or headers without the empty line that ends
/// them, are malformed (exit 2).
#[test]
fn an_openpgp_signature_with_armor_headers_verifies() {
    let env = Env::new();
    let ex = root().join("keys-example");
    let artifact = env.path("hello-frostsign.txt");
    fs::copy(ex.join("hello-frostsign.txt"), &artifact).unwrap();
    let asc = fs::read_to_string(ex.join("hello-frostsign.txt.asc")).unwrap();
    let begin = "-----BEGIN PGP SIGNATURE-----\n";
    assert!(asc.starts_with(begin));
    let with = |name: &str, text: String| {
        let p = env.path(name);
        fs::write(&p, text).unwrap();
        p
    };
    let run = |sig: &Path| env.run(&["verify", "--key", s(&ex.join("group.pub")), s(&artifact), "--sig", s(sig)]);
    let headers =
        with("headers.asc", asc.replacen(begin, &format!("{begin}Comment: made by hand: see notes\nVersion: 1\n"), 1));
    run(&headers).ok().contains("Signed by group");
    let crlf = with("crlf.asc", fs::read_to_string(&headers).unwrap().replace('\n', "\r\n"));
    run(&crlf).ok().contains("Signed by group");
    let no_blank = with("no-blank.asc", asc.replacen(&format!("{begin}\n"), &format!("{begin}Comment: x\n"), 1));
    assert_eq!(run(&no_blank).code, 2);
    let on_begin = with("on-begin.asc", asc.replacen(begin, "-----BEGIN PGP SIGNATURE----- junk\n", 1));
    assert_eq!(run(&on_begin).code, 2);
}
