//! Membership history (issue 10, item 4): every version of a group after the first is approved by the
//! group itself (t keyholders sign its membership statement), and `group update` accepts a newer group
//! file only along a chain of such approvals from the version the user trusts.

use crate::common::*;
use crate::refresh::{refresh_all, refresh_all_with};

use frost_ed25519 as frost;
use frostsign::group::Group;
use frostsign::home::{Home, PassphraseSource};
use std::fs;
use std::path::Path;

fn update(env: &Env, from: &Path, to: &Path, extra: &[&str]) -> Out {
    let mut args = vec!["group", "update", "--from", s(from), "--to", s(to)];
    args.extend_from_slice(extra);
    env.run(&args)
}

/// Assert exit 1 (refused: NEW does not prove itself) with `needle` in the output, and `from` unchanged.
#[track_caller]
fn refused_update(env: &Env, from: &Path, to: &Path, needle: &str) {
    let before = fs::read(from).unwrap();
    let o = update(env, from, to, &[]);
    o.expect_code(1).contains(needle);
    no_panic(&o);
    assert_eq!(fs::read(from).unwrap(), before, "the trusted file is unchanged");
}

/// The group file `text` with its approval (the last block) replaced by `sig`.
fn with_approval(text: &str, sig: &[u8]) -> String {
    use base64::Engine;
    let cut = text.find("\napproval:\n").expect("an approved file") + 1;
    let encoded = base64::engine::general_purpose::STANDARD.encode(sig);
    let lines: String =
        encoded.as_bytes().chunks(64).map(|c| format!(" {}\n", std::str::from_utf8(c).unwrap())).collect();
    format!("{}approval:\n{lines}", &text[..cut])
}

/// The whole life of a membership history: each renewal makes the next version, the group approves it,
/// and a user holding version 1 accepts version 3 (and a release of it verifies with that file); an
/// unapproved version is neither accepted by users nor renewed again.
#[test]
fn each_renewal_is_approved_by_the_group_and_group_update_follows_the_chain_from_the_first_version() {
    let env = Env::new();
    let hs = env.holders(3);
    let v1 = env.dkg("kg", 2, &hs);
    let pinned = env.path("pinned.pub");
    fs::copy(&v1, &pinned).unwrap();
    let v2 = refresh_all(&env.path("r1"), &v1, &[&hs[0], &hs[1], &hs[2]]);
    assert_eq!(Group::load(&v2).unwrap().version(), 2);
    refused_update(&env, &pinned, &v2, "not approved by the group");
    // A renewal of an unapproved version is refused: the history would have a gap.
    let o = hs[0].run(&["share", "refresh", "--dir", s(&env.path("r2")), "--group", s(&v2), "--yes"]);
    o.refused_with("version 2 of the group").contains("group approve");
    let v2a = env.approve("approve-2", &v2, &[&hs[0], &hs[1]]);
    env.run(&["group", "show", "--key", s(&v2a)]).ok().contains("version:     2 (approved by the group)");
    let shown: serde_json::Value =
        serde_json::from_str(&env.run(&["group", "show", "--group", s(&v2), "--json"]).ok().stdout).unwrap();
    assert_eq!((&shown["version"], &shown["approved"], &shown["threshold"]), (&2.into(), &false.into(), &2.into()));
    assert_eq!(shown["members"].as_array().unwrap().len(), 3);
    let listed: serde_json::Value = serde_json::from_str(&hs[0].run(&["group", "list", "--json"]).ok().stdout).unwrap();
    assert_eq!((&listed[0]["version"], &listed[0]["my_identifier"]), (&2.into(), &1.into()));
    update(&env, &pinned, &v2a, &["--check"]).ok().contains("version 2: approved by the group, 2-of-3");
    assert_eq!(fs::read(&pinned).unwrap(), fs::read(&v1).unwrap(), "--check changes nothing");
    // The next renewal, removing Carol, starts from the approved file and carries the history on.
    let v3 = refresh_all_with(&env.path("r2"), &v2a, &[&hs[0], &hs[1]], &["--remove", &hs[2].name]);
    let v3a = env.approve("approve-3", &v3, &[&hs[0], &hs[1]]);
    let g3 = Group::load(&v3a).unwrap();
    assert_eq!((g3.version(), g3.history().len(), g3.members().len()), (3, 2, 2));
    let o = update(&env, &pinned, &v3a, &[]);
    o.ok().contains("version 2: approved").contains("version 3: approved").contains("replaced version 1");
    assert_eq!(fs::read(&pinned).unwrap(), fs::read(&v3a).unwrap(), "the trusted file is now version 3");
    update(&env, &pinned, &v3a, &[]).ok().contains("already version 3");
    let json: serde_json::Value =
        serde_json::from_str(&update(&env, &v2a, &v3a, &["--check", "--json"]).ok().stdout).unwrap();
    assert_eq!((&json["accepted"], &json["from_version"], &json["to_version"]), (&true.into(), &2.into(), &3.into()));
    refused_update(&env, &pinned, &v1, "older than the version 3 you trust");
    let artifact = env.path("app.tar.gz");
    fs::write(&artifact, b"app 3").unwrap();
    let sig = env.sign_release("sign", &v3a, &artifact, &[&hs[0], &hs[1]]);
    env.run(&["verify", "--key", s(&pinned), s(&artifact), "--sig", s(&sig)]).ok().contains("verified");
}

