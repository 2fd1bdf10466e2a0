//! Rotation to a new key (issue 10, item 5): the old group signs a rotation statement, the new group
//! countersigns it, and users who trust the old key accept the new key's signatures only with both.

use crate::common::*;

use frost_ed25519 as frost;
use frostsign::formats::minisign::{self, MinisignSignature};
use frostsign::group::rotation::Rotation;
use frostsign::group::Group;
use frostsign::home::{Home, PassphraseSource, Unlocked};
use std::fs;
use std::path::{Path, PathBuf};

fn unlock(h: &Holder) -> Unlocked {
    Home::open(&h.home).unwrap().unlock(&PassphraseSource::new(Some(h.pass.clone()))).unwrap()
}

/// Run the signing session in `dir` with `signers` until `sign collect --out out` writes its output.
fn sign_session(env: &Env, dir: &Path, out: &Path, signers: &[&Holder]) {
    for _ in 0..4 {
        for h in signers {
            h.run(&["sign", "step", "--dir", s(dir), "--yes"]).ok();
        }
        if env.run(&["sign", "collect", "--dir", s(dir), "--out", s(out)]).code == 0 {
            return;
        }
    }
    panic!("the session in {} did not complete", dir.display());
}

/// An old 2-of-3 group and a new 3-of-3 group (Alice, Carol and a new keyholder, Dave), rotated with
/// both signatures in `rot/`; returns (env, old group.pub, new group.pub, rotation statement, the new
/// group's keyholders).
fn rotated() -> (Env, PathBuf, PathBuf, PathBuf, Vec<Holder>) {
    let env = Env::new();
    let hs = env.holders(3);
    let old = env.dkg("kg", 2, &hs);
    let next = vec![hs[0].clone(), hs[2].clone(), env.holder("Dave")];
    let new = env.dkg("new-kg", 3, &next);
    let rot = env.path("rot");
    let o = env.run(&[
        "group",
        "rotate",
        "--from",
        s(&old),
        "--to",
        s(&new),
        "--reason",
        "two laptops stolen",
        "--dir",
        s(&rot),
    ]);
    o.ok().contains("ROTATE TO A NEW KEY").contains("reason: two laptops stolen");
    sign_session(&env, &rot.join("old"), &rot, &[&hs[0], &hs[1]]);
    sign_session(&env, &rot.join("new"), &rot, &[&next[0], &next[1], &next[2]]);
    (env, old, new, rot.join("rotation.txt"), next)
}

