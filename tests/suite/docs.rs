//! The documentation's promises point at real tests: every `tests/FILE.rs::NAME` named in docs/*.md must
//! be a `#[test] fn NAME` in that file, so a guarantee cannot outlive the test that proves it.
use std::path::Path;

#[test]
fn every_test_named_in_the_docs_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut checked = 0;
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(root.join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("md") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for (i, _) in text.match_indices("tests/") {
            let rest = &text[i..];
            let Some(sep) = rest.find(".rs::") else { continue };
            let file = &rest[..sep + 3];
            if file.contains(|c: char| c.is_whitespace() || c == '`') {
                continue;
            }
            let name: String = rest[sep + 5..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            let source = std::fs::read_to_string(root.join(file)).unwrap_or_default();
            checked += 1;
            if !source.contains(&format!("#[test]\nfn {name}(")) {
                missing.push(format!("{}: {file}::{name}", path.file_name().unwrap().to_string_lossy()));
            }
        }
    }
    assert!(checked >= 45, "expected the docs to name at least 40 tests, found {checked}");
    assert!(missing.is_empty(), "docs name tests that do not exist:\n{}", missing.join("\n"));
}