/// `group update` refuses a newer file whose statement is missing, signed by fewer than t keyholders
/// (one keyholder's share alone), signed by another group, about another group, or whose history was
/// changed; the trusted file is never touched.
#[test]
fn group_update_refuses_a_version_the_group_did_not_approve() {
    let env = Env::new();
    let hs = env.holders(3);
    let v1 = env.dkg("kg", 2, &hs);
    let v2 = refresh_all(&env.path("r1"), &v1, &[&hs[0], &hs[1], &hs[2]]);
    refused_update(&env, &v1, &v2, "its version 2 is not approved by the group");
    let v2a = env.approve("approve-2", &v2, &[&hs[0], &hs[2]]);
    let text = fs::read_to_string(&v2a).unwrap();
    let g2 = Group::load(&v2a).unwrap();
    let message = frostsign::group::membership::message(&g2.statement());
    // One keyholder alone: its share makes a signature, but not the group key's.
    let unlocked = Home::open(&hs[0].home).unwrap().unlock(&PassphraseSource::new(Some(hs[0].pass.clone()))).unwrap();
    let kp = unlocked.load_share(&g2).unwrap();
    let alone_key = frost::VerifyingKey::new(kp.verifying_share().to_element());
    let alone =
        frost::keys::KeyPackage::new(*kp.identifier(), *kp.signing_share(), *kp.verifying_share(), alone_key, 1);
    let alone_pkp =
        frost::keys::PublicKeyPackage::new([(*kp.identifier(), *kp.verifying_share())].into(), alone_key, Some(1));
    let sig = frost_sign(&[alone], &alone_pkp, &message).unwrap().serialize().unwrap();
    let one = env.path("one-signer.pub");
    fs::write(&one, with_approval(&text, &sig)).unwrap();
    refused_update(&env, &v1, &one, "is not the group key's signature of this version's membership statement");
    // Another group's approval, and another group's approved file.
    let other_env = Env::new();
    let others = other_env.holders(3);
    let o1 = other_env.dkg("kg", 2, &others);
    let o2 = refresh_all(&other_env.path("r1"), &o1, &[&others[0], &others[1], &others[2]]);
    let o2a = other_env.approve("approve-2", &o2, &[&others[0], &others[1]]);
    let other_sig = Group::load(&o2a).unwrap().approval().copied().unwrap();
    let foreign = env.path("foreign-approval.pub");
    fs::write(&foreign, with_approval(&text, &other_sig)).unwrap();
    refused_update(&env, &v1, &foreign, "is not the group key's signature");
    refused_update(&env, &v1, &o2a, "another group key");
    // The approved file stripped of its members' acceptances: not the file the group published.
    let (start, end) = (text.find("\nacceptance:\n").unwrap() + 1, text.find("\napproval:\n").unwrap() + 1);
    let stripped = env.path("stripped.pub");
    fs::write(&stripped, format!("{}{}", &text[..start], &text[end..])).unwrap();
    assert!(Group::load(&stripped).unwrap().acceptances().is_empty());
    refused_update(&env, &v1, &stripped, "carries no acceptances");
    // A changed history: the embedded ceremony no longer hashes to the file's `ceremony`.
    let tampered = env.path("tampered.pub");
    fs::write(&tampered, text.replacen("frostsign-group: 1\n", "frostsign-group: 1\nlabel: x\n", 1)).unwrap();
    refused_update(&env, &v1, &tampered, "is not a valid group file");
    update(&env, &v1, &v2a, &[]).ok();
}

