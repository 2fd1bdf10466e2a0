//! `--watch` (issue 11, item 2): one command and one passphrase per keyholder per ceremony. Each keyholder
//! unlocks once, hashes its copies once, and its step runs again whenever the folder may have changed,
//! until its part is done (exit 0) or the timeout (exit 3).

use crate::common::*;

use std::fs;
use std::process::{Child, Command, Stdio};

/// Start the binary as `h` (or as nobody) in the background.
fn spawn(env: &Env, h: Option<&Holder>, args: &[&str]) -> Child {
    let mut full: Vec<String> = Vec::new();
    if let Some(h) = h {
        full.extend(["--home".into(), s(&h.home).into(), "--passphrase-file".into(), s(&h.pass).into()]);
    }
    full.extend(args.iter().map(|a| a.to_string()));
    let mut cmd = Command::new(bin());
    cmd.current_dir(env.path("")).args(&full).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("FROSTSIGN_")) {
        cmd.env_remove(k);
    }
    cmd.spawn().expect("start frostsign")
}

fn finish(c: Child) -> (i32, String) {
    let o = c.wait_with_output().unwrap();
    let all = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(!all.contains("panicked"), "{all}");
    (o.status.code().unwrap_or(-1), all)
}

/// Key generation with one `dkg step --watch` per keyholder, all at once; then a minisign+ssh release
/// with one `sign step --watch` per signer and one `sign collect --watch`: each signer unlocks once and
/// hashes its copy once, and the release verifies.
#[test]
fn one_watched_command_per_keyholder_runs_a_whole_key_generation_and_release() {
    let env = Env::new();
    let hs = env.holders(3);
    env.dkg_init("kg", 2, &hs).ok();
    let kg = env.path("kg");
    let steps: Vec<Child> = hs
        .iter()
        .map(|h| spawn(&env, Some(h), &["dkg", "step", "--dir", s(&kg), "--yes", "--watch", "--timeout", "120s"]))
        .collect();
    for (h, c) in hs.iter().zip(steps) {
        let (code, out) = finish(c);
        assert_eq!(code, 0, "{}: {out}", h.name);
        assert_eq!(out.matches("unlocked your home").count(), 1, "{out}");
        assert!(out.contains("Key generation is complete"), "{out}");
    }
    let group = kg.join("group.pub");
    let artifact = env.path("app.tar.gz");
    fs::write(&artifact, b"app 1.0").unwrap();
    let d = env.path("sign");
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
        "minisign,ssh",
    ])
    .ok();
    let coordinator = spawn(&env, None, &["sign", "collect", "--dir", s(&d), "--watch", "--timeout", "120s"]);
    let signers: Vec<Child> = hs[..2]
        .iter()
        .map(|h| {
            let args =
                ["sign", "step", "--dir", s(&d), "--file", s(&artifact), "--yes", "--watch", "--timeout", "120s"];
            spawn(&env, Some(h), &args)
        })
        .collect();
    for (h, c) in hs.iter().zip(signers) {
        let (code, out) = finish(c);
        assert_eq!(code, 0, "{}: {out}", h.name);
        assert_eq!(out.matches("unlocked your home").count(), 1, "{out}");
        assert_eq!(out.matches("hashed your copies of 1 artifact(s)").count(), 1, "one hash pass: {out}");
        assert!(out.contains("Your part of this session is done"), "{out}");
    }
    let (code, out) = finish(coordinator);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("app.tar.gz.minisig") && out.contains("app.tar.gz.sig"), "{out}");
    env.run(&["verify", "--key", s(&group), s(&artifact), "--sig", s(&d.join("app.tar.gz.minisig"))])
        .ok()
        .contains("verified");
    env.run(&["verify", "--key", s(&group), s(&artifact), "--sig", s(&d.join("app.tar.gz.sig"))]).ok();
}

