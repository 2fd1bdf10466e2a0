//! Supply chain (issue 13): the dependency policy in deny.toml rejects what it says it rejects, and the
//! SBOM (`make sbom`) inventories exactly what the release binary is built from.
//!
//! The policy tests copy the manifest into a temporary folder, break one rule (a banned crate, a second
//! copy of a cryptographic crate, a git source, a licence off the allow-list) and assert that
//! `cargo deny check licenses bans sources` fails naming that rule. An unmodified copy must pass, so
//! each failure is the added crate's doing. Everything runs offline: the added crates are local path
//! crates or a local git repository (named like the crates they stand for), or a crate already in
//! Cargo.lock; cargo runs with a temporary CARGO_HOME that shares only the crate cache, and with an
//! HTTP proxy that does not exist, so any attempt to reach a registry fails the test.
//!
//! Without cargo-deny these tests say loudly that they were skipped (`make test` repeats it at the end);
//! under CI=true a missing cargo-deny fails them, like the interop tests.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Crates whose second copy the issue names explicitly; deny.toml may list more, never fewer.
const REQUIRED_SINGLE_COPY: &[&str] = &[
    "curve25519-dalek",
    "ed25519-dalek",
    "sha2",
    "blake2",
    "chacha20poly1305",
    "rand_core",
    "x25519-dalek",
    "frost-core",
    "frost-ed25519",
    "hpke",
    "argon2",
    "digest",
    "subtle",
    "zeroize",
];

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

fn is_ci() -> bool {
    std::env::var("CI").map(|v| v == "true" || v == "1").unwrap_or(false)
}

fn real_cargo_home() -> PathBuf {
    match std::env::var_os("CARGO_HOME") {
        Some(h) => PathBuf::from(h),
        None => PathBuf::from(std::env::var_os("HOME").expect("HOME is not set")).join(".cargo"),
    }
}

fn pinned_deny_version() -> String {
    let out = Command::new("bash").arg(Path::new(ROOT).join("scripts/deny.sh")).arg("version").output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// The folder holding the `cargo-deny` executable, or None (after saying so) when it is not installed.
fn cargo_deny_dir() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> =
        std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect()).unwrap_or_default();
    dirs.push(real_cargo_home().join("bin"));
    if let Some(dir) = dirs.into_iter().find(|d| d.join("cargo-deny").is_file()) {
        return Some(dir);
    }
    let install = format!("cargo install --locked cargo-deny@{}", pinned_deny_version());
    if is_ci() {
        panic!(
            "cargo-deny is missing and CI=true: the dependency-policy tests must not skip (install with: {install})"
        );
    }
    eprintln!("\n*** SKIPPED dependency-policy test: cargo-deny is not installed. Install it with:\n***   {install}\n");
    let test = std::thread::current().name().unwrap_or("?").to_string();
    let log = Path::new(env!("CARGO_TARGET_TMPDIR")).join("supply-skipped.txt");
    if let Ok(mut f) = fs::OpenOptions::new().create(true).append(true).open(log) {
        use std::io::Write;
        let _ = writeln!(f, "tests/suite/supply.rs {test}: needs cargo-deny");
    }
    None
}

/// A copy of frostsign's manifests, lock file and deny.toml in a temporary folder, with an empty file for
/// every build target (cargo reads only the manifests to resolve the graph), and a CARGO_HOME of its own
/// that shares the crate cache.
struct Project {
    _tmp: tempfile::TempDir,
    base: PathBuf,
    dir: PathBuf,
    cargo_home: PathBuf,
    deny_dir: PathBuf,
}

struct Run {
    ok: bool,
    out: String,
}

