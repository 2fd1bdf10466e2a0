//! Issue 8 (hardening after an adversarial review): protections that cut across commands. Verify's own
//! hardening is in tests/suite/verify.rs, key generation's in tests/suite/dkg.rs, signing's in tests/suite/signing.rs.

use crate::common::*;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Core files in `dir` (core_pattern `core` or `core.PID`).
fn cores(dir: &Path) -> Vec<PathBuf> {
    files_under(dir).into_iter().filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("core")).collect()
}

/// True if this machine writes core files into the crashing process's folder; otherwise the test cannot
/// observe anything (a core_pattern pipe): under CI=true that fails, on a developer machine it is said.
fn core_files_are_observable(dir: &Path) -> bool {
    let status = Command::new("bash").current_dir(dir).args(["-c", "ulimit -c unlimited; kill -ABRT $$"]).status();
    let found = !cores(dir).is_empty();
    for c in cores(dir) {
        fs::remove_file(c).unwrap();
    }
    if found {
        return true;
    }
    let pattern = fs::read_to_string("/proc/sys/kernel/core_pattern").unwrap_or_default();
    let why = format!("a control process wrote no core file ({status:?}; core_pattern {pattern:?})");
    if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
        panic!("cannot test core dumps here: {why}");
    }
    eprintln!("*** SKIPPED: cannot test core dumps here: {why}");
    false
}

#[test]
fn a_crash_while_the_home_is_unlocked_writes_no_core_file() {
    let env = Env::new();
    let holders = env.holders(2);
    env.dkg_init("cer", 2, &holders).ok();
    let crash_dir = env.path("crash");
    fs::create_dir(&crash_dir).unwrap();
    if !core_files_are_observable(&crash_dir) {
        return;
    }
    let h = &holders[0];
    // The shell allows unlimited cores; frostsign aborts (SIGABRT) right after the home is unlocked.
    let out = Command::new("bash")
        .current_dir(&crash_dir)
        .args(["-c", "ulimit -c unlimited; exec \"$@\"", "bash", bin()])
        .args(["--home", s(&h.home), "--passphrase-file", s(&h.pass), "dkg", "step", "--dir"])
        .arg(env.path("cer"))
        .arg("--yes")
        .env("FROSTSIGN_CRASH_AT", "home-unlocked")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("FROSTSIGN_CRASH_AT=home-unlocked: simulated crash"), "{stderr}");
    assert_eq!(out.status.code(), None, "the process should have died by a signal: {stderr}");
    assert_eq!(cores(&crash_dir), Vec::<PathBuf>::new(), "a core file holds the unlocked home's secrets");
}

#[test]
fn a_test_home_is_marked_on_its_card_refused_at_dkg_init_and_shown_at_every_join() {
    let env = Env::new();
    let holders = env.holders(2);
    let bare = env.path("home-nopass");
    env.run(&["--home", s(&bare), "holder", "new", "--name", "Nopass", "--insecure-no-passphrase"]).ok();
    let nopass_card = env.path("nopass.card");
    env.run(&["--home", s(&bare), "holder", "export", "--out", s(&nopass_card)]).ok();
    assert!(fs::read_to_string(&holders[0].card).unwrap().contains("\ninsecure-home: fast-kdf\n"));
    assert!(fs::read_to_string(&nopass_card).unwrap().contains("\ninsecure-home: no-passphrase\n"));

    let cards = [s(&holders[0].card), s(&holders[1].card), s(&nopass_card)];
    let mut args = vec!["dkg", "init", "--dir", "cer", "--threshold", "2"];
    args.extend(cards);
    refused(
        &env.run(&args),
        &[
            "3 of the cards come from a home made with a setting for tests and demos only",
            "Alice (",
            "INSECURE test home: fast passphrase KDF",
            "Nopass (",
            "INSECURE test home: no passphrase",
            "--allow-insecure-cards",
        ],
    );
    assert!(!env.path("cer").exists(), "a refused init wrote the folder");
    args.insert(2, "--allow-insecure-cards");
    env.run(&args).ok().contains("^ INSECURE test home: no passphrase");
    // Every keyholder sees the marks before joining.
    holders[1].dkg_step(&env.path("cer")).ok().contains("^ INSECURE test home: fast passphrase KDF");
    // The mark cannot be stripped: it is covered by the card's self-signature.
    let stripped = env.path("stripped.card");
    fs::write(&stripped, fs::read_to_string(&holders[0].card).unwrap().replace("insecure-home: fast-kdf\n", ""))
        .unwrap();
    let o = env.run(&["dkg", "init", "--dir", "cer2", "--threshold", "2", s(&stripped), s(&nopass_card)]);
    refused(&o, &["not a valid keyholder card", "self-signature does not verify"]);
}

