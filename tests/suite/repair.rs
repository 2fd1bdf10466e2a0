//! Share repair and enrolment (issue 10, item 3): t helpers rebuild one identifier's share, for a
//! keyholder who lost it (here with a new identity card) or for a new keyholder; the key never changes.

use crate::common::*;

use frostsign::ceremony::dkg::{names, DkgCeremony, RepairPayload, KIND_SIGMA, ROUND_SIGMA};
use frostsign::exchange::folder::Folder;
use frostsign::exchange::message::seal;
use frostsign::group::Group;
use frostsign::home::{Home, PassphraseSource, Unlocked};
use std::fs;
use std::path::{Path, PathBuf};

const COMPLETE: &str = "The share repair is complete";

fn unlock(h: &Holder) -> Unlocked {
    Home::open(&h.home).unwrap().unlock(&PassphraseSource::new(Some(h.pass.clone()))).unwrap()
}

/// `share repair` as `h` in `dir`, for the keyholder whose card is `target`.
fn repair(h: &Holder, dir: &Path, group: &Path, target: &Path, extra: &[&str]) -> Out {
    let mut args = vec!["share", "repair", "--dir", s(dir), "--group", s(group), "--for", s(target), "--yes"];
    args.extend_from_slice(extra);
    h.run(&args)
}

/// Everyone in `hs` runs `share repair` round-robin until each reports completion; returns the new group.
fn repair_all(dir: &Path, group: &Path, target: &Path, hs: &[&Holder]) -> PathBuf {
    let mut done = vec![false; hs.len()];
    for _ in 0..5 {
        for (i, h) in hs.iter().enumerate() {
            done[i] |= repair(h, dir, group, target, &[]).ok().stdout.contains(COMPLETE);
        }
        if done.iter().all(|d| *d) {
            return dir.join("group.pub");
        }
    }
    panic!("the repair did not complete for everyone: {done:?}");
}

/// A new home for a keyholder who lost its laptop: a new identity under the same name.
fn new_home(env: &Env, name: &str) -> Holder {
    env.holder_at(&format!("{}-new", name.to_lowercase()), name)
}

/// Carol lost her laptop; with a new identity she gets her share back from Alice and Bob (helpers), Dave
/// confirms; she then signs with Dave a release that verifies with the OLD group file; the key, the
/// identifiers and the other shares are unchanged, and the old group has no share left in any home.
#[test]
fn a_repaired_keyholder_with_a_new_card_signs_with_t_minus_1_others_and_the_key_never_changes() {
    let env = Env::new();
    let hs = env.holders(4);
    let old_path = env.dkg("kg", 2, &hs);
    let old = Group::load(&old_path).unwrap();
    let carol = new_home(&env, "Carol");
    let dir = env.path("repair-carol");
    let out = repair(&hs[0], &dir, &old_path, &carol.card, &[]);
    out.ok().contains("is rebuilt for Carol (identifier 3), by Alice, Bob; the key stays the same");
    let new = Group::load(&repair_all(&dir, &old_path, &carol.card, &[&hs[0], &hs[1], &hs[3], &carol])).unwrap();
    assert_eq!(
        (new.key(), new.minisign_key_id(), new.identifier_numbers()),
        (old.key(), old.minisign_key_id(), &[1u16, 2, 3, 4][..])
    );
    assert_eq!(new.members()[2].fingerprint(), carol_card(&carol).fingerprint());
    for (h, i) in [(&hs[0], 0), (&hs[1], 1), (&hs[3], 3)] {
        let share = unlock(h).load_share(&new).unwrap();
        assert_eq!(
            share.verifying_share(),
            &old.package().unwrap().verifying_shares()[&old.identifier(i)],
            "{}'s share is unchanged",
            h.name
        );
        assert!(unlock(h).load_share(&old).is_err(), "{}'s share of the old group is retired", h.name);
    }
    let artifact = env.path("app.tar.gz");
    fs::write(&artifact, b"app").unwrap();
    let sig = env.sign_release("sign", &dir.join("group.pub"), &artifact, &[&carol, &hs[3]]);
    env.run(&["verify", "--key", s(&old_path), s(&artifact), "--sig", s(&sig)]).ok().contains("verified");
}

