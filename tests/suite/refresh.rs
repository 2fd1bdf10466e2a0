//! Share refresh (issue 10, item 2): new shares of the same key for the remaining keyholders; old shares
//! stop combining with new ones, and a removed keyholder's share combines with none.

use crate::common::*;

use frost_ed25519 as frost;
use frostsign::ceremony::dkg::names;
use frostsign::group::Group;
use frostsign::home::{Home, PassphraseSource, Unlocked};
use frostsign::secret::SecretBytes;
use std::fs;
use std::path::{Path, PathBuf};

const COMPLETE: &str = "The share refresh is complete";

fn unlock(h: &Holder) -> Unlocked {
    Home::open(&h.home).unwrap().unlock(&PassphraseSource::new(Some(h.pass.clone()))).unwrap()
}

/// `share refresh` as `h` in `dir` for `group`, with extra arguments.
fn refresh(h: &Holder, dir: &Path, group: &Path, extra: &[&str]) -> Out {
    let mut args = vec!["share", "refresh", "--dir", s(dir), "--group", s(group), "--yes"];
    args.extend_from_slice(extra);
    h.run(&args)
}

/// Every keyholder in `hs` runs `share refresh` round-robin until each reports completion; returns the
/// new group file.
pub(crate) fn refresh_all(dir: &Path, group: &Path, hs: &[&Holder]) -> PathBuf {
    refresh_all_with(dir, group, hs, &[])
}

/// [`refresh_all`], each keyholder giving `extra` (the `--remove` it agrees to).
pub(crate) fn refresh_all_with(dir: &Path, group: &Path, hs: &[&Holder], extra: &[&str]) -> PathBuf {
    let mut done = vec![false; hs.len()];
    for _ in 0..6 {
        for (i, h) in hs.iter().enumerate() {
            done[i] |= refresh(h, dir, group, extra).ok().stdout.contains(COMPLETE);
        }
        if done.iter().all(|d| *d) {
            return dir.join("group.pub");
        }
    }
    panic!("the refresh did not complete for everyone: {done:?}");
}

fn share(h: &Holder, group: &Group) -> frost::keys::KeyPackage {
    unlock(h).load_share(group).unwrap()
}

/// After a refresh the key is the same, t new shares sign releases that verify with the OLD group file,
/// every keyholder holds only the new share, and the identifiers are kept.
#[test]
fn a_refresh_keeps_the_key_and_t_new_shares_sign_what_the_old_group_file_verifies() {
    let env = Env::new();
    let hs = env.holders(3);
    let old_path = env.dkg("kg", 2, &hs);
    let old = Group::load(&old_path).unwrap();
    let before: Vec<_> = hs.iter().map(|h| *share(h, &old).signing_share()).collect();
    let dir = env.path("refresh");
    refresh(&hs[1], &dir, &old_path, &[]).ok().contains("Started a share refresh");
    let new = Group::load(&refresh_all(&dir, &old_path, &[&hs[0], &hs[1], &hs[2]])).unwrap();
    assert_eq!((new.key(), new.minisign_key_id(), new.threshold()), (old.key(), old.minisign_key_id(), 2));
    assert_ne!(new.fingerprint(), old.fingerprint(), "a new group file, for new shares");
    assert_eq!(new.identifier_numbers(), &[1, 2, 3]);
    for (h, before) in hs.iter().zip(&before) {
        assert_ne!(share(h, &new).signing_share(), before, "{} has a new share", h.name);
        assert!(old_share_or_none(h, &old).is_none(), "{}'s old share is destroyed", h.name);
        let listed = h.run(&["group", "list"]);
        assert!(
            listed.ok().stdout.contains(&new.fingerprint().to_string())
                && !listed.stdout.contains(&old.fingerprint().to_string())
        );
    }
    let artifact = env.path("app.tar.gz");
    fs::write(&artifact, b"app").unwrap();
    let sig = env.sign_release("sign", &dir.join("group.pub"), &artifact, &[&hs[0], &hs[2]]);
    env.run(&["verify", "--key", s(&old_path), s(&artifact), "--sig", s(&sig)]).ok().contains("verified");
    // The old group file no longer finds a share in any home.
    env.run(&["sign", "init", "--dir", s(&env.path("old")), "--group", s(&old_path), "--file", s(&artifact)]).ok();
    hs[0]
        .run(&["sign", "step", "--dir", s(&env.path("old")), "--file", s(&artifact), "--yes"])
        .refused_with("holds no share");
}