#[test]
fn a_passphrase_file_other_users_can_read_is_warned_about() {
    let env = Env::new();
    let h = env.holder("Alice");
    h.run(&["holder", "show"]).ok();
    let warning = "can be read by other users (mode 644)";
    fs::set_permissions(&h.pass, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    env.dkg_init("cer", 2, &[h.clone(), env.holder("Bob")]).ok();
    h.dkg_step(&env.path("cer")).ok().contains(warning).contains(&format!("chmod 600 {}", s(&h.pass)));
    fs::set_permissions(&h.pass, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let o = h.dkg_step(&env.path("cer"));
    assert!(!o.ok().stderr.contains("other users"), "{}", o.stderr);
}

/// Every file a command reads (passphrase file, card, group file, artifact, ceremony and session files)
/// is opened without blocking: a FIFO or a device is refused at once, exit 2.
#[test]
fn a_fifo_given_as_any_input_file_is_refused_at_once() {
    let env = Env::new();
    let hs = env.holders(2);
    let group = env.dkg("cer", 2, &hs);
    let fifo = env.path("fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let (h, f) = (&hs[0], s(&fifo));
    let home = s(&h.home);
    let cases: Vec<Vec<&str>> = vec![
        vec!["--home", home, "--passphrase-file", f, "dkg", "step", "--dir", "cer", "--yes"],
        vec!["dkg", "init", "--dir", "x", "--threshold", "2", f, s(&hs[1].card)],
        vec!["group", "show", "--key", f],
        vec!["sign", "init", "--dir", "s1", "--group", s(&group), "--file", f],
        vec!["sign", "init", "--dir", "s2", "--group", f, "--file", s(&h.card)],
    ];
    for args in cases {
        refused(&run_with_deadline(env.dir.path(), &args), &["is not a regular file"]);
    }
    // A FIFO as the home's lock (a home put back from someone else's copy) is refused, not waited on.
    let lock = hs[1].home.join("lock");
    let _ = fs::remove_file(&lock);
    assert!(Command::new("mkfifo").arg(&lock).status().unwrap().success());
    let args = ["--home", s(&hs[1].home), "--passphrase-file", s(&hs[1].pass), "dkg", "step", "--dir", "cer", "--yes"];
    refused(&run_with_deadline(env.dir.path(), &args), &["lock", "is not a regular file"]);
    // A FIFO planted in a ceremony folder under a participant's name is a stray, not a hang.
    let c = frostsign::ceremony::dkg::DkgCeremony::load(
        &frostsign::exchange::folder::Folder::open(&env.path("cer")).unwrap(),
    )
    .unwrap();
    let planted = env.path("cer").join(frostsign::ceremony::dkg::names::round1(&c.cards()[0]));
    fs::remove_file(&planted).unwrap();
    assert!(Command::new("mkfifo").arg(&planted).status().unwrap().success());
    let out = run_with_deadline(env.dir.path(), &["dkg", "status", "--dir", "cer"]);
    out.contains("is not a regular file");
}

/// An unknown sender's `from:` field, with bidi and zero-width characters, is shown escaped.
#[test]
fn an_unknown_senders_name_is_shown_escaped() {
    let env = Env::new();
    let hs = env.holders(2);
    env.dkg_init("cer", 2, &hs).ok();
    let dir = env.path("cer");
    hs[0].dkg_step(&dir).ok();
    let c =
        frostsign::ceremony::dkg::DkgCeremony::load(&frostsign::exchange::folder::Folder::open(&dir).unwrap()).unwrap();
    let path = dir.join(frostsign::ceremony::dkg::names::round1(&c.cards()[0]));
    let text = fs::read_to_string(&path).unwrap();
    let fpr = c.cards()[0].fingerprint().compact();
    fs::write(&path, text.replace(&format!("from: {fpr}"), "from: Bob\u{202e}\u{200b}ecilA\u{2028}ok")).unwrap();
    for out in [hs[1].dkg_step(&dir), env.run(&["dkg", "status", "--dir", "cer"])] {
        out.contains("unknown sender `Bob\\u{202e}\\u{200b}ecilA\\u{2028}ok`");
        let all = out.all();
        assert!(!all.contains('\u{202e}') && !all.contains('\u{200b}') && !all.contains('\u{2028}'), "{all:?}");
    }
}

/// Item 12 of issue 8, measured: the group key signs several formats, and a bare `signify -V` with the
/// group's signify key accepts the group's other signed byte strings as "files" (what docs/security.md and
/// docs/verify.md warn about); `signify -C`, which verifies a signed manifest, rejects every one of them
/// (exit 1), because none of them is a manifest.
#[test]
fn only_signify_dash_c_with_the_manifest_proves_a_file_bare_signify_v_accepts_other_messages() {
    use base64::Engine;
    if !require_tool("signify-openbsd", INSTALL_TOOLS) {
        return;
    }
    let b64 = base64::engine::general_purpose::STANDARD;
    let env = Env::new();
    let hs = env.holders(2);
    let group = env.dkg("kg", 2, &hs);
    let artifact = env.path("app.txt");
    fs::write(&artifact, "hello\n").unwrap();
    let d = env.path("s");
    env.run(&[
        "sign",
        "init",
        "--dir",
        s(&d),
        "--group",
        s(&group),
        "--file",
        s(&artifact),
        "--format",
        "minisign,ssh,signify-manifest",
    ])
    .ok();
    for _ in 0..3 {
        for h in &hs {
            h.run(&["sign", "step", "--dir", s(&d), "--file", s(&artifact), "--yes"]).ok();
        }
        env.run(&["sign", "collect", "--dir", s(&d)]);
    }
    let signify_pub = env.path("signify.pub");
    env.run(&["group", "export", "--key", s(&group), "--format", "signify", "--out", s(&signify_pub)]).ok();
    let pub_line = fs::read_to_string(&signify_pub).unwrap().lines().nth(1).unwrap().to_string();
    let keynum = b64.decode(pub_line).unwrap()[2..10].to_vec();
    let sigfile = |sig: &[u8], embedded: &[u8]| {
        let mut raw = b"Ed".to_vec();
        raw.extend_from_slice(&keynum);
        raw.extend_from_slice(sig);
        let mut out = format!("untrusted comment: lifted from another format\n{}\n", b64.encode(raw)).into_bytes();
        out.extend_from_slice(embedded);
        out
    };
    // The group's other signed messages and their signatures: minisign's two, and the SSHSIG blob.
    let minisig = fs::read_to_string(d.join("app.txt.minisig")).unwrap();
    let lines: Vec<&str> = minisig.lines().collect();
    let sig1 = b64.decode(lines[1]).unwrap()[10..].to_vec();
    let tc = lines[2].strip_prefix("trusted comment: ").unwrap();
    let sig2 = b64.decode(lines[3]).unwrap();
    let digest = {
        use blake2::Digest;
        blake2::Blake2b512::digest(fs::read(&artifact).unwrap()).to_vec()
    };
    let sha = {
        use sha2::Digest;
        sha2::Sha256::digest(fs::read(&artifact).unwrap())
    };
    let sshsig = frostsign::formats::ssh::parse_signature(&fs::read_to_string(d.join("app.txt.sig")).unwrap()).unwrap();
    let ssh_blob = frostsign::formats::ssh::signed_data("file", &sha.into());
    let cases: [(&str, Vec<u8>, Vec<u8>); 3] = [
        ("BLAKE2b digest", digest, sig1.clone()),
        ("minisign global message", [sig1.as_slice(), tc.as_bytes()].concat(), sig2),
        ("SSHSIG signed data", ssh_blob, sshsig.signature.to_vec()),
    ];
    for (what, message, sig) in cases {
        let (m, x, c) = (env.path("message.bin"), env.path("message.sig"), env.path("embedded.sig"));
        fs::write(&m, &message).unwrap();
        fs::write(&x, sigfile(&sig, b"")).unwrap();
        fs::write(&c, sigfile(&sig, &message)).unwrap();
        let v = Command::new("signify-openbsd")
            .args(["-V", "-p", s(&signify_pub), "-x", s(&x), "-m", s(&m)])
            .output()
            .unwrap();
        assert!(v.status.success(), "{what}: bare signify -V was expected to accept it (the documented risk)");
        let c = Command::new("signify-openbsd")
            .current_dir(env.dir.path())
            .args(["-C", "-p", s(&signify_pub), "-x", s(&c), "app.txt"])
            .output()
            .unwrap();
        assert!(!c.status.success(), "{what}: signify -C accepted another format's message as a manifest");
    }
    // The real manifest verifies with -C.
    let ok = Command::new("signify-openbsd")
        .current_dir(env.dir.path())
        .args(["-C", "-p", s(&signify_pub), "-x", s(&d.join("SHA256.sig")), "app.txt"])
        .output()
        .unwrap();
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
}

/// `sign collect --without` takes a name or a fingerprint: a keyholder may not be named like a fingerprint,
/// so the value always means one thing.
#[test]
fn a_keyholder_name_that_reads_as_a_fingerprint_is_refused() {
    let env = Env::new();
    for name in ["3F2A9C1B77E04D218A0B11CD92EF0A1B", "3f2a 9c1b 77e0 4d21 8a0b 11cd 92ef 0a1b"] {
        let home = env.path("home-x");
        let out = env.run(&["--home", s(&home), "holder", "new", "--name", name, "--insecure-no-passphrase"]);
        refused(&out, &["must not look like a fingerprint"]);
        assert!(!home.join("home-key.txt").exists());
    }
}

/// File names are outside text too: a name with newlines (planted in a folder, or an artifact from a
/// release archive) is shown escaped, so it can never print a line of its own such as a fake "Complete".
#[test]
fn a_file_name_with_newlines_never_prints_a_line_of_its_own() {
    let env = Env::new();
    let hs = env.holders(3);
    env.dkg_init("cer", 2, &hs).ok();
    let dir = env.path("cer");
    let c =
        frostsign::ceremony::dkg::DkgCeremony::load(&frostsign::exchange::folder::Folder::open(&dir).unwrap()).unwrap();
    let fake = "Complete: group 0BAD C0DE";
    // An unreadable file (a socket) under a complaint-like name, and a plain file under a crafted name.
    let name = format!("{}\n{fake}\n.txt", frostsign::ceremony::dkg::names::complaint_prefix(&c.cards()[0]));
    let _socket = std::os::unix::net::UnixListener::bind(dir.join(&name)).unwrap();
    fs::write(dir.join(format!("x\n{fake}\n")), "x").unwrap();
    let out = env.run(&["dkg", "status", "--dir", "cer"]);
    out.expect_code(3).contains("\\012Complete: group 0BAD C0DE\\012");
    assert!(!out.all().lines().any(|l| l.starts_with(fake)), "{}", out.all());

    // A signing session folder.
    let group = env.dkg("g", 2, &hs);
    let art = env.path("app.txt");
    fs::write(&art, "app").unwrap();
    env.run(&["sign", "init", "--dir", "s", "--group", s(&group), "--file", s(&art)]).ok();
    let _m =
        std::os::unix::net::UnixListener::bind(env.path("s").join("x\nDone: every signature verifies.\n")).unwrap();
    let out = env.run(&["sign", "status", "--dir", "s"]);
    out.expect_code(3).contains("\\012Done: every signature verifies.\\012");
    assert!(!out.all().lines().any(|l| l.starts_with("Done:")), "{}", out.all());

    // verify, with an artifact named to print a fake verdict.
    let evil = env.path("x\nSignature and comment signature verified\nTrusted comment: file:app.tar.gz");
    fs::write(&evil, "evil").unwrap();
    let out = env.run(&["verify", "--key", s(&group), s(&evil)]);
    no_panic(&out);
    assert!(!out.all().lines().any(|l| l.starts_with("Signature and comment")), "{}", out.all());
    out.contains("\\012Signature and comment signature verified\\012");
}

/// clap's own messages echo the command line; an argument holding a newline (a file name from a glob in
/// a CI script) is shown escaped, never as a line of its own, whatever the mistake on the command line.
#[test]
fn a_refused_command_line_never_prints_an_argument_as_a_line_of_its_own() {
    let env = Env::new();
    let fake = "Signature and comment signature verified";
    let cases: [&[&str]; 4] = [
        &["verify", "--key", "group.pub", &format!("--x\n{fake}")],
        &["dkg", "init", "--dir", "d", "--threshold", &format!("2\n{fake}"), "a", "b"],
        &["dkg", "init", "--dir", "d", &format!("--threshold=2\n{fake}"), "a", "b"],
        &[&format!("ver\n{fake}")],
    ];
    for args in cases {
        let out = env.run(args);
        out.expect_code(2).contains(&format!("\\012{fake}"));
        assert!(!out.all().lines().any(|l| l.starts_with(fake)), "{args:?}:\n{}", out.all());
    }
    // A plain mistake is reported by clap as usual.
    env.run(&["verify", "--bogus"]).expect_code(2).contains("unexpected argument '--bogus' found");
}

/// One damaged group file in a home hides no other group: `group list` lists the readable ones, names
/// the damaged one and exits 2.
#[test]
fn group_list_shows_every_readable_group_and_names_a_damaged_one() {
    let env = Env::new();
    let hs = env.holders(2);
    let first = frostsign::group::Group::load(&env.dkg("one", 2, &hs)).unwrap().fingerprint();
    let second = frostsign::group::Group::load(&env.dkg("two", 2, &hs)).unwrap().fingerprint();
    let copy = hs[0].home.join(format!("groups/{}.pub", first.compact()));
    fs::write(&copy, "frostsign-group: 1\ndamaged\n").unwrap();
    let out = hs[0].run(&["group", "list"]);
    out.expect_code(2)
        .contains(&second.to_string())
        .contains(&format!("warning: the home's copy of group {} cannot be read", first.compact()))
        .contains("1 of this home's group files cannot be read");
    hs[1].run(&["group", "list"]).ok().contains(&first.to_string()).contains(&second.to_string());
}

/// Every human-readable field a person approves enters through one type (PlainText) from the command
/// line: a name, label, comment, user id or artifact file name holding a hidden character is refused with
/// the field named and the text shown escaped, exit 2, and nothing is written.
#[test]
fn every_human_readable_field_from_the_command_line_is_held_to_plain_text() {
    let env = Env::new();
    let hs = env.holders(2);
    let group = env.dkg("g", 2, &hs);
    let hidden = "Release \u{202e}9v";
    let artifact = env.path(&format!("app{}.tar", '\u{200b}'));
    fs::write(&artifact, "release").unwrap();
    let new_home = env.path("home-x");
    let cases: Vec<(Vec<&str>, &str, PathBuf)> = vec![
        (
            vec!["--home", s(&new_home), "holder", "new", "--name", hidden, "--insecure-no-passphrase"],
            "invalid keyholder name `Release \\u{202e}9v`",
            new_home.clone(),
        ),
        (
            vec![
                "dkg",
                "init",
                "--allow-insecure-cards",
                "--dir",
                "d1",
                "--threshold",
                "2",
                "--label",
                hidden,
                s(&hs[0].card),
                s(&hs[1].card),
            ],
            "invalid label `Release \\u{202e}9v`",
            env.path("d1"),
        ),
        (
            vec!["sign", "init", "--dir", "d2", "--group", s(&group), "--file", s(&artifact)],
            "invalid artifact name `app\\u{200b}.tar`",
            env.path("d2"),
        ),
        (
            vec!["sign", "init", "--dir", "d3", "--group", s(&group), "--file", s(&group), "--comment", hidden],
            "invalid comment `Release \\u{202e}9v`",
            env.path("d3"),
        ),
        (
            vec!["group", "openpgp-init", "--key", s(&group), "--uid", hidden, "--dir", "d4"],
            "invalid OpenPGP user id `Release \\u{202e}9v`",
            env.path("d4"),
        ),
    ];
    for (args, says, target) in cases {
        let out = env.run(&args);
        refused(&out, &[says]);
        assert!(!out.all().contains('\u{202e}') && !out.all().contains('\u{200b}'), "{args:?}: raw text shown");
        assert!(!target.exists(), "{args:?}: a refused command wrote {}", target.display());
    }
}
