//! The docs cannot drift from the tool's command line: every `frostsign` command written in a shell block
//! of README.md or docs/*.md is parsed by the real binary's argument parser (subcommands, flags, values of
//! closed lists), in a debug build that stops right after parsing (`FROSTSIGN_PARSE_ONLY`).
//!
//! Lines with a placeholder a person fills in (`...`, `[OPTIONS]`, `<X>`, `$(...)`) are skipped, and the
//! test counts what it checked so a reader can see the skips are the exception.

use crate::common::*;
use crate::docs_blocks::{blocks, commands, Block};
use std::path::Path;

/// Split a command line like a POSIX shell would for simple cases: words, single and double quotes,
/// backslash escapes in double quotes. Returns None on what this test does not model.
fn words(line: &str) -> Option<Vec<String>> {
    let (mut out, mut cur, mut in_word) = (Vec::new(), String::new(), false);
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '\'' => break,
                        c => cur.push(c),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => cur.push(chars.next()?),
                        '$' | '`' => return None,
                        c => cur.push(c),
                    }
                }
            }
            '#' if !in_word => break,
            '|' | '>' | '<' | ';' | '&' | '$' | '`' | '(' | ')' => {
                if c == '$' || c == '`' || c == '(' || c == ')' {
                    return None;
                }
                break;
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    Some(out)
}

/// The frostsign command lines of a block (prompts removed, continuation lines joined).
fn frostsign_commands(b: &Block) -> Vec<String> {
    commands(b)
        .into_iter()
        .map(|c| c.text.trim_start_matches("sudo ").to_string())
        .filter(|t| t.starts_with("frostsign "))
        .collect()
}

fn placeholder(cmd: &str) -> bool {
    ["...", "[", "<", "KEYGEN-FOLDER", "NEW-DIR"].iter().any(|p| cmd.contains(p))
}

#[test]
fn every_frostsign_command_in_the_docs_parses() {
    let root = root();
    let mut files: Vec<std::path::PathBuf> = vec![root.join("README.md")];
    for e in std::fs::read_dir(root.join("docs")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "md") {
            files.push(p);
        }
    }
    files.sort();
    let (mut checked, mut skipped, mut failed) = (0, 0, Vec::new());
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        for block in blocks(&text) {
            let line = block.line;
            for cmd in frostsign_commands(&block) {
                let Some(args) = words(&cmd).filter(|_| !placeholder(&cmd)) else {
                    skipped += 1;
                    continue;
                };
                let args: Vec<&str> = args.iter().skip(1).map(String::as_str).collect();
                let o = run_env(Path::new("/"), &args, &[("FROSTSIGN_PARSE_ONLY", "1")]);
                checked += 1;
                if o.code != 0 {
                    let name = f.strip_prefix(root).unwrap().display();
                    failed.push(format!("{name} (block at line {line}): `{cmd}`\n{}", o.stderr.trim()));
                }
            }
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {checked} documented commands do not parse:\n\n{}",
        failed.len(),
        failed.join("\n\n")
    );
    assert!(checked >= 80 && skipped * 4 < checked, "checked {checked}, skipped {skipped}");
}