fn carol_card(h: &Holder) -> frostsign::card::Card {
    frostsign::card::Card::load(&h.card).unwrap()
}

/// A new keyholder, Erin, is enrolled into a 2-of-3 group at identifier 4, derived from the group's
/// verifying shares; she signs with Bob; the key is unchanged.
#[test]
fn an_enrolled_keyholder_signs_and_the_key_never_changes() {
    let env = Env::new();
    let hs = env.holders(3);
    let old_path = env.dkg("kg", 2, &hs);
    let old = Group::load(&old_path).unwrap();
    let erin = env.holder("Erin");
    let dir = env.path("enrol-erin");
    let out = repair(&hs[1], &dir, &old_path, &erin.card, &["--helper", "Carol", "--helper", "Bob"]);
    out.ok().contains("is rebuilt for Erin (identifier 4), by Bob, Carol");
    let new = Group::load(&repair_all(&dir, &old_path, &erin.card, &[&hs[0], &hs[1], &hs[2], &erin])).unwrap();
    assert_eq!((new.key(), new.members().len(), new.identifier_numbers()), (old.key(), 4, &[1u16, 2, 3, 4][..]));
    let artifact = env.path("notes.txt");
    fs::write(&artifact, b"notes").unwrap();
    let sig = env.sign_release("sign", &dir.join("group.pub"), &artifact, &[&hs[1], &erin]);
    env.run(&["verify", "--key", s(&old_path), s(&artifact), "--sig", s(&sig)]).ok().contains("verified");
}

/// A helper's value that is wrong (here Bob's sigma replaced by a validly sealed random one) makes a
/// share that does not match the identifier's verifying share: the keyholder being repaired refuses it,
/// names no one (the files cannot tell which helper), stores nothing, and the ceremony fails.
#[test]
fn a_repaired_share_that_does_not_match_its_verifying_share_is_refused_naming_no_one() {
    let env = Env::new();
    let hs = env.holders(3);
    let old_path = env.dkg("kg", 2, &hs);
    let carol = new_home(&env, "Carol");
    let dir = env.path("repair");
    for h in [&hs[0], &hs[1], &hs[0], &hs[1]] {
        repair(h, &dir, &old_path, &carol.card, &[]).ok();
    }
    let c = DkgCeremony::load(&Folder::open(&dir).unwrap()).unwrap();
    let bob = &c.cards()[1];
    let body = serde_json::to_vec(&RepairPayload { value: hex::encode([9u8; 32]).into() }).unwrap();
    let forged =
        seal(unlock(&hs[1]).identity(), KIND_SIGMA, c.digest(), ROUND_SIGMA, Some(&c.cards()[2]), &body).unwrap();
    fs::write(dir.join(names::sigma(bob)), forged).unwrap();
    let out = repair(&carol, &dir, &old_path, &carol.card, &[]);
    out.refused_with("does not match identifier 3's verifying share in the group")
        .contains(
            "one of the helpers (Alice, Bob) sent a wrong value, or one was replaced: these files cannot tell which",
        )
        .contains("culprit unknown");
    assert!(carol.run(&["group", "list"]).stdout.contains("holds no group share"));
    env.run(&["dkg", "status", "--dir", s(&dir)]).expect_code(2).contains("Failed");
}