impl Project {
    fn new(deny_dir: PathBuf) -> Project {
        let tmp = tempfile::Builder::new().prefix("frostsign-deny-").tempdir().unwrap();
        let base = tmp.path().to_path_buf();
        let dir = base.join("frostsign");
        fs::create_dir_all(&dir).unwrap();
        let meta = Command::new(cargo())
            .args(["metadata", "--no-deps", "--offline", "--locked", "--format-version", "1"])
            .current_dir(ROOT)
            .output()
            .unwrap();
        assert!(meta.status.success(), "cargo metadata failed: {}", String::from_utf8_lossy(&meta.stderr));
        let meta: serde_json::Value = serde_json::from_slice(&meta.stdout).unwrap();
        let root = Path::new(meta["workspace_root"].as_str().unwrap()).to_path_buf();
        let mut files = vec![root.join("Cargo.lock"), root.join("deny.toml"), root.join("Cargo.toml")];
        for p in meta["packages"].as_array().unwrap() {
            files.push(PathBuf::from(p["manifest_path"].as_str().unwrap()));
            for t in p["targets"].as_array().unwrap() {
                let src = PathBuf::from(t["src_path"].as_str().unwrap());
                let dst = dir.join(src.strip_prefix(&root).expect("a target outside the workspace"));
                fs::create_dir_all(dst.parent().unwrap()).unwrap();
                fs::write(&dst, "").unwrap();
            }
        }
        for f in files {
            let dst = dir.join(f.strip_prefix(&root).unwrap());
            fs::create_dir_all(dst.parent().unwrap()).unwrap();
            fs::copy(&f, &dst).unwrap_or_else(|e| panic!("copy {}: {e}", f.display()));
        }
        let cargo_home = base.join("cargo-home");
        fs::create_dir_all(&cargo_home).unwrap();
        let real = real_cargo_home();
        std::os::unix::fs::symlink(real.join("registry"), cargo_home.join("registry")).unwrap();
        for cfg in ["config.toml", "config"] {
            if real.join(cfg).is_file() {
                fs::copy(real.join(cfg), cargo_home.join(cfg)).unwrap();
            }
        }
        Project { _tmp: tmp, base, dir, cargo_home, deny_dir }
    }

    /// `cargo` with this project's CARGO_HOME, cargo-deny on the PATH and no way to reach a registry.
    fn cargo(&self) -> Command {
        let mut c = Command::new(cargo());
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut paths = vec![self.deny_dir.clone()];
        paths.extend(std::env::split_paths(&path));
        c.current_dir(&self.dir)
            .env("PATH", std::env::join_paths(paths).unwrap())
            .env("CARGO_HOME", &self.cargo_home)
            .env("CARGO_HTTP_PROXY", "http://127.0.0.1:9")
            .env("HTTPS_PROXY", "http://127.0.0.1:9")
            .env("https_proxy", "http://127.0.0.1:9")
            .env("CARGO_TERM_COLOR", "never")
            .env_remove("CARGO_TARGET_DIR");
        c
    }

    /// A crate named `name` in a folder of its own, outside the project.
    fn fake_crate(&self, name: &str, version: &str, license: Option<&str>) -> PathBuf {
        let dir = self.base.join("fakes").join(format!("{name}-{version}"));
        fs::create_dir_all(dir.join("src")).unwrap();
        let license = license.map(|l| format!("license = \"{l}\"\n")).unwrap_or_default();
        fs::write(
            dir.join("Cargo.toml"),
            format!("[package]\nname = \"{name}\"\nversion = \"{version}\"\nedition = \"2021\"\n{license}"),
        )
        .unwrap();
        fs::write(dir.join("src/lib.rs"), "").unwrap();
        dir
    }

    /// Adds `[dependencies.KEY]` with these lines to the copied Cargo.toml.
    fn add_dependency(&self, key: &str, lines: &str) {
        let manifest = self.dir.join("Cargo.toml");
        let mut text = fs::read_to_string(&manifest).unwrap();
        text.push_str(&format!("\n[dependencies.{key}]\n{lines}\n"));
        fs::write(manifest, text).unwrap();
    }

    fn add_path_dependency(&self, key: &str, name: &str, version: &str, license: Option<&str>) {
        let dir = self.fake_crate(name, version, license);
        self.add_dependency(key, &format!("package = \"{name}\"\npath = \"{}\"", dir.display()));
    }

    /// `cargo deny check licenses bans sources`, offline, as `make deny` runs it (without --locked: the
    /// copy's Cargo.lock gains the added crate).
    fn deny(&self) -> Run {
        let o = self
            .cargo()
            .args(["deny", "--offline", "--color", "never", "check", "--hide-inclusion-graph"])
            .args(["licenses", "bans", "sources"])
            .output()
            .unwrap();
        let out = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
        Run { ok: o.status.success(), out }
    }
}

