//! Acceptance tests for issue 4: threshold release signing over files (`sign init/step/collect/status`).
//!
//! Every test drives the real `frostsign` binary. The library is used only to read what the binary wrote
//! (open a share file, parse a package) and to craft adversarial files that a coordinator, or a keyholder
//! with its own keys, could write.

use crate::common::*;

use frost_ed25519 as frost;
use frostsign::card::Card;
use frostsign::ceremony::signing::{
    names, CommitPayload, PackageFile, Phase, Request, SharePayload, KIND_COMMIT, KIND_SHARE,
};
use frostsign::exchange::message::{open, seal, Expect};
use frostsign::group::Group;
use frostsign::home::{Home, PassphraseSource};
use std::fs;
use std::path::{Path, PathBuf};

// ---------------------------------------------------------------------------------------------------------
// Local helpers
// ---------------------------------------------------------------------------------------------------------

fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

/// Run a whole DKG and make sure every keyholder stored its share. (`Env::dkg` steps three times round
/// robin, which leaves the first keyholders of a 5-member group one step short of seeing every
/// confirmation; one more step each is a no-op for those already done.)
fn dkg(env: &Env, t: usize, holders: &[Holder]) -> PathBuf {
    let group = env.dkg("dkg", t, holders);
    assert!(group.exists(), "the DKG wrote no group.pub");
    for h in holders {
        h.dkg_step(&env.path("dkg")).ok();
        assert!(h.home.join("groups").exists(), "{} holds no group share after the DKG", h.name);
    }
    group
}

/// A group with keyholders, each holding its own copy of the release artifacts in `build-<name>/`.
struct Fx {
    env: Env,
    holders: Vec<Holder>,
    group: PathBuf,
    /// The release manager's artifacts (in `dist/`).
    artifacts: Vec<PathBuf>,
}

impl Fx {
    fn new(t: usize, n: usize, files: &[(&str, &[u8])]) -> Fx {
        let env = Env::new();
        let holders = env.holders(n);
        let group = dkg(&env, t, &holders);
        let dist = env.path("dist");
        fs::create_dir_all(&dist).unwrap();
        let mut artifacts = Vec::new();
        for (name, bytes) in files {
            let p = dist.join(name);
            fs::write(&p, bytes).unwrap();
            artifacts.push(p);
        }
        for h in &holders {
            let build = Self::build_dir_of(&env, h);
            fs::create_dir_all(&build).unwrap();
            for (name, bytes) in files {
                fs::write(build.join(name), bytes).unwrap();
            }
        }
        Fx { env, holders, group, artifacts }
    }

    fn build_dir_of(env: &Env, h: &Holder) -> PathBuf {
        env.path(&format!("build-{}", h.name.to_lowercase()))
    }

    /// Keyholder `name`'s folder of its own build outputs.
    fn build_dir(&self, h: &Holder) -> PathBuf {
        Self::build_dir_of(&self.env, h)
    }

    fn h(&self, name: &str) -> &Holder {
        self.holders.iter().find(|h| h.name == name).unwrap_or_else(|| panic!("no keyholder {name}"))
    }

    fn group(&self) -> Group {
        Group::load(&self.group).unwrap()
    }

    fn card(&self, name: &str) -> Card {
        self.group().members().iter().find(|c| c.name() == name).unwrap().clone()
    }

    /// `sign init` for all artifacts, with extra arguments and environment; returns the session folder.
    fn init_with(&self, dir: &str, extra: &[&str], vars: &[(&str, &str)]) -> PathBuf {
        let d = self.env.path(dir);
        let mut args = vec!["sign", "init", "--dir", s(&d), "--group", s(&self.group)];
        for a in &self.artifacts {
            args.extend(["--file", s(a)]);
        }
        args.extend_from_slice(extra);
        let out = run_env(self.env.dir.path(), &args, vars);
        out.ok().contains("Opened signing session");
        assert!(d.join("request.txt").exists() && d.join("group.pub").exists());
        d
    }

    fn init(&self, dir: &str) -> PathBuf {
        self.init_with(dir, &["--comment", "release 1.0"], &[])
    }

    /// `sign step` as `h` with `--file` for each of its own copies.
    fn step_env(&self, h: &Holder, dir: &Path, vars: &[(&str, &str)]) -> Out {
        let copies: Vec<PathBuf> =
            self.artifacts.iter().map(|a| self.build_dir(h).join(a.file_name().unwrap())).collect();
        let mut args = vec!["sign", "step", "--dir", s(dir), "--yes"];
        for c in &copies {
            args.extend(["--file", s(c)]);
        }
        run_as(h, &args, vars)
    }

    fn step(&self, h: &Holder, dir: &Path) -> Out {
        self.step_env(h, dir, &[])
    }

    fn collect(&self, dir: &Path) -> Out {
        self.env.run(&["sign", "collect", "--dir", s(dir)])
    }

    /// Drive a session to completion with these signers: each round every signer steps once, then the
    /// coordinator collects. Returns the number of rounds (= steps per signer).
    fn sign_with(&self, dir: &Path, signers: &[&str]) -> usize {
        self.drive(dir, signers, false)
    }

    /// `sign step` as `h` with `--artifacts` (its build folder).
    fn step_folder(&self, h: &Holder, dir: &Path) -> Out {
        run_as(h, &["sign", "step", "--dir", s(dir), "--artifacts", s(&self.build_dir(h)), "--yes"], &[])
    }

    /// Like [`Fx::sign_with`]; `folder` makes the signers give their build folder (`--artifacts`).
    fn drive(&self, dir: &Path, signers: &[&str], folder: bool) -> usize {
        for round in 1..=6 {
            for name in signers {
                if folder {
                    self.step_folder(self.h(name), dir).ok();
                } else {
                    self.step(self.h(name), dir).ok();
                }
            }
            let c = self.collect(dir);
            if c.code == 0 {
                c.contains("Wrote");
                return round;
            }
            c.expect_code(3).contains("Waiting for");
        }
        panic!("the session did not complete in 6 rounds");
    }
}

fn minisign_line(group_pub: &Path) -> String {
    fs::read_to_string(group_pub)
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("minisign-public-key: "))
        .expect("group.pub has a minisign-public-key line")
        .to_string()
}

/// Names of the nonce files in a keyholder's home.
fn nonce_files(h: &Holder) -> Vec<String> {
    files_under(&h.home.join("state"))
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("sign-") && n.ends_with(".nonces"))
        .collect()
}

/// Every file in the keyholder's home that belongs to a signing session (journal or nonces).
fn signing_state(h: &Holder) -> Vec<String> {
    files_under(&h.home.join("state"))
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("sign-"))
        .collect()
}

fn session_files(dir: &Path, prefix: &str) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(prefix))
        .collect();
    v.sort();
    v
}

/// Open a share file as anyone can (it is public) and return its payload.
fn share_payload(fx: &Fx, dir: &Path, name: &str, attempt: u32, phase: Phase) -> SharePayload {
    let group = fx.group();
    let req = Request::load(dir).unwrap();
    let path = dir.join(names::share(attempt, phase, &fx.card(name)));
    let text = fs::read_to_string(&path).unwrap();
    let round = names::share_round(attempt, phase);
    let e = Expect { kind: KIND_SHARE, ceremony: req.digest(), round: &round, private: false };
    let opened = open(&text, &path, &e, group.members(), None).unwrap();
    serde_json::from_slice(opened.payload.expose()).unwrap()
}

/// The payload bytes of the message file `file` in `d`, opened as anyone can (it is public).
fn payload_bytes(fx: &Fx, d: &Path, file: &str, kind: &str, round: &str) -> Vec<u8> {
    let req = Request::load(d).unwrap();
    let path = d.join(file);
    let e = Expect { kind, ceremony: req.digest(), round, private: false };
    let opened = open(&fs::read_to_string(&path).unwrap(), &path, &e, fx.group().members(), None).unwrap();
    opened.payload.expose().to_vec()
}

/// Write under `file` in `d` a message of `kind` and `round` carrying `payload`, validly signed with keyholder
/// `name`'s own identity: what a buggy or malicious client of that keyholder could publish.
fn seal_as(fx: &Fx, d: &Path, name: &str, file: &str, kind: &str, round: &str, payload: &[u8]) {
    let h = fx.h(name);
    let u = Home::open(&h.home).unwrap().unlock(&PassphraseSource::new(Some(h.pass.clone()))).unwrap();
    let req = Request::load(d).unwrap();
    fs::write(d.join(file), seal(u.identity(), kind, req.digest(), round, None, payload).unwrap()).unwrap();
}

fn sha256_hex(b: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(b))
}

