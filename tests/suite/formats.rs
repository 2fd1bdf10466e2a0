//! Acceptance tests for issue 5: signatures that stock tools verify (OpenSSH and git tags, OpenPGP, signify
//! manifests), made by a FROST group in one signing session.
//!
//! Every ceremony runs through the real `frostsign` binary; every signature is checked by the stock tool a
//! user already has (minisign, ssh-keygen, gpg, gpgv, signify-openbsd, git) and by `frostsign verify`.
//! The library is used only to craft what a malicious coordinator could write (a signing package).
//! Stock tools are guarded by `require_tool`: missing under CI=true fails, elsewhere it is skipped loudly.

use crate::common::*;

use frost_ed25519 as frost;
use frostsign::ceremony::signing::{names, PackageFile, Phase, Request, Slot};
use frostsign::formats::ssh;
use frostsign::group::Group;
use sha2::{Digest, Sha256};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const PRINCIPAL: &str = "releases@example.org";
const UID: &str = "ACME releases <releases@example.org>";
const ALL_FORMATS: &str = "minisign,ssh,openpgp,signify-manifest";

/// Keep git away from the machine's own configuration (signing defaults, hooks, templates).
const GIT_ENV: &[(&str, &str)] = &[("GIT_CONFIG_NOSYSTEM", "1"), ("GIT_CONFIG_GLOBAL", "/dev/null")];

// ---------------------------------------------------------------------------------------------------------
// Helpers: running programs
// ---------------------------------------------------------------------------------------------------------

/// Run any program (a stock tool) in `cwd`, optionally with a file as stdin.
fn prog(cwd: &Path, program: &str, args: &[&str], stdin: Option<&Path>, vars: &[(&str, &str)]) -> Out {
    let mut cmd = Command::new(program);
    cmd.current_dir(cwd).args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd.stdin(match stdin {
        Some(p) => Stdio::from(fs::File::open(p).unwrap_or_else(|e| panic!("open {}: {e}", p.display()))),
        None => Stdio::null(),
    });
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let o = cmd.output().unwrap_or_else(|e| panic!("could not run {program}: {e}"));
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// git in `repo`, isolated from the machine's configuration; panics unless it succeeds.
fn git(repo: &Path, args: &[&str]) -> String {
    let o = prog(repo, "git", args, None, GIT_ENV);
    o.ok();
    o.stdout.trim().to_string()
}

/// Which stock tools are here (each missing one prints a loud SKIPPED line, or panics under CI=true).
struct Tools {
    minisign: bool,
    ssh: bool,
    gpg: bool,
    gpgv: bool,
    signify: bool,
}

impl Tools {
    fn probe() -> Tools {
        Tools {
            minisign: require_tool("minisign", INSTALL_TOOLS),
            ssh: require_tool("ssh-keygen", INSTALL_TOOLS),
            gpg: require_tool("gpg", INSTALL_TOOLS),
            gpgv: require_tool("gpgv", INSTALL_TOOLS),
            signify: require_tool("signify-openbsd", INSTALL_TOOLS),
        }
    }
}

/// A fresh GnuPG home (0700) under `dir`; returns its path.
fn gnupg_home(dir: &Path) -> PathBuf {
    let g = dir.join("gnupg");
    fs::create_dir_all(&g).unwrap();
    fs::set_permissions(&g, fs::Permissions::from_mode(0o700)).unwrap();
    g
}

/// `gpg --batch` with a temporary home; never starts an agent.
fn gpg(home: &Path, args: &[&str]) -> Out {
    let mut full = vec!["--batch", "--no-autostart", "--homedir", s(home)];
    full.extend_from_slice(args);
    prog(home.parent().unwrap(), "gpg", &full, None, &[])
}

/// Import an armored key into a temporary GnuPG home and insist that gpg really imported it (gpg exits 0
/// even when it skips a key without a valid self-certification).
#[track_caller]
fn gpg_import(home: &Path, key: &Path) {
    let o = gpg(home, &["--import", s(key)]);
    o.ok();
    assert!(o.all().contains("imported: 1"), "gpg did not import the group's OpenPGP key:\n{}", o.all());
}

// ---------------------------------------------------------------------------------------------------------
// Helpers: a group, its keyholders' builds, and sessions
// ---------------------------------------------------------------------------------------------------------

/// Deterministic pseudo-random bytes (an artifact that is not text).
fn noise(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 8) as u8
        })
        .collect()
}

/// A 2-of-3 group (Alice, Bob, Carol), each keyholder with its own build of the release in `build-<name>/`,
/// the release manager's copy in `dist/`.
struct Fx {
    env: Env,
    holders: Vec<Holder>,
    group: PathBuf,
    dist: PathBuf,
    artifacts: Vec<PathBuf>,
}

impl Fx {
    fn new(files: &[(&str, Vec<u8>)]) -> Fx {
        let env = Env::new();
        let holders = env.holders(3);
        let group = env.dkg("dkg", 2, &holders);
        for h in &holders {
            // One more step each: a no-op for those done, completion for any one step short.
            h.dkg_step(&env.path("dkg")).ok();
            assert!(h.home.join("groups").is_dir(), "{} holds no group after the DKG", h.name);
        }
        let dist = env.path("dist");
        fs::create_dir_all(&dist).unwrap();
        let mut artifacts = Vec::new();
        for (name, bytes) in files {
            fs::write(dist.join(name), bytes).unwrap();
            artifacts.push(dist.join(name));
        }
        for h in &holders {
            let build = env.path(&format!("build-{}", h.name.to_lowercase()));
            fs::create_dir_all(&build).unwrap();
            for (name, bytes) in files {
                fs::write(build.join(name), bytes).unwrap();
            }
        }
        Fx { env, holders, group, dist, artifacts }
    }

    /// Three artifacts: a binary tarball larger than any hash block or buffer, a zip, a text file.
    fn release() -> Fx {
        Fx::new(&[
            ("app-1.0.tar.gz", noise(200_003, 1)),
            ("app-1.0.zip", noise(4_097, 2)),
            ("NOTES.txt", b"frostsign test release 1.0\nsigned by 2 of 3 keyholders\n".to_vec()),
        ])
    }

    fn h(&self, name: &str) -> &Holder {
        self.holders.iter().find(|h| h.name == name).unwrap_or_else(|| panic!("no keyholder {name}"))
    }

    fn group(&self) -> Group {
        Group::load(&self.group).unwrap()
    }

    fn build_dir(&self, h: &Holder) -> PathBuf {
        self.env.path(&format!("build-{}", h.name.to_lowercase()))
    }

    fn run(&self, args: &[&str]) -> Out {
        self.env.run(args)
    }

    fn collect(&self, dir: &Path) -> Out {
        self.run(&["sign", "collect", "--dir", s(dir)])
    }

    /// `sign step` as `h` with its build folder.
    fn step(&self, h: &Holder, dir: &Path) -> Out {
        run_as(h, &["sign", "step", "--dir", s(dir), "--artifacts", s(&self.build_dir(h)), "--yes"], &[])
    }

    /// `sign step` as `h` for a session without artifacts (the OpenPGP certification).
    fn step_bare(&self, h: &Holder, dir: &Path) -> Out {
        run_as(h, &["sign", "step", "--dir", s(dir), "--yes"], &[])
    }

    /// Round robin: every signer steps, then the coordinator collects, until it writes the signatures.
    /// Returns the number of rounds (steps per signer).
    fn drive(&self, signers: &[&str], mut step: impl FnMut(&Holder) -> Out, mut collect: impl FnMut() -> Out) -> usize {
        for round in 1..=6 {
            for name in signers {
                step(self.h(name)).ok();
            }
            let c = collect();
            if c.code == 0 {
                c.contains("Wrote");
                return round;
            }
            c.expect_code(3).contains("Waiting for");
        }
        panic!("the session did not complete in 6 rounds");
    }