impl Run {
    #[track_caller]
    fn expect_failure(&self, needles: &[&str]) {
        assert!(!self.ok, "cargo deny passed, but the policy should have failed:\n{}", self.out);
        for n in needles {
            assert!(self.out.contains(n), "cargo deny failed without naming `{n}`:\n{}", self.out);
        }
    }
}

/// The crates deny.toml allows only once, read from its `deny` list.
fn single_copy_crates() -> Vec<String> {
    let text = fs::read_to_string(Path::new(ROOT).join("deny.toml")).unwrap();
    text.lines()
        .map(str::trim)
        .filter(|l| l.starts_with("{ crate = \"") && l.contains("deny-multiple-versions = true"))
        .map(|l| l.split('"').nth(1).unwrap().to_string())
        .collect()
}

#[test]
fn an_unmodified_copy_passes_the_policy() {
    let Some(deny) = cargo_deny_dir() else { return };
    let p = Project::new(deny);
    let r = p.deny();
    assert!(r.ok, "the copy of frostsign's own manifest must pass:\n{}", r.out);
    assert!(r.out.contains("bans ok, licenses ok, sources ok"), "{}", r.out);
}

#[test]
fn bincode_is_banned() {
    let Some(deny) = cargo_deny_dir() else { return };
    let p = Project::new(deny);
    p.add_path_dependency("bincode", "bincode", "1.3.3", Some("MIT"));
    p.deny().expect_failure(&["error[banned]: crate 'bincode = 1.3.3' is explicitly banned", "bans FAILED"]);
}

#[test]
fn a_second_copy_of_any_cryptographic_crate_fails_and_of_an_ordinary_crate_warns() {
    let Some(deny) = cargo_deny_dir() else { return };
    let listed = single_copy_crates();
    for name in REQUIRED_SINGLE_COPY {
        assert!(listed.iter().any(|l| l == name), "deny.toml must deny a second copy of {name}; it lists {listed:?}");
    }
    let lock = fs::read_to_string(Path::new(ROOT).join("Cargo.lock")).unwrap();
    let p = Project::new(deny);
    for name in &listed {
        assert!(lock.contains(&format!("name = \"{name}\"\n")), "{name} is listed in deny.toml but not in Cargo.lock");
        p.add_path_dependency(&format!("second-{name}"), name, "999.0.0", Some("MIT"));
    }
    // The control: a second `hex` is a warning only, so the errors above come from the list.
    p.add_path_dependency("second-hex", "hex", "999.0.0", Some("MIT"));
    let r = p.deny();
    let mut needles: Vec<String> =
        listed.iter().map(|n| format!("error[duplicate]: found 2 duplicate entries for crate '{n}'")).collect();
    needles.push("warning[duplicate]: found 2 duplicate entries for crate 'hex'".into());
    needles.push("bans FAILED".into());
    r.expect_failure(&needles.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(!r.out.contains("error[duplicate]: found 2 duplicate entries for crate 'hex'"), "{}", r.out);
}

/// The same rule with a real crate from crates.io: a second major version of a listed crate that
/// Cargo.lock already holds for the tests only (today getrandom 0.4, from tempfile), now made a normal
/// dependency. As a dev-dependency it passes (an_unmodified_copy_passes_the_policy): it is not in the binary.
#[test]
fn a_real_second_version_from_crates_io_fails_once_it_is_a_normal_dependency() {
    let Some(deny) = cargo_deny_dir() else { return };
    let lock = fs::read_to_string(Path::new(ROOT).join("Cargo.lock")).unwrap();
    let mut versions: Vec<(String, String)> = Vec::new();
    for block in lock.split("[[package]]") {
        let field = |k: &str| {
            block
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{k} = \"")).map(|v| v.trim_end_matches('"').to_string()))
        };
        if let (Some(n), Some(v)) = (field("name"), field("version")) {
            versions.push((n, v));
        }
    }
    let listed = single_copy_crates();
    let candidate = listed.iter().find_map(|name| {
        let vs: Vec<&String> = versions.iter().filter(|(n, _)| n == name).map(|(_, v)| v).collect();
        (vs.len() >= 2).then(|| (name.clone(), vs.iter().map(|v| semver_major(v)).max().unwrap()))
    });
    let Some((name, major)) = candidate else {
        panic!(
            "Cargo.lock no longer holds two versions of any crate deny.toml allows once (it held getrandom 0.2 and \
             0.4 when this test was written): pick another real crate whose second version is in the local crate \
             cache for this test, or remove it (a_second_copy_of_any_cryptographic_crate_fails... covers the rule)"
        )
    };
    let p = Project::new(deny);
    p.add_dependency(&format!("second-{name}"), &format!("package = \"{name}\"\nversion = \"{major}\""));
    p.deny()
        .expect_failure(&[&format!("error[duplicate]: found 2 duplicate entries for crate '{name}'"), "bans FAILED"]);
}

