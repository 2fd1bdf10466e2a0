use crate::common::*;

#[test]
fn dkg_2_of_3_end_to_end() {
    let env = Env::new();
    let hs = env.holders(3);
    let group = env.dkg("cer", 2, &hs);
    assert!(group.exists());
}

/// `make install PREFIX=DIR` (with the binary under test) lays out the binary, bash, zsh and fish
/// completions, and a man page for every command, so every page the main page refers to exists.
#[test]
fn make_install_puts_the_binary_completions_and_a_man_page_per_command_under_the_prefix() {
    let env = Env::new();
    let prefix = env.path("prefix");
    let o = std::process::Command::new("make")
        .current_dir(root())
        .args(["--no-print-directory", "install", &format!("PREFIX={}", s(&prefix)), &format!("INSTALL_BIN={}", bin())])
        .output()
        .expect("make is installed");
    assert!(o.status.success(), "make install: {}", String::from_utf8_lossy(&o.stderr));
    let installed = prefix.join("bin/frostsign");
    let version = std::process::Command::new(&installed).arg("--version").output().unwrap();
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("frostsign "));
    for completion in [
        "share/bash-completion/completions/frostsign",
        "share/zsh/site-functions/_frostsign",
        "share/fish/vendor_completions.d/frostsign.fish",
    ] {
        let text = std::fs::read_to_string(prefix.join(completion)).unwrap();
        assert!(text.contains("follow-rotation") && text.contains("sign"), "{completion}");
    }
    let man = prefix.join("share/man/man1");
    let mut referenced = Vec::new();
    for entry in std::fs::read_dir(&man).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for (i, _) in text.match_indices("frostsign\\-") {
            let name: String = text[i..].chars().take_while(|c| *c != '(' && !c.is_whitespace()).collect();
            if text[i + name.len()..].starts_with("(1)") {
                referenced.push(format!("{}.1", name.replace("\\-", "-")));
            }
        }
    }
    for page in ["frostsign.1", "frostsign-sign-step.1", "frostsign-group-update.1", "frostsign-verify.1"] {
        assert!(man.join(page).is_file(), "{page}");
    }
    assert!(referenced.len() >= 20, "{referenced:?}");
    for page in referenced {
        assert!(man.join(&page).is_file(), "a page refers to {page}, which was not installed");
    }
}