/// Verify a finished signature three ways: `frostsign verify`, the minisign-verify crate and (when
/// installed) stock minisign with a public key file made from group.pub's line, unchanged.
#[track_caller]
fn verify_everywhere(env: &Env, group_pub: &Path, artifact: &Path, sig: &Path, expect_tc: &[&str]) {
    // frostsign verify
    let out = env.run(&["verify", "--key", s(group_pub), s(artifact), "--sig", s(sig)]);
    out.ok().contains("Signature and comment signature verified");
    for needle in expect_tc {
        out.contains(needle);
    }
    // minisign-verify crate
    let line = minisign_line(group_pub);
    let pk = minisign_verify::PublicKey::from_base64(&line).expect("the group's minisign line parses");
    let sig_text = fs::read_to_string(sig).unwrap();
    let signature = minisign_verify::Signature::decode(&sig_text).expect("the .minisig parses");
    let bytes = fs::read(artifact).unwrap();
    pk.verify(&bytes, &signature, false).expect("minisign-verify accepts the signature");
    for needle in expect_tc {
        assert!(signature.trusted_comment().contains(needle), "{needle:?} not in {:?}", signature.trusted_comment());
    }
    // stock minisign
    if require_tool("minisign", INSTALL_TOOLS) {
        let pubfile = env.path("group-minisign.pub");
        fs::write(&pubfile, format!("untrusted comment: frostsign group public key\n{line}\n")).unwrap();
        let o = std::process::Command::new("minisign")
            .args(["-Vm", s(artifact), "-x", s(sig), "-p", s(&pubfile)])
            .output()
            .expect("run minisign");
        let text = String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "stock minisign rejected the signature:\n{text}");
        assert!(text.contains("Signature and comment signature verified"), "{text}");
        for needle in expect_tc {
            assert!(text.contains(needle), "{needle:?} not in minisign's output:\n{text}");
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// Happy paths
// ---------------------------------------------------------------------------------------------------------

#[test]
fn two_of_three_with_two_different_signer_subsets_verifies_with_frostsign_crate_and_minisign() {
    let fx = Fx::new(2, 3, &[("app-1.0.tar.gz", b"release bytes of app 1.0\n")]);
    let art = &fx.artifacts[0];
    for (dir, signers) in [("s-ac", ["Alice", "Carol"]), ("s-bc", ["Bob", "Carol"])] {
        let d = fx.init(dir);
        let rounds = fx.sign_with(&d, &signers);
        assert_eq!(rounds, 3, "commit, phase-1 share, phase-2 share");
        let sig = d.join("app-1.0.tar.gz.minisig");
        let text = fs::read_to_string(&sig).unwrap();
        assert!(
            text.lines().next().unwrap().contains(&format!("signed by {}, {}", signers[0], signers[1])),
            "the untrusted comment names the signers:\n{text}"
        );
        verify_everywhere(&fx.env, &fx.group, art, &sig, &["file:app-1.0.tar.gz", "comment:release 1.0"]);
        // Only the chosen signers' shares exist; the third keyholder was never asked.
        let third = ["Alice", "Bob", "Carol"].into_iter().find(|n| !signers.contains(n)).unwrap();
        assert!(!d.join(names::commit(1, &fx.card(third))).exists());
        for name in signers {
            for p in Phase::ALL {
                assert!(d.join(names::share(1, p, &fx.card(name))).exists(), "{name}'s phase-{p} share");
            }
            assert!(nonce_files(fx.h(name)).is_empty(), "{name}'s nonces must be gone after signing");
            // A rerun once done changes nothing.
            let before = snapshot(&d);
            fx.step(fx.h(name), &d).ok().contains("Your part of this session is done");
            assert_eq!(snapshot(&d), before);
        }
    }
}

#[test]
fn three_of_five_signed_by_bob_dave_erin() {
    let fx = Fx::new(3, 5, &[("tool.bin", &[7u8; 5000])]);
    let d = fx.init("s");
    // Two keyholders are not enough: collect keeps waiting and builds no package.
    for name in ["Bob", "Dave"] {
        fx.step(fx.h(name), &d).ok().contains("committed");
    }
    fx.collect(&d).expect_code(3).contains("2 of the 3 needed");
    assert!(!d.join("package-a1-p1.txt").exists());
    assert_eq!(fx.sign_with(&d, &["Bob", "Dave", "Erin"]), 3);
    let sig = d.join("tool.bin.minisig");
    assert!(fs::read_to_string(&sig).unwrap().contains("3-of-5, signed by Bob, Dave, Erin"));
    verify_everywhere(&fx.env, &fx.group, &fx.artifacts[0], &sig, &["file:tool.bin", "comment:release 1.0"]);
    // Alice and Carol never took part.
    for name in ["Alice", "Carol"] {
        assert!(signing_state(fx.h(name)).is_empty(), "{name} has signing state");
        assert!(!d.join(names::commit(1, &fx.card(name))).exists());
    }
}

#[test]
fn several_artifacts_in_one_session_need_no_more_keyholder_actions() {
    let files: [(&str, &[u8]); 3] =
        [("app-linux.tar.gz", b"linux build"), ("app-macos.zip", b"macos build!"), ("SHA256SUMS", b"sums\n")];
    let fx = Fx::new(2, 3, &files);

    // Reference: a session for one artifact takes 3 keyholder actions.
    let one = fx.env.path("one");
    fx.env.run(&["sign", "init", "--dir", s(&one), "--group", s(&fx.group), "--file", s(&fx.artifacts[0])]).ok();
    let rounds_one = fx.drive(&one, &["Alice", "Bob"], true);

    // Three artifacts in one session. Alice gives each file, Carol her build folder (--artifacts).
    let d = fx.init("multi");
    let mut actions = 0;
    let mut done = false;
    for _ in 0..6 {
        fx.step(fx.h("Alice"), &d).ok();
        fx.step_folder(fx.h("Carol"), &d).ok();
        actions += 1;
        if fx.collect(&d).code == 0 {
            done = true;
            break;
        }
    }
    assert!(done, "the multi-artifact session did not complete");
    assert_eq!(rounds_one, 3);
    assert_eq!(actions, rounds_one, "keyholders act as often for 3 artifacts as for 1");

    for (i, (name, _)) in files.iter().enumerate() {
        let sig = d.join(format!("{name}.minisig"));
        verify_everywhere(
            &fx.env,
            &fx.group,
            &fx.artifacts[i],
            &sig,
            &[&format!("file:{name}"), "comment:release 1.0"],
        );
        // A signature is bound to its own file: it does not verify another artifact of the release.
        let other = &fx.artifacts[(i + 1) % files.len()];
        fx.env.run(&["verify", "--key", s(&fx.group), s(other), "--sig", s(&sig)]).expect_code(1);
    }
    // One share file per signer and phase, however many artifacts.
    assert_eq!(session_files(&d, "share-").len(), 4);
}

// ---------------------------------------------------------------------------------------------------------
// A signer knows what it signs
// ---------------------------------------------------------------------------------------------------------

#[test]
fn a_copy_that_differs_by_one_byte_or_in_size_is_refused_and_nothing_is_committed() {
    let content = b"the real release, byte for byte\n".to_vec();
    let fx = Fx::new(2, 3, &[("app.tar", &content)]);
    let d = fx.init("s");
    let bob = fx.h("Bob");
    let bob_copy = fx.build_dir(bob).join("app.tar");
    let bob_commit = d.join(names::commit(1, &fx.card("Bob")));

    let mut flipped = content.clone();
    flipped[5] ^= 0x01;
    fs::write(&bob_copy, &flipped).unwrap();
    let before = snapshot(&d);
    let out = fx.step(bob, &d);
    out.refused_with("digests differ").contains("is not the file in the request").contains("nothing was signed");
    assert!(!bob_commit.exists(), "no commitment may be published for a differing copy");
    assert_eq!(snapshot(&d), before, "the session folder is untouched");
    assert!(signing_state(bob).is_empty(), "no nonces or journal in Bob's home: {:?}", signing_state(bob));

    let mut longer = content.clone();
    longer.push(b'\n');
    fs::write(&bob_copy, &longer).unwrap();
    fx.step(bob, &d).refused_with("sizes differ").contains(&format!("{} bytes", longer.len()));
    assert!(!bob_commit.exists());
    assert!(signing_state(bob).is_empty());

    // The same keyholder with the right bytes commits.
    fs::write(&bob_copy, &content).unwrap();
    fx.step(bob, &d).ok().contains("committed");
    assert!(bob_commit.exists());
}

#[test]
fn a_group_file_changed_in_the_home_after_the_share_was_stored_is_checked_again_and_refused() {
    let fx = Fx::new(2, 3, &[("app.tar", b"release\n")]);
    let d = fx.init("s");
    let bob = fx.h("Bob");
    let gfp = fx.group().fingerprint().compact();
    let path = bob.home.join("groups").join(format!("{gfp}.pub"));
    assert!(bob.home.join("groups").join(format!("{gfp}.checked")).is_file(), "the digest is sealed with the share");
    let text = fs::read_to_string(&path).unwrap();
    // Alice's acceptance, as embedded, with one character of its signature changed: same length, same
    // wrapping, every other line of the file the same. Only its signature check can find it.
    let group = Group::parse(&text).unwrap();
    let acceptance = group.acceptances()[0].clone();
    let forged = with_signature_flipped(&acceptance, 10);
    assert!(text.contains(&embedded_block(&acceptance)));
    fs::write(&path, text.replace(&embedded_block(&acceptance), &embedded_block(&forged))).unwrap();

    let before = (snapshot(&d), snapshot(&bob.home));
    fx.step(bob, &d).refused_with("not a valid frostsign group file").refused_with("does not verify");
    assert!(before == (snapshot(&d), snapshot(&bob.home)), "a refused step changed files");
    // Put back, the file is the one Bob checked when he stored his share, and he commits.
    fs::write(&path, &text).unwrap();
    fx.step(bob, &d).ok().contains("committed");
}

#[test]
fn an_expired_request_is_refused() {
    let fx = Fx::new(2, 3, &[("app.tar", b"release")]);
    let alice = fx.h("Alice");

    // Opened 8 days ago with the default validity of 7 days.
    let eight_days_ago = (unix_now() - 8 * 24 * 3600).to_string();
    let old = fx.init_with("old", &[], &[("FROSTSIGN_NOW", &eight_days_ago)]);
    fx.step(alice, &old).refused_with("expired").contains("nothing was signed");
    assert!(session_files(&old, "commit-").is_empty());
    assert!(signing_state(alice).is_empty());

    // --expires-in 1: still valid half an hour later, expired two hours later.
    let d = fx.init_with("short", &["--expires-in", "1"], &[]);
    let in_2h = (unix_now() + 2 * 3600).to_string();
    fx.step_env(alice, &d, &[("FROSTSIGN_NOW", &in_2h)]).refused_with("expired");
    assert!(session_files(&d, "commit-").is_empty());
    let in_30m = (unix_now() + 1800).to_string();
    fx.step_env(alice, &d, &[("FROSTSIGN_NOW", &in_30m)]).ok().contains("committed");
    // Once committed, an expired request is still refused before any share is made.
    fx.step(fx.h("Bob"), &d).ok();
    fx.collect(&d).expect_code(3);
    assert!(d.join("package-a1-p1.txt").exists());
    fx.step_env(alice, &d, &[("FROSTSIGN_NOW", &in_2h)]).refused_with("expired");
    assert!(session_files(&d, "share-").is_empty());
    // The coordinator and CI see it as expired, with the way out, never as in progress (exit 3).
    let later = [("FROSTSIGN_NOW", in_2h.as_str())];
    let collect = run_env(fx.env.path("").as_path(), &["sign", "collect", "--dir", s(&d)], &later);
    collect.refused_with("expired at").contains("help: open a new session in a new folder: `frostsign sign init");
    let st = run_env(fx.env.path("").as_path(), &["sign", "status", "--dir", s(&d)], &later);
    st.expect_code(2).contains("problem: the request expired at").contains("Failed");
    let json = run_env(fx.env.path("").as_path(), &["sign", "status", "--dir", s(&d), "--json"], &later);
    let v: serde_json::Value = serde_json::from_str(&json.expect_code(2).stdout).unwrap();
    assert_eq!((&v["expired"], v["waiting_for"].as_array().map(Vec::len)), (&true.into(), Some(0)));
    // Before the expiry, the same session is in progress.
    status(&fx, &d).expect_code(3).contains("In progress");
}

#[test]
fn step_needs_the_keyholders_own_copies() {
    let fx = Fx::new(2, 3, &[("a.tar", b"aaaa"), ("b.tar", b"bbbb")]);
    let d = fx.init("s");
    let alice = fx.h("Alice");
    run_as(alice, &["sign", "step", "--dir", s(&d), "--yes"], &[]).refused_with("no copy of the artifacts");
    // Only one of the two artifacts.
    let a = fx.build_dir(alice).join("a.tar");
    run_as(alice, &["sign", "step", "--dir", s(&d), "--file", s(&a), "--yes"], &[])
        .refused_with("no copy of the artifact `b.tar`");
    // A file the request does not list.
    let stray = fx.env.path("stray.tar");
    fs::write(&stray, b"x").unwrap();
    run_as(alice, &["sign", "step", "--dir", s(&d), "--file", s(&a), "--file", s(&stray), "--yes"], &[])
        .refused_with("is not an artifact of this request");
    // A build folder missing one artifact.
    let partial = fx.env.path("partial");
    fs::create_dir_all(&partial).unwrap();
    fs::copy(&a, partial.join("a.tar")).unwrap();
    run_as(alice, &["sign", "step", "--dir", s(&d), "--artifacts", s(&partial), "--yes"], &[]).expect_code(2);
    assert!(session_files(&d, "commit-").is_empty());
    assert!(signing_state(alice).is_empty());
    // Without --yes and without a terminal, nothing is committed either.
    let b = fx.build_dir(alice).join("b.tar");
    run_as(alice, &["sign", "step", "--dir", s(&d), "--file", s(&a), "--file", s(&b)], &[]).refused_with("--yes");
    assert!(session_files(&d, "commit-").is_empty());
    // --artifacts with the whole build folder works, and the session completes that way.
    for name in ["Alice", "Bob"] {
        let h = fx.h(name);
        fx.step_folder(h, &d).ok().contains("committed");
    }
    for _ in 0..2 {
        fx.collect(&d).expect_code(3);
        for name in ["Alice", "Bob"] {
            let h = fx.h(name);
            fx.step_folder(h, &d).ok();
        }
    }
    fx.collect(&d).ok();
    verify_everywhere(&fx.env, &fx.group, &fx.artifacts[1], &d.join("b.tar.minisig"), &["file:b.tar"]);
}

/// Rewrite message `k` of a package file with the library, keeping every commitment.
fn altered_package(fx: &Fx, pkg_path: &Path, k: usize, message: &[u8]) -> String {
    let group = fx.group();
    let text = fs::read_to_string(pkg_path).unwrap();
    let pkg = PackageFile::parse(&text, &group).unwrap();
    let mut packages = pkg.packages.clone();
    packages[k] = frost::SigningPackage::new(packages[k].signing_commitments().clone(), message);
    PackageFile::encode(&pkg.session, pkg.attempt, pkg.phase, &pkg.signers, &group, &packages).unwrap()
}

#[test]
fn a_package_whose_message_was_altered_is_refused_by_every_signer() {
    let fx = Fx::new(2, 3, &[("app.tar", b"the release")]);
    let d = fx.init("s");
    let signers = ["Alice", "Carol"];
    for name in signers {
        fx.step(fx.h(name), &d).ok();
    }
    fx.collect(&d).expect_code(3).contains("built the phase-1 signing package for Alice, Carol");
    let p1 = d.join("package-a1-p1.txt");
    let original = fs::read_to_string(&p1).unwrap();

    // Phase 1: the coordinator asks for a signature over other bytes than BLAKE2b-512(app.tar).
    fs::write(&p1, altered_package(&fx, &p1, 0, b"other")).unwrap();
    fx.collect(&d).refused_with("does not sign the messages of this request");
    for name in signers {
        let h = fx.h(name);
        let nonces_before = nonce_files(h);
        assert_eq!(nonces_before.len(), 2, "phase-1 and phase-2 nonces: {nonces_before:?}");
        fx.step(h, &d).refused_with("refusing to sign").contains("is not what you computed from your own copy");
        assert!(!d.join(names::share(1, Phase::One, &fx.card(name))).exists(), "{name} published a share");
        assert_eq!(nonce_files(h), nonces_before, "{name}'s nonces are kept");
    }
    assert!(session_files(&d, "share-").is_empty());

    // The correct package restored: the same signers sign with the nonces they kept.
    fs::write(&p1, &original).unwrap();
    for name in signers {
        fx.step(fx.h(name), &d).ok().contains("published your signature shares");
    }
    fx.collect(&d).expect_code(3).contains("built the phase-2 signing package");

    // Phase 2: the coordinator tries to change the trusted comment that the global signature covers.
    let p2 = d.join("package-a1-p2.txt");
    let original2 = fs::read_to_string(&p2).unwrap();
    let pkg2 = PackageFile::parse(&original2, &fx.group()).unwrap();
    // ... or to have the comment signed next to something that is not the group's phase-1 signature.
    let mut fake_sig1 = vec![0u8; 64];
    fake_sig1.extend_from_slice(&pkg2.packages[0].message()[64..]);
    fs::write(&p2, altered_package(&fx, &p2, 0, &fake_sig1)).unwrap();
    fx.step(fx.h("Alice"), &d).refused_with("is not the group's signature of your copy");
    assert!(!d.join(names::share(1, Phase::Two, &fx.card("Alice"))).exists());
    fs::write(&p2, &original2).unwrap();
    let mut evil = pkg2.packages[0].message()[..64].to_vec();
    evil.extend_from_slice(b"timestamp:1\tfile:evil.tar\thashed");
    fs::write(&p2, altered_package(&fx, &p2, 0, &evil)).unwrap();
    for name in signers {
        fx.step(fx.h(name), &d).refused_with("refusing to sign the phase-2 package");
        assert!(!d.join(names::share(1, Phase::Two, &fx.card(name))).exists());
    }
    fs::write(&p2, &original2).unwrap();
    for name in signers {
        fx.step(fx.h(name), &d).ok();
    }
    fx.collect(&d).ok();
    verify_everywhere(&fx.env, &fx.group, &fx.artifacts[0], &d.join("app.tar.minisig"), &["file:app.tar"]);
}

#[test]
fn a_package_that_changes_my_commitment_or_has_too_few_signers_is_refused() {
    let fx = Fx::new(2, 3, &[("app.tar", b"the release")]);
    let d = fx.init("s");
    for name in ["Alice", "Carol"] {
        fx.step(fx.h(name), &d).ok();
    }
    fx.collect(&d).expect_code(3);
    let group = fx.group();
    let alice = fx.h("Alice");
    let alice_idx = group.member_index(fx.card("Alice").fingerprint()).unwrap();
    let p1 = d.join("package-a1-p1.txt");
    let original = fs::read_to_string(&p1).unwrap();
    let pkg = PackageFile::parse(&original, &group).unwrap();

    // Alice's phase-1 commitment replaced by her own phase-2 commitment (an attempt at nonce reuse).
    let req = Request::load(&d).unwrap();
    let commit_path = d.join(names::commit(1, &fx.card("Alice")));
    let round = names::commit_round(1);
    let e = Expect { kind: KIND_COMMIT, ceremony: req.digest(), round: &round, private: false };
    let opened = open(&fs::read_to_string(&commit_path).unwrap(), &commit_path, &e, group.members(), None).unwrap();
    let commit: CommitPayload = serde_json::from_slice(opened.payload.expose()).unwrap();
    let c2 = frost::round1::SigningCommitments::deserialize(&hex::decode(&commit.phase2[0]).unwrap()).unwrap();
    let mut map = pkg.packages[0].signing_commitments().clone();
    map.insert(group.identifier(alice_idx), c2);
    let swapped = frost::SigningPackage::new(map, pkg.packages[0].message());
    fs::write(&p1, PackageFile::encode(&pkg.session, 1, Phase::One, &pkg.signers, &group, &[swapped]).unwrap())
        .unwrap();
    fx.step(alice, &d).refused_with("your own commitment for message 1 is missing or was modified");

    // Only Alice as a signer: fewer than the threshold.
    let mut only_me = std::collections::BTreeMap::new();
    only_me.insert(
        group.identifier(alice_idx),
        *pkg.packages[0].signing_commitments().get(&group.identifier(alice_idx)).unwrap(),
    );
    let alone = frost::SigningPackage::new(only_me, pkg.packages[0].message());
    fs::write(&p1, PackageFile::encode(&pkg.session, 1, Phase::One, &[alice_idx], &group, &[alone]).unwrap()).unwrap();
    fx.step(alice, &d).refused_with("fewer than the threshold 2");

    // A package of another attempt.
    let text = PackageFile::encode(&pkg.session, 2, Phase::One, &pkg.signers, &group, &pkg.packages).unwrap();
    fs::write(&p1, text).unwrap();
    fx.step(alice, &d).refused_with("attempt 2");
    assert!(session_files(&d, "share-").is_empty());
    assert_eq!(nonce_files(alice).len(), 2, "nonces kept after every refusal");

    fs::write(&p1, &original).unwrap();
    assert_eq!(fx.sign_with(&d, &["Alice", "Carol"]), 2);
    verify_everywhere(&fx.env, &fx.group, &fx.artifacts[0], &d.join("app.tar.minisig"), &["file:app.tar"]);
}

#[test]
fn a_request_edited_after_commit_is_refused() {
    let fx = Fx::new(2, 3, &[("app.tar", b"the release")]);
    let d = fx.init("s");
    fx.step(fx.h("Alice"), &d).ok();
    let req_path = d.join("request.txt");
    let original = fs::read_to_string(&req_path).unwrap();
    // Same session id and artifacts, another comment (which would land in the signed trusted comment).
    fs::write(&req_path, original.replace("comment: release 1.0", "comment: release 6.6.6")).unwrap();
    fx.step(fx.h("Alice"), &d).refused_with("changed after you committed");
    // The coordinator cannot use the old commitment with the edited request either.
    // Alice's commitment belongs to the old request: it is not counted (not blamed), so collect waits.
    fx.step(fx.h("Bob"), &d).ok();
    let alice_file = names::commit(1, &fx.card("Alice"));
    fx.collect(&d)
        .expect_code(3)
        .contains(&format!("note: `{alice_file}` is not counted: from Alice"))
        .contains("belongs to another ceremony")
        .contains("waiting for any of Alice, Carol");
    assert!(!d.join("package-a1-p1.txt").exists());
}

// ---------------------------------------------------------------------------------------------------------
// Nonce safety
// ---------------------------------------------------------------------------------------------------------

/// With Alice, Bob and Carol committed in `d`: build in a copy of the folder without Bob's commitment a
/// second valid phase-1 package for the same attempt (signers Alice and Carol), and return its text.
fn alternative_package(fx: &Fx, d: &Path, alt: &str) -> String {
    let alt = fx.env.path(alt);
    fs::create_dir_all(&alt).unwrap();
    for name in ["request.txt", "group.pub"] {
        fs::copy(d.join(name), alt.join(name)).unwrap();
    }
    for name in ["Alice", "Carol"] {
        let f = names::commit(1, &fx.card(name));
        fs::copy(d.join(&f), alt.join(&f)).unwrap();
    }
    fx.collect(&alt).expect_code(3).contains("built the phase-1 signing package for Alice, Carol");
    fs::read_to_string(alt.join("package-a1-p1.txt")).unwrap()
}

#[test]
fn after_sharing_a_signer_refuses_a_second_different_package() {
    let fx = Fx::new(2, 3, &[("app.tar", b"the release")]);
    let d = fx.init("s");
    for name in ["Alice", "Bob", "Carol"] {
        fx.step(fx.h(name), &d).ok();
    }
    let alt = alternative_package(&fx, &d, "s-alt");
    // Three committed; the coordinator chooses exactly t of them (the first by member order): Carol, one
    // volunteer too many, cannot stall the release.
    fx.collect(&d).expect_code(3).contains("for Alice, Bob\n");
    let p1 = d.join("package-a1-p1.txt");
    let original = fs::read_to_string(&p1).unwrap();
    assert_ne!(alt, original);

    let alice = fx.h("Alice");
    fx.step(alice, &d).ok().contains("published your signature shares");
    let share_path = d.join(names::share(1, Phase::One, &fx.card("Alice")));
    let share = fs::read(&share_path).unwrap();
    assert_eq!(share_payload(&fx, &d, "Alice", 1, Phase::One).package, sha256_hex(original.as_bytes()));
    assert!(!nonce_files(alice).iter().any(|n| n.ends_with("-a1-p1.nonces")), "phase-1 nonces used up");

    // The coordinator (or anyone with write access) swaps in another valid package for the same attempt.
    fs::write(&p1, &alt).unwrap();
    fx.step(alice, &d).refused_with("different signing package").contains("reveal your key share");
    // The coordinator and status name the problem and the way out, instead of waiting for ever.
    fx.collect(&d).refused_with("Alice signed another phase-1 package than `package-a1-p1.txt`").contains("--restart");
    status(&fx, &d).expect_code(2).contains("problem: Alice signed another phase-1 package").contains("--restart");
    assert_eq!(fs::read(&share_path).unwrap(), share, "Alice's share is unchanged");
    // Even if her share file disappears, she does not answer the other package.
    fs::remove_file(&share_path).unwrap();
    fx.step(alice, &d).refused_with("different signing package");
    assert!(!share_path.exists());

    // The original package back: the rerun republishes the very same share, byte for byte.
    fs::write(&p1, &original).unwrap();
    fx.step(alice, &d).ok();
    assert_eq!(fs::read(&share_path).unwrap(), share);
    fx.step(alice, &d).ok();
    assert_eq!(fs::read(&share_path).unwrap(), share);
    fx.step(fx.h("Carol"), &d).ok().contains("did not choose you as a signer").contains("destroyed your nonces");
    assert_eq!(fx.sign_with(&d, &["Alice", "Bob"]), 2);
    verify_everywhere(&fx.env, &fx.group, &fx.artifacts[0], &d.join("app.tar.minisig"), &["file:app.tar"]);
}

/// The engine's failpoints around a signer's two steps: after the nonces are saved but before the journal
/// (commit), and before the journal, after the journal (nonces not yet destroyed), and after the nonces are
/// destroyed but before the share is published (share).
const CRASH_POINTS: [&str; 4] =
    ["sign-commit-before-save", "sign-share-before-save", "sign-share-after-save", "sign-share-before-publish"];

#[test]
fn a_crash_at_any_failpoint_never_yields_two_shares() {
    let fx = Fx::new(2, 3, &[("app.tar", b"the release")]);
    let alice = fx.h("Alice");
    let alice_card = fx.card("Alice");
    for point in CRASH_POINTS {
        let d = fx.init(point);
        let crash = [("FROSTSIGN_CRASH_AT", point)];
        if point == "sign-commit-before-save" {
            // A crash during the commit: nonces on disk, nothing published.
            let out = fx.step_env(alice, &d, &crash);
            assert_ne!(out.code, 0, "{point}: the step must abort:\n{}", out.all());
            out.contains("simulated crash");
            assert!(!d.join(names::commit(1, &alice_card)).exists(), "{point}: commitment published");
            // The rerun commits normally (fresh nonces), and the session completes.
            fx.step(alice, &d).ok().contains("committed");
            assert_eq!(fx.sign_with(&d, &["Alice", "Carol"]), 3, "{point}");
            assert!(nonce_files(alice).is_empty(), "{point}: nonces left: {:?}", nonce_files(alice));
            verify_everywhere(&fx.env, &fx.group, &fx.artifacts[0], &d.join("app.tar.minisig"), &["file:app.tar"]);
            continue;
        }
        for name in ["Alice", "Bob", "Carol"] {
            fx.step(fx.h(name), &d).ok();
        }
        let alt = alternative_package(&fx, &d, &format!("{point}-alt"));
        fx.collect(&d).expect_code(3);
        let p1 = d.join("package-a1-p1.txt");
        let original = fs::read_to_string(&p1).unwrap();
        let share_path = d.join(names::share(1, Phase::One, &alice_card));

        let out = fx.step_env(alice, &d, &crash);
        assert_ne!(out.code, 0, "{point}: the step must abort:\n{}", out.all());
        out.contains("simulated crash");
        assert!(!share_path.exists(), "{point}: a share left before the crash point");

        let signers: &[&str] = if point == "sign-share-before-save" {
            // Nothing was journaled and no share left the machine: the nonces are still unused, so
            // signing another package is safe, and the rerun signs it normally.
            fs::write(&p1, &alt).unwrap();
            fx.step(alice, &d).ok().contains("published your signature shares");
            assert_eq!(share_payload(&fx, &d, "Alice", 1, Phase::One).package, sha256_hex(alt.as_bytes()));
            &["Alice", "Carol"]
        } else {
            // The share is journaled: the nonces belong to the original package for ever.
            fs::write(&p1, &alt).unwrap();
            fx.step(alice, &d).refused_with("different signing package");
            assert!(!share_path.exists(), "{point}: a share for the second package appeared");
            fs::write(&p1, &original).unwrap();
            fx.step(alice, &d).ok();
            assert_eq!(share_payload(&fx, &d, "Alice", 1, Phase::One).package, sha256_hex(original.as_bytes()));
            // The coordinator chose exactly t signers: the first to commit, by member order.
            &["Alice", "Bob"]
        };
        let share = fs::read(&share_path).unwrap();
        assert!(
            !nonce_files(alice).iter().any(|n| n.ends_with("-a1-p1.nonces")),
            "{point}: phase-1 nonces remain after the share was published: {:?}",
            nonce_files(alice)
        );
        // Reruns (and a lost share file) republish the same bytes, never a second share.
        fx.step(alice, &d).ok();
        assert_eq!(fs::read(&share_path).unwrap(), share, "{point}");
        fs::remove_file(&share_path).unwrap();
        fx.step(alice, &d).ok();
        assert_eq!(fs::read(&share_path).unwrap(), share, "{point}: republished share differs");
        assert_eq!(
            session_files(&d, "share-a1-p1-")
                .iter()
                .filter(|n| n.contains(&alice_card.fingerprint().compact()))
                .count(),
            1
        );

        assert_eq!(fx.sign_with(&d, signers), 2, "{point}");
        assert!(nonce_files(alice).is_empty(), "{point}: nonces left: {:?}", nonce_files(alice));
        let sig = d.join("app.tar.minisig");
        assert!(fs::read_to_string(&sig).unwrap().contains(&format!("signed by {}", signers.join(", "))));
        verify_everywhere(&fx.env, &fx.group, &fx.artifacts[0], &sig, &["file:app.tar"]);
    }
}

#[test]
fn a_crash_during_phase_two_is_also_safe() {
    let fx = Fx::new(2, 3, &[("app.tar", b"the release")]);
    let d = fx.init("s");
    let alice = fx.h("Alice");
    for _ in 0..2 {
        for name in ["Alice", "Carol"] {
            fx.step(fx.h(name), &d).ok();
        }
        fx.collect(&d).expect_code(3);
    }
    assert!(d.join("package-a1-p2.txt").exists());
    let share2 = d.join(names::share(1, Phase::Two, &fx.card("Alice")));
    let out = fx.step_env(alice, &d, &[("FROSTSIGN_CRASH_AT", "sign-share-before-publish")]);
    assert_ne!(out.code, 0);
    assert!(!share2.exists());
    assert!(nonce_files(alice).is_empty(), "phase-2 nonces are destroyed before the share leaves");
    // The share is journaled: a different phase-2 package (here one message byte shorter) is refused.
    let p2 = d.join("package-a1-p2.txt");
    let original = fs::read_to_string(&p2).unwrap();
    let pkg = PackageFile::parse(&original, &fx.group()).unwrap();
    let msg = pkg.packages[0].message().to_vec();
    fs::write(&p2, altered_package(&fx, &p2, 0, &msg[..msg.len() - 1])).unwrap();
    fx.step(alice, &d).refused_with("different signing package");
    assert!(!share2.exists());
    fs::write(&p2, &original).unwrap();
    fx.step(alice, &d).ok();
    assert!(share2.exists());
    fx.step(fx.h("Carol"), &d).ok();
    fx.collect(&d).ok();
    verify_everywhere(&fx.env, &fx.group, &fx.artifacts[0], &d.join("app.tar.minisig"), &["file:app.tar"]);
}

// ---------------------------------------------------------------------------------------------------------
// Misbehaviour is named
// ---------------------------------------------------------------------------------------------------------

#[test]
fn a_corrupted_share_is_named_and_a_restart_without_the_culprit_completes() {
    let fx = Fx::new(2, 3, &[("app.tar", b"the release")]);
    let d = fx.init("s");
    for name in ["Alice", "Bob"] {
        fx.step(fx.h(name), &d).ok();
    }
    fx.collect(&d).expect_code(3);
    for name in ["Alice", "Bob"] {
        fx.step(fx.h(name), &d).ok();
    }
    let bob_file = names::share(1, Phase::One, &fx.card("Bob"));
    let bob_path = d.join(&bob_file);
    let genuine = fs::read_to_string(&bob_path).unwrap();
    let minisig = d.join("app.tar.minisig");

    // 1. A byte flipped in transit: the envelope no longer verifies. Nobody can be blamed for an unsigned
    // file: collect names the file and why, and waits for Bob's share as if it were not there yet.
    let at = genuine.find("payload:\n ").unwrap() + "payload:\n ".len() + 5;
    let mut bytes = genuine.clone().into_bytes();
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    fs::write(&bob_path, &bytes).unwrap();
    let out = fx.collect(&d);
    out.expect_code(3)
        .contains(&format!("note: `{bob_file}` is not counted: the signature of Bob"))
        .contains("does not verify")
        .contains("Waiting for phase-1 signature shares from Bob.");
    assert!(!out.all().contains("culprit"), "{}", out.all());
    assert!(!minisig.exists());
    assert!(!d.join("package-a1-p2.txt").exists());

    // 2. Bob signs (with his own identity) a share that is well-formed but wrong: Alice's share values.
    let mut payload = share_payload(&fx, &d, "Alice", 1, Phase::One);
    assert_eq!(payload.shares.len(), 1);
    fs::write(&bob_path, &genuine).unwrap();
    let bob_real = share_payload(&fx, &d, "Bob", 1, Phase::One);
    assert_ne!(bob_real.shares, payload.shares);
    payload.package = bob_real.package.clone();
    let bob = fx.h("Bob");
    seal_as(
        &fx,
        &d,
        "Bob",
        &bob_file,
        KIND_SHARE,
        &names::share_round(1, Phase::One),
        &serde_json::to_vec(&payload).unwrap(),
    );
    let out = fx.collect(&d);
    out.expect_code(2).contains("culprit: Bob").contains("does not verify").contains("--without \"Bob\"");
    assert!(!out.all().contains("culprit: Alice"), "only the culprit is named:\n{}", out.all());
    assert!(!minisig.exists(), "no signature may be written from an invalid share");
    assert!(!d.join("package-a1-p2.txt").exists());

    // 3. A fresh attempt without Bob: new nonces, Carol takes his place.
    fx.env
        .run(&["sign", "collect", "--dir", s(&d), "--restart", "--without", "Bob"])
        .expect_code(3)
        .contains("opened attempt 2")
        .contains("without Bob");
    assert!(d.join("restart-a2.txt").exists());
    fx.step(bob, &d).ok().contains("left you out of attempt 2");
    assert!(!d.join(names::commit(2, &fx.card("Bob"))).exists());
    fx.step(fx.h("Alice"), &d).ok().contains("committed (attempt 2)");
    // Hiding the restart file cannot take Alice back to attempt 1.
    fs::rename(d.join("restart-a2.txt"), fx.env.path("restart-a2.txt")).unwrap();
    fx.step(fx.h("Alice"), &d).refused_with("already committed to attempt 2");
    fs::rename(fx.env.path("restart-a2.txt"), d.join("restart-a2.txt")).unwrap();
    assert!(
        !nonce_files(fx.h("Alice")).iter().any(|n| n.contains("-a1-")),
        "attempt-1 nonces are destroyed when attempt 2 starts: {:?}",
        nonce_files(fx.h("Alice"))
    );
    assert_eq!(fx.sign_with(&d, &["Alice", "Carol"]), 3);
    let text = fs::read_to_string(&minisig).unwrap();
    assert!(text.contains("signed by Alice, Carol"), "{text}");
    verify_everywhere(&fx.env, &fx.group, &fx.artifacts[0], &minisig, &["file:app.tar", "comment:release 1.0"]);
}

#[test]
fn collect_reports_a_commitment_that_went_missing_instead_of_crashing() {
    // A chosen signer's commitment file disappears from the shared folder (sync conflict, careless
    // clean-up) after the phase-1 package was built. Phase 2 needs its phase-2 commitments: collect must
    // say what is missing (exit 2 or keep waiting), not panic.
    let fx = Fx::new(2, 3, &[("app.tar", b"the release")]);
    let d = fx.init("s");
    for _ in 0..2 {
        for name in ["Alice", "Carol"] {
            fx.step(fx.h(name), &d).ok();
        }
        if d.join("package-a1-p1.txt").exists() {
            break;
        }
        fx.collect(&d).expect_code(3);
    }
    assert!(d.join(names::share(1, Phase::One, &fx.card("Carol"))).exists());
    let commit = d.join(names::commit(1, &fx.card("Carol")));
    let saved = fs::read(&commit).unwrap();
    fs::remove_file(&commit).unwrap();
    let out = fx.collect(&d);
    assert!(
        out.code == 2 || out.code == 3,
        "collect must report the missing commitment, not crash (exit {}):\n{}",
        out.code,
        out.all()
    );
    assert!(!out.all().contains("panicked"), "collect panicked:\n{}", out.all());
    out.contains("Carol");
    assert!(!d.join("app.tar.minisig").exists());
    // Carol (or anyone holding the file) puts it back: the session completes.
    fs::write(&commit, saved).unwrap();
    assert_eq!(fx.sign_with(&d, &["Alice", "Carol"]), 2);
}

#[test]
fn a_restart_that_leaves_fewer_than_t_keyholders_is_refused() {
    // 2-of-3 without Bob and Carol leaves Alice alone: such an attempt can never complete, so opening it
    // must be refused (exit 2) rather than leave a session that waits for ever.
    let fx = Fx::new(2, 3, &[("app.tar", b"the release")]);
    let d = fx.init("s");
    let out = fx.env.run(&["sign", "collect", "--dir", s(&d), "--restart", "--without", "Bob", "--without", "Carol"]);
    out.expect_code(2);
    let msg = out.all().to_lowercase();
    assert!(msg.contains("threshold") || msg.contains("fewer"), "the refusal should say why:\n{}", out.all());
    assert!(!d.join("restart-a2.txt").exists(), "an attempt that cannot reach the threshold was opened");
    // An unknown name lists the members; a prefix that fits two names lists both.
    let restart = |who: &str| fx.env.run(&["sign", "collect", "--dir", s(&d), "--restart", "--without", who]);
    restart("Zed").refused_with("`Zed` is not a member").contains("the members are: Alice, Bob, Carol");
    restart("").refused_with("is not a member");
    // Leaving out one keyholder is fine, named by any unambiguous prefix of its name.
    restart("bo").expect_code(3).contains("without Bob");
    assert!(d.join("restart-a2.txt").exists());
    assert_eq!(fx.sign_with(&d, &["Alice", "Carol"]), 3);
}

// ---------------------------------------------------------------------------------------------------------
// Status and audit
// ---------------------------------------------------------------------------------------------------------

fn status(fx: &Fx, d: &Path) -> Out {
    fx.env.run(&["sign", "status", "--dir", s(d)])
}

fn status_json(fx: &Fx, d: &Path) -> (i32, serde_json::Value) {
    let out = fx.env.run(&["sign", "status", "--dir", s(d), "--json"]);
    let v = serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", out.all()));
    (out.code, v)
}

/// The status table row of keyholder `name`.
fn row<'a>(out: &'a Out, name: &str) -> &'a str {
    out.stdout
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("{name} ")))
        .unwrap_or_else(|| panic!("no row for {name}:\n{}", out.stdout))
}

