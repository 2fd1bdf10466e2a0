//! Dealer split (issue 10, item 1): one key, imported from stock minisign or generated, dealt among
//! keyholders, who check their shares and confirm and accept as in key generation.

use crate::common::*;

use frost_ed25519 as frost;
use frostsign::ceremony::dkg::{names, DealtPayload, DkgCeremony, KIND_DEALT, ROUND_DEALT};
use frostsign::exchange::folder::Folder;
use frostsign::exchange::message::{open, seal, Expect};
use frostsign::home::{Home, PassphraseSource, Unlocked};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const COMPLETE: &str = "The dealt group is complete";
const DATA: &str = "tests/data/minisign";

fn unlock(h: &Holder) -> Unlocked {
    Home::open(&h.home).unwrap().unlock(&PassphraseSource::new(Some(h.pass.clone()))).unwrap()
}

/// `dealer split` as `dealer` into `dir` for these keyholders (2-of-n), with the key arguments `key`.
fn split(env: &Env, dealer: &Holder, dir: &str, hs: &[Holder], key: &[&str]) -> Out {
    let d = env.path(dir);
    let mut args = vec!["dealer", "split", "--dir", s(&d), "--threshold", "2", "--allow-insecure-cards"];
    args.extend_from_slice(key);
    args.extend(hs.iter().map(|h| s(&h.card)));
    dealer.run(&args)
}

/// Every keyholder runs `dealer accept` round-robin until each reports completion; returns group.pub.
fn accept_all(dir: &Path, hs: &[Holder]) -> PathBuf {
    let mut done = vec![false; hs.len()];
    for _ in 0..4 {
        for (i, h) in hs.iter().enumerate() {
            let out = h.run(&["dealer", "accept", "--dir", s(dir), "--yes"]);
            done[i] |= out.ok().stdout.contains(COMPLETE);
        }
        if done.iter().all(|d| *d) {
            return dir.join("group.pub");
        }
    }
    panic!("the dealt group did not complete for everyone: {done:?}");
}

/// A password file (0600) holding `password`.
fn password_file(env: &Env, password: &str) -> PathBuf {
    let p = env.path("minisign-password");
    fs::write(&p, format!("{password}\n")).unwrap();
    fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    p
}

/// `minisign -Vm FILE -x SIG -p PUB`: (success, output).
fn minisign_verify(artifact: &Path, sig: &Path, public: &Path) -> (bool, String) {
    let o = Command::new("minisign")
        .args(["-Vm", s(artifact), "-x", s(sig), "-p", s(public)])
        .stdin(Stdio::null())
        .output()
        .expect("run minisign");
    (o.status.success(), format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)))
}

/// `n` keyholders and a dealer, with tests/data/minisign/plain.key (an unencrypted stock key) split
/// 2-of-n among them into the folder `cer`.
fn imported_plain_key(env: &Env, n: usize) -> (Vec<Holder>, Holder) {
    let hs = env.holders(n);
    let dealer = env.holder("Dealer");
    let plain = root().join(DATA).join("plain.key");
    split(env, &dealer, "cer", &hs, &["--import-minisign", s(&plain)]).ok();
    (hs, dealer)
}

/// The seed of tests/data/minisign/plain.key.
fn plain_seed() -> zeroize::Zeroizing<[u8; 32]> {
    let text = fs::read_to_string(root().join(DATA).join("plain.key")).unwrap();
    frostsign::formats::minisign::parse_secret_key(&text, None).unwrap().seed
}

fn field<'a>(text: &'a str, key: &str) -> &'a str {
    text.lines().find_map(|l| l.strip_prefix(&format!("{key}: "))).unwrap_or_else(|| panic!("no {key}"))
}

