//! Secret hygiene at run time (issue 13, item 5): a whole key generation and signing session, driven
//! through the real binary, leaves no secret it handled in any file outside the homes or in anything it
//! printed, in any form a secret could take there.

use crate::common::*;

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use base64::Engine;
use frost_ed25519 as frost;
use frostsign::ceremony::signing::Request;
use frostsign::exchange::message::{open, Expect};
use frostsign::group::ceremony::DkgCeremony;
use frostsign::group::Group;
use frostsign::home::nonces::NonceStore;
use frostsign::home::{vault, Home, PassphraseSource, Unlocked};
use frostsign::secret::{unpack, Passphrase};
use std::path::{Path, PathBuf};

fn unlock(h: &Holder) -> Unlocked {
    Home::open(&h.home).unwrap().unlock(&PassphraseSource::new(Some(h.pass.clone()))).unwrap()
}

/// Every command's output, kept to be searched at the end.
struct Transcript(Vec<(String, Out)>);

impl Transcript {
    #[track_caller]
    fn run(&mut self, who: Option<&Holder>, cwd: &Path, args: &[&str]) -> &Out {
        let mut full: Vec<&str> = Vec::new();
        if let Some(h) = who {
            full.extend(["--home", s(&h.home), "--passphrase-file", s(&h.pass)]);
        }
        full.extend_from_slice(args);
        let out = run_in(cwd, &full);
        no_panic(&out);
        self.0.push((full.join(" "), out));
        let (_, out) = self.0.last().unwrap();
        out.ok()
    }
}

/// The ways a secret of these bytes could be written down: raw, hex in both cases, base64 (standard with
/// and without padding, URL-safe). Secrets inside a larger base64 text are found by decoding (`views`).
fn spellings(secret: &[u8]) -> Vec<Vec<u8>> {
    vec![
        secret.to_vec(),
        hex::encode(secret).into_bytes(),
        hex::encode_upper(secret).into_bytes(),
        STANDARD.encode(secret).into_bytes(),
        STANDARD_NO_PAD.encode(secret).into_bytes(),
        URL_SAFE_NO_PAD.encode(secret).into_bytes(),
    ]
}

/// A text and everything it holds in base64: each block of a frostsign file (`cleartext_views` does this
/// for a folder) and every word of 16 or more base64 characters (minisign, signify and ssh lines, JSON
/// strings), decoded.
fn views(text: &[u8]) -> Vec<Vec<u8>> {
    let mut out = vec![text.to_vec()];
    let is_b64 = |c: char| c.is_ascii_alphanumeric() || "+/=-_".contains(c);
    let text = String::from_utf8_lossy(text);
    for word in text.split(|c: char| !is_b64(c)).filter(|w| w.len() >= 16) {
        for engine in [&STANDARD, &URL_SAFE_NO_PAD, &STANDARD_NO_PAD] {
            if let Ok(bytes) = engine.decode(word) {
                out.push(bytes);
            }
        }
    }
    out
}

/// Every file under `dir` except the homes and the passphrase files (the keyholders' own places).
fn files_outside_homes(dir: &Path, holders: &[Holder]) -> Vec<PathBuf> {
    files_under(dir).into_iter().filter(|f| !holders.iter().any(|h| f.starts_with(&h.home) || *f == h.pass)).collect()
}