    /// Enable OpenPGP: run the certification session with Alice and Bob and put group.openpgp beside
    /// group.pub. Returns the session folder.
    fn enable_openpgp(&self) -> PathBuf {
        let p = self.env.path("openpgp-init");
        self.run(&["group", "openpgp-init", "--key", s(&self.group), "--uid", UID, "--dir", s(&p)])
            .ok()
            .contains("Opened the OpenPGP certification session");
        let rounds = self.drive(&["Alice", "Bob"], |h| self.step_bare(h, &p), || self.collect(&p));
        assert_eq!(rounds, 2, "the certification is one phase: commit, then share");
        assert!(p.join("group.openpgp").exists() && p.join("group-openpgp.asc").exists());
        fs::copy(p.join("group.openpgp"), self.group.with_extension("openpgp")).unwrap();
        p
    }

    /// A release session over all artifacts in every format, signed by Alice and Carol with their own
    /// builds. Returns the session folder.
    fn sign_release(&self, dir: &str) -> PathBuf {
        let d = self.env.path(dir);
        let mut args = vec!["sign", "init", "--dir", s(&d), "--group", s(&self.group)];
        for a in &self.artifacts {
            args.extend(["--file", s(a)]);
        }
        args.extend(["--format", ALL_FORMATS, "--comment", "release 1.0"]);
        self.run(&args).ok().contains("formats: minisign, ssh, openpgp, signify-manifest");
        let rounds = self.drive(&["Alice", "Carol"], |h| self.step(h, &d), || self.collect(&d));
        assert_eq!(rounds, 3, "commit, phase 1 (every format and artifact at once), phase 2 (minisign's global)");
        d
    }

    /// `group export` of `key` in `format`: stdout bytes (checked to be exactly what --out writes).
    fn export(&self, key: &Path, format: &str, principal: Option<&str>) -> String {
        let mut args = vec!["group", "export", "--key", s(key), "--format", format];
        if let Some(p) = principal {
            args.extend(["--principal", p]);
        }
        let out = self.run(&args);
        out.ok();
        let file = self.env.path(&format!("export-check-{format}"));
        let _ = fs::remove_file(&file);
        let mut with_out = args.clone();
        with_out.extend(["--out", s(&file)]);
        self.run(&with_out).ok();
        assert_eq!(fs::read_to_string(&file).unwrap(), out.stdout, "--out and stdout differ for {format}");
        out.stdout
    }
}

/// The names of the nonce files of the session in `dir` in a keyholder's home.
fn nonce_files(h: &Holder, dir: &Path) -> Vec<String> {
    signing_state(h, dir).into_iter().filter(|n| n.ends_with(".nonces")).collect()
}

/// Every file of a keyholder's home that belongs to the signing session in `dir` (journal or nonces).
fn signing_state(h: &Holder, dir: &Path) -> Vec<String> {
    session_state(h, &hex::encode(Request::load(dir).unwrap().session()))
}

/// Every file of a keyholder's home that belongs to the signing session with this (hex) id.
fn session_state(h: &Holder, session: &str) -> Vec<String> {
    files_under(&h.home.join("state"))
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(&format!("sign-{session}")))
        .collect()
}

fn sha256(b: &[u8]) -> [u8; 32] {
    Sha256::digest(b).into()
}

// ---------------------------------------------------------------------------------------------------------
// A published release: artifacts, signatures and every exported key, checked by every verifier
// ---------------------------------------------------------------------------------------------------------

struct Published {
    fx: Fx,
    tools: Tools,
    /// The release folder as a user downloads it: artifacts and signature files.
    dir: PathBuf,
    names: Vec<String>,
    minisign_pub: PathBuf,
    signify_pub: PathBuf,
    ssh_pub: PathBuf,
    allowed: PathBuf,
    pgp_pub: PathBuf,
    gnupg: PathBuf,
    keyring: PathBuf,
}