fn member<'a>(v: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    v["members"].as_array().unwrap().iter().find(|m| m["name"] == name).unwrap()
}

#[test]
fn status_shows_progress_and_audits_the_finished_session() {
    let fx = Fx::new(2, 3, &[("app.tar", b"the release")]);
    let d = fx.init("s");

    let out = status(&fx, &d);
    out.expect_code(3).contains("In progress: waiting for Alice, Bob, Carol");

    fx.step(fx.h("Alice"), &d).ok();
    let out = status(&fx, &d);
    out.expect_code(3).contains("waiting for Bob, Carol");
    assert!(row(&out, "Alice").contains("yes") && row(&out, "Alice").contains("match request"));
    assert!(!row(&out, "Bob").contains("yes"));
    let (code, v) = status_json(&fx, &d);
    assert_eq!(code, 3);
    assert_eq!(v["done"], false);
    assert_eq!(member(&v, "Alice")["committed"], true);
    assert_eq!(member(&v, "Alice")["attested_match"], true);
    assert_eq!(member(&v, "Bob")["committed"], false);
    assert!(member(&v, "Bob")["attested_match"].is_null());

    fx.step(fx.h("Carol"), &d).ok();
    fx.collect(&d).expect_code(3);
    let out = status(&fx, &d);
    out.expect_code(3).contains("Alice").contains("the coordinator");
    let (_, v) = status_json(&fx, &d);
    let waiting: Vec<&str> = v["waiting_for"].as_array().unwrap().iter().map(|x| x.as_str().unwrap()).collect();
    assert!(waiting.contains(&"Alice") && waiting.contains(&"Carol") && !waiting.contains(&"Bob"), "{waiting:?}");
    assert_eq!(member(&v, "Carol")["chosen"], true);
    assert_eq!(member(&v, "Bob")["chosen"], false);

    fx.sign_with(&d, &["Alice", "Carol"]);
    let out = status(&fx, &d);
    out.ok().contains("Done").contains("app.tar.minisig: valid");
    for name in ["Alice", "Carol"] {
        let r = row(&out, name);
        assert!(r.contains("match request"), "{r}");
        assert_eq!(r.matches("yes").count(), 4, "committed, signer, phase 1, phase 2: {r}");
    }
    assert!(!row(&out, "Bob").contains("match request"));
    let (code, v) = status_json(&fx, &d);
    assert_eq!(code, 0);
    assert_eq!(v["done"], true);
    assert_eq!(v["threshold"], 2);
    assert_eq!(v["artifacts"][0]["name"], "app.tar");
    assert_eq!(v["artifacts"][0]["valid"], true);
    assert!(v["problems"].as_array().unwrap().is_empty());
    for name in ["Alice", "Carol"] {
        let m = member(&v, name);
        assert_eq!((m["committed"].clone(), m["attested_match"].clone()), (true.into(), true.into()));
        assert_eq!((m["phase1"].clone(), m["phase2"].clone()), (true.into(), true.into()));
        // The audit trail: the digests each signer attests it computed from its own copy.
        let att = &m["attested"][0];
        assert_eq!(att["name"], "app.tar");
        assert_eq!(att["sha256"], sha256_hex(b"the release"));
    }
    assert!(member(&v, "Bob")["attested"].as_array().unwrap().is_empty());

    // The audit re-verifies the finished signature: a tampered .minisig is not done. Nobody signs that file,
    // so it is a stray, not a failure; collect writes it again from the signed shares.
    let sig = d.join("app.tar.minisig");
    let text = fs::read_to_string(&sig).unwrap();
    fs::write(&sig, text.replace("file:app.tar", "file:app.taz")).unwrap();
    status(&fx, &d)
        .expect_code(3)
        .contains("app.tar.minisig: not yet")
        .contains("stray: app.tar.minisig: does not verify against the request and the group key");
    let (code, v) = status_json(&fx, &d);
    assert_eq!((code, v["done"].clone(), v["problems"].clone()), (3, false.into(), serde_json::json!([])));
    assert_eq!(v["strays"][0]["file"], "app.tar.minisig");
    fx.collect(&d).ok();
    assert_eq!(status_json(&fx, &d).0, 0);
}

