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

/// docs/security.md, "The adversarial suite, counted": each attacker's count in the table and in its
/// heading equals the number of tests listed under that heading, the total is their sum, and the total
/// never falls below the floor recorded here (raise it when attacks are added).
#[test]
fn the_adversarial_counts_match_their_lists() {
    const FLOOR: usize = 101;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("docs/security.md")).unwrap();
    let start = text.find("## The adversarial suite, counted").expect("the section exists");
    let section = &text[start..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |i| i + 3)];
    let number = |s: &str| s.trim().trim_matches('*').parse::<usize>().unwrap();
    let mut table = Vec::new();
    let mut total = None;
    for line in section.lines().filter(|l| l.starts_with("| ") && !l.starts_with("| attacker")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).filter(|c| !c.is_empty()).collect();
        match cells.as_slice() {
            ["**total**", n] => total = Some(number(n)),
            [who, n] => table.push((who.to_string(), number(n))),
            _ => panic!("unexpected row {line:?}"),
        }
    }
    let mut listed = Vec::new();
    for part in section.split("\n### ").skip(1) {
        let heading = part.lines().next().unwrap();
        let (who, n) = heading.split_once(": ").unwrap();
        let n = number(n.trim_end_matches(" attacks"));
        let tests = part.lines().filter(|l| l.starts_with("- `tests/suite/")).count();
        assert_eq!(n, tests, "the heading of `{who}` says {n}, its list holds {tests}");
        listed.push((who.to_string(), tests));
    }
    assert_eq!(table, listed, "the table and the lists disagree");
    let sum: usize = listed.iter().map(|(_, n)| n).sum();
    assert_eq!(total, Some(sum), "the total is not the sum of the rows");
    assert!(sum >= FLOOR, "the adversarial suite shrank from {FLOOR} to {sum} attacks");
    assert_eq!(
        listed.len(),
        5,
        "five attackers: coordinator, folder host, malicious keyholder, hostile verify input, local thief"
    );
}