/// A key made by stock `minisign -G` (scrypt-encrypted, minisign's own 1 GiB parameters) is split 2-of-3;
/// a release signed by two keyholders verifies with `minisign -Vm` and the ORIGINAL minisign.pub, which
/// is byte for byte unchanged, and the group's own file names the same key and key id.
#[test]
fn a_stock_minisign_key_split_2_of_3_signs_releases_its_original_minisign_pub_verifies() {
    if !require_tool("minisign", INSTALL_TOOLS) {
        return;
    }
    let env = Env::new();
    let (public, secret) = (env.path("minisign.pub"), env.path("minisign.key"));
    let mut keygen = Command::new("minisign")
        .args(["-G", "-p", s(&public), "-s", s(&secret)])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    std::io::Write::write_all(keygen.stdin.as_mut().unwrap(), b"correct horse\ncorrect horse\n").unwrap();
    assert!(keygen.wait().unwrap().success(), "minisign -G failed");
    let original = fs::read(&public).unwrap();

    let hs = env.holders(3);
    let dealer = env.holder("Dealer");
    let pw = password_file(&env, "correct horse");
    let out = split(&env, &dealer, "cer", &hs, &["--import-minisign", s(&secret), "--minisign-password-file", s(&pw)]);
    let key_line = String::from_utf8_lossy(&original).lines().nth(1).unwrap().to_string();
    out.ok().contains("It is an existing minisign key (key id").contains("that machine held the whole key");
    // Each keyholder is shown the key as minisign.pub spells it, before it joins: the group key in hex and a
    // key id alone cannot be compared with the project's minisign.pub (a dealer may claim any key id).
    let join = hs[0].run(&["dealer", "accept", "--dir", s(&env.path("cer")), "--yes"]);
    join.ok().contains(&format!("Its minisign.pub must end with this line (compare): {key_line}"));
    let group = accept_all(&env.path("cer"), &hs);
    assert_eq!(field(&fs::read_to_string(&group).unwrap(), "minisign-public-key"), key_line);

    let artifact = env.path("app-1.0.tar.gz");
    fs::write(&artifact, b"release bytes").unwrap();
    let sig = env.sign_release("sign-1.0", &group, &artifact, &[&hs[0], &hs[2]]);
    let (ok, said) = minisign_verify(&artifact, &sig, &public);
    assert!(ok && said.contains("Signature and comment signature verified"), "{said}");
    assert_eq!(fs::read(&public).unwrap(), original, "the project's minisign.pub must not change");
    env.run(&["verify", "--key", s(&public), s(&artifact), "--sig", s(&sig)]).ok();
    fs::write(&artifact, b"release bytes, altered").unwrap();
    assert!(!minisign_verify(&artifact, &sig, &public).0, "an altered release must not verify");
}

/// `--generate` deals a fresh key the same way; its signatures verify with group.pub, and frostsign's
/// minisign export of it.
#[test]
fn a_generated_key_is_dealt_and_any_two_sign() {
    let env = Env::new();
    let hs = env.holders(3);
    let dealer = env.holder("Dealer");
    split(&env, &dealer, "cer", &hs, &["--generate", "--label", "Dealt"]).ok().contains("Dealt group ceremony");
    let group = accept_all(&env.path("cer"), &hs);
    let status = env.run(&["dkg", "status", "--dir", s(&env.path("cer"))]);
    status.ok().contains("Dealt group ceremony (dealer: Dealer (").contains("Complete: group");
    let artifact = env.path("notes.txt");
    fs::write(&artifact, b"notes").unwrap();
    let sig = env.sign_release("sign", &group, &artifact, &[&hs[1], &hs[2]]);
    env.run(&["verify", "--key", s(&group), s(&artifact), "--sig", s(&sig)]).ok().contains("verified");
}