/// A watched step whose co-signer never comes gives up at `--timeout` with exit 3, saying what it waited
/// for; the coordinator's watch does the same.
#[test]
fn a_watch_ends_with_exit_3_at_its_timeout_when_a_signer_never_comes() {
    let env = Env::new();
    let hs = env.holders(2);
    let group = env.dkg("kg", 2, &hs);
    let artifact = env.path("app.tar.gz");
    fs::write(&artifact, b"app").unwrap();
    let d = env.path("sign");
    env.run(&["sign", "init", "--dir", s(&d), "--group", s(&group), "--file", s(&artifact)]).ok();
    let args = ["sign", "step", "--dir", s(&d), "--file", s(&artifact), "--yes", "--watch", "--timeout", "2s"];
    let (code, out) = finish(spawn(&env, Some(&hs[0]), &args));
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("Gave up after 2s (--timeout): still waiting for"), "{out}");
    let (code, out) = finish(spawn(&env, None, &["sign", "collect", "--dir", s(&d), "--watch", "--timeout", "1s"]));
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("commitments: 1 of the 2 needed are in"), "{out}");
    env.run(&["sign", "step", "--dir", s(&d), "--timeout", "1s"]).expect_code(2).contains("--watch");
}

/// A signer hashes its copies once per session: after it committed, its later steps sign from the digests
/// its journal kept (encrypted in its home), so neither a copy changed on disk nor a copy no longer given
/// changes what it signs; the release verifies for the bytes it attested.
#[test]
fn after_committing_a_signer_signs_what_it_attested_without_hashing_again() {
    let env = Env::new();
    let hs = env.holders(2);
    let group = env.dkg("kg", 2, &hs);
    let artifact = env.path("app.tar.gz");
    fs::write(&artifact, b"the release").unwrap();
    fs::create_dir_all(env.path("alice-build")).unwrap();
    let copy = env.path("alice-build/app.tar.gz");
    fs::copy(&artifact, &copy).unwrap();
    let d = env.path("sign");
    env.run(&["sign", "init", "--dir", s(&d), "--group", s(&group), "--file", s(&artifact)]).ok();
    let step =
        |h: &Holder, file: &std::path::Path| h.run(&["sign", "step", "--dir", s(&d), "--file", s(file), "--yes"]);
    step(&hs[0], &copy).ok().contains("hashed your copies of 1 artifact(s), 11 bytes");
    fs::write(&copy, b"changed after commit").unwrap();
    for _ in 0..3 {
        let o = step(&hs[0], &copy);
        o.ok();
        assert!(!o.stdout.contains("hashed your copies"), "hashed again: {}", o.stdout);
        step(&hs[1], &artifact).ok();
        env.run(&["sign", "collect", "--dir", s(&d)]);
    }
    let sig = d.join("app.tar.gz.minisig");
    env.run(&["verify", "--key", s(&group), s(&artifact), "--sig", s(&sig)]).ok().contains("verified");
}

/// A keyholder whose key generation is finished in the folder but not in its home (it has not run its
/// last `dkg step`) is told so, with the command that finishes it, instead of "no share of the group".
#[test]
fn a_signer_whose_key_generation_is_unfinished_in_its_home_is_told_how_to_finish_it() {
    let env = Env::new();
    let hs = env.holders(3);
    env.dkg_init("kg", 2, &hs).ok();
    let kg = env.path("kg");
    let complete = |o: &Out| o.ok().stdout.contains("Key generation is complete");
    // Carol steps first in each pass, and no more once anyone completed: she accepts before the others,
    // so the others complete while she has not run the step that stores her share.
    let mut done = [false, false];
    for _ in 0..8 {
        if done == [true, true] {
            break;
        }
        if done == [false, false] {
            hs[2].dkg_step(&kg).ok();
        }
        for i in 0..2 {
            done[i] |= complete(&hs[i].dkg_step(&kg));
        }
    }
    let group = kg.join("group.pub");
    assert!(hs[2].run(&["group", "list"]).ok().stdout.contains("no group share"), "Carol finished already");
    let artifact = env.path("app.tar.gz");
    fs::write(&artifact, b"app").unwrap();
    let d = env.path("sign");
    env.run(&["sign", "init", "--dir", s(&d), "--group", s(&group), "--file", s(&artifact)]).ok();
    let o = hs[2].run(&["sign", "step", "--dir", s(&d), "--file", s(&artifact), "--yes"]);
    o.refused_with("is finished in its folder but not yet in your home").contains("frostsign dkg step --dir");
    complete(&hs[2].dkg_step(&kg));
    hs[2].run(&["sign", "step", "--dir", s(&d), "--file", s(&artifact), "--yes"]).ok().contains("committed");
}

