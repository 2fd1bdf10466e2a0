//! Acceptance tests of issue 2, identity and home: `holder new/export/show`, passphrase sources, the
//! encrypted home (modes, wrong passphrase, refusal to overwrite), and that no secret ever reaches any
//! output or any exchanged file.

mod common;
use common::*;

use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use base64::Engine;
use frostsign::card::Card;
use frostsign::home::{Home, PassphraseSource};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

#[track_caller]
fn ok(o: &Out) {
    no_panic(o);
    o.ok();
}

fn mode(p: &Path) -> u32 {
    std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777
}

fn chmod(p: &Path, m: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
}

/// Every entry under `dir` (not following symlinks): (path, is_dir).
fn walk(dir: &Path) -> Vec<(PathBuf, bool)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        let is_dir = std::fs::symlink_metadata(&p).unwrap().is_dir();
        out.push((p.clone(), is_dir));
        if is_dir {
            out.extend(walk(&p));
        }
    }
    out
}

/// `XXXX XXXX XXXX XXXX XXXX XXXX XXXX XXXX`, uppercase hex.
fn is_grouped_fingerprint(s: &str) -> bool {
    let groups: Vec<&str> = s.split(' ').collect();
    groups.len() == 8
        && groups.iter().all(|g| g.len() == 4 && g.bytes().all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b)))
}

/// Run as a keyholder given by home and passphrase file (global options first).
fn run_as(cwd: &Path, home: &Path, pass: &Path, args: &[&str]) -> Out {
    let mut full = vec!["--home", s(home), "--passphrase-file", s(pass)];
    full.extend_from_slice(args);
    run_in(cwd, &full)
}

fn write(p: &Path, bytes: impl AsRef<[u8]>) {
    std::fs::write(p, bytes).unwrap();
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap()
}

#[test]
fn holder_new_show_and_export_agree_on_a_grouped_fingerprint() {
    let env = Env::new();
    let home = env.path("home-alice");
    let pass = env.path("pass-alice");
    write(&pass, "correct horse battery staple\n");
    let created =
        run_as(env.dir.path(), &home, &pass, &["holder", "new", "--name", "Alice Liddell", "--insecure-fast-kdf"]);
    ok(&created);
    assert!(
        created.stderr.contains("INSECURE"),
        "the fast KDF must be flagged when the home is made:\n{}",
        created.all()
    );

    // export without --out prints the card to stdout; it is exactly the home's copy and verifies.
    let exported = run_as(env.dir.path(), &home, &pass, &["holder", "export"]);
    ok(&exported);
    assert_eq!(exported.stdout, read(&home.join("card.txt")));
    let card = Card::parse(&exported.stdout).expect("the exported card parses and its self-signature verifies");
    assert_eq!(card.name(), "Alice Liddell");
    assert!(exported.stdout.starts_with("frostsign-card: 1\n"));
    assert!(exported.stdout.contains("\nname: Alice Liddell\n"));

    // export --out writes the same bytes.
    let out_file = env.path("alice.card");
    ok(&run_as(env.dir.path(), &home, &pass, &["holder", "export", "--out", s(&out_file)]));
    assert_eq!(read(&out_file), exported.stdout);

    // The card's fingerprint line: 8 groups of 4 uppercase hex digits, the fingerprint of its keys.
    let fp_line = exported.stdout.lines().find_map(|l| l.strip_prefix("fingerprint: ")).expect("fingerprint line");
    assert!(is_grouped_fingerprint(fp_line), "{fp_line:?}");
    assert_eq!(fp_line, card.fingerprint().to_string());

    // `holder show` prints the name and that very fingerprint; so did `holder new`.
    let show = run_as(env.dir.path(), &home, &pass, &["holder", "show"]);
    ok(&show);
    let shown =
        show.stdout.lines().find_map(|l| l.strip_prefix("fingerprint:")).map(str::trim).expect("fingerprint line");
    assert_eq!(shown, fp_line);
    assert!(show.stdout.lines().any(|l| l.starts_with("name:") && l.ends_with("Alice Liddell")), "{}", show.stdout);
    assert!(created.stdout.contains(fp_line), "holder new must print the fingerprint:\n{}", created.stdout);
    // A fast-KDF home is flagged whenever it is used.
    assert!(show.stderr.contains("INSECURE fast passphrase KDF"), "{}", show.all());

    // Another keyholder has another fingerprint.
    let bob = env.holder("Bob");
    let bob_card = Card::load(&bob.card).unwrap();
    assert_ne!(bob_card.fingerprint(), card.fingerprint());
}