impl Published {
    /// Enable OpenPGP, sign a three-artifact release in all formats, publish it and export every key.
    fn make() -> Published {
        let mut tools = Tools::probe();
        // gpgv checks against a keyring that gpg exports.
        tools.gpgv &= tools.gpg;
        let fx = Fx::release();
        fx.enable_openpgp();
        let session = fx.sign_release("sign-1.0");
        let dir = fx.env.path("release");
        fs::create_dir_all(&dir).unwrap();
        let names: Vec<String> =
            fx.artifacts.iter().map(|a| a.file_name().unwrap().to_string_lossy().into_owned()).collect();
        for name in &names {
            fs::copy(fx.dist.join(name), dir.join(name)).unwrap();
            for ext in ["minisig", "sig", "asc"] {
                let sig = session.join(format!("{name}.{ext}"));
                assert!(sig.exists(), "the session wrote no {}", sig.display());
                fs::copy(&sig, dir.join(format!("{name}.{ext}"))).unwrap();
            }
        }
        fs::copy(session.join("SHA256.sig"), dir.join("SHA256.sig")).unwrap();
        let keys = fx.env.path("keys");
        fs::create_dir_all(&keys).unwrap();
        let write = |file: &str, format: &str, principal: Option<&str>| -> PathBuf {
            let p = keys.join(file);
            fs::write(&p, fx.export(&fx.group, format, principal)).unwrap();
            p
        };
        let minisign_pub = write("minisign.pub", "minisign", None);
        let signify_pub = write("signify.pub", "signify", None);
        let ssh_pub = write("ssh.pub", "ssh", None);
        let allowed = write("allowed_signers", "allowed-signers", Some(PRINCIPAL));
        let pgp_pub = write("group.asc", "openpgp", None);
        let gnupg = gnupg_home(&fx.env.path("gpg-user"));
        let keyring = fx.env.path("gpg-user/keyring.gpg");
        if tools.gpg {
            gpg_import(&gnupg, &pgp_pub);
            gpg(&gnupg, &["--output", s(&keyring), "--export"]).ok();
            assert!(fs::metadata(&keyring).unwrap().len() > 0, "empty exported keyring");
        }
        Published { fx, tools, dir, names, minisign_pub, signify_pub, ssh_pub, allowed, pgp_pub, gnupg, keyring }
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn minisign(&self, art: &str, sig: &str) -> Out {
        let (a, x) = (self.file(art), self.file(sig));
        prog(&self.dir, "minisign", &["-Vm", s(&a), "-x", s(&x), "-p", s(&self.minisign_pub)], None, &[])
    }

    fn ssh(&self, art: &str, sig: &str) -> Out {
        let x = self.file(sig);
        let args = ["-Y", "verify", "-f", s(&self.allowed), "-I", PRINCIPAL, "-n", "file", "-s", s(&x)];
        prog(&self.dir, "ssh-keygen", &args, Some(&self.file(art)), &[])
    }

    fn gpgv(&self, art: &str, sig: &str) -> Out {
        let (a, x) = (self.file(art), self.file(sig));
        prog(&self.dir, "gpgv", &["--keyring", s(&self.keyring), s(&x), s(&a)], None, &[])
    }

    fn gpg(&self, art: &str, sig: &str) -> Out {
        let (a, x) = (self.file(art), self.file(sig));
        gpg(&self.gnupg, &["--verify", s(&x), s(&a)])
    }

    /// `signify-openbsd -C` over the whole release (in its folder, as a user runs it).
    fn signify(&self) -> Out {
        let x = self.file("SHA256.sig");
        prog(&self.dir, "signify-openbsd", &["-C", "-p", s(&self.signify_pub), "-x", s(&x)], None, &[])
    }

    /// Every installed stock verifier of `sig`'s format, run on it (with its artifact), by name.
    fn stock_verifiers_of(&self, sig: &str) -> Vec<(&'static str, Out)> {
        let t = &self.tools;
        let mut out = Vec::new();
        if let Some(art) = sig.strip_suffix(".minisig") {
            out.extend(t.minisign.then(|| ("minisign", self.minisign(art, sig))));
        } else if let Some(art) = sig.strip_suffix(".asc") {
            out.extend(t.gpgv.then(|| ("gpgv", self.gpgv(art, sig))));
            out.extend(t.gpg.then(|| ("gpg", self.gpg(art, sig))));
        } else if sig == "SHA256.sig" {
            out.extend(t.signify.then(|| ("signify", self.signify())));
        } else if let Some(art) = sig.strip_suffix(".sig") {
            out.extend(t.ssh.then(|| ("ssh-keygen", self.ssh(art, sig))));
        }
        out
    }

    fn frostsign(&self, key: &Path, art: &str, sig: &str) -> Out {
        self.fx.run(&["verify", "--key", s(key), s(&self.file(art)), "--sig", s(&self.file(sig))])
    }

    /// Every verifier accepts every signature of the release, and says so.
    #[track_caller]
    fn all_verify(&self) {
        let t = &self.tools;
        let group = &self.fx.group;
        for name in &self.names {
            let (minisig, sshsig, asc) = (format!("{name}.minisig"), format!("{name}.sig"), format!("{name}.asc"));
            if t.minisign {
                let o = self.minisign(name, &minisig);
                o.ok().contains("Signature and comment signature verified");
                o.contains(&format!("file:{name}")).contains("comment:release 1.0");
            }
            if t.ssh {
                self.ssh(name, &sshsig).ok().contains(&format!("Good \"file\" signature for {PRINCIPAL}"));
            }
            if t.gpgv {
                self.gpgv(name, &asc).ok().contains("Good signature");
            }
            if t.gpg {
                self.gpg(name, &asc).ok().contains(&format!("Good signature from \"{UID}\""));
            }
            // frostsign verify: with group.pub, and with the exported key form matching each format.
            for (key, sig, says) in [
                (group, &minisig, "Signature and comment signature verified"),
                (&self.minisign_pub, &minisig, "Signature and comment signature verified"),
                (group, &sshsig, "SSH signature (namespace file"),
                (&self.ssh_pub, &sshsig, "SSH signature (namespace file"),
                (&self.allowed, &sshsig, "SSH signature (namespace file"),
                (group, &asc, "OpenPGP signature"),
                (&self.pgp_pub, &asc, "OpenPGP signature"),
                (group, &"SHA256.sig".to_string(), "listed in the signed manifest"),
                (&self.signify_pub, &"SHA256.sig".to_string(), "listed in the signed manifest"),
            ] {
                let o = self.frostsign(key, name, sig);
                o.ok().contains(says);
                if key == group {
                    o.contains("Signed by group Test group (2-of-3");
                }
            }
        }
        if t.signify {
            let o = self.signify();
            o.ok();
            for name in &self.names {
                o.contains(&format!("{name}: OK"));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// 1. One session, every format, every stock verifier
// ---------------------------------------------------------------------------------------------------------

#[test]
fn one_two_of_three_session_over_three_artifacts_is_verified_by_every_stock_tool_in_every_format() {
    let p = Published::make();
    p.all_verify();

    // The outputs have the layouts the stock tools expect (and that docs/verify.md shows).
    for name in &p.names {
        let sshsig = fs::read_to_string(p.file(&format!("{name}.sig"))).unwrap();
        assert!(
            sshsig.starts_with("-----BEGIN SSH SIGNATURE-----\n") && sshsig.ends_with("-----END SSH SIGNATURE-----\n")
        );
        assert!(!sshsig.contains('\r'), "SSH signatures must use LF only");
        let asc = fs::read_to_string(p.file(&format!("{name}.asc"))).unwrap();
        assert!(asc.starts_with("-----BEGIN PGP SIGNATURE-----\n") && asc.ends_with("-----END PGP SIGNATURE-----\n"));
    }
    // One manifest for the whole release, listing every artifact with its SHA-256, in request order.
    let manifest = fs::read_to_string(p.file("SHA256.sig")).unwrap();
    let lines: Vec<&str> = manifest.lines().collect();
    assert!(lines[0].starts_with("untrusted comment: "), "{manifest}");
    let expected: Vec<String> = p
        .names
        .iter()
        .map(|n| format!("SHA256 ({n}) = {}", hex::encode(sha256(&fs::read(p.file(n)).unwrap()))))
        .collect();
    assert_eq!(lines[2..].to_vec(), expected, "the signed manifest lists the artifacts' SHA-256");

    // The same public key in every export: minisign and signify .pub files are interchangeable.
    let minisign_pub = fs::read_to_string(&p.minisign_pub).unwrap();
    let signify_pub = fs::read_to_string(&p.signify_pub).unwrap();
    assert_eq!(minisign_pub.lines().nth(1), signify_pub.lines().nth(1), "one key line for minisign and signify");
    if p.tools.gpg {
        // The key gpg imported is the group's (fingerprint from group.openpgp) with the user id asked for.
        let o = gpg(&p.gnupg, &["--with-colons", "--list-keys"]);
        o.ok().contains("\nuid:").contains(UID);
        let fpr = fs::read_to_string(p.fx.group.with_extension("openpgp"))
            .unwrap()
            .lines()
            .find_map(|l| l.strip_prefix("fingerprint: ").map(str::to_string))
            .unwrap();
        o.contains(&format!("fpr:::::::::{fpr}:"));
    }
}

// ---------------------------------------------------------------------------------------------------------
// 2. One byte changed anywhere: every verifier fails
// ---------------------------------------------------------------------------------------------------------

/// Replace the byte at `at` with another character that is valid base64, hex and text ('0' or '1').
fn change_byte(text: &str, at: usize) -> String {
    let mut b = text.as_bytes().to_vec();
    b[at] = if b[at] == b'0' { b'1' } else { b'0' };
    String::from_utf8(b).unwrap()
}

/// Byte offset of the start of line `n` (0-based).
fn line_start(text: &str, n: usize) -> usize {
    text.split_inclusive('\n').take(n).map(str::len).sum()
}

/// Byte offsets of every base64 character of an armored body (lines between the BEGIN and END lines,
/// without armor headers, blank lines or the OpenPGP checksum line).
fn armored_b64_offsets(text: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let mut off = 0;
    for line in text.split_inclusive('\n') {
        let l = line.trim_end_matches('\n');
        let body = !l.is_empty() && !l.starts_with("-----") && !l.starts_with('=') && !l.contains(": ");
        if body {
            out.extend((off..off + l.len()).filter(|&i| text.as_bytes()[i].is_ascii_alphanumeric()));
        }
        off += line.len();
    }
    out
}

/// An OpenPGP signature with one bit of the signature value flipped, re-armored with a correct checksum:
/// only the signature check itself can catch it.
fn pgp_flip_signature_bit(asc: &str) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let body: String = asc
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with("-----") && !l.starts_with('=') && !l.contains(": "))
        .collect();
    let mut bytes = b64.decode(body).unwrap();
    let last = bytes.len() - 2; // inside the MPI s, away from its leading bits
    bytes[last] ^= 0x01;
    frostsign::formats::openpgp::armor("PGP SIGNATURE", &bytes)
}

/// One byte changed in a signature file, and what every verifier must say about it: the text every stock
/// verifier of its format prints, and frostsign verify's exit code and message.
struct Tamper {
    label: String,
    file: String,
    changed: String,
    stock_says: &'static str,
    frostsign: (i32, &'static str),
}

impl Tamper {
    fn new(label: &str, file: &str, changed: String, stock_says: &'static str, frostsign: (i32, &'static str)) -> Self {
        Tamper { label: label.into(), file: file.into(), changed, stock_says, frostsign }
    }
}

#[test]
fn one_changed_byte_in_any_artifact_or_signature_makes_every_verifier_fail() {
    let p = Published::make();
    let t = &p.tools;
    let group = p.fx.group.clone();

    // Artifacts: flip one byte (first, middle, last position across the three files).
    for (k, name) in p.names.iter().enumerate() {
        let path = p.file(name);
        let original = fs::read(&path).unwrap();
        let mut changed = original.clone();
        let at = [0, changed.len() / 2, changed.len() - 1][k];
        changed[at] ^= 0x20;
        fs::write(&path, &changed).unwrap();
        let why = format!("{name} with byte {at} changed");
        if t.minisign {
            let o = p.minisign(name, &format!("{name}.minisig"));
            assert_ne!(o.code, 0, "minisign accepted {why}:\n{}", o.all());
            assert!(o.all().contains("Signature verification failed"), "{}", o.all());
        }
        if t.ssh {
            let o = p.ssh(name, &format!("{name}.sig"));
            assert_ne!(o.code, 0, "ssh-keygen accepted {why}:\n{}", o.all());
            assert!(!o.all().contains("Good \"file\" signature"), "{}", o.all());
        }
        if t.gpgv {
            let o = p.gpgv(name, &format!("{name}.asc"));
            assert_ne!(o.code, 0, "gpgv accepted {why}:\n{}", o.all());
            assert!(o.all().contains("BAD signature"), "{}", o.all());
        }
        if t.gpg {
            let o = p.gpg(name, &format!("{name}.asc"));
            assert_ne!(o.code, 0, "gpg accepted {why}:\n{}", o.all());
            assert!(o.all().contains("BAD signature"), "{}", o.all());
        }
        if t.signify {
            let o = p.signify();
            assert_ne!(o.code, 0, "signify accepted {why}:\n{}", o.all());
            o.contains(&format!("{name}: FAIL"));
        }
        for sig in [format!("{name}.minisig"), format!("{name}.sig"), format!("{name}.asc"), "SHA256.sig".into()] {
            p.frostsign(&group, name, &sig).expect_code(1);
        }
        fs::write(&path, &original).unwrap();
    }

    // Signature files: one byte changed in each part that carries signed or signature data, with what
    // the stock verifiers of that format and frostsign verify must each say.
    const MINISIGN_SIG: &str = "Signature verification failed";
    const MINISIGN_COMMENT: &str = "Comment signature verification failed";
    const SSH: &str = "Signature verification failed: incorrect signature";
    const PGP_ARMOR: &str = "CRC error";
    const PGP_BAD: &str = "BAD signature from \"ACME releases <releases@example.org>\"";
    const SIGNIFY: &str = "signify-openbsd: signature verification failed";
    const ALTERED: (i32, &str) = (1, "signature verification failed: the file or its signature was altered");
    const COMMENT_ALTERED: (i32, &str) =
        (1, "the trusted comment's signature does not verify: the comment was altered");
    const MANIFEST_ALTERED: (i32, &str) = (1, "the manifest's signature does not verify: the manifest was altered");
    let mut cases: Vec<Tamper> = Vec::new();
    for name in &p.names {
        let f = format!("{name}.minisig");
        let text = fs::read_to_string(p.file(&f)).unwrap();
        let tc_end = line_start(&text, 3) - 2; // last byte of the trusted comment
        cases.extend([
            Tamper::new("minisign signature", &f, change_byte(&text, line_start(&text, 1) + 60), MINISIGN_SIG, ALTERED),
            Tamper::new("minisign trusted comment", &f, change_byte(&text, tc_end), MINISIGN_COMMENT, COMMENT_ALTERED),
            Tamper::new(
                "minisign global signature",
                &f,
                change_byte(&text, line_start(&text, 3) + 40),
                MINISIGN_COMMENT,
                COMMENT_ALTERED,
            ),
        ]);

        let f = format!("{name}.sig");
        let text = fs::read_to_string(p.file(&f)).unwrap();
        let b64 = armored_b64_offsets(&text);
        // Base64 character 52 encodes blob byte 39: inside the signer's public key.
        let other_key = (1, "the SSH signature was made by another key");
        cases.extend([
            Tamper::new("SSHSIG signature", &f, change_byte(&text, b64[b64.len() - 20]), SSH, ALTERED),
            Tamper::new("SSHSIG public key", &f, change_byte(&text, b64[52]), SSH, other_key),
        ]);

        let f = format!("{name}.asc");
        let text = fs::read_to_string(p.file(&f)).unwrap();
        let b64 = armored_b64_offsets(&text);
        let damaged = (2, "not a valid OpenPGP signature: the armor checksum does not match (damaged file)");
        let wrong = (1, "signature verification failed: the file or its signature was altered, or another key made it");
        cases.extend([
            Tamper::new("OpenPGP armored signature", &f, change_byte(&text, b64[b64.len() - 10]), PGP_ARMOR, damaged),
            Tamper::new("OpenPGP signature, valid checksum", &f, pgp_flip_signature_bit(&text), PGP_BAD, wrong),
        ]);
    }
    let text = fs::read_to_string(p.file("SHA256.sig")).unwrap();
    let signify_sig = change_byte(&text, line_start(&text, 1) + 60);
    cases.push(Tamper::new("signify signature", "SHA256.sig", signify_sig, SIGNIFY, MANIFEST_ALTERED));
    for k in 0..p.names.len() {
        // The last hex digit of artifact k's line in the manifest.
        let at = line_start(&text, 3 + k) - 2;
        let label = format!("manifest line of {}", p.names[k]);
        cases.push(Tamper::new(&label, "SHA256.sig", change_byte(&text, at), SIGNIFY, MANIFEST_ALTERED));
    }

    for case in &cases {
        let Tamper { label, file, changed, stock_says, frostsign: (code, says) } = case;
        let path = p.file(file);
        let original = fs::read_to_string(&path).unwrap();
        assert_ne!(&original, changed);
        if !label.contains("valid checksum") {
            assert_eq!(original.len(), changed.len());
            let diff = original.bytes().zip(changed.bytes()).filter(|(a, b)| a != b).count();
            assert_eq!(diff, 1, "{label}: exactly one byte differs");
        }
        fs::write(&path, changed).unwrap();
        let why = format!("{file} with one byte changed in its {label}");
        for (tool, o) in p.stock_verifiers_of(file) {
            assert_ne!(o.code, 0, "{tool} accepted {why}:\n{}", o.all());
            assert!(o.all().contains(stock_says), "{tool} on {why} did not say {stock_says:?}:\n{}", o.all());
            if *stock_says == MINISIGN_SIG {
                assert!(!o.all().contains(MINISIGN_COMMENT), "{tool} on {why} blamed the comment:\n{}", o.all());
            }
        }
        // frostsign verify, for the manifest with every artifact.
        let arts: Vec<&str> = if file == "SHA256.sig" {
            p.names.iter().map(String::as_str).collect()
        } else {
            vec![file.rsplit_once('.').unwrap().0]
        };
        for art in arts {
            let o = p.frostsign(&group, art, file);
            assert_eq!(o.code, *code, "frostsign verify on {why} ({art}):\n{}", o.all());
            assert!(o.stderr.contains(says), "frostsign verify on {why} ({art}) did not say {says:?}:\n{}", o.all());
        }
        fs::write(&path, original).unwrap();
    }

    // A signature moved to another artifact of the same release fails too.
    let (a, b) = (&p.names[0], &p.names[1]);
    if t.minisign {
        assert_ne!(p.minisign(b, &format!("{a}.minisig")).code, 0);
    }
    if t.ssh {
        assert_ne!(p.ssh(b, &format!("{a}.sig")).code, 0);
    }
    if t.gpgv {
        assert_ne!(p.gpgv(b, &format!("{a}.asc")).code, 0);
    }
    for ext in ["minisig", "sig", "asc"] {
        p.frostsign(&group, b, &format!("{a}.{ext}")).expect_code(1);
    }

    // Everything restored: every verifier accepts again (the failures above were the changes).
    p.all_verify();
}

// ---------------------------------------------------------------------------------------------------------
// 3. git tags
// ---------------------------------------------------------------------------------------------------------

/// The release manager's repository `repo/` with one commit on `main`; returns its path and that commit.
fn release_repo(env: &Env) -> (PathBuf, String) {
    let repo = env.path("repo");
    fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["config", "user.name", "Release Manager"]);
    git(&repo, &["config", "user.email", "rm@example.org"]);
    fs::write(repo.join("README"), "frostsign test project\n").unwrap();
    git(&repo, &["add", "README"]);
    git(&repo, &["commit", "-q", "-m", "Initial commit"]);
    let head = git(&repo, &["rev-parse", "main"]);
    (repo, head)
}

/// A keyholder's own clone of `repo`, `clone-<name>/`.
fn clone_of(env: &Env, repo: &Path, name: &str) -> PathBuf {
    let c = env.path(&format!("clone-{name}"));
    git(env.dir.path(), &["clone", "-q", s(repo), s(&c)]);
    c
}

/// `sign init --git-tag TAG --git-ref REF` in the session folder `dir`.
fn init_tag(fx: &Fx, repo: &Path, dir: &Path, tag: &str, git_ref: &str) -> Out {
    let (tag, git_ref) = (format!("--git-tag={tag}"), format!("--git-ref={git_ref}"));
    let args = ["sign", "init", "--dir", s(dir), "--group", s(&fx.group), &tag, "--repo", s(repo), &git_ref];
    run_env(fx.env.dir.path(), &args, GIT_ENV)
}

#[test]
fn tag_and_ref_names_are_checked_as_git_check_ref_format_does() {
    if !require_tool("git", INSTALL_TOOLS) {
        return;
    }
    let fx = Fx::new(&[("unused.txt", b"x".to_vec())]);
    let (repo, _) = release_repo(&fx.env);
    let git_accepts =
        |args: &[&str]| prog(&repo, "git", &[&["check-ref-format"], args].concat(), None, GIT_ENV).code == 0;
    let dir = |n: usize| fx.env.path(&format!("t{n}"));
    // A tag name is valid where `git check-ref-format refs/tags/NAME` says so, and only there.
    let tags = [
        "v1.0.0",
        "release/1.4",
        "v1@2",
        "a.lock.b",
        "x-y_z+w",
        "\u{fc}ber",
        "HEAD",
        "v{1}",
        "@a",
        "a/b/c",
        "/etc/evil",
        "/",
        "release/",
        "a//b",
        ".hidden",
        "a/.b",
        "a/./b",
        "a/../b",
        "a..b",
        "a.lock",
        "a/b.lock",
        "a@{1}",
        "@",
        "a b",
        "a~1",
        "a^",
        "a:b",
        "a?",
        "a*",
        "a[1",
        "a\\b",
        "v1.",
        "a\u{1}",
        "a\u{7f}",
        "a\tb",
        "",
    ];
    let mut verdicts = [0, 0];
    for (n, tag) in tags.iter().enumerate() {
        let git_ok = git_accepts(&[&format!("refs/tags/{tag}")]);
        let out = init_tag(&fx, &repo, &dir(n), tag, "main");
        verdicts[git_ok as usize] += 1;
        if git_ok {
            out.ok().contains("Opened signing session");
        } else {
            refused(&out, &["is not a valid git tag name: "]);
            assert!(!dir(n).join("request.txt").exists(), "{tag:?}");
        }
    }
    assert!(verdicts[0] >= 20 && verdicts[1] >= 9, "the table covers both verdicts: {verdicts:?}");
    // A --git-ref is valid where `git check-ref-format --allow-onelevel REF` says so.
    let refs = [
        "main",
        "refs/heads/main",
        "HEAD",
        "/main",
        "main/",
        "main..x",
        "main~1",
        "main^{commit}",
        "ma in",
        "a.lock",
        "@",
    ];
    for (n, git_ref) in refs.iter().enumerate() {
        let out = init_tag(&fx, &repo, &dir(100 + n), &format!("ref-{n}"), git_ref);
        no_panic(&out);
        let said = out.all().contains("is not a valid git ref name: ");
        assert_eq!(said, !git_accepts(&["--allow-onelevel", git_ref]), "{git_ref}:\n{}", out.all());
    }
    // frostsign is stricter than git in three ways, each said.
    let long = "v".repeat(201);
    for (tag, why) in [
        ("-rc1", "it starts with `-`"),
        ("v1\u{202e}", "it contains invisible formatting characters"),
        (long.as_str(), "it is longer than 200 bytes"),
    ] {
        assert!(git_accepts(&[&format!("refs/tags/{tag}")]), "{tag}");
        refused(&init_tag(&fx, &repo, &dir(200), tag, "main"), &[&format!("is not a valid git tag name: {why}")]);
    }
}

#[test]
fn a_crafted_tag_name_is_refused_by_every_party_and_a_tag_with_a_slash_is_written_as_one_file() {
    if !require_tool("git", INSTALL_TOOLS) || !require_tool("ssh-keygen", INSTALL_TOOLS) {
        return;
    }
    let fx = Fx::new(&[("unused.txt", b"x".to_vec())]);
    let env = &fx.env;
    let (repo, _) = release_repo(env);
    let clones = [clone_of(env, &repo, "alice"), clone_of(env, &repo, "bob")];
    let t = env.path("tag-session");
    init_tag(&fx, &repo, &t, "release/v1.0", "main").ok().contains("git tag `release/v1.0` on commit");

    // The request is signed by nobody: one edited to tag an absolute path is refused by every party.
    let request = t.join("request.txt");
    let original = fs::read_to_string(&request).unwrap();
    let evil = env.path("evil");
    fs::write(&request, original.replace("git-tag: release/v1.0\n", &format!("git-tag: {}\n", s(&evil)))).unwrap();
    let before = snapshot(&t);
    let step = |name: &str| {
        let clone = &clones[(name == "Bob") as usize];
        run_as(fx.h(name), &["sign", "step", "--dir", s(&t), "--repo", s(clone), "--yes"], GIT_ENV)
    };
    let out_dir = env.path("out");
    let collect = || {
        let args = ["sign", "collect", "--dir", s(&t), "--repo", s(&repo), "--out", s(&out_dir)];
        run_env(env.dir.path(), &args, GIT_ENV)
    };
    let says = "field `git-tag`: not a valid git tag name: it starts or ends with `/`";
    for out in [step("Alice"), collect(), fx.run(&["sign", "status", "--dir", s(&t)])] {
        refused(&out, &[says]);
    }
    assert_eq!(snapshot(&t), before);
    assert!(!evil.with_extension("tag").exists() && !out_dir.exists());
    fs::write(&request, &original).unwrap();

    // `release/v1.0` is written as the one file `release-v1.0.tag` in --out; a link planted under that name
    // is replaced, never written through.
    fs::create_dir_all(&out_dir).unwrap();
    let victim = env.path("victim.txt");
    fs::write(&victim, "not to be overwritten\n").unwrap();
    let written = out_dir.join("release-v1.0.tag");
    std::os::unix::fs::symlink(&victim, &written).unwrap();
    assert_eq!(fx.drive(&["Alice", "Bob"], |h| step(&h.name), collect), 2);
    assert_eq!(fs::read_to_string(&victim).unwrap(), "not to be overwritten\n");
    assert!(fs::symlink_metadata(&written).unwrap().file_type().is_file());
    assert_eq!(files_under(&out_dir), std::slice::from_ref(&written));
    assert_eq!(git(&repo, &["cat-file", "tag", "release/v1.0"]) + "\n", fs::read_to_string(&written).unwrap());
    let allowed = env.path("allowed_signers");
    fs::write(&allowed, fx.export(&fx.group, "allowed-signers", Some(PRINCIPAL))).unwrap();
    let cfg = format!("gpg.ssh.allowedSignersFile={}", s(&allowed));
    prog(&repo, "git", &["-c", "gpg.format=ssh", "-c", &cfg, "tag", "-v", "release/v1.0"], None, GIT_ENV)
        .ok()
        .contains(&format!("Good \"git\" signature for {PRINCIPAL}"));
}

#[test]
fn a_signed_git_tag_verifies_with_git_tag_v_and_a_clone_with_another_commit_refuses() {
    if !require_tool("git", INSTALL_TOOLS) || !require_tool("ssh-keygen", INSTALL_TOOLS) {
        return;
    }
    let fx = Fx::new(&[("unused.txt", b"x".to_vec())]);
    let env = &fx.env;
    // The release manager's repository and each keyholder's clone.
    let (repo, head) = release_repo(env);
    let clone = |name: &str| clone_of(env, &repo, name);
    let (alice, bob, carol) = (clone("alice"), clone("bob"), clone("carol"));
    // Carol's clone has another commit for main.
    git(&carol, &["config", "user.name", "Carol"]);
    git(&carol, &["config", "user.email", "carol@example.org"]);
    fs::write(carol.join("README"), "something else\n").unwrap();
    git(&carol, &["commit", "-q", "-am", "Another commit"]);
    let carols = git(&carol, &["rev-parse", "main"]);
    assert_ne!(carols, head);

    let t = env.path("tag-session");
    run_env(
        env.dir.path(),
        &[
            "sign",
            "init",
            "--dir",
            s(&t),
            "--group",
            s(&fx.group),
            "--git-tag",
            "v1.0.0",
            "--repo",
            s(&repo),
            "--git-ref",
            "main",
            "--message",
            "Release 1.0.0",
        ],
        GIT_ENV,
    )
    .ok()
    .contains(&format!("git tag `v1.0.0` on commit {head}"));

    // A keyholder must give its own clone.
    run_as(fx.h("Alice"), &["sign", "step", "--dir", s(&t), "--yes"], GIT_ENV).refused_with("--repo");

    // Carol's clone resolves main to another commit: she refuses and commits nothing.
    let before = snapshot(&t);
    let step = |name: &str, clone: &Path| {
        run_as(fx.h(name), &["sign", "step", "--dir", s(&t), "--repo", s(clone), "--yes"], GIT_ENV)
    };
    step("Carol", &carol)
        .refused_with(&format!("has {carols} for `main`, but the request tags {head}"))
        .contains("your clone");
    assert_eq!(snapshot(&t), before, "Carol's refusal wrote something into the session folder");
    assert!(signing_state(fx.h("Carol"), &t).is_empty(), "Carol's home keeps signing state after refusing");

    // Alice and Bob, whose clones agree, sign; collect stores the signed tag in the repository.
    let collect = || run_env(env.dir.path(), &["sign", "collect", "--dir", s(&t), "--repo", s(&repo)], GIT_ENV);
    let rounds = fx.drive(&["Alice", "Bob"], |h| step(&h.name, if h.name == "Alice" { &alice } else { &bob }), collect);
    assert_eq!(rounds, 2);
    let tag_file = fs::read_to_string(t.join("v1.0.0.tag")).unwrap();
    assert!(tag_file
        .starts_with(&format!("object {head}\ntype commit\ntag v1.0.0\ntagger Release Manager <rm@example.org> ")));
    assert!(tag_file.contains("\n\nRelease 1.0.0\n-----BEGIN SSH SIGNATURE-----\n"), "{tag_file}");
    assert_eq!(git(&repo, &["cat-file", "-t", "v1.0.0"]), "tag");
    assert_eq!(git(&repo, &["cat-file", "tag", "v1.0.0"]) + "\n", tag_file, "the stored tag is the file written");
    assert_eq!(git(&repo, &["rev-parse", "v1.0.0^{commit}"]), head);

    // `git tag -v` with the allowed signers file from `group export`.
    let allowed = env.path("allowed_signers");
    fs::write(&allowed, fx.export(&fx.group, "allowed-signers", Some(PRINCIPAL))).unwrap();
    let allowed_cfg = format!("gpg.ssh.allowedSignersFile={}", s(&allowed));
    let verify_tag = |dir: &Path, allowed_cfg: &str| {
        prog(dir, "git", &["-c", "gpg.format=ssh", "-c", allowed_cfg, "tag", "-v", "v1.0.0"], None, GIT_ENV)
    };
    verify_tag(&repo, &allowed_cfg).ok().contains(&format!("Good \"git\" signature for {PRINCIPAL}"));
    // A user's clone that fetched the tag verifies it the same way.
    git(&bob, &["fetch", "-q", "origin", "tag", "v1.0.0"]);
    verify_tag(&bob, &allowed_cfg).ok().contains(&format!("Good \"git\" signature for {PRINCIPAL}"));

    // Negative control: with another key in the allowed signers file, git does not vouch for the tag. (git
    // still exits 0 for a signature it cannot attribute, so the output is what tells: no principal.)
    let other = env.path("other-key");
    prog(env.dir.path(), "ssh-keygen", &["-q", "-t", "ed25519", "-N", "", "-f", s(&other)], None, &[]).ok();
    let other_pub = fs::read_to_string(other.with_extension("pub")).unwrap();
    let other_allowed = env.path("other_allowed");
    fs::write(&other_allowed, format!("{PRINCIPAL} namespaces=\"git\" {other_pub}")).unwrap();
    let o = verify_tag(&repo, &format!("gpg.ssh.allowedSignersFile={}", s(&other_allowed)));
    assert!(!o.all().contains(&format!("signature for {PRINCIPAL}")), "git attributed the tag:\n{}", o.all());
    o.contains("No principal matched");

    // The file signature and the tag signature are not interchangeable: the tag's SSHSIG (namespace git)
    // is refused as a signature of a file.
    let blob = tag_file.split_once("-----BEGIN SSH SIGNATURE-----").unwrap().1;
    fs::write(env.path("tag.sig"), format!("-----BEGIN SSH SIGNATURE-----{blob}")).unwrap();
    let payload = tag_file.split_once("-----BEGIN SSH SIGNATURE-----").unwrap().0;
    fs::write(env.path("tag-payload"), payload).unwrap();
    let o = fx.run(&["verify", "--key", s(&fx.group), s(&env.path("tag-payload")), "--sig", s(&env.path("tag.sig"))]);
    o.expect_code(1).contains("namespace `git`");
}

// ---------------------------------------------------------------------------------------------------------
// 4. Exports are deterministic
// ---------------------------------------------------------------------------------------------------------

#[test]
fn group_export_is_byte_identical_twice_and_from_another_keyholders_copy_in_every_format() {
    let fx = Fx::new(&[("a.txt", b"a".to_vec())]);
    let certification = fx.enable_openpgp();
    // Bob's own copy of group.pub from key generation, in his home, with group.openpgp beside it.
    let bob_groups = fx.h("Bob").home.join("groups");
    let bob_pub = files_under(&bob_groups)
        .into_iter()
        .find(|p| p.extension().is_some_and(|e| e == "pub"))
        .expect("Bob's home holds a copy of group.pub");
    fs::copy(fx.group.with_extension("openpgp"), bob_pub.with_extension("openpgp")).unwrap();

    let cases: [(&str, Option<&str>); 6] = [
        ("minisign", None),
        ("signify", None),
        ("ssh", None),
        ("allowed-signers", None),
        ("allowed-signers", Some(PRINCIPAL)),
        ("openpgp", None),
    ];
    let mut exports = Vec::new();
    for (format, principal) in cases {
        let first = fx.export(&fx.group, format, principal);
        let second = fx.export(&fx.group, format, principal);
        let from_bob = fx.export(&bob_pub, format, principal);
        assert!(!first.is_empty() && first.ends_with('\n'), "{format}: {first:?}");
        assert_eq!(first, second, "{format}: two exports differ");
        assert_eq!(first, from_bob, "{format}: Bob's copy of group.pub exports other bytes");
        exports.push(first);
    }

    // And they hold the group's key: the minisign line of group.pub, one ssh key, the certified OpenPGP key.
    let group = fx.group();
    let line = fs::read_to_string(&fx.group)
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("minisign-public-key: ").map(str::to_string))
        .unwrap();
    assert_eq!(exports[0].lines().nth(1), Some(line.as_str()), "minisign export");
    assert_eq!(exports[1].lines().nth(1), Some(line.as_str()), "signify export (same key number)");
    let ssh_key = ssh::public_key_line(group.key(), "");
    let ssh_key = ssh_key.trim_end();
    assert!(exports[2].starts_with(ssh_key), "ssh export: {}", exports[2]);
    assert_eq!(exports[3], format!("Test-group namespaces=\"file,git\" {ssh_key}\n"), "default principal: the label");
    assert_eq!(exports[4], format!("{PRINCIPAL} namespaces=\"file,git\" {ssh_key}\n"));
    assert_eq!(
        exports[5],
        fs::read_to_string(certification.join("group-openpgp.asc")).unwrap(),
        "the export is the key the certification session wrote"
    );
    if require_tool("ssh-keygen", INSTALL_TOOLS) {
        let f = fx.env.path("k.pub");
        fs::write(&f, &exports[2]).unwrap();
        prog(fx.env.dir.path(), "ssh-keygen", &["-l", "-f", s(&f)], None, &[]).ok().contains("(ED25519)");
    }
    if require_tool("gpg", INSTALL_TOOLS) {
        let home = gnupg_home(&fx.env.path("gpg-show"));
        let f = fx.env.path("k.asc");
        fs::write(&f, &exports[5]).unwrap();
        gpg_import(&home, &f);
    }
}

// ---------------------------------------------------------------------------------------------------------
// 5. Domain separation
// ---------------------------------------------------------------------------------------------------------

/// `package` with message `k` replaced, keeping every commitment (what a coordinator could write).
fn crafted_package(group: &Group, pkg: &PackageFile, k: usize, message: &[u8]) -> String {
    let mut packages = pkg.packages.clone();
    packages[k] = frost::SigningPackage::new(packages[k].signing_commitments().clone(), message);
    PackageFile::encode(&pkg.session, pkg.attempt, pkg.phase, &pkg.signers, group, &packages).unwrap()
}

#[test]
fn a_crafted_package_cannot_make_a_keyholder_sign_bytes_it_did_not_construct() {
    let artifact = b"the one artifact of this release\n".repeat(10);
    let fx = Fx::new(&[("app.tar", artifact.clone())]);
    fx.enable_openpgp();
    let group = fx.group();
    let d = fx.env.path("s");
    let art = s(&fx.artifacts[0]);
    fx.run(&["sign", "init", "--dir", s(&d), "--group", s(&fx.group), "--file", art, "--format", ALL_FORMATS]).ok();
    let signers = ["Alice", "Carol"];
    for name in signers {
        fx.step(fx.h(name), &d).ok().contains("committed");
    }
    fx.collect(&d).expect_code(3).contains("built the phase-1 signing package for Alice, Carol");
    let p1 = d.join(names::package(1, Phase::One));
    let original = fs::read_to_string(&p1).unwrap();
    let pkg = PackageFile::parse(&original, &group).unwrap();
    let req = Request::load(&d).unwrap();
    let plan = req.plan();
    let at = |slot: Slot| plan.phase1.iter().position(|s| *s == slot).expect("slot in phase 1");
    let expected = plan.phase1_messages(&req, &req.evidence());
    for (k, p) in pkg.packages.iter().enumerate() {
        assert_eq!(p.message(), expected[k].as_slice(), "the honest package signs the request's messages");
    }

    let sha = sha256(&artifact);
    let other_manifest = format!("SHA256 (evil.tar) = {}\n", hex::encode(sha));
    let crafted: Vec<(&str, usize, Vec<u8>)> = vec![
        ("the SSH slot carries the raw artifact bytes", at(Slot::Ssh(0)), artifact.clone()),
        ("the SSH slot carries an SSHSIG blob for namespace git", at(Slot::Ssh(0)), ssh::signed_data("git", &sha)),
        ("the minisign slot carries SHA-256 instead of BLAKE2b-512", at(Slot::Minisign(0)), sha.to_vec()),
        ("the minisign slot carries the SSH slot's message", at(Slot::Minisign(0)), expected[at(Slot::Ssh(0))].clone()),
        ("the OpenPGP slot carries the plain SHA-256 of the file", at(Slot::Openpgp(0)), sha.to_vec()),
        ("the manifest slot names another file", at(Slot::SignifyManifest), other_manifest.into_bytes()),
        ("the manifest slot carries the raw artifact bytes", at(Slot::SignifyManifest), artifact.clone()),
    ];
    for (what, k, message) in &crafted {
        assert_ne!(message.as_slice(), expected[*k].as_slice());
        fs::write(&p1, crafted_package(&group, &pkg, *k, message)).unwrap();
        // The coordinator's own check catches it too, but the point is the signers.
        fx.collect(&d).refused_with("does not sign the messages of this request");
        for name in signers {
            let h = fx.h(name);
            let nonces = nonce_files(h, &d);
            assert_eq!(nonces.len(), 2, "{name}: phase-1 and phase-2 nonces before signing");
            let o = fx.step(h, &d);
            o.refused_with("refusing to sign");
            assert!(o.all().contains(&format!("message {} is not what you computed", k + 1)), "{what}:\n{}", o.all());
            let card = group.members().iter().find(|c| c.name() == name).unwrap();
            assert!(!d.join(names::share(1, Phase::One, card)).exists(), "{name} wrote a share when {what}");
            assert_eq!(nonce_files(h, &d), nonces, "{name}'s nonces are untouched when {what}");
        }
    }
    assert!(
        fs::read_dir(&d).unwrap().flatten().all(|e| !e.file_name().to_string_lossy().starts_with("share-")),
        "no share was written for any crafted package"
    );

    // The honest package restored: the same signers, with the nonces they kept, finish the session.
    fs::write(&p1, &original).unwrap();
    for name in signers {
        fx.step(fx.h(name), &d).ok().contains("published your signature shares");
    }
    fx.collect(&d).expect_code(3);
    for name in signers {
        fx.step(fx.h(name), &d).ok();
    }
    fx.collect(&d).ok();
    for ext in ["minisig", "sig", "asc"] {
        let sig = d.join(format!("app.tar.{ext}"));
        fx.run(&["verify", "--key", s(&fx.group), art, "--sig", s(&sig)]).ok();
    }
    fx.run(&["verify", "--key", s(&fx.group), art, "--sig", s(&d.join("SHA256.sig"))]).ok();
}

#[test]
fn whole_file_formats_are_not_offered_and_a_crafted_request_is_refused() {
    let fx = Fx::new(&[("app.tar", b"release".to_vec())]);
    let art = s(&fx.artifacts[0]);
    // `sign init` offers no whole-file format, nor the formats that are sessions of their own.
    for format in ["signify", "raw", "minisign-legacy", "minisign,signify", "git-tag", "openpgp-certification"] {
        let d = fx.env.path(&format!("init-{}", format.replace(',', "-")));
        let o = fx.run(&["sign", "init", "--dir", s(&d), "--group", s(&fx.group), "--file", art, "--format", format]);
        // Refused by the argument parser, which lists what it accepts (and shells complete).
        o.refused_with("invalid value").contains("[possible values: minisign, ssh, openpgp, signify-manifest]");
        assert!(!d.join("request.txt").exists(), "--format {format} opened a session");
    }

    // A request edited by hand (the request file is not signed by anyone) to ask for a whole-file format,
    // or to carry an OpenPGP digest the keyholder did not compute: every keyholder refuses before committing.
    fx.enable_openpgp();
    let d = fx.env.path("s");
    fx.run(&["sign", "init", "--dir", s(&d), "--group", s(&fx.group), "--file", art, "--format", "minisign,openpgp"])
        .ok();
    let request = d.join("request.txt");
    let original = fs::read_to_string(&request).unwrap();
    let session = hex::encode(Request::load(&d).unwrap().session());
    assert!(original.contains("\nformat: minisign\n") && original.contains("\nopenpgp-digest: "), "{original}");
    let pgp_line = original.lines().find(|l| l.starts_with("openpgp-digest: ")).unwrap();
    let edits = [
        ("format: signify", original.replacen("\nformat: minisign\n", "\nformat: signify\n", 1), "unknown format"),
        ("format: raw", original.replacen("\nformat: minisign\n", "\nformat: raw\n", 1), "unknown format"),
        (
            "a git-tag format in a release",
            original.replacen("\nformat: minisign\n", "\nformat: minisign\nformat: git-tag\n", 1),
            "format",
        ),
        (
            "another OpenPGP digest",
            original.replacen(pgp_line, &format!("openpgp-digest: {}", hex::encode(sha256(b"release"))), 1),
            "the request's OpenPGP digest of `app.tar` is wrong",
        ),
    ];
    for (what, text, says) in edits {
        assert_ne!(text, original, "{what}: the edit applied");
        fs::write(&request, &text).unwrap();
        let before = snapshot(&d);
        for h in &fx.holders {
            fx.step(h, &d).refused_with(says);
            assert!(session_state(h, &session).is_empty(), "{} kept state for a crafted request ({what})", h.name);
        }
        assert_eq!(snapshot(&d), before, "{what}: something was committed");
    }
    fs::write(&request, &original).unwrap();
    fx.step(fx.h("Alice"), &d).ok().contains("committed");
}

// ---------------------------------------------------------------------------------------------------------
// 6. The OpenPGP key: certified once, in its own session
// ---------------------------------------------------------------------------------------------------------

#[test]
fn the_openpgp_key_is_certified_once_by_a_session_and_imports_into_gpg() {
    let fx = Fx::new(&[("app.tar", b"release".to_vec())]);
    let art = s(&fx.artifacts[0]);

    // Before the group has an OpenPGP key: no OpenPGP release, no OpenPGP export; both say how to make one.
    let d = fx.env.path("too-early");
    fx.run(&["sign", "init", "--dir", s(&d), "--group", s(&fx.group), "--file", art, "--format", "minisign,openpgp"])
        .refused_with("no OpenPGP key yet")
        .contains("group openpgp-init");
    assert!(!d.join("request.txt").exists());
    fx.run(&["group", "export", "--key", s(&fx.group), "--format", "openpgp"])
        .refused_with("no OpenPGP key yet")
        .contains("group openpgp-init");

    let p = fx.enable_openpgp();
    let request = fs::read_to_string(p.join("request.txt")).unwrap();
    assert!(
        request.contains("\nformat: openpgp-certification\n") && request.contains(&format!("\nopenpgp-uid: {UID}\n"))
    );
    let identity = fs::read_to_string(p.join("group.openpgp")).unwrap();
    assert!(identity.contains(&format!("\nuid: {UID}\n")), "{identity}");

    // A second certification is refused once group.openpgp exists: the key's fingerprint covers its
    // creation time, so it is made once.
    let again = fx.env.path("openpgp-init-2");
    fx.run(&["group", "openpgp-init", "--key", s(&fx.group), "--uid", UID, "--dir", s(&again)])
        .refused_with("already has an OpenPGP key");
    assert!(!again.join("request.txt").exists());
    fx.run(&["group", "openpgp-init", "--key", s(&fx.group), "--uid", "Other <other@example.org>", "--dir", s(&again)])
        .refused_with("already has an OpenPGP key");

    // The exported key imports into gpg, with the certified user id.
    let key = fx.env.path("group.asc");
    fs::write(&key, fx.export(&fx.group, "openpgp", None)).unwrap();
    assert_eq!(fs::read_to_string(&key).unwrap(), fs::read_to_string(p.join("group-openpgp.asc")).unwrap());
    if require_tool("gpg", INSTALL_TOOLS) {
        let home = gnupg_home(&fx.env.path("gpg"));
        gpg_import(&home, &key);
        let o = gpg(&home, &["--with-colons", "--list-keys"]);
        o.ok().contains(UID);
        let fpr = identity.lines().find_map(|l| l.strip_prefix("fingerprint: ")).unwrap();
        o.contains(&format!("fpr:::::::::{fpr}:"));
    }

    // A group.openpgp whose user id was edited no longer carries the group's certification: refused.
    let copy = fx.env.path("copy");
    fs::create_dir_all(&copy).unwrap();
    fs::copy(&fx.group, copy.join("group.pub")).unwrap();
    fs::write(copy.join("group.openpgp"), identity.replace(UID, "Mallory <releases@example.org>")).unwrap();
    let o = fx.run(&["group", "export", "--key", s(&copy.join("group.pub")), "--format", "openpgp"]);
    o.refused_with("certification");

    // With the key: an OpenPGP release opens.
    let d = fx.env.path("release");
    fx.run(&["sign", "init", "--dir", s(&d), "--group", s(&fx.group), "--file", art, "--format", "openpgp"]).ok();
    assert!(d.join("request.txt").exists());
}

#[test]
fn an_artifact_name_with_a_parenthesis_yields_a_manifest_stock_signify_parses_or_is_refused() {
    // signify -C parses `SHA256 (NAME) = HEX` with NAME up to the first `)`: a release file named like a
    // browser's second download, `app (1).tar`, must not produce a SHA256.sig that stock signify rejects.
    // Either `sign init` refuses the name for the manifest format, saying why, or signify verifies it.
    let fx = Fx::new(&[("app (1).tar", b"one".to_vec()), ("app.zip", b"two".to_vec())]);
    let d = fx.env.path("s");
    let mut args = vec!["sign", "init", "--dir", s(&d), "--group", s(&fx.group)];
    for a in &fx.artifacts {
        args.extend(["--file", s(a)]);
    }
    args.extend(["--format", "minisign,signify-manifest"]);
    let init = fx.run(&args);
    if init.code != 0 {
        init.refused_with("app (1).tar");
        assert!(!d.join("request.txt").exists());
        return;
    }
    fx.drive(&["Alice", "Bob"], |h| fx.step(h, &d), || fx.collect(&d));
    for a in &fx.artifacts {
        fx.run(&["verify", "--key", s(&fx.group), s(a), "--sig", s(&d.join("SHA256.sig"))]).ok();
    }
    if !require_tool("signify-openbsd", INSTALL_TOOLS) {
        return;
    }
    let key = fx.env.path("signify.pub");
    fs::write(&key, fx.export(&fx.group, "signify", None)).unwrap();
    let sig = d.join("SHA256.sig");
    let o = prog(&fx.dist, "signify-openbsd", &["-C", "-p", s(&key), "-x", s(&sig)], None, &[]);
    assert_eq!(
        o.code,
        0,
        "frostsign accepted the artifact name `app (1).tar` for a signify manifest, but stock signify cannot \
         parse the line it wrote:\n{}\n{}",
        o.all(),
        fs::read_to_string(&sig).unwrap()
    );
    o.contains("app (1).tar: OK").contains("app.zip: OK");
}

// ---------------------------------------------------------------------------------------------------------
// Nonce hygiene in the sessions issue 5 added that have no second phase
// ---------------------------------------------------------------------------------------------------------

#[test]
fn a_session_without_a_second_phase_leaves_no_nonce_file_once_signed() {
    // The OpenPGP certification, git tags and releases without minisign have one phase only. Once a signer
    // is done, no nonce file of the session may remain in its home (the journal alone stays).
    let fx = Fx::new(&[("app.tar", b"release".to_vec())]);
    let p = fx.enable_openpgp();
    let d = fx.env.path("s");
    let art = s(&fx.artifacts[0]);
    fx.run(&[
        "sign",
        "init",
        "--dir",
        s(&d),
        "--group",
        s(&fx.group),
        "--file",
        art,
        "--format",
        "ssh,signify-manifest",
    ])
    .ok();
    let rounds = fx.drive(&["Alice", "Bob"], |h| fx.step(h, &d), || fx.collect(&d));
    assert_eq!(rounds, 2, "no minisign, no second phase");
    for (session, what) in [(&p, "the OpenPGP certification"), (&d, "an ssh and signify-manifest release")] {
        for name in ["Alice", "Bob"] {
            let h = fx.h(name);
            let rerun = if session == &d { fx.step(h, session) } else { fx.step_bare(h, session) };
            rerun.ok().contains("Your part of this session is done");
            assert_eq!(
                nonce_files(h, session),
                Vec::<String>::new(),
                "{name} finished {what}, but nonce files of the session remain in the home"
            );
        }
    }
}

/// The tag message and the tagger are text every signer approves: held to the plain-text rule (no bidi
/// override, isolate, zero-width space or line separator), and a bad tagger is refused, never a panic.
#[test]
fn a_tag_message_or_tagger_with_hidden_characters_is_refused_cleanly() {
    if !require_tool("git", INSTALL_TOOLS) {
        return;
    }
    let fx = Fx::new(&[("unused.txt", b"x".to_vec())]);
    let (repo, _) = release_repo(&fx.env);
    let base = ["sign", "init", "--group", s(&fx.group), "--git-tag", "v9", "--repo", s(&repo)];
    let cases: [(&str, &str, &str); 7] = [
        ("--tagger", " Name <a@b>", "git-tagger"),
        ("--tagger", "Name <a@b", "git-tagger"),
        ("--tagger", "<a@b>", "git-tagger"),
        ("--message", "Release \u{202e}9v", "invalid tag message"),
        ("--message", "Release\u{2067} v9\u{2069}", "invalid tag message"),
        ("--message", "Rel\u{200b}ease v9", "invalid tag message"),
        ("--message", "Release v9\u{2028}Signed-off", "invalid tag message"),
    ];
    for (i, (flag, value, field)) in cases.iter().enumerate() {
        let dir = fx.env.path(&format!("tag-{i}"));
        let mut args = base.to_vec();
        args.extend(["--dir", s(&dir), flag, value]);
        let out = run_env(fx.env.dir.path(), &args, GIT_ENV);
        refused(&out, &[field]);
        assert!(!dir.join("request.txt").exists(), "{value:?}: a refused init wrote a request");
    }
}