/// After a rotation (to a new threshold, with a new member), a release of the new key verifies with the
/// OLD group file only through the rotation statement, and a minisign user checks both signatures of the
/// statement by hand with stock minisign.
#[test]
fn a_rotation_signed_by_both_groups_lets_the_old_key_accept_the_new_keys_signatures() {
    let (env, old, new, statement, next) = rotated();
    let artifact = env.path("app-2.0.tar.gz");
    fs::write(&artifact, b"app 2.0").unwrap();
    let sig = env.sign_release("sign", &new, &artifact, &[&next[0], &next[1], &next[2]]);
    env.run(&["verify", "--key", s(&old), s(&artifact), "--sig", s(&sig)]).expect_code(1);
    let o = env.run(&["verify", "--key", s(&old), "--follow-rotation", s(&statement), s(&artifact), "--sig", s(&sig)]);
    o.ok().contains("Signature and comment signature verified").contains("reason: two laptops stolen");
    let json = env.run(&[
        "verify",
        "--key",
        s(&old),
        "--follow-rotation",
        s(&statement),
        s(&artifact),
        "--sig",
        s(&sig),
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&json.ok().stdout).unwrap();
    let st = frostsign::group::rotation::Rotation::parse(&fs::read_to_string(&statement).unwrap()).unwrap();
    assert_eq!(v["rotations"][0], format!("{} -> {}", st.old.group, st.new.group));
    assert!(o.stdout.contains("3-of-3"), "{}", o.stdout);
    // By hand, with minisign: the statement is plain text, each signature a stock .minisig.
    let text = fs::read_to_string(&statement).unwrap();
    assert!(text.contains("reason: two laptops stolen\n") && text.contains(" Dave\n"), "{text}");
    if require_tool("minisign", "sudo apt-get install -y minisign") {
        for (role, line) in [("old", "old-minisign-public-key: "), ("new", "new-minisign-public-key: ")] {
            let key = text.lines().find_map(|l| l.strip_prefix(line)).unwrap();
            let sig = statement.with_file_name(format!("rotation.txt.{role}.minisig"));
            let out = std::process::Command::new("minisign")
                .args(["-Vm", s(&statement), "-x", s(&sig), "-P", key])
                .output()
                .unwrap();
            assert!(out.status.success(), "minisign -V {role}: {}", String::from_utf8_lossy(&out.stderr));
        }
    }
}

/// `verify --follow-rotation` refuses a statement without the new group's countersignature, without the
/// old group's signature, with a signature by the wrong group or by one keyholder alone (fewer than t), changed after signing, or from a key the
/// user does not trust (a rotation skipped or another group's); exit 1 each time.
#[test]
fn a_rotation_missing_a_signature_or_from_another_key_is_refused() {
    let (env, old, new, statement, next) = rotated();
    let artifact = env.path("app-2.0.tar.gz");
    fs::write(&artifact, b"app 2.0").unwrap();
    let sig = env.sign_release("sign", &new, &artifact, &[&next[0], &next[1], &next[2]]);
    let follow = |key: &Path, st: &Path| {
        let o = env.run(&["verify", "--key", s(key), "--follow-rotation", s(st), s(&artifact), "--sig", s(&sig)]);
        no_panic(&o);
        o
    };
    let old_sig = statement.with_file_name("rotation.txt.old.minisig");
    let new_sig = statement.with_file_name("rotation.txt.new.minisig");
    let (old_bytes, new_bytes) = (fs::read(&old_sig).unwrap(), fs::read(&new_sig).unwrap());
    fs::remove_file(&new_sig).unwrap();
    follow(&old, &statement).expect_code(1).contains("no signature by the new key");
    fs::write(&new_sig, &new_bytes).unwrap();
    fs::remove_file(&old_sig).unwrap();
    follow(&old, &statement).expect_code(1).contains("no signature by the old key");
    // The new group's signature in the old group's place: its trusted comment names the new side.
    fs::write(&old_sig, &new_bytes).unwrap();
    follow(&old, &statement).expect_code(1).contains("is not a rotation signature");
    fs::write(&old_sig, &old_bytes).unwrap();
    // One keyholder of the new group alone (fewer than t): its share signs, but not as the new key.
    let g = Group::load(&new).unwrap();
    let kp = unlock(&next[0]).load_share(&g).unwrap();
    let alone_key = frost::VerifyingKey::new(kp.verifying_share().to_element());
    let alone =
        frost::keys::KeyPackage::new(*kp.identifier(), *kp.signing_share(), *kp.verifying_share(), alone_key, 1);
    let alone_pkp =
        frost::keys::PublicKeyPackage::new([(*kp.identifier(), *kp.verifying_share())].into(), alone_key, Some(1));
    let sign_alone = |msg: &[u8]| -> [u8; 64] {
        frost_sign(std::slice::from_ref(&alone), &alone_pkp, msg).unwrap().serialize().unwrap().try_into().unwrap()
    };
    let genuine = MinisignSignature::parse(&String::from_utf8(new_bytes.clone()).unwrap()).unwrap();
    let blake2b = frostsign::digest::hash_bytes(&fs::read(&statement).unwrap()).blake2b;
    let signature = sign_alone(&blake2b);
    let forged = MinisignSignature {
        key_id: genuine.key_id,
        signature,
        global_signature: sign_alone(&minisign::global_message(&signature, &genuine.trusted_comment)),
        trusted_comment: genuine.trusted_comment,
    };
    fs::write(&new_sig, forged.encode("one keyholder alone")).unwrap();
    follow(&old, &statement).expect_code(1).contains("is not signed by the new key");
    fs::write(&new_sig, &new_bytes).unwrap();
    // The statement changed after signing (another reason).
    let text = fs::read_to_string(&statement).unwrap();
    fs::write(&statement, text.replace("two laptops stolen", "routine change")).unwrap();
    follow(&old, &statement).expect_code(1).contains("is not signed by the old key");
    fs::write(&statement, &text).unwrap();
    // From a key the user does not trust: the new group's own (a chain given out of order) or another's.
    follow(&new, &statement).expect_code(1).contains("hands over from another key");
    follow(&old, &statement).ok();
    // A folder that already holds one of the two sessions: refused before anything is written.
    let busy = env.path("busy");
    fs::create_dir_all(busy.join("new")).unwrap();
    fs::write(busy.join("new/request.txt"), "another session\n").unwrap();
    let o = env.run(&["group", "rotate", "--from", s(&old), "--to", s(&new), "--reason", "x", "--dir", s(&busy)]);
    o.refused_with("already holds a rotation");
    assert!(!busy.join("rotation.txt").exists() && !busy.join("old").exists(), "a refused rotation wrote files");
    // A keyholder signs only a statement that fits its own group in the role the request gives it.
    let rot2 = env.path("rot2");
    env.run(&["group", "rotate", "--from", s(&old), "--to", s(&new), "--reason", "again", "--dir", s(&rot2)]).ok();
    let request = rot2.join("old").join("request.txt");
    let text = fs::read_to_string(&request).unwrap();
    fs::write(&request, text.replace("rotation-role: old\n", "rotation-role: new\n")).unwrap();
    let before = snapshot(&rot2);
    next[0].run(&["sign", "step", "--dir", s(&rot2.join("old")), "--yes"]).refused_with("does not fit this group");
    assert_eq!(snapshot(&rot2), before, "nothing committed");
}

/// The old group's keyholders see the new side as the new group's own file proves it: a request whose
/// statement names another key than that file is refused; a new group of other cards under the same names
/// is shown card by card as not this group's.
#[test]
fn the_old_group_signs_only_a_new_side_that_the_new_groups_own_file_proves() {
    let env = Env::new();
    let hs = env.holders(3);
    let old = env.dkg("kg", 2, &hs);
    let new = env.dkg("new-kg", 2, &hs);
    let rot = env.path("rot");
    env.run(&["group", "rotate", "--from", s(&old), "--to", s(&new), "--reason", "planned", "--dir", s(&rot)]).ok();
    // The coordinator swaps the new key (and its key line) for a key of its own in the statement.
    let request = rot.join("old").join("request.txt");
    let text = fs::read_to_string(&request).unwrap();
    let st = Rotation::parse(&fs::read_to_string(rot.join("rotation.txt")).unwrap()).unwrap();
    let other = Env::new();
    let strangers = other.holders(3);
    let fake = other.dkg("kg", 2, &strangers);
    let fake_group = Group::load(&fake).unwrap();
    let forged = st.text.replace(&hex::encode(st.new.key), &hex::encode(fake_group.key())).replace(
        &minisign::public_key_line(&st.new.key_id, &st.new.key),
        &minisign::public_key_line(fake_group.minisign_key_id(), fake_group.key()),
    );
    fs::write(&request, text.replace(&encode_block(&st.text), &encode_block(&forged))).unwrap();
    hs[0]
        .run(&["sign", "step", "--dir", s(&rot.join("old")), "--yes"])
        .refused_with("does not fit the rotation statement");
    // A rotation to a group of other cards named Alice, Bob and Carol: each is shown as not this group's.
    let rot2 = env.path("rot2");
    let o =
        env.run(&["group", "rotate", "--from", s(&old), "--to", s(&fake), "--reason", "planned", "--dir", s(&rot2)]);
    assert_eq!(o.ok().stdout.matches("(NOT a card of this group: check it by voice)").count(), 3, "{}", o.stdout);
    // The request's new group file swapped for the real one, under a statement naming the fake: refused.
    let request2 = rot2.join("old").join("request.txt");
    let text2 = fs::read_to_string(&request2).unwrap();
    let fake_text = fs::read_to_string(&fake).unwrap();
    let real_text = fs::read_to_string(&new).unwrap();
    fs::write(&request2, text2.replace(&encode_block(&fake_text), &encode_block(&real_text))).unwrap();
    hs[0]
        .run(&["sign", "step", "--dir", s(&rot2.join("old")), "--yes"])
        .refused_with("does not fit the rotation statement");
}

/// An ordinary release signature of the statement's bytes (made by the old group for a file of the same
/// content) is not a rotation signature: its trusted comment is a release's.
#[test]
fn a_release_signature_of_the_statement_is_not_a_rotation_signature() {
    let (env, old, _new, statement, _next) = rotated();
    let notes = env.path("NOTES.txt");
    fs::copy(&statement, &notes).unwrap();
    let alice = Holder {
        name: "Alice".into(),
        home: env.path("home-alice"),
        pass: env.path("pass-alice"),
        card: env.path("alice.card"),
        cwd: env.path(""),
    };
    let bob = Holder {
        name: "Bob".into(),
        home: env.path("home-bob"),
        pass: env.path("pass-bob"),
        card: env.path("bob.card"),
        cwd: env.path(""),
    };
    let release = env.sign_release("rel", &old, &notes, &[&alice, &bob]);
    fs::copy(&release, statement.with_file_name("rotation.txt.old.minisig")).unwrap();
    let artifact = env.path("a.bin");
    fs::write(&artifact, b"a").unwrap();
    let sig = env.path("unused.minisig");
    fs::write(&sig, "x").unwrap();
    let o = env.run(&["verify", "--key", s(&old), "--follow-rotation", s(&statement), s(&artifact), "--sig", s(&sig)]);
    o.expect_code(1).contains("is not a rotation signature");
}

/// A block's base64 continuation lines, as the text syntax wraps them.
fn encode_block(text: &str) -> String {
    use base64::Engine;
    let b = base64::engine::general_purpose::STANDARD.encode(text);
    b.as_bytes().chunks(64).map(|c| format!(" {}\n", std::str::from_utf8(c).unwrap())).collect()
}

/// A keyholder whose process dies at any signing failpoint while it signs a rotation statement (commit,
/// shares before or after they are journaled, before they are published) reruns its step and the rotation
/// completes: the rotation session is an ordinary signing session of the keyholder engine, journaled the
/// same way; no nonce is left behind and the statement verifies.
#[test]
fn a_crash_at_any_failpoint_while_signing_a_rotation_is_recovered_by_a_rerun() {
    const POINTS: [&str; 4] =
        ["sign-commit-before-save", "sign-share-before-save", "sign-share-after-save", "sign-share-before-publish"];
    let env = Env::new();
    let hs = env.holders(3);
    let old = env.dkg("kg", 2, &hs);
    let new = env.dkg("new-kg", 2, &hs);
    for (i, point) in POINTS.iter().enumerate() {
        let rot = env.path(&format!("rot-{i}"));
        env.run(&["group", "rotate", "--from", s(&old), "--to", s(&new), "--reason", "test", "--dir", s(&rot)]).ok();
        for side in ["old", "new"] {
            let d = rot.join(side);
            let (mut crashed, mut done) = (false, false);
            for _ in 0..4 {
                let o = run_env(
                    &hs[0].cwd,
                    &[
                        "--home",
                        s(&hs[0].home),
                        "--passphrase-file",
                        s(&hs[0].pass),
                        "sign",
                        "step",
                        "--dir",
                        s(&d),
                        "--yes",
                    ],
                    &[("FROSTSIGN_CRASH_AT", point)],
                );
                no_panic(&o);
                crashed |= o.all().contains("simulated crash");
                hs[0].run(&["sign", "step", "--dir", s(&d), "--yes"]).ok();
                hs[1].run(&["sign", "step", "--dir", s(&d), "--yes"]).ok();
                if env.run(&["sign", "collect", "--dir", s(&d), "--out", s(&rot)]).code == 0 {
                    done = true;
                    break;
                }
            }
            assert!(crashed && done, "{point} ({side}): crashed {crashed}, completed {done}");
        }
        let nonces: Vec<_> =
            files_under(&hs[0].home.join("state")).into_iter().filter(|p| s(p).ends_with(".nonces")).collect();
        assert!(nonces.is_empty(), "{point}: nonces left: {nonces:?}");
        let artifact = env.path("app.tar.gz");
        fs::write(&artifact, b"app").unwrap();
        let sig = env.sign_release(&format!("sign-{i}"), &new, &artifact, &[&hs[0], &hs[1]]);
        let statement = rot.join("rotation.txt");
        let o =
            env.run(&["verify", "--key", s(&old), "--follow-rotation", s(&statement), s(&artifact), "--sig", s(&sig)]);
        o.ok();
    }
}
