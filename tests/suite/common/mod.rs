//! Shared helpers for end-to-end tests: they drive the real `frostsign` binary with std::process.
//!
//! Every keyholder home made here uses `--insecure-fast-kdf` so that hundreds of ceremony steps stay
//! fast; one test in tests/suite/identity.rs covers the default (slow, secure) KDF.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_frostsign")
}

/// The result of one run.
#[derive(Debug)]
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    pub fn from_output(o: Output) -> Out {
        Out {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
    /// stdout and stderr together.
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
    /// Panic with the whole output unless the exit code is `code`.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Out {
        assert_eq!(
            self.code, code,
            "expected exit {code}, got {}\nstdout:\n{}\nstderr:\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }
    #[track_caller]
    pub fn ok(&self) -> &Out {
        self.expect_code(0)
    }
    /// Assert exit 2 and that the output mentions `needle` (case-insensitive).
    #[track_caller]
    pub fn refused_with(&self, needle: &str) -> &Out {
        self.expect_code(2);
        assert!(self.all().to_lowercase().contains(&needle.to_lowercase()), "expected {needle:?} in:\n{}", self.all());
        self
    }
    #[track_caller]
    pub fn contains(&self, needle: &str) -> &Out {
        assert!(self.all().contains(needle), "expected {needle:?} in:\n{}", self.all());
        self
    }
}

/// Run the binary with `args`, no stdin, and no FROSTSIGN_* variables from the outer environment.
pub fn run_in(cwd: &Path, args: &[&str]) -> Out {
    run_env(cwd, args, &[])
}

/// Like [`run_in`] with extra environment variables.
pub fn run_env(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Out {
    let mut cmd = Command::new(bin());
    cmd.current_dir(cwd).args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    for (k, _) in std::env::vars() {
        if k.starts_with("FROSTSIGN_") {
            cmd.env_remove(k);
        }
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    Out::from_output(cmd.output().expect("run frostsign"))
}

/// Run the binary in `cwd` with a deadline of 20 s: a command that blocks (on a FIFO given as a file, say)
/// is killed and fails the test instead of hanging it.
pub fn run_with_deadline(cwd: &Path, args: &[&str]) -> Out {
    let mut child = Command::new(bin())
        .current_dir(cwd)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run frostsign");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while child.try_wait().expect("wait for frostsign").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("`frostsign {}` blocked (on a special file?)", args.join(" "));
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    Out::from_output(child.wait_with_output().expect("collect frostsign's output"))
}

/// A temporary workspace.
pub struct Env {
    pub dir: tempfile::TempDir,
}

/// A simulated keyholder.
#[derive(Clone, Debug)]
pub struct Holder {
    pub name: String,
    pub home: PathBuf,
    pub pass: PathBuf,
    pub card: PathBuf,
    pub cwd: PathBuf,
}

impl Env {
    pub fn new() -> Env {
        Env { dir: tempfile::tempdir().expect("tempdir") }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Run the binary in this workspace.
    pub fn run(&self, args: &[&str]) -> Out {
        run_in(self.dir.path(), args)
    }

    /// Create a keyholder with a passphrase file and an exported card.
    pub fn holder(&self, name: &str) -> Holder {
        self.holder_at(&name.to_lowercase().replace(' ', "-"), name)
    }

    /// A keyholder named `name` whose home, passphrase and card files are named after `stem` (a second
    /// identity under a name already used here: a keyholder who lost its laptop).
    pub fn holder_at(&self, stem: &str, name: &str) -> Holder {
        let home = self.path(&format!("home-{stem}"));
        let pass = self.path(&format!("pass-{stem}"));
        let card = self.path(&format!("{stem}.card"));
        std::fs::write(&pass, format!("passphrase of {name}\n")).unwrap();
        std::fs::set_permissions(&pass, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
        let h = Holder { name: name.into(), home, pass, card, cwd: self.dir.path().to_path_buf() };
        h.run(&["holder", "new", "--name", name, "--insecure-fast-kdf"]).ok();
        h.run(&["holder", "export", "--out", h.card.to_str().unwrap()]).ok();
        h
    }

    /// Make `n` keyholders named after the first letters of the alphabet.
    pub fn holders(&self, n: usize) -> Vec<Holder> {
        const NAMES: [&str; 8] = ["Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Heidi"];
        NAMES[..n].iter().map(|name| self.holder(name)).collect()
    }

    /// `dkg init` in `dir` with these holders' cards.
    pub fn dkg_init(&self, dir: &str, t: usize, holders: &[Holder]) -> Out {
        let t = t.to_string();
        let mut args =
            vec!["dkg", "init", "--allow-insecure-cards", "--dir", dir, "--threshold", &t, "--label", "Test group"];
        let cards: Vec<String> = holders.iter().map(|h| h.card.to_str().unwrap().to_string()).collect();
        args.extend(cards.iter().map(String::as_str));
        self.run(&args)
    }

    /// `dkg init` of a 2-of-n ceremony in `dir` from these card files (test cards allowed).
    pub fn dkg_init_cards(&self, dir: &str, cards: &[&str]) -> Out {
        let mut args = vec!["dkg", "init", "--allow-insecure-cards", "--dir", dir, "--threshold", "2"];
        args.extend_from_slice(cards);
        self.run(&args)
    }

    /// Run a whole DKG in `dir` (round-robin steps until complete) and return the group.pub path.
    pub fn dkg(&self, dir: &str, t: usize, holders: &[Holder]) -> PathBuf {
        self.dkg_init(dir, t, holders).ok();
        let d = self.path(dir);
        // Round-robin until every keyholder reports completion (n = 5 needs a fourth pass for some).
        for _ in 0..6 {
            let outs: Vec<Out> = holders.iter().map(|h| h.dkg_step(&d)).collect();
            let done = outs.iter().all(|o| o.ok().stdout.contains("Key generation is complete"));
            if done {
                self.run(&["dkg", "status", "--dir", dir]).ok();
                return d.join("group.pub");
            }
        }
        panic!("key generation in {dir} did not complete");
    }
}

impl Env {
    /// Sign `artifact` (each signer hashing the same file) in a new session `dir` of the group `group`:
    /// every signer steps, then the coordinator collects, until the minisign signature is written.
    /// Returns its path.
    pub fn sign_release(&self, dir: &str, group: &Path, artifact: &Path, signers: &[&Holder]) -> PathBuf {
        self.sign_release_as(dir, group, artifact, signers, "minisign")
    }

    /// [`Env::sign_release`] in the given output formats (`minisign,ssh,signify-manifest`); the outputs are
    /// in the session folder (the .minisig, whose path is returned, NAME.sig, SHA256.sig, NAME.asc).
    pub fn sign_release_as(
        &self,
        dir: &str,
        group: &Path,
        artifact: &Path,
        signers: &[&Holder],
        formats: &str,
    ) -> PathBuf {
        let d = self.path(dir);
        self.run(&["sign", "init", "--dir", s(&d), "--group", s(group), "--file", s(artifact), "--format", formats])
            .ok();
        for _ in 0..4 {
            for h in signers {
                h.run(&["sign", "step", "--dir", s(&d), "--file", s(artifact), "--yes"]).ok();
            }
            if self.run(&["sign", "collect", "--dir", s(&d)]).code == 0 {
                return d.join(format!("{}.minisig", artifact.file_name().unwrap().to_str().unwrap()));
            }
        }
        panic!("the signing session in {dir} did not complete");
    }

    /// Approve a new version of a group (`group approve`) in a new session `dir`, signed by `signers`;
    /// returns the approved group file.
    pub fn approve(&self, dir: &str, group: &Path, signers: &[&Holder]) -> PathBuf {
        let d = self.path(dir);
        self.run(&["group", "approve", "--key", s(group), "--dir", s(&d)]).ok();
        for _ in 0..4 {
            for h in signers {
                h.run(&["sign", "step", "--dir", s(&d), "--yes"]).ok();
            }
            if self.run(&["sign", "collect", "--dir", s(&d)]).code == 0 {
                return d.join("group-approved.pub");
            }
        }
        panic!("the approval session in {dir} did not complete");
    }
}

impl Holder {
    /// Run the binary as this keyholder (its --home and --passphrase-file).
    pub fn run(&self, args: &[&str]) -> Out {
        let mut full = vec!["--home", self.home.to_str().unwrap(), "--passphrase-file", self.pass.to_str().unwrap()];
        full.extend_from_slice(args);
        run_in(&self.cwd, &full)
    }

    pub fn dkg_step(&self, dir: &Path) -> Out {
        self.run(&["dkg", "step", "--dir", dir.to_str().unwrap(), "--yes"])
    }
}

/// A path as &str (test paths are UTF-8).
pub fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// The binary never panics, whatever the input.
#[track_caller]
pub fn no_panic(o: &Out) {
    assert!(o.code != 101 && !o.all().contains("panicked"), "the binary panicked:\n{}", o.all());
}

/// Exit 2, every needle in the output (case-insensitive), no panic.
#[track_caller]
pub fn refused(o: &Out, needles: &[&str]) {
    no_panic(o);
    o.expect_code(2);
    let all = o.all().to_lowercase();
    for n in needles {
        assert!(all.contains(&n.to_lowercase()), "expected {n:?} in:\n{}", o.all());
    }
}

/// Every regular file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Snapshot of a folder: every file's path and bytes (to prove "nothing changed").
pub fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    files_under(dir)
        .into_iter()
        .filter(|p| !p.ends_with("lock"))
        .map(|p| {
            let b = std::fs::read(&p).unwrap();
            (p, b)
        })
        .collect()
}

/// Whether stock tools must be present (CI) or may be skipped loudly (developer machine).
pub fn require_tool(tool: &str, install: &str) -> bool {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    require(found, &format!("`{tool}`"), install)
}

/// A check that needs `what` (a tool, a browser, installed packages): true when `found`; else under CI=true
/// the test fails, and on a developer machine it is skipped loudly and recorded where `make test` prints it.
pub fn require(found: bool, what: &str, install: &str) -> bool {
    if found {
        return true;
    }
    if std::env::var("CI").map(|v| v == "true" || v == "1").unwrap_or(false) {
        panic!("{what} is missing and CI=true: interop tests must not skip (install with: {install})");
    }
    eprintln!("\n*** SKIPPED interop check: {what} is not installed. Install it with:\n***   {install}\n");
    // cargo test hides a passing test's output, so also record the skip where `make test` prints it loudly.
    let test = std::thread::current().name().unwrap_or("?").to_string();
    let log = Path::new(env!("CARGO_TARGET_TMPDIR")).join("interop-skipped.txt");
    if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(log) {
        use std::io::Write;
        let _ = writeln!(f, "{test}: needs {what} ({install})");
    }
    false
}

/// The one command that installs every stock tool the interop tests use.
pub const INSTALL_TOOLS: &str = "sudo apt-get install -y minisign signify-openbsd openssh-client gnupg git";

/// `v` as compact JSON with every object's members in the order their names first appear in `template`
/// (a genuine payload): frostsign reads a payload only in the one form it writes (struct order), which
/// `serde_json::Value` (sorted members) does not keep. Names not in `template` go last.
pub fn json_ordered_like(template: &[u8], v: &serde_json::Value) -> Vec<u8> {
    fn write(t: &str, v: &serde_json::Value, out: &mut String) {
        match v {
            serde_json::Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort_by_key(|k| t.find(&format!("\"{k}\":")).unwrap_or(usize::MAX));
                out.push('{');
                for (i, k) in keys.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&serde_json::to_string(k).unwrap());
                    out.push(':');
                    write(t, &m[k.as_str()], out);
                }
                out.push('}');
            }
            serde_json::Value::Array(a) => {
                out.push('[');
                for (i, x) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write(t, x, out);
                }
                out.push(']');
            }
            other => out.push_str(&serde_json::to_string(other).unwrap()),
        }
    }
    let mut out = String::new();
    write(std::str::from_utf8(template).unwrap(), v, &mut out);
    out.into_bytes()
}

/// Run the binary (no stdin, no FROSTSIGN_* from outside) and return its output and peak RSS in KiB,
/// measured by the kernel (`wait4`'s rusage).
#[allow(clippy::zombie_processes)] // the child is reaped by wait4, which std cannot see
pub fn run_measured(cwd: &Path, args: &[&str]) -> (Out, u64) {
    use std::io::Read;
    let mut cmd = Command::new(bin());
    cmd.current_dir(cwd).args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    for (k, _) in std::env::vars() {
        if k.starts_with("FROSTSIGN_") {
            cmd.env_remove(k);
        }
    }
    // A plain fork, not posix_spawn: a vfork child execs with the test process's own memory map, and
    // Linux carries that map's peak RSS (other tests run in this process) into the child's ru_maxrss.
    // SAFETY: the hook runs in the forked child before exec and only returns.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut cmd, || Ok(()));
    }
    let mut child = cmd.spawn().expect("spawn frostsign");
    let mut stdout_pipe = child.stdout.take().unwrap();
    let mut stderr_pipe = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        stdout_pipe.read_to_end(&mut v).unwrap();
        v
    });
    let mut stderr = Vec::new();
    stderr_pipe.read_to_end(&mut stderr).unwrap();
    let stdout = reader.join().unwrap();
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero rusage is a valid value, and wait4 only writes into the two out-parameters.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid, "wait4 failed");
    let code = if libc::WIFEXITED(status) { libc::WEXITSTATUS(status) } else { -1 };
    let out = Out {
        code,
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    };
    (out, usage.ru_maxrss as u64)
}