#[test]
fn default_kdf_is_argon2id_256_mib_recorded_in_home_key_and_unlocks() {
    let env = Env::new();
    let home = env.path("home-dora");
    let pass = env.path("pass-dora");
    write(&pass, "a long passphrase for the default KDF\n");
    let created = run_as(env.dir.path(), &home, &pass, &["holder", "new", "--name", "Dora"]);
    ok(&created);
    assert!(!created.all().contains("INSECURE"), "the default settings are not insecure:\n{}", created.all());

    let key_file = read(&home.join("home-key.txt"));
    let lines: Vec<&str> = key_file.lines().collect();
    assert!(lines.contains(&"kdf: argon2id"), "{key_file}");
    assert!(lines.contains(&"kdf-memory-kib: 262144"), "{key_file}");
    assert!(lines.contains(&"protection: passphrase"), "{key_file}");

    let show = run_as(env.dir.path(), &home, &pass, &["holder", "show"]);
    ok(&show);
    assert!(!show.all().contains("INSECURE") && !show.all().contains("NO passphrase"), "{}", show.all());

    // The home really unlocks with the default cost, and holds the identity of the card.
    let u = Home::open(&home).unwrap().unlock(&PassphraseSource::new(Some(pass))).expect("unlock");
    assert_eq!(u.identity().card().text(), read(&home.join("card.txt")));
    assert_eq!(u.identity().card().name(), "Dora");
}

#[test]
fn wrong_passphrase_exits_2_and_changes_nothing_on_disk() {
    let env = Env::new();
    let hs = env.holders(2);
    let a = &hs[0];
    env.dkg_init("cer", 2, &hs).ok();
    let cer = env.path("cer");
    let wrong = env.path("wrong-pass");
    write(&wrong, "this is NOT the passphrase of Alice\n");

    let attempt = || run_as(env.dir.path(), &a.home, &wrong, &["dkg", "step", "--dir", "cer", "--yes"]);
    for stage in ["before joining", "after round 1"] {
        let (home_before, cer_before) = (snapshot(&a.home), snapshot(&cer));
        let o = attempt();
        refused(&o, &["wrong passphrase"]);
        assert!(!o.all().contains("NOT the passphrase"), "the passphrase tried must not be echoed:\n{}", o.all());
        assert_eq!(snapshot(&a.home), home_before, "{stage}: the home changed after a wrong passphrase");
        assert_eq!(snapshot(&cer), cer_before, "{stage}: the ceremony folder changed after a wrong passphrase");
        if stage == "before joining" {
            ok(&a.dkg_step(&cer));
            assert_ne!(snapshot(&cer), cer_before, "the right passphrase does let the step run");
        }
    }

    // The library gives the same refusal.
    let err = Home::open(&a.home).unwrap().unlock(&PassphraseSource::new(Some(wrong))).unwrap_err();
    assert!(err.to_string().contains("wrong passphrase"), "{err}");
    assert_eq!(err.kind().code(), 2);
}

#[test]
fn without_terminal_or_passphrase_source_commands_exit_2_naming_both_options() {
    let env = Env::new();
    // Creating a home: stdin is not a terminal and there is no passphrase file.
    let home = env.path("home-nora");
    let o = env.run(&["--home", s(&home), "holder", "new", "--name", "Nora", "--insecure-fast-kdf"]);
    refused(&o, &["--passphrase-file", "FROSTSIGN_PASSPHRASE_FILE"]);
    assert!(!home.exists(), "a refused `holder new` must leave nothing behind");

    // Unlocking an existing home.
    let hs = env.holders(2);
    env.dkg_init("cer", 2, &hs).ok();
    let (home_before, cer_before) = (snapshot(&hs[0].home), snapshot(&env.path("cer")));
    let o = env.run(&["--home", s(&hs[0].home), "dkg", "step", "--dir", "cer", "--yes"]);
    refused(&o, &["--passphrase-file", "FROSTSIGN_PASSPHRASE_FILE"]);
    assert_eq!(snapshot(&hs[0].home), home_before);
    assert_eq!(snapshot(&env.path("cer")), cer_before);

    // Commands that need no secret still work without a passphrase source.
    let show = env.run(&["--home", s(&hs[0].home), "holder", "show"]);
    ok(&show);
    assert!(show.stdout.contains("Alice"));
}