/// `dealer accept` with nothing to do (its share checked and confirmed, the others' confirmations not in
/// yet) says so without a passphrase, as `dkg step` does; checking its share is work, which asks.
#[test]
fn dealer_accept_with_nothing_to_do_needs_no_passphrase() {
    let env = Env::new();
    let hs = env.holders(3);
    let dealer = env.holder("Dealer");
    split(&env, &dealer, "cer", &hs, &["--generate"]).ok();
    let dir = env.path("cer");
    let no_passphrase =
        |h: &Holder| run_in(&h.cwd, &["--home", s(&h.home), "dealer", "accept", "--dir", s(&dir), "--yes"]);
    refused(&no_passphrase(&hs[0]), &["--passphrase-file"]);
    hs[0]
        .run(&["dealer", "accept", "--dir", s(&dir), "--yes"])
        .ok()
        .contains("Waiting for confirmations from Bob, Carol");
    let before = (snapshot(&dir), snapshot(&hs[0].home));
    let out = no_passphrase(&hs[0]);
    no_panic(&out);
    out.ok();
    assert_eq!(out.stdout, "Nothing new to do: waiting for confirmations from Bob, Carol.\n", "{}", out.all());
    assert!((snapshot(&dir), snapshot(&hs[0].home)) == before, "a step with nothing to do changed files");
    refused(&no_passphrase(&hs[1]), &["--passphrase-file"]);
    accept_all(&dir, &hs);
}

/// The encrypted key's password: a wrong one is refused with the reason, no terminal and no password
/// file is refused with what to give, and either way nothing is written.
#[test]
fn a_wrong_or_missing_minisign_password_is_refused_and_nothing_is_written() {
    let env = Env::new();
    let hs = env.holders(2);
    let dealer = env.holder("Dealer");
    let light = root().join(DATA).join("light.key");
    let wrong = password_file(&env, "not it");
    let out =
        split(&env, &dealer, "cer", &hs, &["--import-minisign", s(&light), "--minisign-password-file", s(&wrong)]);
    out.refused_with("cannot import this minisign secret key: wrong password")
        .contains("run again with the password minisign asks for");
    assert!(!env.path("cer").exists(), "nothing may be written");
    let out = split(&env, &dealer, "cer", &hs, &["--import-minisign", s(&light)]);
    out.refused_with("there is no terminal to ask for its password").contains("--minisign-password-file");
    assert!(!env.path("cer").exists());
    let right = password_file(&env, "light");
    split(&env, &dealer, "cer", &hs, &["--import-minisign", s(&light), "--minisign-password-file", s(&right)]).ok();
    let plain_pub = fs::read_to_string(root().join(DATA).join("plain.pub")).unwrap();
    let ceremony = fs::read_to_string(env.path("cer/ceremony.txt")).unwrap();
    assert_eq!(
        field(&ceremony, "minisign-key-id"),
        plain_pub.lines().next().unwrap().rsplit(' ').next().unwrap(),
        "the key id minisign.pub shows"
    );
    // A second split into the same folder is refused; the first one is untouched.
    let before = snapshot(&env.path("cer"));
    split(&env, &dealer, "cer", &hs, &["--generate"]).refused_with("already holds");
    assert!(before == snapshot(&env.path("cer")));
}

/// Files that are not stock minisign secret keys are refused, each with its reason, exit 2.
#[test]
fn a_file_that_is_not_a_minisign_secret_key_is_refused_with_its_reason() {
    let env = Env::new();
    let hs = env.holders(2);
    let dealer = env.holder("Dealer");
    let public = root().join(DATA).join("plain.pub");
    let text = fs::read_to_string(root().join(DATA).join("plain.key")).unwrap();
    let damaged = env.path("damaged.key");
    fs::write(&damaged, text.replacen("RWQAAEIy", "RWQAAEIz", 1)).unwrap();
    let cases = [(&public, "not a minisign Ed25519 secret key"), (&hs[0].card, "not `untrusted comment: ...`")];
    for (file, why) in cases {
        split(&env, &dealer, "cer", &hs, &["--import-minisign", s(file)]).refused_with(why);
    }
    split(&env, &dealer, "cer", &hs, &["--import-minisign", s(&damaged)]).expect_code(2).contains("damaged");
    assert!(!env.path("cer").exists());
}

