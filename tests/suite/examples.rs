//! The committed examples stay valid: keys-example/ verifies with frostsign and stock minisign, and its
//! homes are marked insecure so the tool warns whenever they are used.
use crate::common::*;

#[test]
fn keys_example_signature_verifies_with_frostsign() {
    let out = run_in(root(), &["verify", "--key", "keys-example/group.pub", "keys-example/hello-frostsign.txt"]);
    out.ok().contains("Signature and comment signature verified").contains("file:hello-frostsign.txt");
    let out =
        run_in(root(), &["verify", "--key", "keys-example/minisign.pub", "keys-example/hello-frostsign.txt", "--json"]);
    out.ok();
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["valid"], true);
}

#[test]
fn keys_example_signature_verifies_with_stock_minisign() {
    if !require_tool("minisign", INSTALL_TOOLS) {
        return;
    }
    let o = std::process::Command::new("minisign")
        .current_dir(root())
        .args(["-Vm", "keys-example/hello-frostsign.txt", "-p", "keys-example/minisign.pub"])
        .output()
        .unwrap();
    assert!(o.status.success(), "minisign rejected the example: {}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("Signature and comment signature verified"));
}

#[test]
fn keys_example_homes_are_marked_insecure_and_consistent() {
    let env = Env::new();
    for who in ["alice", "bob", "carol"] {
        let key = std::fs::read_to_string(root().join(format!("keys-example/homes/{who}/home-key.txt"))).unwrap();
        assert!(key.contains("kdf-memory-kib: 64\n"), "{who}'s example home must use the insecure KDF marker");
        // A private copy of the example home opens and warns loudly.
        let home = env.path(who);
        let status = std::process::Command::new("cp")
            .args(["-r", root().join(format!("keys-example/homes/{who}")).to_str().unwrap(), home.to_str().unwrap()])
            .status()
            .unwrap();
        assert!(status.success());
        std::process::Command::new("chmod").args(["-R", "go-rwx", home.to_str().unwrap()]).status().unwrap();
        let out = run_in(env.dir.path(), &["--home", home.to_str().unwrap(), "holder", "show"]);
        out.ok().contains("INSECURE");
        let list = run_in(env.dir.path(), &["--home", home.to_str().unwrap(), "group", "list"]);
        list.ok().contains("2-of-3");
    }
    let group = std::fs::read_to_string(root().join("keys-example/group.pub")).unwrap();
    assert!(group.contains("NOT FOR REAL USE"));
}