/// Principle 4: nonces live only between commit and share. A keyholder who committed but was not chosen
/// (it committed after the package was built) destroys its nonces as soon as it learns that.
#[test]
fn a_keyholder_not_chosen_destroys_its_nonces() {
    let fx = Fx::new(2, 3, &[("late.bin", &[3u8; 1000])]);
    let d = fx.init("s");
    for name in ["Alice", "Bob"] {
        fx.step(fx.h(name), &d).ok();
    }
    fx.collect(&d).expect_code(3).contains("built the phase-1 signing package for Alice, Bob");
    let carol = fx.h("Carol");
    // Carol commits, sees in the same step that the package was built without her, and destroys the
    // nonces she just made; a rerun says the same and changes nothing.
    fx.step(carol, &d).ok().contains("committed").contains("did not choose you");
    assert!(nonce_files(carol).is_empty(), "Carol's unusable nonces were not destroyed: {:?}", nonce_files(carol));
    fx.step(carol, &d).ok().contains("did not choose you");
    fx.sign_with(&d, &["Alice", "Bob"]);
    assert!(d.join("late.bin.minisig").exists());
    assert!(!d.join(names::share(1, Phase::One, &fx.card("Carol"))).exists());
}

// ---------------------------------------------------------------------------------------------------------
// A home restored from a raw copy or a snapshot (issue 8 item 6)
// ---------------------------------------------------------------------------------------------------------