/// A dealt share is opened only as the dealer's, for this ceremony, addressed to the reader: swapped,
/// tampered or forged shares are refused with the file named, nobody gets a share, and the status lists
/// the bad files as strays.
#[test]
fn swapped_tampered_or_forged_dealt_shares_are_refused() {
    let env = Env::new();
    let hs = env.holders(3);
    let dealer = env.holder("Dealer");
    split(&env, &dealer, "cer", &hs, &["--generate"]).ok();
    let dir = env.path("cer");
    let c = DkgCeremony::load(&Folder::open(&dir).unwrap()).unwrap();
    let (alice, bob) = (dir.join(names::dealt(&c.cards()[0])), dir.join(names::dealt(&c.cards()[1])));
    let bobs = fs::read_to_string(&bob).unwrap();
    // Bob's share under Alice's name: addressed to Bob, not her.
    let alices = fs::read_to_string(&alice).unwrap();
    fs::write(&alice, &bobs).unwrap();
    hs[0].run(&["dealer", "accept", "--dir", s(&dir), "--yes"]).refused_with("dealt-to-");
    // One byte of the payload changed: the dealer's signature fails.
    let i = alices.find("payload:").unwrap() + 40;
    let mut bytes = alices.clone().into_bytes();
    bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
    fs::write(&alice, &bytes).unwrap();
    hs[0].run(&["dealer", "accept", "--dir", s(&dir), "--yes"]).refused_with("signature");
    // Carol (a keyholder, not the dealer) writes a share for Alice: not from the dealer.
    let forged =
        seal(unlock(&hs[2]).identity(), KIND_DEALT, c.digest(), ROUND_DEALT, Some(&c.cards()[0]), b"{}").unwrap();
    fs::write(&alice, forged).unwrap();
    hs[0].run(&["dealer", "accept", "--dir", s(&dir), "--yes"]).refused_with("dealt-to-");
    assert!(hs[0].run(&["group", "list"]).stdout.contains("holds no group share"), "no share after refused files");
    let status = env.run(&["dkg", "status", "--dir", s(&dir)]);
    status.expect_code(3).contains(&format!("stray (plays no part): {}", names::dealt(&c.cards()[0])));
    // The genuine file back: Alice confirms.
    fs::write(&alice, &alices).unwrap();
    hs[0].run(&["dealer", "accept", "--dir", s(&dir), "--yes"]).ok().contains("published your confirmation");
}

/// A share that does not match the dealer's commitment, or a commitment that makes another key than the
/// ceremony names, is refused before the keyholder confirms anything: the keyholder publishes a signed
/// complaint (naming no keyholder: the dealer is at fault), and the status says the ceremony failed.
#[test]
fn a_share_off_its_commitment_or_another_key_is_refused_and_reported() {
    for (case, tamper) in [("share", 0usize), ("key", 1)] {
        let env = Env::new();
        let hs = env.holders(2);
        let dealer = env.holder("Dealer");
        split(&env, &dealer, "cer", &hs, &["--generate"]).ok();
        let dir = env.path("cer");
        let c = DkgCeremony::load(&Folder::open(&dir).unwrap()).unwrap();
        let path = dir.join(names::dealt(&c.cards()[0]));
        let e = Expect { kind: KIND_DEALT, ceremony: c.digest(), round: ROUND_DEALT, private: true };
        let dealer_card = c.dealer().unwrap().card.clone();
        let opened =
            open(&fs::read_to_string(&path).unwrap(), &path, &e, &[dealer_card], Some(unlock(&hs[0]).identity()))
                .unwrap();
        let p: DealtPayload = opened.decode().unwrap();
        let share = frost::keys::SecretShare::deserialize(&hex::decode(p.share.as_str()).unwrap()).unwrap();
        let bad = if tamper == 0 {
            // Another signing share under the same commitment.
            let other = frost::keys::SigningShare::deserialize(&[7u8; 32]).unwrap();
            frost::keys::SecretShare::new(*share.identifier(), other, share.commitment().clone())
        } else {
            // A consistent share of another key.
            let key = frost::SigningKey::new(&mut rand_core::OsRng);
            let ids = frost::keys::IdentifierList::Default;
            let (shares, _) = frost::keys::split(&key, 2, 2, ids, &mut rand_core::OsRng).unwrap();
            shares[share.identifier()].clone()
        };
        let body = serde_json::to_vec(&DealtPayload { share: hex::encode(bad.serialize().unwrap()).into() }).unwrap();
        let text = seal(unlock(&dealer).identity(), KIND_DEALT, c.digest(), ROUND_DEALT, Some(&c.cards()[0]), &body);
        fs::write(&path, text.unwrap()).unwrap();
        let out = hs[0].run(&["dealer", "accept", "--dir", s(&dir), "--yes"]);
        let why = if tamper == 0 { "does not match the dealer's commitment" } else { "not the key" };
        out.refused_with("the share dealt by Dealer").contains(why).contains("the dealer Dealer (");
        out.contains("signed this share").contains("help: do not use this group");
        assert!(!fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .any(|f| f.file_name().to_string_lossy().starts_with("confirm-")));
        let status = env.run(&["dkg", "status", "--dir", s(&dir)]);
        status.expect_code(2).contains("Failed");
        assert!(hs[0].run(&["group", "list"]).stdout.contains("holds no group share"), "{case}: no share");
    }
}

