//! Issue 8 (hardening after an adversarial review): protections that cut across commands. Verify's own
//! hardening is in tests/verify.rs, key generation's in tests/dkg.rs, signing's in tests/signing.rs.

mod common;
use common::*;

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