/// Take a raw copy of `h`'s home, as a backup tool or a VM snapshot would (`cp -a`).
fn copy_home(fx: &Fx, h: &Holder, label: &str) -> PathBuf {
    let copy = fx.env.path(&format!("snapshot-{}-{label}", h.name.to_lowercase()));
    let st = std::process::Command::new("cp").arg("-a").arg(&h.home).arg(&copy).status().unwrap();
    assert!(st.success());
    copy
}

/// Put a raw copy back in place of `h`'s home.
fn restore_home(h: &Holder, copy: &Path) {
    fs::remove_dir_all(&h.home).unwrap();
    let st = std::process::Command::new("cp").arg("-a").arg(copy).arg(&h.home).status().unwrap();
    assert!(st.success());
}

/// The refusal of a home that forgot what it did in the session, naming `what`.
#[track_caller]
fn forgot(o: &Out, what: &str) {
    refused(
        o,
        &[
            "this home does not remember what you already did in this signing session",
            what,
            "restored from a backup or a snapshot",
            "every nonce of this session in your home was destroyed",
            "sign collect --dir",
            "--restart",
        ],
    );
}

fn restart(fx: &Fx, d: &Path, attempt: u32) {
    fx.env
        .run(&["sign", "collect", "--dir", s(d), "--restart"])
        .expect_code(3)
        .contains(&format!("opened attempt {attempt}"));
}