fn old_share_or_none(h: &Holder, old: &Group) -> Option<frost::keys::KeyPackage> {
    unlock(h).load_share(old).ok()
}

/// A keyholder that kept its old share (here: written back under the new group, as a stale copy would
/// be) signs a session of the new group: its signature share is invalid, and `sign collect` names it.
#[test]
fn an_old_share_mixed_with_new_ones_gives_an_invalid_share_that_collect_names() {
    let env = Env::new();
    let hs = env.holders(3);
    let old_path = env.dkg("kg", 2, &hs);
    let old = Group::load(&old_path).unwrap();
    let alice_old = SecretBytes::new(share(&hs[0], &old).serialize().unwrap());
    let dir = env.path("refresh");
    refresh(&hs[0], &dir, &old_path, &[]).ok();
    let new = Group::load(&refresh_all(&dir, &old_path, &[&hs[0], &hs[1], &hs[2]])).unwrap();
    unlock(&hs[0]).store_share(&new, &alice_old).unwrap();
    let artifact = env.path("app.tar.gz");
    fs::write(&artifact, b"app").unwrap();
    let session = env.path("sign");
    env.run(&["sign", "init", "--dir", s(&session), "--group", s(&dir.join("group.pub")), "--file", s(&artifact)]).ok();
    let mut last = None;
    for _ in 0..3 {
        for h in [&hs[0], &hs[1]] {
            h.run(&["sign", "step", "--dir", s(&session), "--file", s(&artifact), "--yes"]).ok();
        }
        last = Some(env.run(&["sign", "collect", "--dir", s(&session)]));
        if last.as_ref().unwrap().code != 3 {
            break;
        }
    }
    let out = last.unwrap();
    out.expect_code(2).contains("Alice").contains("invalid");
    assert!(!session.join("app.tar.gz.minisig").exists(), "no signature from an invalid share");
}

/// Removing a keyholder: the others refresh without it; its share no longer signs with anyone's new
/// share (nor do old and new shares combine), the remaining two sign, and the removed keyholder cannot
/// take part in the refresh.
#[test]
fn a_removed_keyholders_share_works_with_no_one_and_the_others_still_sign() {
    let env = Env::new();
    let hs = env.holders(3);
    let old_path = env.dkg("kg", 2, &hs);
    let old = Group::load(&old_path).unwrap();
    let old_shares: Vec<_> = hs.iter().map(|h| share(h, &old)).collect();
    let dir = env.path("remove-carol");
    let out = refresh(&hs[0], &dir, &old_path, &["--remove", "Carol"]);
    out.ok().contains("Removed (their share becomes useless): 3 ").contains("Carol");
    refresh(&hs[2], &dir, &old_path, &[]).refused_with("not a participant");
    // With --yes, a keyholder joins a removal only by naming it.
    let before = snapshot(&dir);
    refresh(&hs[1], &dir, &old_path, &[]).refused_with("this refresh removes Carol").contains("add --remove Carol");
    assert!(before == snapshot(&dir), "nothing published");
    let new = Group::load(&refresh_all_with(&dir, &old_path, &[&hs[0], &hs[1]], &["--remove", "Carol"])).unwrap();
    assert_eq!((new.members().len(), new.identifier_numbers()), (2, &[1u16, 2][..]));
    let msg = b"release";
    let news = [share(&hs[0], &new), share(&hs[1], &new)];
    assert!(ed25519_verify(new.key(), msg, &frost_sign(&news, new.package().unwrap(), msg).unwrap()));
    for mixed in [
        [old_shares[2].clone(), news[0].clone()],
        [old_shares[2].clone(), news[1].clone()],
        [old_shares[0].clone(), news[1].clone()],
    ] {
        for pkp in [old.package().unwrap(), new.package().unwrap()] {
            assert!(frost_sign(&mixed, pkp, msg).is_err(), "an old share must not combine with a new one");
        }
    }
    // Carol still holds her old share (she took no part), which alone signs nothing.
    assert!(old_share_or_none(&hs[2], &old).is_some());
}

