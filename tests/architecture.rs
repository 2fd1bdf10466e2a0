//! The layers of docs/architecture.md hold: the foundations, the formats, the exchange and the group know
//! nothing of the keyholder's home, of the ceremonies or of the CLI, and nothing but the CLI prints.

use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The Rust files of a module: `src/NAME.rs` or every file under `src/NAME/`.
fn module_files(name: &str) -> Vec<PathBuf> {
    let file = root().join(format!("src/{name}.rs"));
    if file.exists() {
        return vec![file];
    }
    let mut out = Vec::new();
    let mut dirs = vec![root().join("src").join(name)];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn lower_layers_import_nothing_from_home_ceremonies_or_cli() {
    let lower = ["verify", "formats", "group", "exchange", "card", "identity", "text", "textdoc", "digest", "fsx"];
    let mut found = Vec::new();
    for m in lower {
        for f in module_files(m) {
            let text = std::fs::read_to_string(&f).unwrap();
            for (i, line) in text.lines().enumerate() {
                for upper in ["crate::home", "crate::ceremony", "crate::cli"] {
                    if line.contains(upper) {
                        found.push(format!("{}:{}: {}", f.strip_prefix(root()).unwrap().display(), i + 1, line.trim()));
                    }
                }
            }
        }
    }
    assert!(found.is_empty(), "back edges:\n{}", found.join("\n"));
}

#[test]
fn nothing_outside_the_cli_prints() {
    let mut found = Vec::new();
    for m in ["card", "ceremony", "clock", "digest", "error", "exchange", "formats", "fsx", "group", "home"] {
        for f in module_files(m) {
            let text = std::fs::read_to_string(&f).unwrap();
            for (i, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or("");
                if ["println!", "eprintln!", "print!(", "eprint!(", "stdout()", "stderr()"]
                    .iter()
                    .any(|p| code.contains(p))
                {
                    found.push(format!("{}:{}: {}", f.strip_prefix(root()).unwrap().display(), i + 1, line.trim()));
                }
            }
        }
    }
    for m in ["identity", "process", "secret", "text", "textdoc", "verify", "lib"] {
        for f in module_files(m) {
            let text = std::fs::read_to_string(&f).unwrap();
            for (i, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or("");
                if ["println!", "eprintln!", "print!(", "eprint!("].iter().any(|p| code.contains(p)) {
                    found.push(format!("{}:{}: {}", f.strip_prefix(root()).unwrap().display(), i + 1, line.trim()));
                }
            }
        }
    }
    assert!(found.is_empty(), "the library prints (use crate::report):\n{}", found.join("\n"));
}

#[test]
fn only_the_nonce_store_touches_nonce_files() {
    let mut found = Vec::new();
    for f in module_files("ceremony").into_iter().chain(module_files("home")).chain(module_files("cli")) {
        if f.ends_with("home/nonces.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap();
        for (i, line) in text.lines().enumerate() {
            if line.contains("\"sign-nonces\"")
                || line.contains(".nonces\"")
                || line.contains("SigningNonces::deserialize")
            {
                found.push(format!("{}:{}: {}", f.strip_prefix(root()).unwrap().display(), i + 1, line.trim()));
            }
        }
    }
    assert!(found.is_empty(), "nonce files handled outside src/home/nonces.rs:\n{}", found.join("\n"));
}