#[test]
fn a_home_restored_to_before_its_commitment_refuses_and_commits_afresh_after_a_restart() {
    let fx = Fx::new(2, 3, &[("app.tar", b"the release")]);
    let d = fx.init("s");
    let alice = fx.h("Alice");
    let before_session = copy_home(&fx, alice, "before-session");
    fx.step(alice, &d).ok().contains("committed");
    fx.step(fx.h("Bob"), &d).ok();
    fx.collect(&d).expect_code(3);
    fx.step(alice, &d).ok().contains("published your signature shares");

    // The copy from before the session comes back: no journal, but Alice's signed commitment is there.
    restore_home(alice, &before_session);
    let folder = snapshot(&d);
    forgot(&fx.step(alice, &d), "your signed commitment for attempt 1 is in the folder");
    assert!(signing_state(alice).is_empty(), "no nonce and no journal may be made: {:?}", signing_state(alice));
    assert_eq!(snapshot(&d), folder, "nothing was published");
    // Every rerun refuses the same way until the coordinator opens a fresh attempt.
    forgot(&fx.step(alice, &d), "attempt 1");

    restart(&fx, &d, 2);
    fx.step(alice, &d).ok().contains("committed (attempt 2)");
    assert_eq!(nonce_files(alice).len(), 2, "fresh nonces for attempt 2: {:?}", nonce_files(alice));
    assert_eq!(fx.sign_with(&d, &["Alice", "Bob"]), 3);
    verify_everywhere(&fx.env, &fx.group, &fx.artifacts[0], &d.join("app.tar.minisig"), &["file:app.tar"]);
}

#[test]
fn a_home_restored_to_an_earlier_attempt_refuses_and_destroys_the_nonces_it_brought_back() {
    let fx = Fx::new(2, 3, &[("app.tar", b"the release")]);
    let d = fx.init("s");
    let alice = fx.h("Alice");
    for name in ["Alice", "Bob"] {
        fx.step(fx.h(name), &d).ok();
    }
    let in_attempt_1 = copy_home(&fx, alice, "attempt-1");
    restart(&fx, &d, 2);
    fx.step(alice, &d).ok().contains("committed (attempt 2)");

    // The copy comes back with its attempt-1 journal and nonces; the folder holds Alice's attempt-2 commitment.
    restore_home(alice, &in_attempt_1);
    assert_eq!(nonce_files(alice).iter().filter(|n| n.contains("-a1-")).count(), 2, "{:?}", nonce_files(alice));
    let folder = snapshot(&d);
    forgot(&fx.step(alice, &d), "your signed commitment for attempt 2 is in the folder");
    assert!(nonce_files(alice).is_empty(), "the restored nonces must be destroyed: {:?}", nonce_files(alice));
    assert_eq!(snapshot(&d), folder);

    restart(&fx, &d, 3);
    fx.step(alice, &d).ok().contains("committed (attempt 3)");
    assert_eq!(fx.sign_with(&d, &["Alice", "Bob"]), 3);
    verify_everywhere(&fx.env, &fx.group, &fx.artifacts[0], &d.join("app.tar.minisig"), &["file:app.tar"]);
}

#[test]
fn a_home_restored_after_signing_cannot_answer_a_second_package_with_the_same_nonces() {
    let fx = Fx::new(2, 3, &[("app.tar", b"the release")]);
    let d = fx.init("s");
    let (alice, carol) = (fx.h("Alice"), fx.h("Carol"));
    for name in ["Alice", "Bob"] {
        fx.step(fx.h(name), &d).ok();
    }
    fx.collect(&d).expect_code(3).contains("built the phase-1 signing package for Alice, Bob");
    let committed = copy_home(&fx, alice, "committed");
    fx.step(alice, &d).ok().contains("published your signature shares");
    let share_path = d.join(names::share(1, Phase::One, &fx.card("Alice")));
    let share = fs::read(&share_path).unwrap();
    fx.step(carol, &d).ok().contains("did not choose you");

    // The copy comes back: its journal says phase 1 is unsigned and its phase-1 nonces are back. A
    // coordinator now asks for the same message with another signer set (Alice and Carol), which would
    // make Alice answer a second challenge with the nonce of her first share, revealing her key share.
    restore_home(alice, &committed);
    assert_eq!(nonce_files(alice).len(), 2);
    let group = fx.group();
    let req = Request::load(&d).unwrap();
    let p1 = d.join("package-a1-p1.txt");
    let pkg = PackageFile::parse(&fs::read_to_string(&p1).unwrap(), &group).unwrap();
    let round = names::commit_round(1);
    let e = Expect { kind: KIND_COMMIT, ceremony: req.digest(), round: &round, private: false };
    let commitment = |name: &str| {
        let path = d.join(names::commit(1, &fx.card(name)));
        let opened = open(&fs::read_to_string(&path).unwrap(), &path, &e, group.members(), None).unwrap();
        let c: CommitPayload = serde_json::from_slice(opened.payload.expose()).unwrap();
        frost::round1::SigningCommitments::deserialize(&hex::decode(&c.phase1[0]).unwrap()).unwrap()
    };
    let idx = |name: &str| group.member_index(fx.card(name).fingerprint()).unwrap();
    let map = [("Alice", idx("Alice")), ("Carol", idx("Carol"))]
        .into_iter()
        .map(|(name, i)| (group.identifier(i), commitment(name)))
        .collect();
    let other = frost::SigningPackage::new(map, pkg.packages[0].message());
    let signers = [idx("Alice"), idx("Carol")];
    fs::write(&p1, PackageFile::encode(&pkg.session, 1, Phase::One, &signers, &group, &[other]).unwrap()).unwrap();

    forgot(&fx.step(alice, &d), "your signed phase-1 shares for attempt 1 are in the folder");
    assert!(nonce_files(alice).is_empty(), "the restored nonces must be destroyed: {:?}", nonce_files(alice));
    assert_eq!(fs::read(&share_path).unwrap(), share, "no second share was made");
    assert_eq!(session_files(&d, "share-"), [names::share(1, Phase::One, &fx.card("Alice"))], "Alice's one share only");

    restart(&fx, &d, 2);
    fx.step(alice, &d).ok().contains("committed (attempt 2)");
    assert_eq!(fx.sign_with(&d, &["Alice", "Carol"]), 3);
    let sig = d.join("app.tar.minisig");
    assert!(fs::read_to_string(&sig).unwrap().contains("signed by Alice, Carol"));
    verify_everywhere(&fx.env, &fx.group, &fx.artifacts[0], &sig, &["file:app.tar"]);
}