/// `dealer accept` on a key generation folder says to use `dkg step`; `dkg step` works on a dealt folder.
#[test]
fn dealer_accept_is_for_dealt_groups_and_dkg_step_also_accepts_a_dealt_share() {
    let env = Env::new();
    let hs = env.holders(2);
    env.dkg_init("kg", 2, &hs).ok();
    hs[0].run(&["dealer", "accept", "--dir", s(&env.path("kg")), "--yes"]).refused_with("run `frostsign dkg step");
    let dealer = env.holder("Dealer");
    split(&env, &dealer, "cer", &hs, &["--generate"]).ok();
    hs[0].dkg_step(&env.path("cer")).ok().contains("checked the share Dealer dealt you");
    hs[1].run(&["dealer", "accept", "--dir", s(&env.path("cer")), "--yes"]).ok().contains("all 2 confirmations agree");
}

/// A keyholder's process dies at each failpoint of its dealt-group steps (and the dealer's before its
/// ceremony file): reruns complete with one group everywhere and no share before every acceptance.
#[test]
fn a_crash_at_any_dealt_group_failpoint_is_recovered_by_a_rerun() {
    let at = ["before-save", "after-save", "before-publish"];
    let points =
        ["dkg-dealt", "dkg-accept", "dkg-done"].iter().flat_map(|p| at.iter().map(move |a| format!("{p}-{a}")));
    for point in points {
        let env = Env::new();
        let hs = env.holders(2);
        let dealer = env.holder("Dealer");
        split(&env, &dealer, "cer", &hs, &["--generate"]).ok();
        let dir = env.path("cer");
        let crash = [("FROSTSIGN_CRASH_AT", point.as_str())];
        let mut crashed = false;
        for _ in 0..4 {
            let out =
                run_as(&hs[0], &["dealer", "accept", "--dir", s(&dir), "--yes"], if crashed { &[] } else { &crash });
            if !crashed && out.code != 0 {
                out.contains("simulated crash");
                crashed = true;
                let stored = hs.iter().filter(|h| h.run(&["group", "list"]).stdout.contains("2-of-2")).count();
                assert!(stored == 0 || point.starts_with("dkg-done"), "{point}: a share before completion");
            } else {
                out.ok();
            }
            hs[1].run(&["dealer", "accept", "--dir", s(&dir), "--yes"]).ok();
        }
        assert!(crashed, "{point} was never reached");
        let status = env.run(&["dkg", "status", "--dir", s(&dir)]);
        status.ok().contains("Complete: group");
    }
    // The dealer dies before writing the ceremony file: nobody can join; a new folder works.
    let env = Env::new();
    let hs = env.holders(2);
    let dealer = env.holder("Dealer");
    let args = ["dealer", "split", "--dir", "cer", "--threshold", "2", "--generate", "--allow-insecure-cards"];
    let cards: Vec<&str> = hs.iter().map(|h| s(&h.card)).collect();
    let out = run_as(&dealer, &[&args[..], &cards].concat(), &[("FROSTSIGN_CRASH_AT", "dealer-before-ceremony")]);
    out.contains("simulated crash");
    hs[0].run(&["dealer", "accept", "--dir", s(&env.path("cer")), "--yes"]).refused_with("ceremony.txt is missing");
    split(&env, &dealer, "cer", &hs, &["--generate"]).refused_with("already holds");
    split(&env, &dealer, "cer2", &hs, &["--generate"]).ok();
}