/// issue 13, item 5: three keyholders generate a 2-of-3 key and two of them sign a release in every
/// format a file release takes (minisign, SSH, signify manifest); a backup is written. Collected along the
/// way, through the library: each keyholder's passphrase, home key (unwrapped from home-key.txt), identity
/// secret keys (Ed25519 seed, X25519 secret), signing share, every round-2 share sent to it (decrypted
/// from the folder), and every signing nonce (hiding and binding, read from the home between commit and
/// share, before they are destroyed). None of them, in any spelling, is in any file outside the homes
/// (ceremony folder, session folder, signatures, exported keys, the backup), raw or inside any base64
/// block or word, nor in the output of any of the commands run.
#[test]
fn a_whole_key_generation_and_signing_session_writes_and_prints_no_secret() {
    let env = Env::new();
    let root = env.dir.path();
    let mut t = Transcript(Vec::new());
    let mut secrets: Vec<(String, Vec<u8>)> = Vec::new();

    // Keyholders.
    let holders: Vec<Holder> = ["Alice", "Bob", "Carol"]
        .iter()
        .map(|name| {
            let stem = name.to_lowercase();
            let h = Holder {
                name: name.to_string(),
                home: env.path(&format!("home-{stem}")),
                pass: env.path(&format!("pass-{stem}")),
                card: env.path(&format!("{stem}.card")),
                cwd: root.to_path_buf(),
            };
            let passphrase = format!("{name} keeps this passphrase secret 7Qx");
            std::fs::write(&h.pass, format!("{passphrase}\n")).unwrap();
            std::fs::set_permissions(&h.pass, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
            secrets.push((format!("{name}'s passphrase"), passphrase.into_bytes()));
            t.run(Some(&h), root, &["holder", "new", "--name", name, "--insecure-fast-kdf"]);
            t.run(Some(&h), root, &["holder", "export", "--out", s(&h.card)]);
            h
        })
        .collect();

    // Key generation, with every step's output kept.
    let cards: Vec<&str> = holders.iter().map(|h| s(&h.card)).collect();
    let mut init = vec!["dkg", "init", "--allow-insecure-cards", "--dir", "cer", "--threshold", "2"];
    init.extend(&cards);
    t.run(None, root, &init);
    let cer = env.path("cer");
    for _ in 0..4 {
        for h in &holders {
            t.run(Some(h), root, &["dkg", "step", "--dir", s(&cer), "--yes"]);
        }
    }
    t.run(None, root, &["dkg", "status", "--dir", s(&cer)]);
    let group_path = cer.join("group.pub");
    let group = Group::load(&group_path).expect("key generation completed");
    let ceremony = DkgCeremony::parse(&std::fs::read_to_string(cer.join("ceremony.txt")).unwrap()).unwrap();

    for (i, h) in holders.iter().enumerate() {
        let u = unlock(h);
        let key_file =
            vault::HomeKeyFile::parse(&std::fs::read_to_string(h.home.join("home-key.txt")).unwrap(), &h.home).unwrap();
        let passphrase = Passphrase::new(std::fs::read_to_string(&h.pass).unwrap().trim_end().to_string());
        let home_key = key_file.unwrap(&passphrase, &h.home).unwrap();
        secrets.push((format!("{}'s home key", h.name), home_key.expose().to_vec()));
        let identity = unpack(u.identity().secret_bytes().expose(), 2).unwrap();
        secrets.push((format!("{}'s identity signing key", h.name), identity[0].expose().to_vec()));
        secrets.push((format!("{}'s identity encryption key", h.name), identity[1].expose().to_vec()));
        let share = u.load_share(&group).unwrap();
        secrets.push((format!("{}'s signing share", h.name), share.signing_share().serialize()));
        for (j, from) in ceremony.cards().iter().enumerate().filter(|(j, _)| *j != i) {
            let name = format!(
                "round2-{}-to-{}.txt",
                from.fingerprint().compact(),
                u.identity().card().fingerprint().compact()
            );
            let text = std::fs::read_to_string(cer.join(&name)).unwrap();
            let expect = Expect { kind: "dkg-round2", ceremony: ceremony.digest(), round: "2", private: true };
            let payload = open(&text, Path::new(&name), &expect, ceremony.cards(), Some(u.identity())).unwrap();
            let json: serde_json::Value = serde_json::from_slice(payload.payload.expose()).unwrap();
            let bytes = hex::decode(json["package"].as_str().unwrap()).unwrap();
            let r2 = frost::keys::dkg::round2::Package::deserialize(&bytes).unwrap();
            secrets.push((
                format!("round-2 share from keyholder {} to {}", j + 1, h.name),
                r2.signing_share().serialize(),
            ));
        }
    }

    // A release signed by Alice and Carol in three formats; nonces read from each home while they live.
    let artifact = env.path("release-1.0.tar.gz");
    std::fs::write(&artifact, b"the release bytes\n").unwrap();
    let sess = env.path("sess");
    t.run(
        None,
        root,
        &[
            "sign",
            "init",
            "--dir",
            s(&sess),
            "--group",
            s(&group_path),
            "--file",
            s(&artifact),
            "--format",
            "minisign,ssh,signify-manifest",
        ],
    );
    let request = Request::parse(&std::fs::read_to_string(sess.join("request.txt")).unwrap()).unwrap();
    let signers = [&holders[0], &holders[2]];
    let mut nonces_seen = 0;
    for _ in 0..4 {
        for h in signers {
            t.run(Some(h), root, &["sign", "step", "--dir", s(&sess), "--file", s(&artifact), "--yes"]);
            let u = unlock(h);
            for phase in [1, 2] {
                for n in NonceStore::new(&u, request.session()).load(1, phase).unwrap().unwrap_or_default() {
                    nonces_seen += 1;
                    secrets.push((format!("{}'s hiding nonce, phase {phase}", h.name), n.hiding().serialize()));
                    secrets.push((format!("{}'s binding nonce, phase {phase}", h.name), n.binding().serialize()));
                }
            }
        }
        let out = run_in(root, &["sign", "collect", "--dir", s(&sess)]);
        no_panic(&out);
        let done = out.code == 0;
        t.0.push((format!("sign collect --dir {}", s(&sess)), out));
        if done {
            break;
        }
    }
    t.run(None, root, &["sign", "collect", "--dir", s(&sess)]);
    t.run(None, root, &["sign", "status", "--dir", s(&sess)]);
    assert!(nonces_seen >= 2, "no signing nonce was seen in a home between commit and share");
    let minisig = sess.join("release-1.0.tar.gz.minisig");
    t.run(None, root, &["verify", "--key", s(&group_path), "--sig", s(&minisig), s(&artifact)]);
    for format in ["minisign", "ssh", "signify"] {
        t.run(None, root, &["group", "export", "--key", s(&group_path), "--format", format]);
    }
    t.run(Some(&holders[1]), root, &["holder", "backup", "--out", s(&env.path("bob.backup"))]);
    t.run(Some(&holders[1]), root, &["group", "list"]);

    // The search: every file outside the homes, every block and base64 word in them, every output.
    let mut haystacks: Vec<(String, Vec<u8>)> = Vec::new();
    let files = files_outside_homes(root, &holders);
    assert!(files.iter().any(|f| f.starts_with(&cer)) && files.iter().any(|f| f.starts_with(&sess)));
    assert!(files.iter().any(|f| f.ends_with("bob.backup")));
    for f in &files {
        for v in views(&std::fs::read(f).unwrap()) {
            haystacks.push((format!("file {}", f.display()), v));
        }
    }
    for dir in [&cer, &sess] {
        for (f, v) in cleartext_views(dir) {
            haystacks.extend(views(&v).into_iter().map(|v| (format!("a block of {}", f.display()), v)));
        }
    }
    for (cmd, out) in &t.0 {
        for (stream, text) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            for v in views(text.as_bytes()) {
                haystacks.push((format!("the {stream} of `frostsign {cmd}`"), v));
            }
        }
    }
    assert!(secrets.len() >= 3 * 7 + 2 * 2, "{} secrets collected", secrets.len());
    for (what, secret) in &secrets {
        assert!(secret.len() >= 16, "{what} is too short to search for");
        for needle in spellings(secret) {
            for (place, hay) in &haystacks {
                assert!(!contains(hay, &needle), "{what} is in {place}");
            }
        }
    }
}