/// The repair's ceremony file is checked before anyone joins: a card that takes another member's place,
/// a missing member, t helpers that include the one repaired, an outsider's home; and the one being
/// repaired cannot start it.
#[test]
fn a_repair_that_does_not_match_the_group_or_cannot_help_is_refused_before_joining() {
    let env = Env::new();
    let hs = env.holders(3);
    let old_path = env.dkg("kg", 2, &hs);
    let old = Group::load(&old_path).unwrap();
    let carol = new_home(&env, "Carol");
    repair(&carol, &env.path("r0"), &old_path, &carol.card, &[]).refused_with("holds no repair yet");
    repair(&hs[0], &env.path("r1"), &old_path, &carol.card, &["--helper", "Carol", "--helper", "Alice"])
        .refused_with("Carol cannot help rebuild its own share");
    repair(&hs[0], &env.path("r2"), &old_path, &carol.card, &["--helper", "Alice"])
        .refused_with("a repair needs exactly 2 helpers");
    let outsider = env.holder("Mallory");
    repair(&outsider, &env.path("r3"), &old_path, &carol.card, &[]).refused_with("you are not Carol");
    // A ceremony file whose participant at identifier 2 has another card than Bob's.
    let (c, text) = frostsign::ceremony::repair::describe(&old, &carol_card(&hs[0]), &carol_card(&carol), &[]).unwrap();
    let mallory = carol_card(&outsider);
    let bob_line = format!("participant: 2 {} Bob", c.cards()[1].fingerprint().compact());
    assert!(text.contains(&bob_line));
    let forged = frostsign::group::ceremony::DkgCeremony::create(
        old.label(),
        2,
        vec![c.cards()[0].clone(), mallory.clone(), c.cards()[2].clone()],
        frostsign::group::ceremony::Origin::Repair(c.repair().unwrap(), &[1, 2, 3]),
        true,
    )
    .unwrap()
    .1;
    let dir = env.path("r4");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("ceremony.txt"), forged).unwrap();
    for h in [&hs[0], &carol] {
        repair(h, &dir, &old_path, &carol.card, &[]).refused_with("is not the card of the member at identifier 2");
    }
    // A folder holding a repair for another card is not joined as this one.
    let erin = env.holder("Erin");
    repair(&hs[0], &dir, &old_path, &erin.card, &[])
        .refused_with("another ceremony than a repair of this group for this card");
    assert_eq!(fs::read_dir(&dir).unwrap().count(), 1, "nothing published");
}

/// A helper's process dies at each failpoint of its repair steps, and so does the keyholder being repaired
/// at each of its own; reruns complete with the key unchanged and nobody storing a share of the new group
/// before every acceptance.
#[test]
fn a_crash_at_any_repair_failpoint_is_recovered_by_a_rerun() {
    let at = ["before-save", "after-save", "before-publish"];
    let helper = ["dkg-repair-deltas", "dkg-repair", "dkg-accept", "dkg-done"];
    let target = ["dkg-repair", "dkg-accept", "dkg-done"];
    for (phases, crash_target) in [(&helper[..], false), (&target[..], true)] {
        for point in phases.iter().flat_map(|p| at.iter().map(move |a| format!("{p}-{a}"))) {
            crash_repair_at(&point, crash_target);
        }
    }
}

/// One repair (Erin enrolled into a 2-of-3 group) in which a helper (Alice), or Erin when `crash_target`,
/// dies at `point` once.
fn crash_repair_at(point: &str, crash_target: bool) {
    let env = Env::new();
    let hs = env.holders(3);
    let old_path = env.dkg("kg", 2, &hs);
    let erin = env.holder("Erin");
    let dir = env.path("r");
    let args = ["share", "repair", "--dir", "r", "--group", "kg/group.pub", "--for", s(&erin.card), "--yes"];
    let (crashing, others) =
        if crash_target { (&erin, [&hs[0], &hs[1], &hs[2]]) } else { (&hs[0], [&hs[1], &hs[2], &erin]) };
    let mut crashed = false;
    for _ in 0..5 {
        if crash_target && !dir.join("ceremony.txt").exists() {
            run_as(&hs[0], &args, &[]).ok();
        }
        let vars: &[(&str, &str)] = if crashed { &[] } else { &[("FROSTSIGN_CRASH_AT", point)] };
        let out = run_as(crashing, &args, vars);
        if !crashed && out.code != 0 {
            out.contains("simulated crash");
            crashed = true;
            let stored = others.iter().filter(|h| h.run(&["group", "list"]).stdout.contains("2-of-4")).count();
            assert!(stored == 0 || point.starts_with("dkg-done"), "{point}: a share before completion");
        } else {
            out.ok();
        }
        for h in others {
            if dir.join("ceremony.txt").exists() {
                repair(h, &dir, &old_path, &erin.card, &[]).ok();
            }
        }
    }
    let who = if crash_target { "Erin" } else { "a helper" };
    assert!(crashed, "{point} was never reached by {who}");
    env.run(&["dkg", "status", "--dir", s(&dir)]).ok().contains("Complete: group");
    let (old, new) = (Group::load(&old_path).unwrap(), Group::load(&dir.join("group.pub")).unwrap());
    assert_eq!(old.key(), new.key(), "{point}");
    assert!(erin.run(&["group", "list"]).ok().stdout.contains("2-of-4"), "{point}: Erin holds her share");
}