#[test]
fn passphrase_file_and_home_from_the_environment() {
    let env = Env::new();
    let home = env.path("home-eve");
    let pass = env.path("pass-eve");
    let wrong = env.path("wrong-eve");
    write(&pass, "Eve's passphrase\n");
    write(&wrong, "not Eve's passphrase\n");
    let cwd = env.dir.path();
    let both = [("FROSTSIGN_HOME", s(&home)), ("FROSTSIGN_PASSPHRASE_FILE", s(&pass))];

    let o = run_env(cwd, &["holder", "new", "--name", "Eve", "--insecure-fast-kdf"], &both);
    ok(&o);
    assert!(home.join("home-key.txt").is_file(), "FROSTSIGN_HOME was not used");
    let o = run_env(cwd, &["holder", "export", "--out", "eve.card"], &both[..1]);
    ok(&o);
    let eve = Card::load(&env.path("eve.card")).unwrap();
    assert_eq!(eve.name(), "Eve");

    // Unlocking through FROSTSIGN_PASSPHRASE_FILE.
    let bob = env.holder("Bob");
    ok(&env.run(&[
        "dkg",
        "init",
        "--allow-insecure-cards",
        "--dir",
        "cer",
        "--threshold",
        "2",
        "eve.card",
        s(&bob.card),
    ]));
    let round1 = env.path(&format!("cer/round1-{}.txt", eve.fingerprint().compact()));
    let bad = [("FROSTSIGN_HOME", s(&home)), ("FROSTSIGN_PASSPHRASE_FILE", s(&wrong))];
    refused(&run_env(cwd, &["dkg", "step", "--dir", "cer", "--yes"], &bad), &["wrong passphrase"]);
    assert!(!round1.exists());
    ok(&run_env(cwd, &["dkg", "step", "--dir", "cer", "--yes"], &both));
    assert!(round1.is_file(), "the step did not publish round 1");

    // The command-line option wins over the environment variable.
    let o = run_env(cwd, &["--passphrase-file", s(&pass), "dkg", "step", "--dir", "cer", "--yes"], &bad);
    ok(&o);
}

#[test]
fn home_and_passphrase_file_are_accepted_before_or_after_the_subcommand() {
    let env = Env::new();
    let pass = env.path("pass");
    write(&pass, "shared test passphrase\n");
    let (h1, h2) = (env.path("home-ann"), env.path("home-ben"));

    // After the subcommand, and between the group and the subcommand.
    ok(&env.run(&[
        "holder",
        "new",
        "--name",
        "Ann",
        "--insecure-fast-kdf",
        "--home",
        s(&h1),
        "--passphrase-file",
        s(&pass),
    ]));
    ok(&env.run(&[
        "holder",
        "--home",
        s(&h2),
        "new",
        "--passphrase-file",
        s(&pass),
        "--name",
        "Ben",
        "--insecure-fast-kdf",
    ]));
    assert!(h1.join("home-key.txt").is_file() && h2.join("home-key.txt").is_file());

    let before = env.run(&["--home", s(&h1), "holder", "show"]);
    let after = env.run(&["holder", "show", "--home", s(&h1)]);
    ok(&before);
    ok(&after);
    assert_eq!(before.stdout, after.stdout);
    assert!(before.stdout.contains("Ann"));

    let before = env.run(&["--home", s(&h1), "holder", "export"]);
    let after = env.run(&["holder", "export", "--home", s(&h1)]);
    ok(&before);
    ok(&after);
    assert_eq!(before.stdout, after.stdout);
    assert_eq!(Card::parse(&before.stdout).unwrap().name(), "Ann");

    ok(&env.run(&["holder", "export", "--out", "ann.card", "--home", s(&h1)]));
    ok(&env.run(&["--home", s(&h2), "holder", "export", "--out", "ben.card"]));
    ok(&env.run(&[
        "dkg",
        "init",
        "--allow-insecure-cards",
        "--dir",
        "cer",
        "--threshold",
        "2",
        "ann.card",
        "ben.card",
    ]));
    ok(&env.run(&["--home", s(&h1), "--passphrase-file", s(&pass), "dkg", "step", "--dir", "cer", "--yes"]));
    ok(&env.run(&["dkg", "step", "--dir", "cer", "--yes", "--home", s(&h2), "--passphrase-file", s(&pass)]));
    for card in ["ann.card", "ben.card"] {
        let fp = Card::load(&env.path(card)).unwrap().fingerprint().compact();
        assert!(env.path(&format!("cer/round1-{fp}.txt")).is_file(), "no round 1 from {card}");
    }
}

