//! Git as the exchange (issue 11, item 1): each keyholder and two coordinators work in their own clone of
//! one bare repository; `--git` (or the folder's marker) pulls before and pushes after every step, so steps
//! interleave, pushes race and two coordinators collect at once, and the ceremony still completes. No
//! secret ever enters the repository's history.

use crate::common::*;

use frostsign::group::Group;
use frostsign::home::{Home, PassphraseSource};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn git(dir: &Path, args: &[&str]) -> String {
    let o = Command::new("git").arg("-C").arg(dir).args(args).output().expect("git is installed");
    assert!(o.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A bare repository with one commit on `main`, and a configured clone of it per name.
fn clones(env: &Env, names: &[&str]) -> Vec<PathBuf> {
    let origin = env.path("origin.git");
    git(&env.path(""), &["init", "--quiet", "--bare", "-b", "main", s(&origin)]);
    let seed = env.path("seed");
    git(&env.path(""), &["clone", "--quiet", s(&origin), s(&seed)]);
    fs::write(seed.join("README"), "releases\n").unwrap();
    for (k, v) in [("user.name", "seed"), ("user.email", "seed@example.org")] {
        git(&seed, &["config", k, v]);
    }
    git(&seed, &["add", "README"]);
    git(&seed, &["commit", "--quiet", "-m", "start"]);
    git(&seed, &["push", "--quiet", "origin", "main"]);
    names
        .iter()
        .map(|n| {
            let c = env.path(&format!("clone-{n}"));
            git(&env.path(""), &["clone", "--quiet", s(&origin), s(&c)]);
            git(&c, &["config", "user.name", n]);
            git(&c, &["config", "user.email", &format!("{n}@example.org")]);
            c
        })
        .collect()
}

/// Run `args` as each of `who` at the same time (each in its own clone); returns their outputs.
fn at_once(who: &[(Option<&Holder>, Vec<String>)]) -> Vec<Out> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = who
            .iter()
            .map(|(h, args)| {
                scope.spawn(move || {
                    let args: Vec<&str> = args.iter().map(String::as_str).collect();
                    let o = match h {
                        Some(h) => h.run(&args),
                        None => run_in(Path::new("/"), &args),
                    };
                    no_panic(&o);
                    o
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

#[test]
fn key_generation_and_a_release_complete_through_git_with_racing_pushes_and_two_coordinators() {
    if !require_tool("git", "sudo apt-get install -y git") {
        return;
    }
    let env = Env::new();
    let hs = env.holders(3);
    let c = clones(&env, &["alice", "bob", "carol", "coord1", "coord2"]);
    // Key generation: Alice opens it with --git; every step after that uses git by the folder's marker.
    let kg = |i: usize| c[i].join("keygen");
    let kg0 = kg(0);
    let mut init = vec!["dkg", "init", "--git", "--allow-insecure-cards", "--dir", s(&kg0), "--threshold", "2"];
    let cards: Vec<String> = hs.iter().map(|h| s(&h.card).to_string()).collect();
    init.extend(cards.iter().map(String::as_str));
    env.run(&init).ok().contains("pushed 3 file(s)");
    // A file of Alice's own in her copy of the folder is never published: only frostsign's files are.
    fs::write(kg(0).join("passphrase.txt"), "not for anyone\n").unwrap();
    let mut done = [false; 3];
    for _ in 0..8 {
        let runs: Vec<(Option<&Holder>, Vec<String>)> =
            (0..3).map(|i| (Some(&hs[i]), strings(&["dkg", "step", "--git", "--dir", s(&kg(i)), "--yes"]))).collect();
        for (i, o) in at_once(&runs).iter().enumerate() {
            done[i] |= o.ok().stdout.contains("Key generation is complete");
        }
        if done.iter().all(|d| *d) {
            break;
        }
    }
    assert!(done.iter().all(|d| *d), "key generation did not complete through git: {done:?}");
    // A release: signers and two coordinators, all at once, each pass.
    let artifact = env.path("app-1.0.tar.gz");
    fs::write(&artifact, b"release 1.0").unwrap();
    let session = |i: usize| c[i].join("sign-1.0");
    git(&c[3], &["pull", "--quiet", "--rebase"]);
    let group = c[3].join("keygen").join("group.pub");
    let session3 = session(3);
    let init = ["sign", "init", "--git", "--dir", s(&session3), "--group", s(&group), "--file", s(&artifact)];
    env.run(&init).ok();
    for _ in 0..6 {
        let mut runs: Vec<(Option<&Holder>, Vec<String>)> = (0..2)
            .map(|i| {
                (
                    Some(&hs[i]),
                    strings(&["sign", "step", "--git", "--dir", s(&session(i)), "--file", s(&artifact), "--yes"]),
                )
            })
            .collect();
        runs.extend((3..5).map(|i| (None, strings(&["sign", "collect", "--git", "--dir", s(&session(i))]))));
        at_once(&runs);
    }
    let check = env.path("clone-check");
    git(&env.path(""), &["clone", "--quiet", s(&env.path("origin.git")), s(&check)]);
    let sig = check.join("sign-1.0").join("app-1.0.tar.gz.minisig");
    env.run(&["verify", "--key", s(&check.join("keygen/group.pub")), s(&artifact), "--sig", s(&sig)])
        .ok()
        .contains("verified");
    env.run(&["sign", "status", "--dir", s(&check.join("sign-1.0"))]).ok().contains("Done");
    // Whose files: every commit holds ceremony files only, and no share of anyone's in any spelling.
    let paths = git(&check, &["log", "--all", "--name-only", "--format="]);
    for p in paths.lines().filter(|l| !l.is_empty()) {
        assert!(
            p == "README" || p.starts_with("keygen/") || p.starts_with("sign-1.0/"),
            "a file outside the ceremony folders was committed: {p}"
        );
    }
    assert!(!paths.contains("passphrase.txt"), "a file frostsign did not write was committed");
    let history = git(&check, &["log", "--all", "-p", "--format=%H %s"]);
    let g = Group::load(&check.join("keygen/group.pub")).unwrap();
    for h in &hs {
        let u = Home::open(&h.home).unwrap().unlock(&PassphraseSource::new(Some(h.pass.clone()))).unwrap();
        let share = u.load_share(&g).unwrap().signing_share().serialize();
        for spelling in [hex::encode(&share), hex::encode_upper(&share)] {
            assert!(!history.contains(&spelling), "{}'s share is in the git history", h.name);
        }
    }
    for view in cleartext_views(&check.join("keygen")).iter().chain(&cleartext_views(&check.join("sign-1.0"))) {
        for h in &hs {
            let u = Home::open(&h.home).unwrap().unlock(&PassphraseSource::new(Some(h.pass.clone()))).unwrap();
            let share = u.load_share(&g).unwrap().signing_share().serialize();
            assert!(!contains(&view.1, &share), "{}'s share in {}", h.name, view.0.display());
        }
    }
    assert!(history.contains("frostsign: Alice, key generation keygen:"), "commit messages name who and what");
}

/// Two coordinators with different views of the commitments build different phase-1 packages; the one
/// whose push loses drops its own and adopts the published one, so the folder never holds two.
#[test]
fn a_coordinator_that_loses_the_push_race_adopts_the_published_package() {
    if !require_tool("git", "sudo apt-get install -y git") {
        return;
    }
    let env = Env::new();
    let hs = env.holders(3);
    let group = env.dkg("kg", 2, &hs);
    let c = clones(&env, &["alice", "bob", "carol", "coord1", "coord2"]);
    let session = |i: usize| c[i].join("sign");
    let artifact = env.path("app.tar.gz");
    fs::write(&artifact, b"app").unwrap();
    let s3 = session(3);
    env.run(&["sign", "init", "--git", "--dir", s(&s3), "--group", s(&group), "--file", s(&artifact)]).ok();
    for (i, h) in hs.iter().enumerate() {
        h.run(&["sign", "step", "--git", "--dir", s(&session(i)), "--file", s(&artifact), "--yes"]).ok();
    }
    // The second coordinator's view lacks Bob's commitment (say its copy was damaged and removed), and it
    // builds its package offline (the folder's git marker set aside), before the first one publishes.
    git(&c[4], &["pull", "--quiet", "--rebase"]);
    let bob = Group::load(&group).unwrap().members()[1].fingerprint().compact();
    fs::remove_file(session(4).join(format!("commit-a1-{bob}.txt"))).unwrap();
    let marker = session(4).join(".frostsign-exchange");
    fs::remove_file(&marker).unwrap();
    env.run(&["sign", "collect", "--dir", s(&session(4))]).expect_code(3).contains("package for Alice, Carol");
    fs::write(&marker, "git\n").unwrap();
    env.run(&["sign", "collect", "--git", "--dir", s(&session(3))]).expect_code(3).contains("package for Alice, Bob");
    // Its next run with git loses the race on that file: it drops its package and adopts the published one.
    let o = env.run(&["sign", "collect", "--git", "--dir", s(&session(4))]);
    o.expect_code(3).contains("someone published sign/package-a1-p1.txt first: dropped yours and used theirs");
    let published = fs::read_to_string(session(3).join("package-a1-p1.txt")).unwrap();
    assert_eq!(fs::read_to_string(session(4).join("package-a1-p1.txt")).unwrap(), published);
    // A person's own local commit outside the ceremony folder is theirs to push: frostsign refuses to.
    fs::write(c[4].join("README"), "private notes\n").unwrap();
    git(&c[4], &["commit", "--quiet", "-am", "WIP, not for push"]);
    env.run(&["sign", "collect", "--git", "--dir", s(&session(4))])
        .refused_with("local commits, not pushed yet, that change files outside the ceremony folder");
    git(&c[4], &["reset", "--quiet", "--hard", "HEAD~1"]);
    // The signers answer the one package, and the release completes (the coordinator's removed copy of
    // Bob's commitment restored from the repository).
    git(&c[4], &["checkout", "--", "sign"]);
    for _ in 0..3 {
        for (i, h) in hs[..2].iter().enumerate() {
            h.run(&["sign", "step", "--git", "--dir", s(&session(i)), "--file", s(&artifact), "--yes"]).ok();
        }
        env.run(&["sign", "collect", "--git", "--dir", s(&session(4))]);
    }
    git(&c[3], &["pull", "--quiet", "--rebase"]);
    env.run(&["verify", "--key", s(&group), s(&artifact), "--sig", s(&session(3).join("app.tar.gz.minisig"))]).ok();
}

/// A watch over git waits out a remote it cannot reach (a warning, then the next look) instead of
/// stopping: here the remote is gone until the watch times out (exit 3); without --watch the same failure
/// stops the command with what to check (exit 2), and nothing of the ceremony was done.
#[test]
fn a_watch_over_git_waits_out_an_unreachable_remote() {
    if !require_tool("git", "sudo apt-get install -y git") {
        return;
    }
    let env = Env::new();
    let hs = env.holders(2);
    let group = env.dkg("kg", 2, &hs);
    let c = clones(&env, &["coord"]);
    let artifact = env.path("app.tar.gz");
    fs::write(&artifact, b"app").unwrap();
    let d = c[0].join("sign");
    env.run(&["sign", "init", "--git", "--dir", s(&d), "--group", s(&group), "--file", s(&artifact)]).ok();
    fs::rename(env.path("origin.git"), env.path("origin-away.git")).unwrap();
    let o = env.run(&["sign", "collect", "--dir", s(&d), "--watch", "--timeout", "3s"]);
    o.expect_code(3).contains("`git pull --rebase` failed").contains("trying again");
    // A signer's watch that starts while the remote is away waits it out too (its first pull included).
    let watch = ["sign", "step", "--dir", s(&d), "--file", s(&artifact), "--yes", "--watch", "--timeout", "3s"];
    hs[0].run(&watch).expect_code(3).contains("the watch tries again at each look");
    env.run(&["sign", "collect", "--dir", s(&d)]).refused_with("check that the remote can be reached");
    fs::rename(env.path("origin-away.git"), env.path("origin.git")).unwrap();
    env.run(&["sign", "collect", "--dir", s(&d)]).expect_code(3).contains("using git");
}

/// A 2-of-3 group, clones for Alice, Bob, Carol, a coordinator and Mallory (who can push anything), and a
/// signing session `sign` opened over git by the coordinator; returns (env, keyholders, group, clones,
/// artifact).
fn session_over_git() -> (Env, Vec<Holder>, PathBuf, Vec<PathBuf>, PathBuf) {
    let env = Env::new();
    let hs = env.holders(3);
    let group = env.dkg("kg", 2, &hs);
    let c = clones(&env, &["alice", "bob", "carol", "coord", "mallory"]);
    let artifact = env.path("app.tar.gz");
    fs::write(&artifact, b"app").unwrap();
    let d = c[3].join("sign");
    env.run(&["sign", "init", "--git", "--dir", s(&d), "--group", s(&group), "--file", s(&artifact)]).ok();
    git(&c[4], &["pull", "--quiet", "--rebase"]);
    (env, hs, group, c, artifact)
}

/// Mallory commits `files` (name, content) into the session folder and pushes.
fn mallory_pushes(mallory: &Path, files: &[(&str, &str)]) {
    git(mallory, &["pull", "--quiet", "--rebase"]);
    for (name, content) in files {
        fs::write(mallory.join("sign").join(name), content).unwrap();
        git(mallory, &["add", "--force", "--", &format!("sign/{name}")]);
    }
    git(mallory, &["commit", "--quiet", "-m", "mallory"]);
    git(mallory, &["push", "--quiet"]);
}

/// The paths anywhere in the bare repository's history.
fn history_paths(env: &Env) -> String {
    git(&env.path("origin.git"), &["log", "--all", "--name-only", "--format="])
}

/// A file frostsign rewrites over a tracked copy (here the signature, over a bogus one Mallory pushed
/// first) is committed and pushed like a new one; an ignore rule Mallory commits does not keep a signer's
/// commitment from being published; a person's own key left in the folder under a signature-like name is
/// never published.
#[test]
fn changed_ignored_and_foreign_files_are_published_only_when_frostsign_wrote_them() {
    if !require_tool("git", "sudo apt-get install -y git") {
        return;
    }
    let (env, hs, group, c, artifact) = session_over_git();
    mallory_pushes(&c[4], &[("app.tar.gz.minisig", "untrusted comment: garbage\n"), (".gitignore", "commit-*\n")]);
    let key = c[0].join("sign/my-secret-key.asc");
    for _ in 0..3 {
        for (i, h) in hs[..2].iter().enumerate() {
            h.run(&["sign", "step", "--git", "--dir", s(&c[i].join("sign")), "--file", s(&artifact), "--yes"]).ok();
            if !key.exists() {
                fs::write(&key, "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nsecret\n").unwrap();
            }
        }
        env.run(&["sign", "collect", "--git", "--dir", s(&c[3].join("sign"))]);
    }
    let o = hs[0].run(&["sign", "step", "--git", "--dir", s(&c[0].join("sign")), "--file", s(&artifact), "--yes"]);
    o.ok().contains("not published (not files frostsign writes): my-secret-key.asc");
    git(&c[2], &["pull", "--quiet", "--rebase"]);
    let sig = c[2].join("sign/app.tar.gz.minisig");
    env.run(&["verify", "--key", s(&group), s(&artifact), "--sig", s(&sig)]).ok();
    env.run(&["sign", "status", "--dir", s(&c[2].join("sign"))]).ok();
    let paths = history_paths(&env);
    assert!(paths.contains("commit-a1-"), "the commitments were published despite the ignore rule:\n{paths}");
    assert!(!paths.contains("my-secret-key"), "a person's own file was published:\n{paths}");
}

/// Mallory replaces the session folder with a link to a folder elsewhere on the signer's machine, or edits
/// its `.gitattributes` (`merge=union` would merge two packages into one file): the next step refuses and
/// writes nothing there. Upstream work fetched but not merged (an editor's auto-fetch) is not mistaken for
/// the person's own local commits.
#[test]
fn a_pull_that_swaps_the_folder_or_its_attributes_is_refused() {
    if !require_tool("git", "sudo apt-get install -y git") {
        return;
    }
    let (env, hs, _group, c, artifact) = session_over_git();
    fs::write(c[4].join("README"), "edited upstream\n").unwrap();
    git(&c[4], &["commit", "--quiet", "-am", "readme"]);
    git(&c[4], &["push", "--quiet"]);
    git(&c[3], &["fetch", "--quiet"]);
    env.run(&["sign", "collect", "--git", "--dir", s(&c[3].join("sign"))]).expect_code(3);

    let attributes = c[4].join("sign/.gitattributes");
    let edited = format!("{}* merge=union\n", fs::read_to_string(&attributes).unwrap());
    mallory_pushes(&c[4], &[(".gitattributes", &edited)]);
    let step = |h: &Holder, clone: &Path| {
        h.run(&["sign", "step", "--git", "--dir", s(&clone.join("sign")), "--file", s(&artifact), "--yes"])
    };
    step(&hs[0], &c[0]).refused_with("is not the file frostsign wrote");
    assert!(!history_paths(&env).contains("commit-a1-"), "nothing was published");

    git(&c[4], &["rm", "--quiet", "-r", "sign"]);
    let elsewhere = env.path("elsewhere");
    fs::create_dir(&elsewhere).unwrap();
    for f in ["request.txt", "group.pub", ".frostsign-exchange"] {
        fs::copy(c[3].join("sign").join(f), elsewhere.join(f)).unwrap();
    }
    std::os::unix::fs::symlink(&elsewhere, c[4].join("sign")).unwrap();
    git(&c[4], &["add", "sign"]);
    git(&c[4], &["commit", "--quiet", "-m", "swap"]);
    git(&c[4], &["push", "--quiet"]);
    step(&hs[1], &c[1]).refused_with("is no longer a folder of the repository");
    assert_eq!(fs::read_dir(&elsewhere).unwrap().count(), 3, "nothing was written in the folder elsewhere");
}

/// Files committed while the remote was down are pushed by the next run; while the push still fails,
/// every run says so (exit 2) instead of "nothing to do".
#[test]
fn a_push_that_keeps_failing_is_reported_at_every_run() {
    if !require_tool("git", "sudo apt-get install -y git") {
        return;
    }
    let (env, hs, _group, c, artifact) = session_over_git();
    let d = c[0].join("sign");
    git(&c[0], &["remote", "set-url", "--push", "origin", s(&env.path("nowhere.git"))]);
    let step = || hs[0].run(&["sign", "step", "--git", "--dir", s(&d), "--file", s(&artifact), "--yes"]);
    step().refused_with("could not push");
    step().refused_with("could not push");
    assert!(!history_paths(&env).contains("commit-a1-"));
    git(&c[0], &["remote", "set-url", "--push", "origin", s(&env.path("origin.git"))]);
    step().ok();
    assert!(history_paths(&env).contains("commit-a1-"), "the commitment committed earlier was pushed");
}

/// A remote that accepts the connection and never answers does not hang a watch past its `--timeout`:
/// each git command has a time limit (one second here, a minute in release builds), the watch waits the
/// failure out like any unreachable remote, and ends with exit 3.
#[test]
fn a_remote_that_never_answers_does_not_hang_a_watch() {
    if !require_tool("git", "sudo apt-get install -y git") {
        return;
    }
    let (_env, _hs, _group, c, _artifact) = session_over_git();
    let url = remote_that_never_answers();
    git(&c[3], &["remote", "set-url", "origin", &url]);
    let d = c[3].join("sign");
    let args = ["sign", "collect", "--dir", s(&d), "--watch", "--timeout", "3s"];
    let started = std::time::Instant::now();
    let o = run_env(Path::new("/"), &args, &[("FROSTSIGN_GIT_CALL_LIMIT_SECS", "1")]);
    o.expect_code(3).contains("did not finish within 1 s");
    assert!(started.elapsed() < std::time::Duration::from_secs(30), "took {:?}", started.elapsed());
}

/// The URL of a git remote that accepts every connection and never answers (each connection is held open
/// until the test process ends).
fn remote_that_never_answers() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/origin.git", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let held: Vec<_> = listener.incoming().map_while(Result::ok).collect();
        drop(held);
    });
    url
}

/// A watch's `--timeout` bounds its pulls and pushes too, not only its waiting: with the time limit of a
/// minute per git command, a remote that never answers ends a `--timeout 3s` watch (the coordinator's,
/// and a keyholder's, whose first pull comes before its passphrase) within seconds, with exit 3. A call
/// started before the deadline is killed at it (given at least 5 s); none starts after it.
#[test]
fn a_watch_over_a_remote_that_never_answers_ends_by_its_timeout_not_by_the_git_time_limit() {
    if !require_tool("git", "sudo apt-get install -y git") {
        return;
    }
    let (_env, hs, _group, c, artifact) = session_over_git();
    let url = remote_that_never_answers();
    git(&c[0], &["pull", "--quiet", "--rebase"]);
    for clone in [&c[0], &c[3]] {
        git(clone, &["remote", "set-url", "origin", &url]);
    }
    let (coordinator, alice) = (c[3].join("sign"), c[0].join("sign"));
    let started = std::time::Instant::now();
    let collect = ["sign", "collect", "--dir", s(&coordinator), "--watch", "--timeout", "3s"];
    run_env(Path::new("/"), &collect, &[])
        .expect_code(3)
        .contains("did not finish within")
        .contains("Gave up after 3s (--timeout)");
    let took = started.elapsed();
    assert!(took < std::time::Duration::from_secs(20), "the coordinator's watch took {took:?}");
    let started = std::time::Instant::now();
    let step = ["sign", "step", "--dir", s(&alice), "--file", s(&artifact), "--yes", "--watch", "--timeout", "3s"];
    hs[0].run(&step).expect_code(3).contains("did not finish within").contains("Gave up after 3s (--timeout)");
    let took = started.elapsed();
    assert!(took < std::time::Duration::from_secs(25), "the keyholder's watch took {took:?}");
}

/// A folder set up for git whose marker was deleted (a pull brought the deletion) is not silently run as
/// a plain folder: each run says that it neither pulls nor pushes, and how to go on; with `--git` it
/// publishes again.
#[test]
fn a_folder_that_lost_its_git_marker_is_reported_at_every_run() {
    if !require_tool("git", "sudo apt-get install -y git") {
        return;
    }
    let (env, hs, _group, c, artifact) = session_over_git();
    git(&c[0], &["pull", "--quiet", "--rebase"]);
    let d = c[0].join("sign");
    fs::remove_file(d.join(".frostsign-exchange")).unwrap();
    let step = |extra: &[&str]| {
        let mut args = vec!["sign", "step", "--dir", s(&d), "--file", s(&artifact), "--yes"];
        args.extend_from_slice(extra);
        hs[0].run(&args)
    };
    let warning = "but its marker .frostsign-exchange is missing, so this run neither pulls nor pushes";
    step(&[]).ok().contains(warning).contains("pass --git");
    assert!(!history_paths(&env).contains("commit-a1-"), "nothing was pushed");
    let o = step(&["--git"]);
    o.ok();
    assert!(!o.all().contains(warning), "no warning with --git: {}", o.all());
    assert!(history_paths(&env).contains("commit-a1-"), "with --git the commitment was pushed");
}

/// Mallory pushes a forged file under Alice's name between Alice's pull and her push (a pre-push hook in
/// Alice's clone plays the race): Alice's rebase stops on it, and she keeps her own file, which only she
/// can sign, instead of adopting the forgery; the release completes.
#[test]
fn a_forged_file_under_a_keyholders_name_never_replaces_its_own() {
    if !require_tool("git", "sudo apt-get install -y git") {
        return;
    }
    let (env, hs, group, c, artifact) = session_over_git();
    let alice = Group::load(&group).unwrap().members()[0].fingerprint().compact();
    let forged = format!("commit-a1-{alice}.txt");
    let hook = c[0].join(".git/hooks/pre-push");
    let once = env.path("raced");
    fs::write(
        &hook,
        format!(
            "#!/bin/sh\n[ -e '{once}' ] && exit 0\ntouch '{once}'\ncd '{mallory}' && git pull -q --rebase && \
             printf 'forged\\n' > sign/{forged} && git add sign/{forged} && git commit -qm forged && git push -q\n",
            once = s(&once),
            mallory = s(&c[4]),
        ),
    )
    .unwrap();
    fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let step = |i: usize| {
        hs[i].run(&["sign", "step", "--git", "--dir", s(&c[i].join("sign")), "--file", s(&artifact), "--yes"])
    };
    step(0).ok().contains(&format!("someone published another version of your file sign/{forged}: kept yours"));
    assert!(once.exists(), "the race was played");
    git(&c[1], &["pull", "--quiet", "--rebase"]);
    let published = fs::read_to_string(c[1].join("sign").join(&forged)).unwrap();
    assert_eq!(published, fs::read_to_string(c[0].join("sign").join(&forged)).unwrap());
    assert!(published.starts_with("frostsign"), "Alice's signed commitment, not the forgery: {published}");
    for _ in 0..3 {
        step(0).ok();
        step(1).ok();
        env.run(&["sign", "collect", "--git", "--dir", s(&c[3].join("sign"))]);
    }
    env.run(&["verify", "--key", s(&group), s(&artifact), "--sig", s(&c[3].join("sign/app.tar.gz.minisig"))]).ok();
}

/// Two coordinators restart the same session at once, each leaving out someone else: the one whose push
/// loses adopts the published restart and collects in that attempt; it does not open a third one.
#[test]
fn a_coordinator_that_loses_a_restart_race_adopts_the_published_attempt() {
    if !require_tool("git", "sudo apt-get install -y git") {
        return;
    }
    let (env, hs, _group, c, artifact) = session_over_git();
    for (i, h) in hs.iter().enumerate() {
        h.run(&["sign", "step", "--git", "--dir", s(&c[i].join("sign")), "--file", s(&artifact), "--yes"]).ok();
    }
    env.run(&["sign", "collect", "--git", "--dir", s(&c[3].join("sign"))]).expect_code(3);
    git(&c[4], &["pull", "--quiet", "--rebase"]);
    let hook = c[3].join(".git/hooks/pre-push");
    let once = env.path("raced");
    fs::write(
        &hook,
        format!(
            "#!/bin/sh\n[ -e '{once}' ] && exit 0\ntouch '{once}'\n'{bin}' sign collect --git --dir '{other}' --restart --without Bob >/dev/null 2>&1\nexit 0\n",
            once = s(&once),
            bin = bin(),
            other = s(&c[4].join("sign")),
        ),
    )
    .unwrap();
    fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let o = env.run(&["sign", "collect", "--git", "--dir", s(&c[3].join("sign")), "--restart", "--without", "Carol"]);
    no_panic(&o);
    assert!(once.exists(), "the race was played");
    o.contains("restart-a2.txt first: dropped yours and used theirs");
    let paths = history_paths(&env);
    assert!(paths.contains("restart-a2.txt") && !paths.contains("restart-a3"), "one new attempt only:\n{paths}");
}