/// A keyholder takes part in one renewal of a group at a time: after joining a refresh that removes Carol,
/// Alice and Bob refuse a repair of the same group that Carol starts (it would store their old shares again
/// after the refresh retired them, undoing the removal).
#[test]
fn a_keyholder_in_a_refresh_refuses_a_concurrent_repair_of_the_same_group() {
    let env = Env::new();
    let hs = env.holders(3);
    let old_path = env.dkg("kg", 2, &hs);
    let r1 = env.path("remove-carol");
    for h in [&hs[0], &hs[1]] {
        h.run(&["share", "refresh", "--dir", s(&r1), "--group", s(&old_path), "--yes", "--remove", "Carol"]).ok();
    }
    let erin = env.holder("Erin");
    let r2 = env.path("enrol-erin");
    repair(&hs[2], &r2, &old_path, &erin.card, &["--helper", "Carol", "--helper", "Alice"]).ok();
    for h in [&hs[0], &hs[1]] {
        repair(h, &r2, &old_path, &erin.card, &[])
            .refused_with("you already take part in another refresh or repair of this group");
    }
    assert!(!fs::read_dir(&r2).unwrap().flatten().any(|f| f.file_name().to_string_lossy().starts_with("confirm-")));
}

/// `dkg status` on a repair folder checks the helpers' values it can check without opening them (the
/// signature, sender, recipient, kind and round): an unsigned `sigma-` file, a delta from a member who is no
/// helper, or a helper's delta stored under another helper's sigma name are strays, as they are in key
/// generation's rounds; an honest helper's files are not.
#[test]
fn unsigned_or_misplaced_repair_values_are_strays_in_status() {
    let env = Env::new();
    let hs = env.holders(3);
    let old_path = env.dkg("kg", 2, &hs);
    let carol = new_home(&env, "Carol");
    let dir = env.path("repair");
    repair(&hs[0], &dir, &old_path, &carol.card, &[]).ok();
    let c = DkgCeremony::load(&Folder::open(&dir).unwrap()).unwrap();
    let (alice, bob) = (&c.cards()[0], &c.cards()[1]);
    let alices_delta = fs::read_to_string(dir.join(names::delta(alice, bob))).unwrap();
    // Bob's sigma name holds Alice's delta; Carol (the one repaired, no helper) "sends" a delta; garbage.
    fs::write(dir.join(names::sigma(bob)), &alices_delta).unwrap();
    fs::write(dir.join(names::delta(&c.cards()[2], alice)), "not signed\n").unwrap();
    let out = env.run(&["dkg", "status", "--dir", s(&dir), "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", out.all()));
    let strays: Vec<String> =
        v["strays"].as_array().unwrap().iter().map(|s| s["file"].as_str().unwrap().to_string()).collect();
    let mut want = vec![names::sigma(bob), names::delta(&c.cards()[2], alice)];
    want.sort();
    let mut got = strays.clone();
    got.sort();
    assert_eq!(got, want, "{v}");
    assert_eq!(v["problems"], serde_json::json!([]), "{v}");
}