/// A dealer who deals one keyholder a share of the same key under another commitment (a second split)
/// passes that keyholder's own checks, but its confirmation then names another commitment: nobody
/// completes, and no share becomes usable.
#[test]
fn a_dealer_showing_two_commitments_of_the_same_key_leaves_nobody_complete() {
    let env = Env::new();
    let (hs, dealer) = imported_plain_key(&env, 3);
    let dir = env.path("cer");
    let c = DkgCeremony::load(&Folder::open(&dir).unwrap()).unwrap();
    // The same key, split again: a consistent share for Alice under a different commitment.
    let seed = plain_seed();
    let scalar = ed25519_dalek::SigningKey::from_bytes(&seed).to_scalar();
    let key = frost::SigningKey::deserialize(&scalar.to_bytes()).unwrap();
    let (shares, _) =
        frost::keys::split(&key, 3, 2, frost::keys::IdentifierList::Default, &mut rand_core::OsRng).unwrap();
    let alices = &shares[&c.identifier(0)];
    let body = serde_json::to_vec(&DealtPayload { share: hex::encode(alices.serialize().unwrap()).into() }).unwrap();
    let text = seal(unlock(&dealer).identity(), KIND_DEALT, c.digest(), ROUND_DEALT, Some(&c.cards()[0]), &body);
    fs::write(dir.join(names::dealt(&c.cards()[0])), text.unwrap()).unwrap();
    for _ in 0..2 {
        for h in &hs {
            let out = h.run(&["dealer", "accept", "--dir", s(&dir), "--yes"]);
            assert!(!out.stdout.contains(COMPLETE), "{}", out.all());
        }
    }
    let status = env.run(&["dkg", "status", "--dir", s(&dir)]);
    status.expect_code(2).contains("Failed");
    for h in &hs {
        assert!(h.run(&["group", "list"]).stdout.contains("holds no group share"), "{}", h.name);
    }
}

/// After an import, neither the ceremony folder nor any home holds the imported seed, its secret scalar
/// or any keyholder's share in the clear (raw, hex, or inside a base64 block); every dealt file is
/// encrypted.
#[test]
fn no_key_or_share_is_in_the_clear_in_the_folder_or_any_home() {
    let env = Env::new();
    let (hs, dealer) = imported_plain_key(&env, 3);
    let dir = env.path("cer");
    let group = frostsign::group::Group::load(&accept_all(&dir, &hs)).unwrap();
    let seed = plain_seed();
    let mut secrets = vec![
        ("the seed".to_string(), seed.to_vec()),
        ("the secret scalar".into(), ed25519_dalek::SigningKey::from_bytes(&seed).to_scalar().to_bytes().to_vec()),
    ];
    for h in &hs {
        let share = unlock(h).load_share(&group).unwrap().signing_share().serialize();
        secrets.push((format!("{}'s share", h.name), share));
        let text = fs::read_to_string(dir.join(names::dealt(unlock(h).identity().card()))).unwrap();
        assert!(text.contains("encryption: hpke-auth-x25519-sha256-chacha20poly1305"), "{}", h.name);
    }
    let views: Vec<_> = std::iter::once(&dir)
        .chain(hs.iter().map(|h| &h.home))
        .chain([&dealer.home])
        .flat_map(|d| cleartext_views(d))
        .collect();
    for (what, bytes) in &secrets {
        for needle in [bytes.clone(), hex::encode(bytes).into_bytes(), hex::encode_upper(bytes).into_bytes()] {
            for (file, view) in &views {
                assert!(!contains(view, &needle), "{what} is in the clear in {}", file.display());
            }
        }
    }
}