#[test]
fn a_file_under_my_name_that_i_did_not_sign_is_no_evidence_and_destroys_no_nonce() {
    // Destroying nonces costs only availability, but if an unsigned file could trigger it, whoever hosts
    // the folder could block a signer at will. Only files this keyholder signed count as evidence.
    let fx = Fx::new(2, 3, &[("app.tar", b"the release")]);
    let d = fx.init("s");
    let alice = fx.h("Alice");
    for name in ["Alice", "Bob"] {
        fx.step(fx.h(name), &d).ok();
    }
    fx.collect(&d).expect_code(3);
    fx.step(fx.h("Bob"), &d).ok().contains("published your signature shares");
    let mine = d.join(names::share(1, Phase::One, &fx.card("Alice")));
    let bobs = d.join(names::share(1, Phase::One, &fx.card("Bob")));

    // Bob's genuine, signed share copied under Alice's name, before she signs.
    fs::copy(&bobs, &mine).unwrap();
    let o = fx.step(alice, &d);
    o.refused_with("already exists with different content");
    assert!(!o.all().contains("does not remember"), "{}", o.all());
    let p2: Vec<String> = nonce_files(alice).into_iter().filter(|n| n.ends_with("-a1-p2.nonces")).collect();
    assert_eq!(p2.len(), 1, "Alice's phase-2 nonces are kept: {:?}", nonce_files(alice));

    // Garbage under her name once she has signed (her journal holds her real share).
    fs::write(&mine, "frostsign-message: 1\nkind: sign-share\nnot a real file\n").unwrap();
    let o = fx.step(alice, &d);
    o.refused_with("already exists with different content");
    assert!(!o.all().contains("does not remember"), "{}", o.all());
    assert_eq!(nonce_files(alice), p2, "Alice's phase-2 nonces are kept");

    // The file removed, her journaled share is published and the session completes.
    fs::remove_file(&mine).unwrap();
    fx.step(alice, &d).ok();
    let payload = share_payload(&fx, &d, "Alice", 1, Phase::One);
    assert_eq!(payload.package, sha256_hex(fs::read_to_string(d.join("package-a1-p1.txt")).unwrap().as_bytes()));
    assert_eq!(fx.sign_with(&d, &["Alice", "Bob"]), 2);
    verify_everywhere(&fx.env, &fx.group, &fx.artifacts[0], &d.join("app.tar.minisig"), &["file:app.tar"]);
}

// ---------------------------------------------------------------------------------------------------------
// Issue 8: culprits need a signed file; unsigned files are strays; output names stay in their folder
// ---------------------------------------------------------------------------------------------------------

/// The `culprits` of `sign status --json`, as (keyholder, file, reason).
fn culprits(v: &serde_json::Value) -> Vec<(String, String, String)> {
    let text = |x: &serde_json::Value| x.as_str().unwrap().to_string();
    v["culprits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (text(&c["keyholder"]), text(&c["file"]), text(&c["reason"])))
        .collect()
}

/// The `strays` of `sign status --json`, as (file, reason), sorted.
fn strays(v: &serde_json::Value) -> Vec<(String, String)> {
    let text = |x: &serde_json::Value| x.as_str().unwrap().to_string();
    let mut out: Vec<_> =
        v["strays"].as_array().unwrap().iter().map(|c| (text(&c["file"]), text(&c["reason"]))).collect();
    out.sort();
    out
}

#[test]
fn a_signed_commitment_with_malformed_frost_bytes_names_its_keyholder_and_collect_signs_without_them() {
    let fx = Fx::new(2, 3, &[("app.tar", b"the release")]);
    let d = fx.init("s");
    for name in ["Alice", "Bob"] {
        fx.step(fx.h(name), &d).ok();
    }
    // Bob's client publishes a commitment, validly signed by Bob, whose FROST bytes are not a commitment.
    let file = names::commit(1, &fx.card("Bob"));
    let round = names::commit_round(1);
    let genuine = payload_bytes(&fx, &d, &file, KIND_COMMIT, &round);
    let mut p: serde_json::Value = serde_json::from_slice(&genuine).unwrap();
    p["phase1"][0] = "00".repeat(69).into();
    seal_as(&fx, &d, "Bob", &file, KIND_COMMIT, &round, &json_ordered_like(&genuine, &p));
    let reason = "its phase-1 commitment 1 is not a FROST commitment";

    // status names Bob and the file instead of waiting for him.
    let out = status(&fx, &d);
    out.expect_code(2).contains(&format!("problem: `{file}` is signed by Bob but {reason} (culprit: Bob)"));
    let (_, v) = status_json(&fx, &d);
    assert_eq!(culprits(&v), [("Bob".to_string(), file.clone(), reason.to_string())]);
    assert_eq!(member(&v, "Bob")["committed"], false);

    // collect leaves Bob out, says so, and picks Carol when she commits.
    fx.collect(&d)
        .expect_code(3)
        .contains(&format!("- left out Bob: `{file}` is signed by Bob but {reason} (culprit: Bob)"))
        .contains("Waiting for commitments: 1 of the 2 needed are in; waiting for any of Carol.");
    assert!(!d.join("package-a1-p1.txt").exists());
    fx.step(fx.h("Carol"), &d).ok();
    fx.collect(&d).expect_code(3).contains("built the phase-1 signing package for Alice, Carol");
    assert_eq!(fx.sign_with(&d, &["Alice", "Carol"]), 2);
    assert!(fs::read_to_string(d.join("app.tar.minisig")).unwrap().contains("signed by Alice, Carol"));
}

#[test]
fn every_malformed_field_of_a_signed_commitment_names_its_keyholder_and_file() {
    let fx = Fx::new(2, 3, &[("app.tar", b"the release")]);
    let d = fx.init("s");
    // Carol is left out of attempt 2, so a malformed commitment from Bob leaves too few keyholders.
    fx.env.run(&["sign", "collect", "--dir", s(&d), "--restart", "--without", "Carol"]).expect_code(3);
    for name in ["Alice", "Bob"] {
        fx.step(fx.h(name), &d).ok().contains("committed (attempt 2)");
    }
    let file = names::commit(2, &fx.card("Bob"));
    let round = names::commit_round(2);
    let bytes = payload_bytes(&fx, &d, &file, KIND_COMMIT, &round);
    let genuine: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let edit = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut p = genuine.clone();
        f(&mut p);
        json_ordered_like(&bytes, &p)
    };
    let cases: [(Vec<u8>, &str); 8] = [
        (edit(&|p| p["attempt"] = 1.into()), "its payload says attempt 1, but it is signed for attempt 2"),
        (edit(&|p| p["phase1"] = serde_json::json!([])), "it holds 0 phase-1 commitments, the request needs 1"),
        (edit(&|p| p["phase2"][0] = "zz".into()), "its phase-2 commitment 1 is not a FROST commitment"),
        (
            edit(&|p| p["artifacts"][0]["sha256"] = "00".into()),
            "its attested digests of `app.tar` are not a BLAKE2b-512 and a SHA-256 digest",
        ),
        (
            edit(&|p| p["artifacts"][0]["name"] = "other.tar".into()),
            "its attested artifact 1 is not `app.tar`, the request's artifact 1",
        ),
        (
            edit(&|p| p["artifacts"] = serde_json::json!([])),
            "it attests digests of 0 artifacts, but the request lists 1",
        ),
        (b"[]".to_vec(), "its payload is not a signing commitment (invalid length 0, expected struct CommitPayload"),
        (
            [b"{ ".as_slice(), &bytes[1..]].concat(),
            "its payload is not a signing commitment (it is not written in frostsign's one form",
        ),
    ];
    for (bytes, reason) in cases {
        seal_as(&fx, &d, "Bob", &file, KIND_COMMIT, &round, &bytes);
        let out = fx.collect(&d);
        refused(
            &out,
            &[
                "attempt 2 cannot reach the threshold 2: 1 usable commitment(s), and nobody else is left to commit",
                &format!("culprit: Bob: `{file}` is signed by Bob but {reason}"),
                "nothing was written",
                "--restart --without \"Bob\"",
            ],
        );
        assert!(!d.join("package-a2-p1.txt").exists(), "{reason}");
        status(&fx, &d).expect_code(2).contains(&format!("`{file}` is signed by Bob but {reason}"));
        let (_, v) = status_json(&fx, &d);
        let c = culprits(&v);
        assert_eq!((c.len(), c[0].0.as_str(), c[0].1.as_str()), (1, "Bob", file.as_str()), "{reason}");
        assert!(c[0].2.starts_with(reason), "{reason}: {c:?}");
    }
    // The recovery collect printed: a fresh attempt without Bob.
    fx.env.run(&["sign", "collect", "--dir", s(&d), "--restart", "--without", "Bob"]).expect_code(3);
    assert_eq!(fx.sign_with(&d, &["Alice", "Carol"]), 3);
}

#[test]
fn every_malformed_field_of_a_signed_share_names_its_keyholder_and_file() {
    let fx = Fx::new(2, 3, &[("app.tar", b"the release")]);
    let d = fx.init("s");
    for _ in 0..2 {
        for name in ["Alice", "Bob"] {
            fx.step(fx.h(name), &d).ok();
        }
        if !d.join("package-a1-p1.txt").exists() {
            fx.collect(&d).expect_code(3);
        }
    }
    let file = names::share(1, Phase::One, &fx.card("Bob"));
    let round = names::share_round(1, Phase::One);
    let bytes = payload_bytes(&fx, &d, &file, KIND_SHARE, &round);
    let genuine: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let genuine_file = fs::read(d.join(&file)).unwrap();
    let edit = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut p = genuine.clone();
        f(&mut p);
        json_ordered_like(&bytes, &p)
    };
    let cases: [(Vec<u8>, &str); 6] = [
        (
            edit(&|p| p["attempt"] = 2.into()),
            "its payload says attempt 2, phase 1, but it is signed for attempt 1, phase 1",
        ),
        (
            edit(&|p| p["phase"] = 2.into()),
            "its payload says attempt 1, phase 2, but it is signed for attempt 1, phase 1",
        ),
        (edit(&|p| p["package"] = "xyz".into()), "its package digest is not a SHA-256 digest"),
        (edit(&|p| p["shares"] = serde_json::json!([])), "it holds 0 signature shares, the package needs 1"),
        (edit(&|p| p["shares"][0] = "zz".into()), "its signature share 1 is not a FROST signature share"),
        (b"{}".to_vec(), "its payload is not a set of signature shares (missing field `attempt`"),
    ];
    for (bytes, reason) in cases {
        seal_as(&fx, &d, "Bob", &file, KIND_SHARE, &round, &bytes);
        refused(
            &fx.collect(&d),
            &[
                "malformed phase-1 signature shares from Bob",
                &format!("culprit: Bob: `{file}` is signed by Bob but {reason}"),
                "no signature was written",
                "--restart --without \"Bob\"",
            ],
        );
        assert!(!d.join("package-a1-p2.txt").exists() && !d.join("app.tar.minisig").exists(), "{reason}");
        status(&fx, &d).expect_code(2).contains(&format!("`{file}` is signed by Bob but {reason}"));
    }
    // A well-formed share for another package: the unsigned package may have been replaced, so Bob is not
    // blamed (no culprit); his share does not count, and collect and status say why and what to do.
    let other = edit(&|p| p["package"] = sha256_hex(b"another package").into());
    seal_as(&fx, &d, "Bob", &file, KIND_SHARE, &round, &other);
    let why = "it answers another signing package than `package-a1-p1.txt`";
    fx.collect(&d).refused_with("Bob signed another phase-1 package").contains("--restart");
    let (code, v) = status_json(&fx, &d);
    assert_eq!((code, culprits(&v).len()), (2, 0));
    assert!(strays(&v).iter().any(|(f, r)| *f == file && r.starts_with(why)), "{v}");
    // Bob's genuine share back: the session completes.
    fs::write(d.join(&file), genuine_file).unwrap();
    assert_eq!(fx.sign_with(&d, &["Alice", "Bob"]), 2);
}