#[test]
fn empty_passphrase_is_refused_unless_insecure_no_passphrase_which_warns_on_every_use() {
    let env = Env::new();
    for (i, content) in ["", "\n", "\r\n"].iter().enumerate() {
        let pass = env.path(&format!("empty-{i}"));
        let home = env.path(&format!("home-{i}"));
        write(&pass, content);
        let o = run_as(env.dir.path(), &home, &pass, &["holder", "new", "--name", "Ed", "--insecure-fast-kdf"]);
        refused(&o, &["empty", "--insecure-no-passphrase"]);
        assert!(!home.exists(), "a refused `holder new` must leave nothing behind");
    }

    // With --insecure-no-passphrase no passphrase source is needed at all.
    let home = env.path("home-ned");
    let o = env.run(&[
        "--home",
        s(&home),
        "holder",
        "new",
        "--name",
        "Ned",
        "--insecure-no-passphrase",
        "--insecure-fast-kdf",
    ]);
    ok(&o);
    assert!(o.stderr.contains("INSECURE"), "{}", o.all());
    assert!(read(&home.join("home-key.txt")).lines().any(|l| l == "protection: insecure-no-passphrase"));
    let show = env.run(&["--home", s(&home), "holder", "show"]);
    ok(&show);
    assert!(show.stderr.contains("NO passphrase"), "{}", show.all());

    // Using its secrets (a DKG step) also warns, and asks for no passphrase.
    let bob = env.holder("Bob");
    ok(&env.run(&["--home", s(&home), "holder", "export", "--out", "ned.card"]));
    ok(&env.run(&[
        "dkg",
        "init",
        "--allow-insecure-cards",
        "--dir",
        "cer",
        "--threshold",
        "2",
        "ned.card",
        s(&bob.card),
    ]));
    let step = env.run(&["--home", s(&home), "dkg", "step", "--dir", "cer", "--yes"]);
    ok(&step);
    assert!(step.stderr.contains("NO passphrase"), "{}", step.all());
    let u = Home::open(&home).unwrap().unlock(&PassphraseSource::new(None)).unwrap();
    assert_eq!(u.identity().card().name(), "Ned");
}

#[test]
fn bad_passphrase_files_are_refused_cleanly() {
    let env = Env::new();
    let dir = env.path("a-folder");
    std::fs::create_dir(&dir).unwrap();
    let multi = env.path("multi");
    write(&multi, "line one\nline two\n");
    let latin1 = env.path("latin1");
    write(&latin1, b"caf\xe9\n");
    let cases: [(&Path, &str); 4] = [
        (&dir, "is a directory"),
        (&multi, "more than one line"),
        (&latin1, "not UTF-8"),
        (&env.path("missing"), "no such file"),
    ];
    for (i, (pass, needle)) in cases.iter().enumerate() {
        let home = env.path(&format!("home-{i}"));
        let o = run_as(env.dir.path(), &home, pass, &["holder", "new", "--name", "Pat", "--insecure-fast-kdf"]);
        refused(&o, &[needle]);
        assert!(!home.exists(), "{needle}: a refused `holder new` must leave nothing behind");
    }
}

#[test]
fn invalid_names_are_refused_and_leave_nothing() {
    let env = Env::new();
    let pass = env.path("pass");
    write(&pass, "pw for names\n");
    let long = "x".repeat(65);
    for (i, name) in ["", " Alice", "Alice ", "Al\u{7}ice", "Al\nice", long.as_str()].iter().enumerate() {
        let home = env.path(&format!("home-{i}"));
        let o = run_as(env.dir.path(), &home, &pass, &["holder", "new", "--name", name, "--insecure-fast-kdf"]);
        refused(&o, &["invalid keyholder name"]);
        assert!(!home.exists());
    }
}