/// `dkg step` run by hand in a refresh that removes a member shows the removal and asks, as `share refresh`
/// does; with --yes, which names no removal, it refuses (exit 2, nothing published) and says the
/// `share refresh` command that joins it, which then works.
#[test]
fn dkg_step_never_joins_a_removal_unseen() {
    let env = Env::new();
    let hs = env.holders(3);
    let old_path = env.dkg("kg", 2, &hs);
    let dir = env.path("remove-carol");
    refresh(&hs[0], &dir, &old_path, &["--remove", "Carol"]).ok();
    let before = (snapshot(&dir), snapshot(&hs[1].home));
    let out = hs[1].dkg_step(&dir);
    refused(&out, &["this refresh removes Carol", "help: to join it with --yes, say so"]);
    let dir_arg = s(&dir);
    let hint =
        format!("--home {} share refresh --dir {dir_arg} --group GROUP.pub --remove Carol --yes", s(&hs[1].home));
    assert!(out.stderr.contains(&hint), "expected {hint:?} in:\n{}", out.stderr);
    assert!((snapshot(&dir), snapshot(&hs[1].home)) == before, "a refused step published or stored something");

    // Without --yes: the removal is shown, and the keyholder is asked (no terminal here: refused).
    let out = hs[1].run(&["dkg", "step", "--dir", dir_arg]);
    refused(&out, &["confirmation needed"]);
    out.contains("Removed (their share becomes useless): 3 ").contains("Carol");
    assert!((snapshot(&dir), snapshot(&hs[1].home)) == before);

    // The command the help names joins it.
    refresh(&hs[1], &dir, &old_path, &["--remove", "Carol"]).ok().contains("joined the ceremony");
    // Once joined, `dkg step --yes` continues it like `share refresh` (the question is asked at joining only).
    hs[0].dkg_step(&dir).ok().contains("published an encrypted round-2 share");
    refresh_all_with(&dir, &old_path, &[&hs[0], &hs[1]], &["--remove", "Carol"]);
}

/// A refresh cannot change the threshold or remove the one who starts it, removes only members, and a
/// second keyholder cannot start a different refresh in the same folder; each refusal writes nothing.
/// "Nothing to do" costs no passphrase in a refresh under way, as in `dkg step`; the folder is still
/// checked against --group and --remove first. Starting a refresh, and joining one, still ask.
#[test]
fn a_refresh_step_with_nothing_to_do_needs_no_passphrase() {
    let env = Env::new();
    let hs = env.holders(3);
    let old_path = env.dkg("kg", 2, &hs);
    let dir = env.path("refresh");
    let no_passphrase = |h: &Holder, extra: &[&str]| {
        let mut args =
            vec!["--home", s(&h.home), "share", "refresh", "--dir", s(&dir), "--group", s(&old_path), "--yes"];
        args.extend_from_slice(extra);
        run_in(&h.cwd, &args)
    };
    refused(&no_passphrase(&hs[0], &[]), &["--passphrase-file"]);
    assert!(!dir.join("ceremony.txt").exists(), "a refresh is started only after the passphrase");
    refresh(&hs[0], &dir, &old_path, &[]).ok().contains("Waiting for round 1 from Bob, Carol");

    let before = (snapshot(&dir), snapshot(&hs[0].home));
    let out = no_passphrase(&hs[0], &[]);
    no_panic(&out);
    out.ok();
    assert_eq!(out.stdout, "Nothing new to do: waiting for round 1 from Bob, Carol.\n", "{}", out.all());
    assert!(!out.all().to_lowercase().contains("passphrase"), "{}", out.all());
    assert!((snapshot(&dir), snapshot(&hs[0].home)) == before, "a step with nothing to do changed files");
    no_passphrase(&hs[0], &["--remove", "Carol"]).refused_with("removes other members than --remove names");
    refused(&no_passphrase(&hs[1], &[]), &["--passphrase-file"]);

    refresh_all(&dir, &old_path, &[&hs[0], &hs[1], &hs[2]]);
}