/// "0.4.3" -> "0.4", "2.1.0" -> "2": the requirement that selects this version's semver-compatible line.
fn semver_major(v: &str) -> String {
    let parts: Vec<&str> = v.split('.').collect();
    if parts[0] == "0" {
        format!("0.{}", parts[1])
    } else {
        parts[0].to_string()
    }
}

#[test]
fn a_crate_from_a_git_repository_fails() {
    let Some(deny) = cargo_deny_dir() else { return };
    let p = Project::new(deny);
    let repo = p.fake_crate("gitdep", "0.1.0", Some("MIT"));
    let git = |args: &[&str]| {
        let o = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.org", "-c", "init.defaultBranch=main"])
            .args(args)
            .current_dir(&repo)
            .output()
            .expect("git is needed for this test: sudo apt-get install -y git");
        assert!(o.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&o.stderr));
    };
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "a crate from a git repository"]);
    p.add_dependency("gitdep", &format!("git = \"file://{}\"", repo.display()));
    // cargo refuses to check out a git dependency with --offline, even from a local folder, so resolve it
    // first without --offline: the proxy that does not exist makes sure no registry is asked.
    let o = p.cargo().args(["metadata", "--format-version", "1"]).output().unwrap();
    assert!(o.status.success(), "resolving the git dependency: {}", String::from_utf8_lossy(&o.stderr));
    p.deny()
        .expect_failure(&["error[source-not-allowed]: detected 'git' source not explicitly allowed", "sources FAILED"]);
}

#[test]
fn a_licence_off_the_allow_list_or_no_licence_fails() {
    let Some(deny) = cargo_deny_dir() else { return };
    let p = Project::new(deny);
    p.add_path_dependency("copyleft", "copyleft", "1.0.0", Some("GPL-3.0-only"));
    p.add_path_dependency("nolicence", "nolicence", "1.0.0", None);
    p.deny().expect_failure(&[
        "error[rejected]: failed to satisfy license requirements",
        "GPL-3.0-only",
        "error[unlicensed]: nolicence = 1.0.0 is unlicensed",
        "licenses FAILED",
    ]);
}

// ---------------------------------------------------------------------------------------------------
// The SBOM

fn host_triple() -> String {
    let o = Command::new("rustc").arg("-vV").output().expect("rustc");
    String::from_utf8(o.stdout).unwrap().lines().find_map(|l| l.strip_prefix("host: ")).unwrap().to_string()
}

fn write_sbom(out: &Path) -> Vec<u8> {
    let o = Command::new("python3")
        .arg(Path::new(ROOT).join("scripts/sbom.py"))
        .arg("--out")
        .arg(out)
        .current_dir(ROOT)
        .output()
        .expect("python3 (3.11 or newer) is needed for the SBOM: sudo apt-get install -y python3");
    assert!(o.status.success(), "scripts/sbom.py failed: {}", String::from_utf8_lossy(&o.stderr));
    fs::read(out).unwrap()
}