#[test]
fn home_is_0700_and_every_file_in_it_0600_including_after_a_dkg() {
    let env = Env::new();
    let hs = env.holders(3);
    let check = |home: &Path, when: &str| -> usize {
        assert_eq!(mode(home), 0o700, "{when}: home {}", home.display());
        let entries = walk(home);
        for (p, is_dir) in &entries {
            let name = p.file_name().unwrap().to_string_lossy();
            assert!(!name.starts_with('.'), "{when}: temporary file left behind: {}", p.display());
            let want = if *is_dir { 0o700 } else { 0o600 };
            assert_eq!(mode(p), want, "{when}: {} has mode {:o}", p.display(), mode(p));
        }
        entries.len()
    };
    for h in &hs {
        let n = check(&h.home, "after holder new");
        assert!(n >= 3, "expected at least home-key, identity and card in {}", h.home.display());
    }
    let group = env.dkg("cer", 2, &hs);
    assert!(group.is_file(), "the DKG did not complete");
    for h in &hs {
        check(&h.home, "after a DKG");
        let shares = files_under(&h.home.join("groups"));
        assert!(!shares.is_empty(), "no group share stored in {}", h.home.display());
    }

    // The modes are set explicitly, not left to the umask.
    let home = env.path("home-umask");
    let pass = env.path("pass-umask");
    write(&pass, "umask test passphrase\n");
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg("umask 000; exec \"$0\" \"$@\"")
        .arg(bin())
        .args([
            "--home",
            s(&home),
            "--passphrase-file",
            s(&pass),
            "holder",
            "new",
            "--name",
            "Uma",
            "--insecure-fast-kdf",
        ])
        .current_dir(env.dir.path())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    check(&home, "created under umask 000");
}

#[test]
fn group_or_world_accessible_home_is_refused_with_a_chmod_hint() {
    let env = Env::new();
    let hs = env.holders(2);
    env.dkg_init("cer", 2, &hs).ok();
    let a = &hs[0];
    let commands: [&[&str]; 3] =
        [&["holder", "show"], &["holder", "export"], &["dkg", "step", "--dir", "cer", "--yes"]];
    let cer_before = snapshot(&env.path("cer"));
    for m in [0o755, 0o750, 0o705, 0o701] {
        chmod(&a.home, m);
        let before = snapshot(&a.home);
        for args in commands {
            let o = a.run(args);
            refused(&o, &["accessible by other users", &format!("chmod 700 {}", a.home.display())]);
            assert!(o.stdout.is_empty(), "nothing is printed from a refused home:\n{}", o.stdout);
        }
        assert_eq!(snapshot(&a.home), before);
        assert_eq!(mode(&a.home), m, "the tool must not silently change the mode of an existing home");
    }
    chmod(&a.home, 0o700);
    for f in ["identity.txt", "home-key.txt"] {
        let p = a.home.join(f);
        for m in [0o644, 0o640, 0o604] {
            chmod(&p, m);
            let o = a.run(&["dkg", "step", "--dir", "cer", "--yes"]);
            refused(&o, &["accessible by other users", &format!("chmod 600 {}", p.display())]);
        }
        chmod(&p, 0o600);
    }
    assert_eq!(snapshot(&env.path("cer")), cer_before);
    ok(&a.run(&["holder", "show"]));
    ok(&a.dkg_step(&env.path("cer")));
}

#[test]
fn holder_new_twice_is_refused_and_the_identity_is_untouched() {
    let env = Env::new();
    let a = env.holder("Alice");
    let card = Card::load(&a.card).unwrap();
    let before = snapshot(&a.home);
    let other = env.path("other-pass");
    write(&other, "Mallory's passphrase\n");
    let home = s(&a.home);
    let attempts: [&[&str]; 4] = [
        &["--home", home, "--passphrase-file", s(&a.pass), "holder", "new", "--name", "Alice", "--insecure-fast-kdf"],
        &["--home", home, "--passphrase-file", s(&other), "holder", "new", "--name", "Mallory", "--insecure-fast-kdf"],
        &["--home", home, "holder", "new", "--name", "Mallory", "--insecure-no-passphrase"],
        &["--home", home, "holder", "new", "--name", "Mallory"],
    ];
    for args in attempts {
        let o = env.run(args);
        refused(&o, &["refusing to overwrite"]);
        assert!(
            o.all().contains(&card.fingerprint().to_string()),
            "the error should name the existing identity:\n{}",
            o.all()
        );
        assert_eq!(snapshot(&a.home), before, "the existing identity was touched by {args:?}");
    }
    let u = Home::open(&a.home).unwrap().unlock(&PassphraseSource::new(Some(a.pass.clone()))).unwrap();
    assert_eq!(u.identity().card(), &card);
    let exported = a.run(&["holder", "export"]);
    ok(&exported);
    assert_eq!(exported.stdout, card.text());
}