#[test]
fn refresh_refuses_too_few_keyholders_unknown_names_removing_oneself_and_a_conflicting_folder() {
    let env = Env::new();
    let hs = env.holders(3);
    let old_path = env.dkg("kg", 2, &hs);
    let dir = env.path("r");
    refresh(&hs[0], &dir, &old_path, &["--remove", "Bob", "--remove", "Carol"])
        .refused_with("leaves 1 keyholders, fewer than the threshold 2")
        .contains("cannot change the threshold");
    refresh(&hs[0], &dir, &old_path, &["--remove", "Mallory"]).refused_with("`Mallory` is not a member of the group");
    refresh(&hs[0], &dir, &old_path, &["--remove", "Alice"]).refused_with("you cannot remove yourself");
    assert!(!dir.join("ceremony.txt").exists());
    refresh(&hs[0], &dir, &old_path, &["--remove", "Carol"]).ok();
    refresh(&hs[1], &dir, &old_path, &["--remove", "Alice"]).refused_with("removes other members than --remove names");
    let outsider = env.holder("Mallory");
    refresh(&outsider, &env.path("r2"), &old_path, &[]).refused_with("your home holds no share of the group");
}

/// A refresh ceremony file edited to name a member at another identifier, with another card, or hiding a
/// removal, is refused by every keyholder before it joins (checked against its own copy of the group).
#[test]
fn a_refresh_file_that_does_not_match_the_group_is_refused_before_joining() {
    let env = Env::new();
    let hs = env.holders(3);
    let old_path = env.dkg("kg", 2, &hs);
    let old = Group::load(&old_path).unwrap();
    for (case, edit) in [("removed line dropped", 0), ("identifier changed", 1)] {
        let dir = env.path(&format!("r-{edit}"));
        let (c, text) = frostsign::ceremony::refresh::describe(&old, &fs_card(&hs[0]), &["Carol".to_string()]).unwrap();
        let forged = match edit {
            0 => text.lines().filter(|l| !l.starts_with("removed: ")).collect::<Vec<_>>().join("\n") + "\n",
            _ => text.replacen(
                &format!("participant: 2 {}", c.cards()[1].fingerprint().compact()),
                &format!("participant: 3 {}", c.cards()[1].fingerprint().compact()),
                1,
            ),
        };
        assert_ne!(forged, text, "{case}");
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("ceremony.txt"), forged).unwrap();
        let out = hs[1].run(&["share", "refresh", "--dir", s(&dir), "--group", s(&old_path), "--yes"]);
        out.refused_with("does not match the group your home holds");
        assert!(!dir.join(names::round1(&c.cards()[1])).exists(), "{case}: nothing published");
    }
    // A removed line that is not a member line (here a name with a bidi control) is refused as a
    // malformed ceremony file, before anything is shown.
    let (_, text) = frostsign::ceremony::refresh::describe(&old, &fs_card(&hs[0]), &["Carol".to_string()]).unwrap();
    let dir = env.path("r-escape");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("ceremony.txt"), text.replacen(" Carol\n", " Car\u{202e}ol\n", 1)).unwrap();
    let out = hs[1].run(&["share", "refresh", "--dir", s(&dir), "--group", s(&old_path), "--yes"]);
    out.refused_with("not a valid ceremony file").contains("removed");
    assert!(!out.all().contains('\u{202e}'), "nothing raw reaches the terminal");
}