/// A watch never joins a ceremony its keyholder did not see: when the folder's ceremony file is replaced
/// by another ceremony while a keyholder without `--yes` and without a terminal watches, the watch stops
/// on the join question (exit 2) and its home holds nothing of the other ceremony.
#[test]
fn a_watch_never_joins_a_ceremony_its_keyholder_did_not_see() {
    let env = Env::new();
    let hs = env.holders(3);
    env.dkg_init("kg", 2, &hs).ok();
    env.dkg_init("other", 2, &hs[..2]).ok();
    let kg = env.path("kg");
    let hint = format!("Run `frostsign --home {} dkg step --dir {}` again", s(&hs[0].home), s(&kg));
    hs[0].dkg_step(&kg).ok().contains("joined the ceremony").contains(&hint);
    let watch = spawn(&env, Some(&hs[0]), &["dkg", "step", "--dir", s(&kg), "--watch", "--timeout", "30s"]);
    std::thread::sleep(std::time::Duration::from_millis(1500));
    fs::copy(env.path("other/ceremony.txt"), kg.join("ceremony.txt")).unwrap();
    let (code, out) = finish(watch);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("confirmation needed, but there is no terminal"), "{out}");
    let other =
        frostsign::group::ceremony::DkgCeremony::parse(&fs::read_to_string(env.path("other/ceremony.txt")).unwrap())
            .unwrap();
    let state = hs[0].home.join(format!("state/dkg-{}.txt", hex::encode(other.id())));
    assert!(!state.exists(), "the watch joined a ceremony nobody approved");
}

/// "Nothing to do" costs no passphrase: a signer who committed and waits for the package, or who signed
/// every phase, is told so from the folder's signed files without unlocking (here with a wrong passphrase
/// file); when there is something to do, the passphrase is needed (and a wrong one refused).
#[test]
fn nothing_to_do_costs_no_passphrase() {
    let env = Env::new();
    let hs = env.holders(2);
    let group = env.dkg("kg", 2, &hs);
    let artifact = env.path("app.tar.gz");
    fs::write(&artifact, b"app").unwrap();
    let d = env.path("sign");
    env.run(&["sign", "init", "--dir", s(&d), "--group", s(&group), "--file", s(&artifact)]).ok();
    let wrong = env.path("wrong-pass");
    fs::write(&wrong, "not the passphrase\n").unwrap();
    let step_wrong = || {
        let args = ["--home", s(&hs[0].home), "--passphrase-file", s(&wrong), "sign", "step", "--dir", s(&d)];
        let mut full = args.to_vec();
        full.extend(["--file", s(&artifact), "--yes"]);
        env.run(&full)
    };
    step_wrong().refused_with("wrong passphrase");
    // The next-step hint repeats the --home given (not the default), so copying it works.
    let hint = format!("then run `frostsign --home {} sign step --dir {}` again", s(&hs[0].home), s(&d));
    hs[0]
        .run(&["sign", "step", "--dir", s(&d), "--file", s(&artifact), "--yes"])
        .ok()
        .contains("committed")
        .contains(&hint);
    step_wrong().ok().contains("Nothing new to do: waiting for the phase-1 signing package");
    hs[1].run(&["sign", "step", "--dir", s(&d), "--file", s(&artifact), "--yes"]).ok();
    env.run(&["sign", "collect", "--dir", s(&d)]).expect_code(3);
    step_wrong().refused_with("wrong passphrase");
    for _ in 0..3 {
        for h in &hs {
            h.run(&["sign", "step", "--dir", s(&d), "--file", s(&artifact), "--yes"]).ok();
        }
        env.run(&["sign", "collect", "--dir", s(&d)]);
    }
    assert!(d.join("app.tar.gz.minisig").exists());
    step_wrong().ok().contains("Your part of this session is done.");
}