/// Substrings that appear in any base64 (standard or URL-safe) encoding of a buffer holding `secret`
/// at any alignment: the characters that depend on `secret`'s bytes alone.
fn base64_cores(secret: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    for k in 0..3 {
        let mut buf = vec![0u8; k];
        buf.extend_from_slice(secret);
        let start = (8 * k).div_ceil(6);
        let end = 8 * (k + secret.len()) / 6;
        for enc in [STANDARD_NO_PAD.encode(&buf), URL_SAFE_NO_PAD.encode(&buf)] {
            out.push(enc[start..end].to_string());
        }
    }
    out
}

/// Every form in which a 32-byte secret could leak: raw, hex (both cases), base64 (both alphabets, any
/// alignment).
fn encodings_of(secret: &[u8]) -> Vec<Vec<u8>> {
    let mut v = vec![secret.to_vec(), hex::encode(secret).into_bytes(), hex::encode_upper(secret).into_bytes()];
    v.extend(base64_cores(secret).into_iter().map(String::into_bytes));
    v
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn squeeze(hay: &[u8]) -> Vec<u8> {
    hay.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect()
}

#[test]
fn the_secret_detector_finds_a_key_hidden_in_wrapped_base64_at_any_offset() {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE};
    let key: Vec<u8> = (0..32u8).map(|i| i.wrapping_mul(37).wrapping_add(11)).collect();
    let needles = encodings_of(&key);
    let found = |hay: &[u8]| needles.iter().any(|n| contains(hay, n) || contains(&squeeze(hay), n));
    for prefix in 0..7 {
        let mut buf: Vec<u8> = (0..prefix as u8).map(|i| i ^ 0x5a).collect();
        buf.extend_from_slice(&key);
        buf.extend_from_slice(b"tail");
        for enc in [STANDARD.encode(&buf), URL_SAFE.encode(&buf)] {
            // Wrapped like a textdoc block: 64 characters per line, each line starting with one space.
            let wrapped: String =
                enc.as_bytes().chunks(64).map(|c| format!(" {}\n", std::str::from_utf8(c).unwrap())).collect();
            assert!(found(format!("payload:\n{wrapped}").as_bytes()), "missed at prefix {prefix}: {enc}");
        }
        let mut raw = b"binary:".to_vec();
        raw.extend_from_slice(&buf);
        assert!(found(&raw));
        assert!(found(format!("key={}", hex::encode_upper(&buf)).as_bytes()));
        assert!(found(format!("key={}", hex::encode(&buf)).as_bytes()));
    }
    assert!(!found(b"nothing secret here"));
}