fn fs_card(h: &Holder) -> frostsign::card::Card {
    frostsign::card::Card::load(&h.card).unwrap()
}

/// Each keyholder's process dies at each failpoint of the refresh; reruns complete with the same key,
/// nobody holds a new share before all accepted, and every old share is destroyed at the end.
#[test]
fn a_crash_at_any_refresh_failpoint_is_recovered_by_a_rerun() {
    let phases = ["dkg-round1", "dkg-round2", "dkg-round3", "dkg-accept", "dkg-done"];
    let at = ["before-save", "after-save", "before-publish"];
    for point in phases.iter().flat_map(|p| at.iter().map(move |a| format!("{p}-{a}"))) {
        let env = Env::new();
        let hs = env.holders(2);
        let old_path = env.dkg("kg", 2, &hs);
        let old = Group::load(&old_path).unwrap();
        let dir = env.path("r");
        let args = ["share", "refresh", "--dir", "r", "--group", "kg/group.pub", "--yes"];
        let mut crashed = false;
        for _ in 0..6 {
            let vars: &[(&str, &str)] = if crashed { &[] } else { &[("FROSTSIGN_CRASH_AT", point.as_str())] };
            let out = run_as(&hs[0], &args, vars);
            if !crashed && out.code != 0 {
                out.contains("simulated crash");
                crashed = true;
                assert!(old_share_or_none(&hs[0], &old).is_some() || point.starts_with("dkg-done"), "{point}");
            } else {
                out.ok();
            }
            if dir.join("ceremony.txt").exists() {
                refresh(&hs[1], &dir, &old_path, &[]).ok();
            }
        }
        assert!(crashed, "{point} was never reached");
        env.run(&["dkg", "status", "--dir", s(&dir)]).ok().contains("Complete: group");
        let new = Group::load(&dir.join("group.pub")).unwrap();
        for h in &hs {
            assert!(old_share_or_none(h, &old).is_none(), "{point}: {}'s old share", h.name);
            assert_eq!(share(h, &new).verifying_key(), old.package().unwrap().verifying_key());
        }
    }
}

/// Every group `h`'s home holds a share of, with that share.
fn shares_held(h: &Holder) -> Vec<(Group, frost::keys::KeyPackage)> {
    let u = unlock(h);
    let found = u.home().groups_with_share().unwrap();
    found.into_iter().map(|(_, g)| g.unwrap()).map(|g| (g.clone(), u.load_share(&g).unwrap())).collect()
}

/// Alice removes Carol (refresh r1) while Carol runs a refresh of the same group that keeps everyone
/// (r2), which Alice and Bob also joined before r1 completed. Once r1 is complete, Carol's shares must
/// combine with no one's (R3): a keyholder takes part in one refresh of a group at a time, so r2 cannot
/// hand Alice and Bob a second successor share that combines with Carol's.
#[test]
fn a_concurrent_refresh_cannot_undo_a_removal() {
    let env = Env::new();
    let hs = env.holders(3);
    let (alice, bob, carol) = (&hs[0], &hs[1], &hs[2]);
    let old_path = env.dkg("kg", 2, &hs);
    let (r1, r2) = (env.path("remove-carol"), env.path("routine"));
    refresh(alice, &r1, &old_path, &["--remove", "Carol"]).ok();
    refresh(bob, &r1, &old_path, &["--remove", "Carol"]).ok();
    refresh(carol, &r2, &old_path, &[]).ok();
    // Alice and Bob are asked to join r2 while they are in r1 (a runaway script with --yes, or a
    // summary read too quickly); whatever they answer, r1 then completes.
    for h in [alice, bob, carol, alice, bob] {
        let _ = refresh(h, &r2, &old_path, &[]);
    }
    let new = Group::load(&refresh_all_with(&r1, &old_path, &[alice, bob], &["--remove", "Carol"])).unwrap();
    for _ in 0..4 {
        for h in [carol, alice, bob] {
            let _ = refresh(h, &r2, &old_path, &[]);
        }
    }
    assert_eq!(new.members().len(), 2, "r1 removed Carol");
    let msg = b"release";
    for (g, carols) in shares_held(carol) {
        for other in [alice, bob] {
            for (h, theirs) in shares_held(other).into_iter().filter(|(h, _)| h.fingerprint() == g.fingerprint()) {
                let pair = [carols.clone(), theirs];
                let sig = frost_sign(&pair, h.package().unwrap(), msg);
                assert!(
                    !sig.is_ok_and(|sig| ed25519_verify(new.key(), msg, &sig)),
                    "Carol, removed by r1, still signs with {}'s share of group {} (made by r2)",
                    other.name,
                    g.fingerprint()
                );
            }
        }
    }
}