/// The repository's root folder.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// True if `needle` occurs in `hay`.
pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Run the binary as keyholder `h` (its home and passphrase file) with extra environment variables.
pub fn run_as(h: &Holder, args: &[&str], vars: &[(&str, &str)]) -> Out {
    let mut full = vec!["--home", s(&h.home), "--passphrase-file", s(&h.pass)];
    full.extend_from_slice(args);
    run_env(h.home.parent().unwrap(), &full, vars)
}

/// Every way a folder file could show a value in the clear: its raw bytes and every base64 block decoded.
pub fn cleartext_views(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    use base64::Engine;
    let mut views = Vec::new();
    for f in files_under(dir) {
        let text = std::fs::read_to_string(&f).unwrap();
        views.push((f.clone(), text.clone().into_bytes()));
        let mut block = String::new();
        for line in text.lines().chain(std::iter::once("end:")) {
            if let Some(rest) = line.strip_prefix(' ') {
                block.push_str(rest);
            } else if !block.is_empty() {
                let decoded = base64::engine::general_purpose::STANDARD.decode(&block).unwrap();
                views.push((f.clone(), decoded));
                block.clear();
            }
        }
    }
    views
}

/// Sign `msg` with FROST using exactly these key packages.
pub fn frost_sign(
    kps: &[frost_ed25519::keys::KeyPackage],
    pkp: &frost_ed25519::keys::PublicKeyPackage,
    msg: &[u8],
) -> Result<frost_ed25519::Signature, frost_ed25519::Error> {
    let mut rng = rand_core::OsRng;
    let mut nonces = std::collections::BTreeMap::new();
    let mut commitments = std::collections::BTreeMap::new();
    for kp in kps {
        let (n, c) = frost_ed25519::round1::commit(kp.signing_share(), &mut rng);
        nonces.insert(*kp.identifier(), n);
        commitments.insert(*kp.identifier(), c);
    }
    let sp = frost_ed25519::SigningPackage::new(commitments, msg);
    let mut shares = std::collections::BTreeMap::new();
    for kp in kps {
        shares.insert(*kp.identifier(), frost_ed25519::round2::sign(&sp, &nonces[kp.identifier()], kp)?);
    }
    frost_ed25519::aggregate(&sp, &shares, pkp)
}

pub fn ed25519_verify(key: &[u8; 32], msg: &[u8], sig: &frost_ed25519::Signature) -> bool {
    let bytes: [u8; 64] = sig.serialize().unwrap().try_into().unwrap();
    ed25519_dalek::VerifyingKey::from_bytes(key)
        .unwrap()
        .verify_strict(msg, &ed25519_dalek::Signature::from_bytes(&bytes))
        .is_ok()
}

/// `text` with one character of its `signature: ` value changed, `skip` characters in: same length, same
/// wrapping, so only a signature check can find it.
pub fn with_signature_flipped(text: &str, skip: usize) -> String {
    let at = text.find("signature: ").expect("a signed text") + "signature: ".len() + skip;
    let flipped = if text.as_bytes()[at] == b'0' { "1" } else { "0" };
    format!("{}{flipped}{}", &text[..at], &text[at + 1..])
}

/// `text` as a file embeds it in a block: base64, 64 characters a line, continuation lines indented by one
/// space (without the first line's indent and the last newline).
pub fn embedded_block(text: &str) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(text);
    b64.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap()).collect::<Vec<_>>().join("\n ")
}