#[test]
fn no_secret_bytes_appear_in_any_output_or_exchanged_file() {
    let env = Env::new();
    let cwd = env.dir.path();
    let mut outs: Vec<(String, Out)> = Vec::new();
    let mut log = |what: String, o: Out| {
        no_panic(&o);
        outs.push((what, o));
    };
    let names = ["Alice", "Bob", "Carol"];
    let mut keyholders = Vec::new();
    for name in names {
        let home = env.path(&format!("home-{name}"));
        let pass = env.path(&format!("pass-{name}"));
        let passphrase = format!("{name} says: purple-otter-{}-zebra", name.len() * 7919);
        write(&pass, format!("{passphrase}\n"));
        let card = env.path(&format!("{name}.card"));
        let o = run_as(cwd, &home, &pass, &["holder", "new", "--name", name, "--insecure-fast-kdf"]);
        o.ok();
        log(format!("{name} holder new"), o);
        for args in [&["holder", "show"][..], &["holder", "export"], &["holder", "export", "--out", s(&card)]] {
            let o = run_as(cwd, &home, &pass, args);
            o.ok();
            log(format!("{name} {args:?}"), o);
        }
        keyholders.push((home, pass, passphrase, card));
    }
    let cards: Vec<&str> = keyholders.iter().map(|k| s(&k.3)).collect();
    let mut init =
        vec!["dkg", "init", "--allow-insecure-cards", "--dir", "cer", "--threshold", "2", "--label", "Secret test"];
    init.extend(&cards);
    let o = env.run(&init);
    o.ok();
    log("dkg init".into(), o);
    for round in 0..3 {
        for (home, pass, _, _) in &keyholders {
            let o = run_as(cwd, home, pass, &["dkg", "step", "--dir", "cer", "--yes"]);
            o.ok();
            log(format!("dkg step {round} {}", home.display()), o);
        }
    }
    let cer = env.path("cer");
    assert!(cer.join("group.pub").is_file(), "the DKG did not complete");
    for args in [
        &["dkg", "status", "--dir", "cer"][..],
        &["dkg", "status", "--dir", "cer", "--json"],
        &["group", "show", "--key", "cer/group.pub"],
    ] {
        let o = env.run(args);
        o.ok();
        log(format!("{args:?}"), o);
    }
    // Error paths too: a wrong passphrase, a second `holder new`, a home opened by others.
    let wrong = env.path("wrong");
    let wrong_guess = "a wrong guess: amber-heron-4411";
    write(&wrong, format!("{wrong_guess}\n"));
    let (home_a, pass_a, _, _) = &keyholders[0];
    log("wrong passphrase".into(), run_as(cwd, home_a, &wrong, &["dkg", "step", "--dir", "cer", "--yes"]));
    log("new twice".into(), run_as(cwd, home_a, pass_a, &["holder", "new", "--name", "Alice", "--insecure-fast-kdf"]));
    for (home, pass, _, _) in &keyholders {
        let o = run_as(cwd, home, pass, &["group", "list"]);
        o.ok();
        log(format!("group list {}", home.display()), o);
    }

    // What must never show: every passphrase, and both identity secret keys of every keyholder.
    let mut needles: Vec<(String, Vec<u8>)> =
        vec![("the wrong passphrase tried".into(), wrong_guess.as_bytes().to_vec())];
    for (name, (home, pass, passphrase, _)) in names.iter().zip(&keyholders) {
        needles.push((format!("{name}'s passphrase"), passphrase.as_bytes().to_vec()));
        let u = Home::open(home).unwrap().unlock(&PassphraseSource::new(Some(pass.clone()))).unwrap();
        let packed = u.identity().secret_bytes();
        let b = packed.expose();
        assert_eq!(b.len(), 72, "identity secret layout changed");
        assert_eq!(&b[0..4], &32u32.to_be_bytes());
        assert_eq!(&b[36..40], &32u32.to_be_bytes());
        for (what, key) in [("Ed25519 seed", &b[4..36]), ("X25519 secret", &b[40..72])] {
            for needle in encodings_of(key) {
                needles.push((format!("{name}'s {what}"), needle));
            }
        }
    }

    // Where to look: every output, every file of the ceremony, every exported card, every home file
    // (secrets at rest are encrypted), each also with whitespace removed (base64 wrapped over lines).
    let mut haystacks: Vec<(String, Vec<u8>)> = Vec::new();
    for (what, o) in &outs {
        haystacks.push((format!("stdout of {what}"), o.stdout.clone().into_bytes()));
        haystacks.push((format!("stderr of {what}"), o.stderr.clone().into_bytes()));
    }
    let mut files = files_under(&cer);
    assert!(files.len() >= 10, "expected round files in the ceremony folder: {files:?}");
    for (home, _, _, card) in &keyholders {
        files.push(card.clone());
        files.extend(files_under(home));
    }
    for f in files {
        haystacks.push((f.display().to_string(), std::fs::read(&f).unwrap()));
    }
    let squeezed: Vec<(String, Vec<u8>)> = haystacks
        .iter()
        .map(|(w, h)| {
            (format!("{w} (whitespace removed)"), h.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect())
        })
        .collect();
    haystacks.extend(squeezed);
    let mut checked = 0;
    for (what, needle) in &needles {
        for (place, hay) in &haystacks {
            assert!(!contains(hay, needle), "{what} found in {place}");
            checked += 1;
        }
    }
    assert!(checked > 1000);
}