#[test]
fn the_sbom_lists_every_crate_of_the_release_build_with_licence_and_checksum() {
    let tmp = tempfile::tempdir().unwrap();
    let bytes = write_sbom(&tmp.path().join("a.cdx.json"));
    assert_eq!(bytes, write_sbom(&tmp.path().join("b.cdx.json")), "the SBOM must be the same bytes every time");
    let bom: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(bom["bomFormat"], "CycloneDX");
    assert_eq!(bom["specVersion"], "1.5");
    assert!(bom["serialNumber"].as_str().unwrap().starts_with("urn:uuid:"));
    let app = &bom["metadata"]["component"];
    assert_eq!(app["name"], "frostsign");
    assert_eq!(app["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(app["licenses"][0]["expression"], "Apache-2.0 OR MIT");

    // The crate file checksums cargo verifies, from Cargo.lock.
    let lock = fs::read_to_string(Path::new(ROOT).join("Cargo.lock")).unwrap();
    let mut checksums = std::collections::HashMap::new();
    for block in lock.split("[[package]]") {
        let field = |k: &str| {
            block
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{k} = \"")).map(|v| v.trim_end_matches('"').to_string()))
        };
        if let (Some(n), Some(v), Some(c)) = (field("name"), field("version"), field("checksum")) {
            checksums.insert(format!("{n}@{v}"), c);
        }
    }

    let mut listed = std::collections::BTreeSet::new();
    let mut scope_of = std::collections::HashMap::new();
    for c in bom["components"].as_array().unwrap() {
        let key = format!("{}@{}", c["name"].as_str().unwrap(), c["version"].as_str().unwrap());
        assert_eq!(c["purl"], format!("pkg:cargo/{key}"), "{key}: package URL");
        assert_eq!(c["bom-ref"], c["purl"]);
        assert_eq!(c["hashes"][0]["alg"], "SHA-256", "{key}: hash");
        assert_eq!(c["hashes"][0]["content"].as_str(), checksums.get(&key).map(String::as_str), "{key}: checksum");
        assert!(c["licenses"][0]["expression"].as_str().is_some_and(|e| !e.is_empty()), "{key}: licence");
        assert!(listed.insert(key.clone()), "{key} is listed twice");
        scope_of.insert(key, c["scope"].as_str().unwrap().to_string());
    }

    // Exactly the crates of the release build's normal dependency graph: what `cargo tree -e normal` shows.
    let tree = Command::new(cargo())
        .args(["tree", "--locked", "--offline", "-e", "normal", "--prefix", "none", "--format", "{p}"])
        .args(["--target", &host_triple()])
        .current_dir(ROOT)
        .output()
        .unwrap();
    assert!(tree.status.success(), "{}", String::from_utf8_lossy(&tree.stderr));
    let mut expected = std::collections::BTreeSet::new();
    for line in String::from_utf8(tree.stdout).unwrap().lines() {
        let mut w = line.split_whitespace();
        let (name, version) = (w.next().unwrap(), w.next().unwrap().trim_start_matches('v'));
        if name != "frostsign" {
            expected.insert(format!("{name}@{version}"));
        }
    }
    assert_eq!(listed, expected, "the SBOM must list exactly the crates of `cargo tree -e normal`");

    let scope = |prefix: &str| {
        let hits: Vec<&String> = scope_of.iter().filter(|(k, _)| k.starts_with(prefix)).map(|(_, s)| s).collect();
        assert!(!hits.is_empty(), "{prefix} is missing from the SBOM");
        hits[0].clone()
    };
    for linked in ["frost-ed25519@", "ed25519-dalek@", "hpke@", "argon2@", "chacha20poly1305@", "clap@", "zeroize@"] {
        assert_eq!(scope(linked), "required", "{linked} is linked into the binary");
    }
    for build_time in ["serde_derive@", "zeroize_derive@", "clap_derive@", "syn@"] {
        assert_eq!(scope(build_time), "excluded", "{build_time} runs at build time only");
    }
    for dev_only in ["tempfile@", "minisign-verify@"] {
        assert!(!listed.iter().any(|k| k.starts_with(dev_only)), "{dev_only} is a dev-dependency, not in the binary");
    }

    // The dependency graph covers every component and names only listed ones.
    let refs: std::collections::BTreeSet<String> = listed
        .iter()
        .map(|k| format!("pkg:cargo/{k}"))
        .chain([format!("pkg:cargo/frostsign@{}", env!("CARGO_PKG_VERSION"))])
        .collect();
    let deps = bom["dependencies"].as_array().unwrap();
    assert_eq!(deps.len(), refs.len());
    for d in deps {
        assert!(refs.contains(d["ref"].as_str().unwrap()));
        for on in d["dependsOn"].as_array().unwrap() {
            assert!(refs.contains(on.as_str().unwrap()), "dangling dependsOn {on}");
        }
    }
}