/// A dealer that carries a keyholder's name but other keys would be shown as that keyholder wherever the
/// dealer is named (the summary, `dkg status`, every complaint about the share): `dealer split` refuses it,
/// and a ceremony file whose dealer was swapped for such a card before anyone joined is refused by every
/// keyholder. A keyholder dealing with its own card is fine.
#[test]
fn a_dealer_posing_as_a_keyholder_by_name_is_refused() {
    let env = Env::new();
    let hs = env.holders(3);
    let elsewhere = Env::new();
    let impostor = elsewhere.holder("Alice");
    split(&env, &impostor, "cer", &hs, &["--generate"]).refused_with("share a name but not the keys");
    assert!(!env.path("cer/ceremony.txt").exists(), "nothing may be dealt");
    split(&env, &hs[0], "own", &hs, &["--generate"]).ok();

    let dealer = env.holder("Dealer");
    split(&env, &dealer, "cer2", &hs, &["--generate"]).ok();
    let path = env.path("cer2/ceremony.txt");
    let text = fs::read_to_string(&path).unwrap();
    let (real, fake) =
        (frostsign::card::Card::load(&dealer.card).unwrap(), frostsign::card::Card::load(&impostor.card).unwrap());
    let line = |c: &frostsign::card::Card| format!("dealer: {} {}\n", c.fingerprint().compact(), c.name());
    let head = &text[..text.find("dealer-card:\n").unwrap()];
    let block: String = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, fake.text())
        .as_bytes()
        .chunks(64)
        .map(|c| format!(" {}\n", std::str::from_utf8(c).unwrap()))
        .collect();
    let swapped = format!("{}dealer-card:\n{block}", head.replacen(&line(&real), &line(&fake), 1));
    assert_ne!(swapped, text);
    fs::write(&path, swapped).unwrap();
    for h in &hs {
        h.run(&["dealer", "accept", "--dir", s(&env.path("cer2")), "--yes"])
            .refused_with("share a name but not the keys");
    }
}

/// An imported key keeps its minisign key id everywhere: group.pub, the signatures, and `verify --json`,
/// also when the signature is checked with a key form that has no key id (ssh).
#[test]
fn verify_json_reports_the_imported_key_id_the_signature_carries() {
    let env = Env::new();
    let (hs, _) = imported_plain_key(&env, 2);
    let group = accept_all(&env.path("cer"), &hs);
    let artifact = env.path("a.txt");
    fs::write(&artifact, b"a").unwrap();
    let sig = env.sign_release("sign", &group, &artifact, &[&hs[0], &hs[1]]);
    let id = fs::read_to_string(root().join(DATA).join("plain.pub")).unwrap();
    let id = id.lines().next().unwrap().rsplit(' ').next().unwrap().to_string();
    let ssh = env.path("key.ssh");
    env.run(&["group", "export", "--key", s(&group), "--format", "ssh", "--out", s(&ssh)]).ok();
    for key in [&group, &ssh] {
        let out = env.run(&["verify", "--key", s(key), s(&artifact), "--sig", s(&sig), "--json"]);
        let v: serde_json::Value = serde_json::from_str(&out.ok().stdout).unwrap();
        assert_eq!((v["valid"].as_bool(), v["key_id"].as_str()), (Some(true), Some(id.as_str())), "{}", key.display());
    }
}