/// A refresh share that does not fit its sender's commitment (Carol re-seals a changed share for Alice)
/// names Carol as in key generation, although frost's refresh itself names no culprit; Alice confirms
/// nothing, nobody stores a new share, and every old share is kept.
#[test]
fn a_bad_refresh_share_names_its_sender_and_nobody_loses_the_old_share() {
    use frostsign::exchange::message::{open, seal, Expect};
    let env = Env::new();
    let hs = env.holders(3);
    let old_path = env.dkg("kg", 2, &hs);
    let old = Group::load(&old_path).unwrap();
    let dir = env.path("r");
    // Two passes: everyone publishes rounds 1 and 2; Bob and Carol confirm; Alice still waits for Bob's
    // round 2 when she runs, so she has not read Carol's share yet.
    for _ in 0..2 {
        for h in &hs {
            refresh(h, &dir, &old_path, &[]).ok();
        }
    }
    let c =
        frostsign::ceremony::dkg::DkgCeremony::load(&frostsign::exchange::folder::Folder::open(&dir).unwrap()).unwrap();
    assert!(!dir.join(names::confirm(&c.cards()[0])).exists(), "Alice has not confirmed yet");
    let path = dir.join(names::round2(&c.cards()[2], &c.cards()[0]));
    let e = Expect { kind: "dkg-round2", ceremony: c.digest(), round: "2", private: true };
    let opened =
        open(&fs::read_to_string(&path).unwrap(), &path, &e, c.cards(), Some(unlock(&hs[0]).identity())).unwrap();
    let mut payload: serde_json::Value = serde_json::from_slice(opened.payload.expose()).unwrap();
    let package = hex::decode(payload["package"].as_str().unwrap()).unwrap();
    let mut share = frost::keys::dkg::round2::Package::deserialize(&package).unwrap().signing_share().serialize();
    share[0] ^= 1;
    let bad = frost::keys::dkg::round2::Package::new(frost::keys::SigningShare::deserialize(&share).unwrap());
    payload["package"] = serde_json::Value::String(hex::encode(bad.serialize().unwrap()));
    let body = serde_json::to_vec(&payload).unwrap();
    let text = seal(unlock(&hs[2]).identity(), "dkg-round2", c.digest(), "2", Some(&c.cards()[0]), &body).unwrap();
    fs::write(&path, text).unwrap();
    let out = refresh(&hs[0], &dir, &old_path, &[]);
    out.refused_with("the secret share Carol sent Alice does not match Carol's round-1 commitment")
        .contains("culprit: Carol");
    assert!(!dir.join(names::confirm(&c.cards()[0])).exists(), "Alice must not confirm");
    for h in &hs {
        assert!(old_share_or_none(h, &old).is_some(), "{} keeps its old share", h.name);
        let listed = h.run(&["group", "list"]);
        assert_eq!(listed.ok().stdout.lines().count(), 1, "{} holds only the old group:\n{}", h.name, listed.stdout);
    }
}
