//! Acceptance tests of issue 2, identity and home: `holder new/export/show`, passphrase sources, the
//! encrypted home (modes, wrong passphrase, refusal to overwrite), and that no secret ever reaches any
//! output or any exchanged file.

use crate::common::*;

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
fn run_with_home(cwd: &Path, home: &Path, pass: &Path, args: &[&str]) -> Out {
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
    let created = run_with_home(
        env.dir.path(),
        &home,
        &pass,
        &["holder", "new", "--name", "Alice Liddell", "--insecure-fast-kdf"],
    );
    ok(&created);
    assert!(
        created.stderr.contains("INSECURE"),
        "the fast KDF must be flagged when the home is made:\n{}",
        created.all()
    );

    // export without --out prints the card to stdout; it is exactly the home's copy and verifies.
    let exported = run_with_home(env.dir.path(), &home, &pass, &["holder", "export"]);
    ok(&exported);
    assert_eq!(exported.stdout, read(&home.join("card.txt")));
    let card = Card::parse(&exported.stdout).expect("the exported card parses and its self-signature verifies");
    assert_eq!(card.name(), "Alice Liddell");
    assert!(exported.stdout.starts_with("frostsign-card: 1\n"));
    assert!(exported.stdout.contains("\nname: Alice Liddell\n"));

    // export --out writes the same bytes.
    let out_file = env.path("alice.card");
    ok(&run_with_home(env.dir.path(), &home, &pass, &["holder", "export", "--out", s(&out_file)]));
    assert_eq!(read(&out_file), exported.stdout);

    // The card's fingerprint line: 8 groups of 4 uppercase hex digits, the fingerprint of its keys.
    let fp_line = exported.stdout.lines().find_map(|l| l.strip_prefix("fingerprint: ")).expect("fingerprint line");
    assert!(is_grouped_fingerprint(fp_line), "{fp_line:?}");
    assert_eq!(fp_line, card.fingerprint().to_string());

    // `holder show` prints the name and that very fingerprint; so did `holder new`.
    let show = run_with_home(env.dir.path(), &home, &pass, &["holder", "show"]);
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
    let created = run_with_home(env.dir.path(), &home, &pass, &["holder", "new", "--name", "Dora"]);
    ok(&created);
    assert!(!created.all().contains("INSECURE"), "the default settings are not insecure:\n{}", created.all());

    let key_file = read(&home.join("home-key.txt"));
    let lines: Vec<&str> = key_file.lines().collect();
    assert!(lines.contains(&"kdf: argon2id"), "{key_file}");
    assert!(lines.contains(&"kdf-memory-kib: 262144"), "{key_file}");
    assert!(lines.contains(&"protection: passphrase"), "{key_file}");

    let show = run_with_home(env.dir.path(), &home, &pass, &["holder", "show"]);
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

    let attempt = || run_with_home(env.dir.path(), &a.home, &wrong, &["dkg", "step", "--dir", "cer", "--yes"]);
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
            // With nothing to do (waiting for Bob's round 1) the step reads no passphrase at all; once Bob
            // joined, Alice has round 2 to do, which needs hers.
            attempt().ok().contains("Nothing new to do: waiting for round 1 from Bob");
            ok(&hs[1].dkg_step(&cer));
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
    ok(&env.dkg_init_cards("cer", &["eve.card", s(&bob.card)]));
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

/// `frostsign SUBCOMMAND --help` for each command, split by what it shows of --home / --passphrase-file.
fn help_of(cmd: &str) -> String {
    let mut args: Vec<&str> = cmd.split_whitespace().collect();
    args.push("--help");
    let o = run_in(Path::new("."), &args);
    o.ok();
    o.stdout
}

#[test]
fn home_and_passphrase_file_are_shown_only_by_the_commands_that_use_them() {
    let neither = [
        "verify",
        "completions",
        "man",
        "holder",
        "dkg",
        "dkg init",
        "dkg status",
        "dealer",
        "share",
        "group",
        "group show",
        "group export",
        "group page",
        "group openpgp-init",
        "group approve",
        "group rotate",
        "group update",
        "sign",
        "sign init",
        "sign collect",
        "sign status",
    ];
    let home_only = ["holder export", "holder show", "group list"];
    let both = [
        "holder new",
        "holder backup",
        "holder restore",
        "dkg step",
        "dealer split",
        "dealer accept",
        "share refresh",
        "share repair",
        "sign step",
    ];
    for cmd in neither {
        let help = help_of(cmd);
        assert!(!help.contains("--home <") && !help.contains("--passphrase-file"), "`{cmd} --help`:\n{help}");
    }
    for cmd in home_only {
        let help = help_of(cmd);
        assert!(help.contains("--home <DIR>") && !help.contains("--passphrase-file"), "`{cmd} --help`:\n{help}");
    }
    for cmd in both {
        let help = help_of(cmd);
        assert!(help.contains("--home <DIR>") && help.contains("--passphrase-file <PATH>"), "`{cmd} --help`:\n{help}");
    }
    // Before the subcommand both stay accepted by every command (scripts give them to every call).
    let top = help_of("");
    assert!(top.contains("--home <DIR>") && top.contains("--passphrase-file <PATH>"), "{top}");
    ok(&run_in(Path::new("."), &["--home", "nowhere", "--passphrase-file", "nothing", "completions", "bash"]));
    // After a command that does not use them, they are refused as clap refuses any unknown option.
    let o = run_in(Path::new("."), &["completions", "bash", "--home", "nowhere"]);
    o.expect_code(2);
    assert!(o.stderr.contains("--home"), "{}", o.stderr);
}

#[test]
fn home_or_passphrase_file_given_both_before_and_after_the_subcommand_must_agree() {
    let env = Env::new();
    let pass = env.path("pass");
    write(&pass, "shared test passphrase\n");
    let (h1, h2) = (env.path("home-ann"), env.path("home-ben"));
    for (h, name) in [(&h1, "Ann"), (&h2, "Ben")] {
        ok(&env.run(&[
            "--home",
            s(h),
            "--passphrase-file",
            s(&pass),
            "holder",
            "new",
            "--name",
            name,
            "--insecure-fast-kdf",
        ]));
    }

    // Two different homes: refused (exit 2), naming both and what to do; nothing is read or written.
    let o = env.run(&["--home", s(&h1), "holder", "show", "--home", s(&h2)]);
    refused(&o, &["--home is given twice", s(&h1), s(&h2), "help: give --home once"]);
    assert!(!o.stdout.contains("Ann") && !o.stdout.contains("Ben"), "{}", o.stdout);
    let o = env.run(&["--home", s(&h1), "holder", "new", "--name", "Carol", "--home", s(&env.path("home-carol"))]);
    refused(&o, &["--home is given twice"]);
    assert!(!env.path("home-carol").exists());

    // Two different passphrase files: refused the same way, before the passphrase is read.
    let other = env.path("other-pass");
    write(&other, "another passphrase\n");
    let backup = env.path("ann.backup");
    let o = env.run(&[
        "--passphrase-file",
        s(&pass),
        "holder",
        "backup",
        "--out",
        s(&backup),
        "--home",
        s(&h1),
        "--passphrase-file",
        s(&other),
    ]);
    refused(&o, &["--passphrase-file is given twice", "help: give --passphrase-file once"]);
    assert!(!backup.exists());

    // The same path in both places is one choice, not a conflict.
    let o = env.run(&["--home", s(&h1), "holder", "show", "--home", s(&h1)]);
    ok(&o);
    assert!(o.stdout.contains("Ann"), "{}", o.stdout);

    // The command line, before or after the subcommand, wins over FROSTSIGN_HOME.
    let ben_env = [("FROSTSIGN_HOME", s(&h2))];
    for args in [vec!["holder", "show", "--home", s(&h1)], vec!["--home", s(&h1), "holder", "show"]] {
        let o = run_env(env.dir.path(), &args, &ben_env);
        ok(&o);
        assert!(o.stdout.contains("Ann") && !o.stdout.contains("Ben"), "{args:?}: {}", o.stdout);
    }
    let o = run_env(env.dir.path(), &["holder", "show"], &ben_env);
    ok(&o);
    assert!(o.stdout.contains("Ben"), "{}", o.stdout);
}

#[test]
fn home_and_passphrase_file_are_accepted_before_or_after_the_subcommand() {
    let env = Env::new();
    let pass = env.path("pass");
    write(&pass, "shared test passphrase\n");
    let (h1, h2) = (env.path("home-ann"), env.path("home-ben"));

    // After the subcommand, and mixed: one before, the other after.
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
        "--home",
        s(&h2),
        "holder",
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
    ok(&env.dkg_init_cards("cer", &["ann.card", "ben.card"]));
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
        let o = run_with_home(env.dir.path(), &home, &pass, &["holder", "new", "--name", "Ed", "--insecure-fast-kdf"]);
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
    ok(&env.dkg_init_cards("cer", &["ned.card", s(&bob.card)]));
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
        let o = run_with_home(env.dir.path(), &home, pass, &["holder", "new", "--name", "Pat", "--insecure-fast-kdf"]);
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
        let o = run_with_home(env.dir.path(), &home, &pass, &["holder", "new", "--name", name, "--insecure-fast-kdf"]);
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
        let o = run_with_home(cwd, &home, &pass, &["holder", "new", "--name", name, "--insecure-fast-kdf"]);
        o.ok();
        log(format!("{name} holder new"), o);
        for args in [&["holder", "show"][..], &["holder", "export"], &["holder", "export", "--out", s(&card)]] {
            let o = run_with_home(cwd, &home, &pass, args);
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
            let o = run_with_home(cwd, home, pass, &["dkg", "step", "--dir", "cer", "--yes"]);
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
    log("wrong passphrase".into(), run_with_home(cwd, home_a, &wrong, &["dkg", "step", "--dir", "cer", "--yes"]));
    log(
        "new twice".into(),
        run_with_home(cwd, home_a, pass_a, &["holder", "new", "--name", "Alice", "--insecure-fast-kdf"]),
    );
    for (home, pass, _, _) in &keyholders {
        let o = run_with_home(cwd, home, pass, &["group", "list"]);
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

// ---------------------------------------------------------------------------------------------------------
// Backups: `holder backup` and `holder restore` (issue 8 item 6)
// ---------------------------------------------------------------------------------------------------------

/// A 2-of-3 group of Alice, Bob and Carol made by key generation in `dkg/`; returns them and group.pub.
fn group_of_three(env: &Env) -> (Vec<Holder>, PathBuf) {
    let hs = env.holders(3);
    let group = env.dkg("dkg", 2, &hs);
    for h in &hs {
        ok(&h.dkg_step(&env.path("dkg")));
        assert!(h.home.join("groups").is_dir(), "{} holds no share after the DKG", h.name);
    }
    (hs, group)
}

/// `holder backup --out FILE` as `h`.
fn backup(h: &Holder, out: &Path) -> Out {
    h.run(&["holder", "backup", "--out", s(out)])
}

/// `h` with another home (same name, passphrase file and card).
fn with_home(h: &Holder, home: PathBuf) -> Holder {
    let mut other = h.clone();
    other.home = home;
    other
}

/// Sign `artifact` in a new session `dir` with `signers` (each from its own copy), stepping and collecting
/// until done; returns the `.minisig`.
fn sign_release(env: &Env, group: &Path, artifact: &Path, dir: &str, signers: &[&Holder]) -> PathBuf {
    let d = env.path(dir);
    ok(&env.run(&["sign", "init", "--dir", s(&d), "--group", s(group), "--file", s(artifact)]));
    let name = artifact.file_name().unwrap().to_str().unwrap();
    for h in signers {
        let copy = env.path(&format!("copy-of-{}", h.name)).join(name);
        std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
        std::fs::copy(artifact, &copy).unwrap();
    }
    for _ in 0..4 {
        for h in signers {
            let copy = env.path(&format!("copy-of-{}", h.name)).join(name);
            ok(&h.run(&["sign", "step", "--dir", s(&d), "--file", s(&copy), "--yes"]));
        }
        let c = env.run(&["sign", "collect", "--dir", s(&d)]);
        no_panic(&c);
        if c.code == 0 {
            return d.join(format!("{name}.minisig"));
        }
        c.expect_code(3);
    }
    panic!("the signing session in {dir} did not complete");
}

/// A textdoc's fields in order, each with its decoded block bytes (one-line fields: their value).
type Fields = Vec<(String, Vec<u8>)>;

/// The fields of a textdoc (see [`Fields`]).
fn doc_fields(text: &str) -> Fields {
    use base64::engine::general_purpose::STANDARD;
    let mut out: Fields = Vec::new();
    let mut b64 = String::new();
    for line in text.lines().skip(1) {
        if let Some(cont) = line.strip_prefix(' ') {
            b64.push_str(cont);
            continue;
        }
        if !b64.is_empty() {
            out.last_mut().unwrap().1 = STANDARD.decode(std::mem::take(&mut b64)).unwrap();
        }
        let (key, value) = line.split_once(':').unwrap();
        out.push((key.to_string(), value.trim_start().as_bytes().to_vec()));
    }
    if !b64.is_empty() {
        out.last_mut().unwrap().1 = STANDARD.decode(b64).unwrap();
    }
    out
}

/// Rebuild a textdoc from fields (blocks for every key in `blocks`), wrapped canonically.
fn doc_text(first: &str, fields: &Fields, blocks: &[&str]) -> String {
    use base64::engine::general_purpose::STANDARD;
    let mut out = format!("{first}\n");
    for (k, v) in fields {
        if blocks.contains(&k.as_str()) {
            out.push_str(&format!("{k}:\n"));
            let enc = STANDARD.encode(v);
            for chunk in enc.as_bytes().chunks(64) {
                out.push_str(&format!(" {}\n", std::str::from_utf8(chunk).unwrap()));
            }
        } else {
            out.push_str(&format!("{k}: {}\n", String::from_utf8_lossy(v)));
        }
    }
    out
}

const BACKUP_BLOCKS: &[&str] = &["card", "home-key", "identity", "group", "share", "integrity"];

/// Run the binary with a time limit: a command that blocks (on a FIFO, say) fails the test instead of
/// hanging it.
fn run_bounded(cwd: &Path, args: &[&str]) -> Out {
    use std::io::Read;
    let mut child = std::process::Command::new(bin())
        .current_dir(cwd)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if start.elapsed() > std::time::Duration::from_secs(30) {
            child.kill().unwrap();
            panic!("frostsign {args:?} blocked for 30 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let (mut stdout, mut stderr) = (String::new(), String::new());
    child.stdout.take().unwrap().read_to_string(&mut stdout).unwrap();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    Out { code: status.code().unwrap_or(-1), stdout, stderr }
}

#[test]
fn holder_backup_and_restore_round_trip_a_keyholder_who_then_signs_a_release_stock_minisign_accepts() {
    let env = Env::new();
    let (hs, group_pub) = group_of_three(&env);
    let (alice, bob) = (&hs[0], &hs[1]);
    let group = frostsign::group::Group::load(&group_pub).unwrap();
    let card = Card::load(&alice.card).unwrap();
    let gfp = group.fingerprint().compact();

    let file = env.path("alice.backup");
    let out = backup(alice, &file);
    ok(&out);
    out.contains(&card.fingerprint().to_string())
        .contains(&group.fingerprint().to_string())
        .contains("2-of-3 group \"Test group\"")
        .contains("Not in it: signing nonces");
    assert_eq!(mode(&file), 0o600, "the backup file is private");
    assert!(read(&file).starts_with("frostsign-backup: 1\n"));

    // Restore into a new home path (its parent does not exist either).
    let restored = with_home(alice, env.path("new-laptop/home-alice"));
    let out = restored.run(&["holder", "restore", s(&file)]);
    ok(&out);
    out.contains("Restored the keyholder identity of Alice")
        .contains(&card.fingerprint().to_string())
        .contains(&group.fingerprint().to_string())
        .contains("No signing nonces or ceremony state were restored");
    // The same files, byte for byte, 0700/0600, and nothing else: no state/.
    let mut expected = vec![
        "card.txt".to_string(),
        format!("groups/{gfp}.pub"),
        format!("groups/{gfp}.share"),
        "home-key.txt".into(),
        "identity.txt".into(),
        "lock".into(),
    ];
    expected.sort();
    let mut got: Vec<String> = files_under(&restored.home)
        .iter()
        .map(|p| p.strip_prefix(&restored.home).unwrap().to_string_lossy().into_owned())
        .collect();
    got.sort();
    assert_eq!(got, expected);
    for rel in expected.iter().filter(|r| *r != "lock") {
        assert_eq!(
            std::fs::read(restored.home.join(rel)).unwrap(),
            std::fs::read(alice.home.join(rel)).unwrap(),
            "{rel}"
        );
    }
    assert_eq!(mode(&restored.home), 0o700);
    for (p, is_dir) in walk(&restored.home) {
        assert_eq!(mode(&p), if is_dir { 0o700 } else { 0o600 }, "{}", p.display());
    }
    let show = restored.run(&["holder", "show"]);
    ok(&show);
    show.contains(&card.fingerprint().to_string());
    restored.run(&["group", "list"]).ok().contains(&group.fingerprint().to_string());
    // The restored home has no ceremony state, yet knows the key generation is finished (it holds its share).
    let before = snapshot(&env.path("dkg"));
    restored.dkg_step(&env.path("dkg")).ok().contains("Key generation is complete");
    assert!(before == snapshot(&env.path("dkg")), "the restored home re-joined the finished ceremony");

    // The original home is gone (the lost laptop); the restored Alice signs a release with Bob.
    std::fs::rename(&alice.home, env.path("lost-laptop")).unwrap();
    let artifact = env.path("dist/app-2.0.tar.gz");
    std::fs::create_dir_all(artifact.parent().unwrap()).unwrap();
    write(&artifact, b"release 2.0, signed after a restore\n");
    let sig = sign_release(&env, &group_pub, &artifact, "sign-2.0", &[&restored, bob]);
    assert!(read(&sig).lines().next().unwrap().contains("signed by Alice, Bob"), "{}", read(&sig));
    ok(&env.run(&["verify", "--key", s(&group_pub), s(&artifact), "--sig", s(&sig)]));
    if require_tool("minisign", INSTALL_TOOLS) {
        let line = read(&group_pub).lines().find_map(|l| l.strip_prefix("minisign-public-key: ")).unwrap().to_string();
        let pubfile = env.path("minisign.pub");
        write(&pubfile, format!("untrusted comment: frostsign group public key\n{line}\n"));
        let o = std::process::Command::new("minisign")
            .args(["-Vm", s(&artifact), "-x", s(&sig), "-p", s(&pubfile)])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "stock minisign rejected the signature:\n{text}");
        assert!(text.contains("Signature and comment signature verified"), "{text}");
    }
}

#[test]
fn a_backup_taken_mid_session_holds_no_nonce_or_state_and_no_secret_in_the_clear() {
    let env = Env::new();
    let (hs, group_pub) = group_of_three(&env);
    let alice = &hs[0];
    // A signing session open mid-way: Alice has committed, so her home holds a journal and nonces (and
    // the key generation's state marker).
    let artifact = env.path("app.tar");
    write(&artifact, b"the release\n");
    let d = env.path("s");
    ok(&env.run(&["sign", "init", "--dir", s(&d), "--group", s(&group_pub), "--file", s(&artifact)]));
    alice.run(&["sign", "step", "--dir", s(&d), "--file", s(&artifact), "--yes"]).ok().contains("committed");
    let state = files_under(&alice.home.join("state"));
    let names: Vec<String> = state.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(names.iter().filter(|n| n.ends_with(".nonces")).count(), 2, "{names:?}");
    assert!(names.iter().any(|n| n.starts_with("sign-") && n.ends_with(".txt")), "a journal: {names:?}");
    assert!(names.iter().any(|n| n.starts_with("dkg-")), "the DKG state: {names:?}");

    let file = env.path("alice.backup");
    let out = backup(alice, &file);
    ok(&out);
    let text = read(&file);
    let fields = doc_fields(&text);
    let keys: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        ["name", "fingerprint", "created", "card", "home-key", "identity", "group", "share", "integrity"],
        "exactly these fields, one group"
    );
    // Each block is a copy of one file of the home outside state/, and no file of state/ is in it.
    let gfp = frostsign::group::Group::load(&group_pub).unwrap().fingerprint().compact();
    let home_file = |rel: &str| std::fs::read(alice.home.join(rel)).unwrap();
    for (key, rel) in [
        ("card", "card.txt".to_string()),
        ("home-key", "home-key.txt".into()),
        ("identity", "identity.txt".into()),
        ("group", format!("groups/{gfp}.pub")),
        ("share", format!("groups/{gfp}.share")),
    ] {
        let block = &fields.iter().find(|(k, _)| k == key).unwrap().1;
        assert_eq!(block, &home_file(&rel), "the `{key}` block is {rel}");
    }
    for (key, block) in &fields {
        let inner = String::from_utf8_lossy(block);
        for purpose in ["sign-nonces", "sign-state", "dkg-state"] {
            assert!(!inner.contains(&format!("purpose: {purpose}")), "`{key}` holds a {purpose} file");
        }
        for f in &state {
            assert_ne!(block, &std::fs::read(f).unwrap(), "`{key}` is {}", f.display());
        }
    }
    let integrity = String::from_utf8(fields.last().unwrap().1.clone()).unwrap();
    assert!(integrity.starts_with("frostsign-secret: 1\npurpose: backup\n"), "{integrity}");

    // No secret in the clear: not the passphrase, the identity keys or the key share, in any encoding,
    // in the file, in its decoded blocks, or in what the command printed.
    let u = Home::open(&alice.home).unwrap().unlock(&PassphraseSource::new(Some(alice.pass.clone()))).unwrap();
    let group = frostsign::group::Group::load(&group_pub).unwrap();
    let share = u.load_share(&group).unwrap().signing_share().serialize();
    let packed = u.identity().secret_bytes();
    let mut needles: Vec<Vec<u8>> = vec![read(&alice.pass).trim_end().as_bytes().to_vec()];
    for secret in [&packed.expose()[4..36], &packed.expose()[40..72], &share[..]] {
        assert_eq!(secret.len(), 32);
        needles.extend(encodings_of(secret));
    }
    let mut hay: Vec<Vec<u8>> = vec![text.clone().into_bytes(), out.all().into_bytes()];
    hay.extend(fields.iter().map(|(_, b)| b.clone()));
    for h in &hay {
        for n in &needles {
            assert!(!contains(h, n) && !contains(&squeeze(h), n), "a secret is in the clear in the backup");
        }
    }
}

#[test]
fn restore_refuses_a_wrong_passphrase_and_damaged_foreign_or_special_files_and_writes_nothing() {
    let env = Env::new();
    let hs = env.holders(2);
    env.dkg("dkg", 2, &hs);
    let (alice, bob) = (&hs[0], &hs[1]);
    let good = env.path("alice.backup");
    ok(&backup(alice, &good));
    let text = read(&good);
    let fields = doc_fields(&text);
    let edit = |f: &dyn Fn(&mut Fields)| {
        let mut fs = fields.clone();
        f(&mut fs);
        doc_text("frostsign-backup: 1", &fs, BACKUP_BLOCKS)
    };
    assert_eq!(edit(&|_| {}), text, "the test's re-encoding is the tool's");

    // A wrong passphrase when backing up writes no file.
    let wrong = env.path("wrong-pass");
    write(&wrong, "not Alice's passphrase\n");
    let not_written = env.path("never.backup");
    let o = run_with_home(env.dir.path(), &alice.home, &wrong, &["holder", "backup", "--out", s(&not_written)]);
    refused(&o, &["wrong passphrase"]);
    assert!(!not_written.exists());

    let bad = |name: &str, bytes: &[u8]| {
        let p = env.path(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    let inner_flip = edit(&|fs| {
        // One character of the sealed identity's ciphertext changed: a well-formed backup, altered inside.
        let id = fs.iter_mut().find(|(k, _)| k == "identity").unwrap();
        let t = String::from_utf8(id.1.clone()).unwrap();
        let at = t.find("data:\n ").unwrap() + "data:\n ".len() + 3;
        let mut b = t.into_bytes();
        b[at] = if b[at] == b'A' { b'B' } else { b'A' };
        id.1 = b;
    });
    let no_group = edit(&|fs| fs.retain(|(k, _)| k != "group" && k != "share"));
    let no_share = edit(&|fs| fs.retain(|(k, _)| k != "share"));
    let bob_share = {
        let theirs = doc_fields(&read(&{
            let p = env.path("bob.backup");
            ok(&backup(bob, &p));
            p
        }));
        let bob_share = theirs.iter().find(|(k, _)| k == "share").unwrap().1.clone();
        edit(&|fs| fs.iter_mut().find(|(k, _)| k == "share").unwrap().1 = bob_share.clone())
    };
    let renamed = edit(&|fs| fs.iter_mut().find(|(k, _)| k == "name").unwrap().1 = b"Mallory".to_vec());
    let dir = env.path("a-folder");
    std::fs::create_dir(&dir).unwrap();
    let fifo = env.path("a-fifo");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let cases: Vec<(&str, PathBuf, &Path, &[&str])> = vec![
        ("wrong passphrase", good.clone(), &wrong, &["wrong passphrase"]),
        (
            "cut in half",
            bad("half", &text.as_bytes()[..text.len() / 2]),
            &alice.pass,
            &["not a valid frostsign backup"],
        ),
        ("last byte cut", bad("cut", &text.as_bytes()[..text.len() - 1]), &alice.pass, &["truncated"]),
        ("empty", bad("empty", b""), &alice.pass, &["empty"]),
        ("binary garbage", bad("garbage", &[0xff, 0xfe, 0, 1, 2, 3]), &alice.pass, &["not UTF-8"]),
        ("a card", alice.card.clone(), &alice.pass, &["it is a frostsign card file"]),
        ("a home key file", alice.home.join("home-key.txt"), &alice.pass, &["it is a frostsign home-key file"]),
        ("version 2", bad("v2", text.replacen(": 1\n", ": 2\n", 1).as_bytes()), &alice.pass, &["unsupported"]),
        ("name edited", bad("renamed", renamed.as_bytes()), &alice.pass, &["differs from the card inside"]),
        ("identity altered", bad("flip", inner_flip.as_bytes()), &alice.pass, &["altered"]),
        ("group left out", bad("nogroup", no_group.as_bytes()), &alice.pass, &["altered"]),
        ("share left out", bad("noshare", no_share.as_bytes()), &alice.pass, &["1 group files but 0 shares"]),
        ("another's share", bad("bobshare", bob_share.as_bytes()), &alice.pass, &["altered"]),
        ("a folder", dir.clone(), &alice.pass, &["is a directory"]),
        ("a FIFO", fifo.clone(), &alice.pass, &["not a regular file"]),
        ("missing", env.path("no-such.backup"), &alice.pass, &["no such file"]),
    ];
    let target = env.path("home-restored");
    for (what, file, pass, needles) in cases {
        let o = run_bounded(
            env.dir.path(),
            &["--home", s(&target), "--passphrase-file", s(pass), "holder", "restore", s(&file)],
        );
        refused(&o, needles);
        assert!(o.stderr.contains(s(&file)), "{what}: the error names the file:\n{}", o.all());
        assert!(!o.all().contains("not Alice's passphrase"), "{what}: the passphrase tried is echoed");
        assert!(o.stdout.is_empty(), "{what}: nothing printed on stdout:\n{}", o.stdout);
        assert!(!target.exists(), "{what}: something was written to {}", target.display());
    }
    // The untouched backup restores.
    ok(&run_with_home(env.dir.path(), &target, &alice.pass, &["holder", "restore", s(&good)]));
}

#[test]
fn restore_never_overwrites_a_home_or_a_non_empty_folder_and_backup_never_overwrites_a_file() {
    let env = Env::new();
    let (alice, bob) = (env.holder("Alice"), env.holder("Bob"));
    let file = env.path("alice.backup");
    ok(&backup(&alice, &file));
    let saved = std::fs::read(&file).unwrap();

    // Onto its own home, onto another keyholder's home: refused, nothing changes.
    for h in [&alice, &bob] {
        let before = snapshot(&h.home);
        let o = run_with_home(env.dir.path(), &h.home, &alice.pass, &["holder", "restore", s(&file)]);
        refused(&o, &["already holds a keyholder identity", "refusing to overwrite"]);
        assert_eq!(snapshot(&h.home), before, "{}'s home changed", h.name);
    }
    // Into a folder that holds anything, or onto a file: refused, nothing changes.
    let busy = env.path("busy");
    std::fs::create_dir(&busy).unwrap();
    write(&busy.join("notes.txt"), "my notes\n");
    let o = run_with_home(env.dir.path(), &busy, &alice.pass, &["holder", "restore", s(&file)]);
    refused(&o, &["is not empty", "nothing was written"]);
    assert_eq!(files_under(&busy), vec![busy.join("notes.txt")]);
    let plain = env.path("plain-file");
    write(&plain, "x");
    refused(&run_with_home(env.dir.path(), &plain, &alice.pass, &["holder", "restore", s(&file)]), &["plain-file"]);
    assert_eq!(read(&plain), "x");
    // An empty folder is fine, and ends up private.
    let empty = env.path("empty");
    std::fs::create_dir(&empty).unwrap();
    chmod(&empty, 0o755);
    ok(&run_with_home(env.dir.path(), &empty, &alice.pass, &["holder", "restore", s(&file)]));
    assert_eq!(mode(&empty), 0o700);

    // A backup never replaces an existing file, even with the right passphrase.
    for existing in [file.clone(), bob.card.clone()] {
        let before = std::fs::read(&existing).unwrap();
        refused(&backup(&alice, &existing), &["already exists", "refusing to overwrite"]);
        assert_eq!(std::fs::read(&existing).unwrap(), before);
    }
    refused(&backup(&alice, &busy), &["already exists"]);
    assert_eq!(std::fs::read(&file).unwrap(), saved);
}

/// On a terminal, a wrong passphrase may be retyped (three tries in all, "unlocking..." shown while the
/// key is derived); the third wrong one is refused and nothing is written. (From a passphrase file it is
/// tried once: every other test.)
#[test]
fn a_wrong_passphrase_typed_on_a_terminal_may_be_retyped_up_to_three_times() {
    if !require_tool("script", "sudo apt-get install -y bsdutils") {
        return;
    }
    let env = Env::new();
    let h = env.holder("Alice");
    let typed = |lines: &[&str], out: &str| {
        let cmd = format!("{} --home {} holder backup --out {}", bin(), s(&h.home), s(&env.path(out)));
        let mut child = std::process::Command::new("script")
            .args(["-qfec", &cmd, "/dev/null"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .env_remove("FROSTSIGN_PASSPHRASE_FILE")
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        for line in lines {
            std::thread::sleep(std::time::Duration::from_millis(1500));
            use std::io::Write;
            let _ = writeln!(stdin, "{line}");
        }
        std::thread::sleep(std::time::Duration::from_millis(1500));
        drop(stdin);
        let o = child.wait_with_output().unwrap();
        String::from_utf8_lossy(&o.stdout).replace('\r', "")
    };
    let right = std::fs::read_to_string(&h.pass).unwrap();
    let out = typed(&["wrong", right.trim_end()], "ok.bak");
    assert!(out.contains("wrong passphrase; try again (2 tries left)") && out.contains("unlocking..."), "{out}");
    assert!(env.path("ok.bak").exists(), "{out}");
    let out = typed(&["wrong", "wrong", "wrong"], "no.bak");
    assert!(out.contains("(1 try left)") && out.contains("error: wrong passphrase"), "{out}");
    assert!(!env.path("no.bak").exists());
}