/// Before joining a repair that gives a member a new card, every keyholder is shown the member's old and
/// new fingerprints (its old card is not asked: only a voice check tells a lost card from a taken one), and
/// the minisign.pub line to compare (the keyholder repaired has no copy of the group of its own); a
/// keyholder who names helpers does not silently join a repair with others.
#[test]
fn joining_a_repair_shows_the_card_change_and_the_minisign_line_and_checks_named_helpers() {
    let env = Env::new();
    let hs = env.holders(3);
    let old_path = env.dkg("kg", 2, &hs);
    let old = Group::load(&old_path).unwrap();
    let carol = new_home(&env, "Carol");
    let dir = env.path("repair");
    let minisign_line = frostsign::formats::minisign::public_key_line(old.minisign_key_id(), old.key());
    repair(&hs[0], &dir, &old_path, &carol.card, &[])
        .ok()
        .contains(&format!(
            "Carol gets a NEW card: was {}, now {}",
            old.members()[2].fingerprint(),
            carol_card(&carol).fingerprint()
        ))
        .contains(&minisign_line);
    repair(&hs[1], &dir, &old_path, &carol.card, &["--helper", "Bob", "--helper", "Carol"])
        .refused_with("other helpers than --helper names");
    repair(&hs[1], &dir, &old_path, &carol.card, &["--helper", "Bob", "--helper", "Alice"]).ok();
}

/// Refresh and repair files are read through the same authenticated opening as key generation's: a file
/// replayed from another ceremony, a value moved to another recipient's name, and a tampered value are
/// each refused with the file named, and nothing is confirmed from them.
#[test]
fn replayed_misaddressed_or_tampered_refresh_and_repair_files_are_refused() {
    let env = Env::new();
    let hs = env.holders(3);
    let old_path = env.dkg("kg", 2, &hs);
    let kg = DkgCeremony::load(&Folder::open(&env.path("kg")).unwrap()).unwrap();
    // Refresh: Alice's round-1 file of the key generation, replayed into the refresh under her name.
    let r = env.path("refresh");
    for h in [&hs[1], &hs[2]] {
        h.run(&["share", "refresh", "--dir", s(&r), "--group", s(&old_path), "--yes"]).ok();
    }
    let alice_r1 = names::round1(&kg.cards()[0]);
    fs::copy(env.path("kg").join(&alice_r1), r.join(&alice_r1)).unwrap();
    let out = hs[1].run(&["share", "refresh", "--dir", s(&r), "--group", s(&old_path), "--yes"]);
    out.refused_with(&alice_r1).contains("another ceremony");
    // Repair (enrol Erin, helpers Alice and Bob), in a group that takes part in no refresh.
    let env = Env::new();
    let hs = env.holders(3);
    let old_path = env.dkg("kg", 2, &hs);
    let erin = env.holder("Erin");
    let d = env.path("enrol");
    repair(&hs[0], &d, &old_path, &erin.card, &[]).ok();
    let c = DkgCeremony::load(&Folder::open(&d).unwrap()).unwrap();
    let (alice, bob) = (&c.cards()[0], &c.cards()[1]);
    // Alice's delta for Bob, one byte of its payload changed: Bob refuses it and confirms nothing.
    let path = d.join(names::delta(alice, bob));
    let original = fs::read_to_string(&path).unwrap();
    let at = original.find("payload:").unwrap() + 30;
    let mut bytes = original.clone().into_bytes();
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    fs::write(&path, bytes).unwrap();
    repair(&hs[1], &d, &old_path, &erin.card, &[]).refused_with(&names::delta(alice, bob));
    assert!(!d.join(names::confirm(bob)).exists(), "Bob confirms nothing from a tampered value");
    fs::write(&path, original).unwrap();
    repair(&hs[1], &d, &old_path, &erin.card, &[]).ok().contains("published your confirmation");
    // Bob's delta for Alice, moved to the name of Alice's sigma for Erin: not a sigma, not addressed to her.
    let delta = fs::read_to_string(d.join(names::delta(bob, alice))).unwrap();
    fs::write(d.join(names::sigma(alice)), &delta).unwrap();
    repair(&erin, &d, &old_path, &erin.card, &[]).refused_with(&names::sigma(alice));
    assert!(erin.run(&["group", "list"]).stdout.contains("holds no group share"));
}