#[test]
fn unsigned_or_unreadable_files_are_strays_that_never_fail_status_or_collect() {
    let fx = Fx::new(2, 3, &[("app.tar", b"the release")]);
    let d = fx.init("s");
    fx.step(fx.h("Alice"), &d).ok();
    let (bob, carol) = (names::commit(1, &fx.card("Bob")), names::commit(1, &fx.card("Carol")));
    // Garbage under Bob's name, Alice's signed commitment under Carol's, and files the session does not know.
    fs::write(d.join(&bob), "garbage\n").unwrap();
    fs::copy(d.join(names::commit(1, &fx.card("Alice"))), d.join(&carol)).unwrap();
    fs::write(d.join("notes.txt"), "hello\n").unwrap();
    fs::write(d.join("evil\x1b[2J.txt"), "x").unwrap();
    std::os::unix::fs::symlink(fx.env.path("pass-alice"), d.join("link.txt")).unwrap();
    assert!(std::process::Command::new("mkfifo").arg(d.join("fifo.txt")).status().unwrap().success());
    fs::create_dir(d.join("sub")).unwrap();
    let unknown = [
        ("evil\\033[2J.txt", "not a file of this session"),
        ("fifo.txt", "is not a regular file (a FIFO, socket or device?)"),
        ("link.txt", "a symbolic link this session does not use (not followed)"),
        ("notes.txt", "not a file of this session"),
        ("sub", "a folder this session does not use"),
    ];

    let out = status(&fx, &d);
    out.expect_code(3).contains("In progress: waiting for Bob, Carol.");
    out.contains(&format!("stray: {bob}: not a frostsign message: this is not a frostsign message file"));
    out.contains(&format!("stray: {carol}: the file name says it comes from Carol"));
    assert!(!out.all().contains('\x1b') && !out.all().contains("problem:"), "{}", out.all());
    let (code, v) = status_json(&fx, &d);
    assert_eq!((code, v["problems"].clone(), culprits(&v).len()), (3, serde_json::json!([]), 0));
    let st = strays(&v);
    assert_eq!(st.len(), 7, "{st:?}");
    for (file, reason) in unknown {
        assert!(st.contains(&(file.to_string(), reason.to_string())), "{file}: {st:?}");
    }
    assert!(st.iter().any(|(f, r)| *f == carol && r.contains("but it was signed by Alice")), "{st:?}");
    for name in ["Bob", "Carol"] {
        assert_eq!(member(&v, name)["committed"], false);
    }

    // collect neither uses nor blames them: Bob's and Carol's files are not there yet.
    let out = fx.collect(&d);
    out.expect_code(3).contains(&format!("note: `{bob}` is not counted: not a frostsign message"));
    out.contains(&format!("note: `{carol}` is not counted: the file name says it comes from Carol"));
    out.contains("waiting for any of Bob, Carol");
    assert!(!d.join("package-a1-p1.txt").exists() && !out.all().contains("culprit"));

    // The same for a share: Alice's signed share copied under Bob's name does not count.
    fs::remove_file(d.join(&bob)).unwrap();
    fs::remove_file(d.join(&carol)).unwrap();
    fx.step(fx.h("Bob"), &d).ok();
    fx.collect(&d).expect_code(3).contains("built the phase-1 signing package for Alice, Bob");
    fx.step(fx.h("Alice"), &d).ok();
    let bob_share = names::share(1, Phase::One, &fx.card("Bob"));
    fs::copy(d.join(names::share(1, Phase::One, &fx.card("Alice"))), d.join(&bob_share)).unwrap();
    status(&fx, &d).expect_code(3).contains(&format!("stray: {bob_share}: the file name says it comes from Bob"));
    fx.collect(&d).expect_code(3).contains(&format!("note: `{bob_share}` is not counted")).contains("from Bob.");
    fs::remove_file(d.join(&bob_share)).unwrap();

    // Done rests on the outputs verifying; the strays the session does not know are still listed.
    fx.sign_with(&d, &["Alice", "Bob"]);
    let (code, v) = status_json(&fx, &d);
    assert_eq!((code, v["done"].clone(), strays(&v).len()), (0, true.into(), unknown.len()));
}

#[test]
fn output_names_that_collide_or_name_an_artifact_are_refused_at_init_and_in_a_crafted_request() {
    let fx = Fx::new(2, 3, &[("SHA256", b"sums\n"), ("app.tar", b"app"), ("app.tar.sig", b"a file, not a signature")]);
    let init = |dir: &str, files: &[&Path], format: &str| {
        let d = fx.env.path(dir);
        let mut args = vec!["sign", "init", "--dir", s(&d), "--group", s(&fx.group), "--format", format];
        for f in files {
            args.extend(["--file", s(f)]);
        }
        (fx.env.run(&args), d)
    };
    let [sums, app, app_sig] = [0, 1, 2].map(|k| fx.artifacts[k].as_path());
    let (out, d) = init("collide", &[sums], "ssh,signify-manifest");
    refused(
        &out,
        &[
            "cannot open this session: two outputs would be named `SHA256.sig`: the ssh signature of `SHA256` and the signify manifest",
            "rename the artifact, or leave one of the formats out",
        ],
    );
    assert!(!d.join("request.txt").exists());
    // With `--out dist` the signature would overwrite the artifact.
    let (out, d) = init("artifact", &[app, app_sig], "minisign,ssh");
    refused(&out, &["the ssh signature of `app.tar` would be named `app.tar.sig`, like an artifact of the session"]);
    assert!(!d.join("request.txt").exists());
    // The same, on a case-insensitive file system (macOS, Windows): `sha256.sig` and `SHA256.sig` are one file.
    let lower = fx.env.path("sha256");
    fs::write(&lower, b"sums\n").unwrap();
    let (out, d) = init("case", &[&lower], "ssh,signify-manifest");
    refused(&out, &["two outputs would be named `SHA256.sig`"]);
    assert!(!d.join("request.txt").exists());
    // A file name the file system cannot hold.
    let long = fx.env.path(&"a".repeat(250));
    fs::write(&long, b"x").unwrap();
    let (out, _) = init("long", &[&long], "minisign");
    refused(&out, &["which is not one file name of at most 255 bytes"]);

    // A request crafted to add the colliding format is refused by every party, and nothing is written.
    let (out, d) = init("crafted", &[sums], "ssh");
    out.ok();
    let request = d.join("request.txt");
    let text = fs::read_to_string(&request).unwrap();
    fs::write(&request, text.replacen("format: ssh\n", "format: ssh\nformat: signify-manifest\n", 1)).unwrap();
    let before = snapshot(&d);
    let says = "two outputs would be named `SHA256.sig`";
    let alice = fx.h("Alice");
    refused(&run_as(alice, &["sign", "step", "--dir", s(&d), "--file", s(sums), "--yes"], &[]), &[says]);
    refused(&fx.collect(&d), &[says]);
    refused(&status(&fx, &d), &[says]);
    assert_eq!(snapshot(&d), before);
    assert!(signing_state(alice).is_empty());
}

/// A phase-1 package whose commitments are not the ones its signers published (built from another view
/// of the folder, or edited): `collect` and `status` say so with the way out (exit 2), nobody waits for
/// shares that would never come.
#[test]
fn a_package_with_commitments_its_signers_did_not_publish_is_a_problem_with_its_way_out() {
    use frostsign::ceremony::signing::{PackageFile, Phase, Request};
    let fx = Fx::new(2, 3, &[("app.tar", b"the release")]);
    let d = fx.init("s");
    for name in ["Alice", "Bob"] {
        fx.step(fx.h(name), &d).ok();
    }
    let req = Request::load(&d).unwrap();
    let group = frostsign::group::Group::load(&d.join("group.pub")).unwrap();
    // Fresh commitments under Alice's and Bob's identifiers, for the request's one message.
    let mut rng = rand_core::OsRng;
    let scalar = frost_ed25519::keys::SigningShare::deserialize(&[7u8; 32]).unwrap();
    let commitments = (0..2)
        .map(|i| (group.identifier(i), frost_ed25519::round1::commit(&scalar, &mut rng).1))
        .collect::<std::collections::BTreeMap<_, _>>();
    let message = req.plan().phase1_messages(&req, &req.evidence()).remove(0);
    let pkg = frost_ed25519::SigningPackage::new(commitments, &message);
    let text = PackageFile::encode(req.digest(), 1, Phase::One, &[0, 1], &group, &[pkg]).unwrap();
    fs::write(d.join("package-a1-p1.txt"), text).unwrap();
    fx.collect(&d)
        .refused_with("does not hold the commitments Alice, Bob published")
        .contains("remove it and run `frostsign sign collect");
    status(&fx, &d).expect_code(2).contains("does not hold the commitments Alice, Bob published");
    // Removed, the coordinator builds the right one and the session completes.
    fs::remove_file(d.join("package-a1-p1.txt")).unwrap();
    fx.sign_with(&d, &["Alice", "Bob"]);
    verify_everywhere(&fx.env, &fx.group, &fx.artifacts[0], &d.join("app.tar.minisig"), &["file:app.tar"]);
}
