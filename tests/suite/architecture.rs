//! The layers of docs/architecture.md hold: the foundations, the formats, the exchange and the group know
//! nothing of the keyholder's home, of the ceremonies or of the CLI, and nothing but the CLI prints.

use crate::common::root;
use std::path::PathBuf;

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

/// Every top-level module of the library (`src/NAME.rs` or `src/NAME/`), `main.rs` and `lib.rs` aside: a
/// new module is checked without being listed here.
fn all_modules() -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(root().join("src"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter_map(|p| {
            let name = p.file_stem()?.to_str()?.to_string();
            (p.is_dir() || p.extension().is_some_and(|x| x == "rs")).then_some(name)
        })
        .filter(|n| n != "main" && n != "lib")
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The upper layers, top first: each may use the ones after it and every other module; every other
/// module (the foundations, formats, exchange, group, verify) is below all three.
const UPPER: [&str; 3] = ["cli", "ceremony", "home"];

#[test]
fn no_module_imports_from_a_layer_above_it() {
    let modules = all_modules();
    assert!(modules.len() > 15 && UPPER.iter().all(|u| modules.iter().any(|m| m == u)), "{modules:?}");
    let mut found = Vec::new();
    for m in &modules {
        let level = UPPER.iter().position(|u| u == m).unwrap_or(UPPER.len());
        for f in module_files(m) {
            let text = std::fs::read_to_string(&f).unwrap();
            for (i, line) in text.lines().enumerate() {
                for upper in &UPPER[..level] {
                    if line.contains(&format!("crate::{upper}")) || line.contains(&format!("super::{upper}::")) {
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
    for m in all_modules().iter().filter(|m| *m != "cli") {
        for f in module_files(m) {
            let text = std::fs::read_to_string(&f).unwrap();
            for (i, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or("");
                let banned = ["println!", "eprintln!", "print!(", "eprint!(", "stdout()", "stderr()"];
                if banned.iter().any(|p| code.contains(p)) {
                    found.push(format!("{}:{}: {}", f.strip_prefix(root()).unwrap().display(), i + 1, line.trim()));
                }
            }
        }
    }
    let lib = std::fs::read_to_string(root().join("src/lib.rs")).unwrap();
    assert!(!lib.contains("println!") && !lib.contains("eprintln!"), "src/lib.rs prints");
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