/// A signer approves only the statement of its own copy of the group: a request whose statement was
/// changed (here to claim that Carol is no member) is refused before anything is committed, and a renewal
/// whose `previous` does not name the joiner's own copy's statement is refused before joining.
#[test]
fn a_signer_approves_only_its_own_copys_statement_and_a_renewal_must_continue_its_history() {
    let env = Env::new();
    let hs = env.holders(3);
    let v1 = env.dkg("kg", 2, &hs);
    let v2 = refresh_all(&env.path("r1"), &v1, &[&hs[0], &hs[1], &hs[2]]);
    let dir = env.path("approve");
    env.run(&["group", "approve", "--key", s(&v2), "--dir", s(&dir)]).ok().contains("approve version 2");
    let request = fs::read_to_string(dir.join("request.txt")).unwrap();
    let g2 = Group::load(&v2).unwrap();
    let carol = g2.statement().lines().find(|l| l.ends_with(" Carol")).unwrap().to_string();
    let forged = g2.statement().replace(&format!("{carol}\n"), "");
    let encode = |t: &str| {
        use base64::Engine;
        let b = base64::engine::general_purpose::STANDARD.encode(t);
        b.as_bytes().chunks(64).map(|c| format!(" {}\n", std::str::from_utf8(c).unwrap())).collect::<String>()
    };
    assert!(request.contains(&encode(&g2.statement())));
    fs::write(dir.join("request.txt"), request.replace(&encode(&g2.statement()), &encode(&forged))).unwrap();
    let before = snapshot(&dir);
    hs[0]
        .run(&["sign", "step", "--dir", s(&dir), "--yes"])
        .refused_with("membership statement is not the statement of the group file");
    assert_eq!(snapshot(&dir), before, "nothing committed");
    // Version 1 has nothing to approve; an approved file is not approved twice.
    env.run(&["group", "approve", "--key", s(&v1), "--dir", s(&env.path("a1"))]).refused_with("nothing to approve");
    let v2a = env.approve("approve-2", &v2, &[&hs[0], &hs[1]]);
    env.run(&["group", "approve", "--key", s(&v2a), "--dir", s(&env.path("a2"))]).refused_with("already approved");
    // A renewal file whose `previous` names another statement: refused when read (its history ends with
    // another statement) and, for a renewal of version 1 (no history to compare with), by the next
    // keyholder to join, against its own copy.
    let tamper_previous = |dir: &Path| {
        let ceremony = fs::read_to_string(dir.join("ceremony.txt")).unwrap();
        let previous = ceremony.lines().find(|l| l.starts_with("previous: ")).unwrap();
        fs::write(dir.join("ceremony.txt"), ceremony.replace(previous, &format!("previous: {}", "00".repeat(32))))
            .unwrap();
    };
    let refresh = |h: &Holder, dir: &Path, group: &Path| {
        h.run(&["share", "refresh", "--dir", s(dir), "--group", s(group), "--yes"])
    };
    let r2 = env.path("r2");
    refresh(&hs[0], &r2, &v2a).ok();
    tamper_previous(&r2);
    refresh(&hs[1], &r2, &v2a).refused_with("does not name the last statement of the history");
    let env1 = Env::new();
    let first = env1.holders(2);
    let g1 = env1.dkg("kg", 2, &first);
    let r1 = env1.path("r1");
    refresh(&first[0], &r1, &g1).ok();
    tamper_previous(&r1);
    refresh(&first[1], &r1, &g1).refused_with("does not continue the group's membership history");
}

/// An approval session survives a signer's crash at every signing failpoint: the rerun completes it, and
/// the approved file is valid (the same engine, journal and nonce handling as a release).
#[test]
fn an_approval_survives_a_crash_at_every_signing_failpoint() {
    let env = Env::new();
    let hs = env.holders(3);
    let v1 = env.dkg("kg", 2, &hs);
    let v2 = refresh_all(&env.path("r1"), &v1, &[&hs[0], &hs[1], &hs[2]]);
    for point in
        ["sign-commit-before-save", "sign-share-before-save", "sign-share-after-save", "sign-share-before-publish"]
    {
        let d = env.path(point);
        env.run(&["group", "approve", "--group", s(&v2), "--dir", s(&d)]).ok();
        let mut crashed = false;
        for _ in 0..5 {
            for h in &hs[..2] {
                let vars = [("FROSTSIGN_CRASH_AT", point)];
                let o = if !crashed && h.name == "Alice" {
                    run_as(h, &["sign", "step", "--dir", s(&d), "--yes"], &vars)
                } else {
                    h.run(&["sign", "step", "--dir", s(&d), "--yes"])
                };
                if o.all().contains("simulated crash") {
                    crashed = true;
                } else {
                    o.ok();
                }
            }
            env.run(&["sign", "collect", "--dir", s(&d)]);
        }
        assert!(crashed, "{point}: the failpoint was not reached");
        let approved = Group::load(&d.join("group-approved.pub")).unwrap();
        assert!(approved.approval().is_some(), "{point}");
        update(&env, &v1, &d.join("group-approved.pub"), &["--check"]).ok();
    }
}
