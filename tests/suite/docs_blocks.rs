//! The docs cannot drift from the tool: every shell block of README.md and docs/*.md is run, command by
//! command, by the real binary and the stock tools, in a world where the block's preconditions hold.
//!
//! A block is annotated by an HTML comment right above its opening fence (invisible on the rendered page):
//!
//! ```text
//! <!-- docs-test: world release; as bob; together -->
//! <!-- docs-test: skip NEEDS A PERSON: ... -->
//! ```
//!
//! - `world NAME`: build a fresh world with `world_NAME` of tests/suite/docs_worlds.sh (people, cards, a
//!   group, a signed release ...). A block without it continues in the previous block's world, so a guide's
//!   transcript runs in order. The first runnable block of a file must name a world.
//! - `skip REASON`: not run; the reason is printed and counted (a block that needs a person at a terminal,
//!   or one that would run this very test).
//! - `as NAME`: who runs the block's commands (default: alice).
//! - `together`: the block's commands all run at the same time (signers and a coordinator with `--watch`,
//!   who wait for each other); `together after N`: the first N commands first, one by one (the one that
//!   opens the session), then the others at the same time.
//! - `before CMD`: a shell command run first, as the block's person (what the prose says happened).
//! - `cwd repo`: run in the repository itself (for `cargo tree` and friends), not in the world;
//!   `cwd clone`: each person in its own clone of the world's shared git repository (~/clone).
//! - `let OLD => NEW`: replace the text OLD in every command (a placeholder the reader fills in).
//! - `signers A B`: who "the signers" / "t keyholders" are in this block (default: alice bob).
//! - `same-output`: each command must print exactly the output the block shows under it.
//!
//! Who runs a command: the prompt's name (`bob$ `), else the comment on its line: "each keyholder" means
//! everyone in the group (alice, bob, carol; "each remaining keyholder" leaves out whom `--remove` names),
//! "signer" or "t keyholders" or "the same" the signers, and "repeatedly" or "three times" repeats that
//! round. A command must exit 0, or what a following `echo $?` shows; `status` and `collect` may also answer
//! 3 (in progress, as documented) unless `echo $?` says otherwise.

use crate::common::*;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A fenced shell block of a Markdown file.
pub struct Block {
    /// Line number (1-based) of the block's first line.
    pub line: usize,
    /// `console` blocks mark commands with a prompt (`$ `, `alice$ `); in `sh` blocks every line is one.
    pub console: bool,
    pub directives: Vec<String>,
    pub lines: Vec<String>,
}

const SHELL_FENCES: [&str; 4] = ["```sh", "```console", "```bash", "```shell"];
const MARK: &str = "<!-- docs-test:";

/// The shell blocks of a Markdown text, with the `docs-test` directives written right above each.
pub fn blocks(text: &str) -> Vec<Block> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let fence = lines[i].trim_start();
        if !SHELL_FENCES.contains(&fence) {
            i += 1;
            continue;
        }
        let directives = directives_above(&lines[..i]);
        let start = i + 1;
        let end = (start..lines.len()).find(|&j| lines[j].trim_start().starts_with("```")).unwrap_or(lines.len());
        let body = lines[start..end].iter().map(|l| l.to_string()).collect();
        out.push(Block { line: start + 1, console: fence == "```console", directives, lines: body });
        i = end + 1;
    }
    out
}

/// The directives of the `<!-- docs-test: ... -->` comments directly above a fence (`;` separates several).
fn directives_above(before: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for line in before.iter().rev() {
        let Some(rest) = line.trim().strip_prefix(MARK) else { break };
        let body = rest.trim_end().strip_suffix("-->").expect("a docs-test comment ends on its line");
        let mut these: Vec<String> = body.split(';').map(|d| d.trim().to_string()).filter(|d| !d.is_empty()).collect();
        these.append(&mut out);
        out = these;
    }
    out
}

/// One command line of a block (continuations joined), with what the prose says about it.
#[derive(Debug, Clone)]
pub struct Cmd {
    pub text: String,
    /// The prompt's name (`bob$ `), if any.
    pub prompt: Option<String>,
    /// The comment at the end of the line, if any.
    pub comment: String,
    /// The exit code a following `echo $?` shows.
    pub expect: Option<i32>,
    /// The output a console block shows under the command.
    pub shown: Vec<String>,
}

/// The commands of a block, in order.
pub fn commands(b: &Block) -> Vec<Cmd> {
    let mut out: Vec<Cmd> = Vec::new();
    let mut pending: Option<(Option<String>, String)> = None;
    let mut echo_pending = false;
    for raw in &b.lines {
        let line = raw.trim();
        if let Some((prompt, text)) = pending.take() {
            push_or_continue(&mut out, &mut pending, prompt, format!("{text} {}", line));
            continue;
        }
        if b.console {
            match prompt_of(line) {
                Some((_, "echo $?")) => echo_pending = true,
                Some((who, cmd)) => push_or_continue(&mut out, &mut pending, who, cmd.to_string()),
                None if echo_pending => {
                    echo_pending = false;
                    if let (Some(last), Ok(code)) = (out.last_mut(), line.parse()) {
                        last.expect = Some(code);
                    }
                }
                None => {
                    if let Some(last) = out.last_mut() {
                        last.shown.push(raw.to_string());
                    }
                }
            }
        } else if !line.is_empty() && !line.starts_with('#') {
            push_or_continue(&mut out, &mut pending, None, line.to_string());
        }
    }
    out
}

fn push_or_continue(
    out: &mut Vec<Cmd>,
    pending: &mut Option<(Option<String>, String)>,
    who: Option<String>,
    text: String,
) {
    match text.strip_suffix('\\') {
        Some(head) => *pending = Some((who, head.trim_end().to_string())),
        None => {
            let comment = comment_of(&text);
            out.push(Cmd { text, prompt: who, comment, expect: None, shown: Vec::new() });
        }
    }
}

/// `alice$ cmd` or `$ cmd`: (the name, the command).
fn prompt_of(line: &str) -> Option<(Option<String>, &str)> {
    let pos = line.find("$ ")?;
    let who = &line[..pos];
    if !who.chars().all(|c| c.is_ascii_lowercase()) {
        return None;
    }
    Some(((!who.is_empty()).then(|| who.to_string()), line[pos + 2..].trim()))
}

/// The text after an unquoted ` # ` (the prose that says who runs the line and how often).
fn comment_of(line: &str) -> String {
    let (mut single, mut double) = (false, false);
    let bytes = line.as_bytes();
    for (i, &c) in bytes.iter().enumerate() {
        match c {
            b'\'' if !double => single = !single,
            b'"' if !single => double = !double,
            b'#' if !single && !double && i > 0 && bytes[i - 1] == b' ' => return line[i + 1..].trim().to_string(),
            _ => {}
        }
    }
    String::new()
}

/// Everyone in the worlds' group (2-of-3), and its default signers.
const GROUP: [&str; 3] = ["alice", "bob", "carol"];
const SIGNERS: [&str; 2] = ["alice", "bob"];

/// Who runs `c` and how many rounds, by its prompt, then its comment, then the block's `as`.
fn runners(c: &Cmd, default: &str, signers: &[String]) -> (Vec<String>, usize) {
    if let Some(p) = &c.prompt {
        return (vec![p.clone()], 1);
    }
    let note = c.comment.to_lowercase();
    let rounds = if note.contains("repeatedly") || note.contains("three times") { 4 } else { 1 };
    let removed = removed_by(&c.text);
    let who: Vec<String> = if note.contains("each keyholder") || note.contains("each remaining keyholder") {
        GROUP.iter().map(|s| s.to_string()).filter(|p| !removed.contains(p)).collect()
    } else if note.contains("signer") || note.contains("t keyholders") || note.contains("the same") {
        signers.to_vec()
    } else {
        vec![default.to_string()]
    };
    (who, rounds)
}

/// The people a `--remove NAME` in the command leaves out (lowercase names).
fn removed_by(text: &str) -> Vec<String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    words.windows(2).filter(|w| w[0] == "--remove").map(|w| w[1].to_lowercase()).collect()
}

fn worlds_script() -> PathBuf {
    root().join("tests/suite/docs_worlds.sh")
}

/// A world: its root (people and the shared folder), kept until the next `world`.
struct World {
    dir: tempfile::TempDir,
}

impl World {
    fn build(name: &str) -> Result<World, String> {
        let w = World { dir: tempfile::tempdir().unwrap() };
        let o = w.shell("alice", &w.work(), &format!("build_world {name}")).wait(Duration::from_secs(300));
        if o.code != 0 {
            return Err(format!("world {name} did not build (exit {}):\n{}", o.code, o.all()));
        }
        Ok(w)
    }

    fn work(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    /// Where `who` runs a block's commands, by its `cwd` directive.
    fn cwd(&self, directive: Option<&str>, who: &str) -> PathBuf {
        match directive {
            Some("repo") => root().to_path_buf(),
            Some("clone") => self.dir.path().join("people").join(who).join("clone"),
            Some(other) => panic!("unknown `cwd {other}` (repo or clone)"),
            None => self.work(),
        }
    }

    /// Start `script` with the worlds' functions, as `who`, in `cwd`.
    fn shell(&self, who: &str, cwd: &Path, script: &str) -> Running {
        let home = self.dir.path().join("people").join(who);
        std::fs::create_dir_all(cwd).unwrap();
        let bin_dir = Path::new(bin()).parent().unwrap();
        let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
        // Tools found through the real home (cargo, rustup) keep finding it when HOME is a person's.
        let real_home = std::env::var("HOME").unwrap_or_default();
        let tool_home = |var: &str, dir: &str| std::env::var(var).unwrap_or_else(|_| format!("{real_home}/{dir}"));
        let mut cmd = Command::new("bash");
        cmd.arg("-c")
            .arg(format!("source '{}'\n{script}", worlds_script().display()))
            .current_dir(cwd)
            .env("W", self.dir.path())
            .env("CARGO_HOME", tool_home("CARGO_HOME", ".cargo"))
            .env("RUSTUP_HOME", tool_home("RUSTUP_HOME", ".rustup"))
            .env("HOME", &home)
            .env("PATH", path)
            .env("FROSTSIGN_PASSPHRASE_FILE", home.join("passphrase"))
            .env_remove("FROSTSIGN_HOME")
            .env_remove("GNUPGHOME")
            .env_remove("CARGO_TARGET_DIR")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        Running { child: cmd.spawn().expect("run bash") }
    }
}

/// A command started in its own process group (so a stuck watcher and its children can be stopped).
struct Running {
    child: Child,
}

impl Running {
    /// Its output (read while it runs, so a talkative command never stalls on a full pipe), or what it
    /// printed until it was stopped at `limit`.
    fn wait(self, limit: Duration) -> Out {
        let pid = self.child.id();
        let (tx, rx) = std::sync::mpsc::channel();
        let child = self.child;
        std::thread::spawn(move || tx.send(child.wait_with_output()));
        let output = match rx.recv_timeout(limit) {
            Ok(o) => return Out::from_output(o.unwrap()),
            Err(_) => {
                let _ = Command::new("kill").arg("-KILL").arg(format!("-{pid}")).status();
                rx.recv().unwrap().unwrap()
            }
        };
        let mut o = Out::from_output(output);
        o.stderr.push_str(&format!("\n(stopped after {} s)", limit.as_secs()));
        o
    }
}

const COMMAND_LIMIT: Duration = Duration::from_secs(120);

/// What one document's run found.
#[derive(Default)]
struct Tally {
    blocks: usize,
    ran: usize,
    skipped: Vec<String>,
    failed: Vec<String>,
    /// A stock tool was not installed (outside CI), so whole documents' rests were skipped.
    tool_missing: bool,
}

/// Run the blocks of one document; failures and skips are collected, not thrown.
fn run_document(name: &str, text: &str, tally: &mut Tally) {
    let mut world: Option<World> = None;
    for b in blocks(text) {
        tally.blocks += 1;
        let at = format!("{name}:{}", b.line);
        let value = |key: &str| b.directives.iter().find_map(|d| d.strip_prefix(key).map(str::trim));
        if let Some(reason) = value("skip ") {
            tally.skipped.push(format!("{at}: {reason}"));
            continue;
        }
        let cmds = commands(&b);
        if cmds.is_empty() {
            continue;
        }
        if let Some(w) = value("world ") {
            world = match World::build(w) {
                Ok(w) => Some(w),
                Err(e) => {
                    tally.failed.push(format!("{at}: {e}"));
                    return;
                }
            };
        }
        let Some(w) = &world else {
            tally
                .failed
                .push(format!("{at}: the first runnable block of a file needs `<!-- docs-test: world NAME -->`"));
            return;
        };
        match run_block(w, &b, &cmds, tally) {
            Ok(Ran::Block) => {}
            // Later blocks of the guide depend on this one: the rest is skipped, or stops with it.
            Ok(Ran::NothingForWantOfATool) => {
                tally.tool_missing = true;
                return;
            }
            Err(e) => {
                tally.failed.push(format!("{at}: {e}"));
                return;
            }
        }
    }
}

/// What [`run_block`] did.
enum Ran {
    Block,
    /// A stock tool the block needs is not installed (outside CI): the rest of its document is skipped.
    NothingForWantOfATool,
}

/// Run the commands of one block in `w`.
fn run_block(w: &World, b: &Block, cmds: &[Cmd], tally: &mut Tally) -> Result<Ran, String> {
    let directive = |key: &str| b.directives.iter().find_map(|d| d.strip_prefix(key).map(str::trim));
    let default = directive("as ").unwrap_or("alice");
    let signers: Vec<String> = match directive("signers ") {
        Some(list) => list.split_whitespace().map(str::to_string).collect(),
        None => SIGNERS.iter().map(|s| s.to_string()).collect(),
    };
    let lets: Vec<(&str, &str)> =
        b.directives.iter().filter_map(|d| d.strip_prefix("let ")?.split_once(" => ")).collect();
    let same_output = b.directives.iter().any(|d| d == "same-output");
    let mut jobs: Vec<Job> = Vec::new();
    for c in cmds {
        let text = lets.iter().fold(c.text.clone(), |t, (old, new)| t.replace(old, new));
        let (who, rounds) = runners(c, default, &signers);
        for _ in 0..rounds {
            for p in &who {
                let shown = same_output.then(|| c.shown.join("\n"));
                jobs.push(Job { who: p.clone(), text: text.clone(), expect: c.expect, shown });
            }
        }
    }
    let befores: Vec<&str> = b.directives.iter().filter_map(|d| d.strip_prefix("before ")).collect();
    let texts = befores.iter().copied().chain(jobs.iter().map(|j| j.text.as_str()));
    if let Some(tool) = texts.into_iter().find_map(missing_stock_tool) {
        tally.skipped.push(format!("line {} onwards (stock `{tool}` is not installed)", b.line));
        return Ok(Ran::NothingForWantOfATool);
    }
    for before in befores {
        let o = w.shell(default, &w.cwd(directive("cwd "), default), before).wait(COMMAND_LIMIT);
        if o.code != 0 {
            return Err(format!("`before {before}` failed (exit {}):\n{}", o.code, o.all()));
        }
    }
    // `together [after N]`: how many jobs run one by one before the rest start at once.
    let alone = match directive("together") {
        None => usize::MAX,
        Some(rest) => rest.strip_prefix("after").map_or(0, |n| n.trim().parse().expect("together after N")),
    };
    let mut started = Vec::new();
    for (i, job) in jobs.into_iter().enumerate() {
        let running = w.shell(&job.who, &w.cwd(directive("cwd "), &job.who), &job.text);
        if i < alone {
            job.check(running.wait(COMMAND_LIMIT), tally)?;
        } else {
            started.push((job, running));
        }
    }
    for (job, running) in started {
        job.check(running.wait(COMMAND_LIMIT), tally)?;
    }
    Ok(Ran::Block)
}

/// One run of one command by one person.
struct Job {
    who: String,
    text: String,
    /// The exit code a following `echo $?` shows.
    expect: Option<i32>,
    /// With `same-output`: the output the block shows.
    shown: Option<String>,
}

impl Job {
    /// The run ended as the docs say it does.
    fn check(&self, o: Out, tally: &mut Tally) -> Result<(), String> {
        tally.ran += 1;
        let (text, who) = (&self.text, &self.who);
        let allowed: Vec<i32> = match self.expect {
            Some(code) => vec![code],
            None if text.contains(" status ") || text.contains(" collect ") => vec![0, 3],
            None => vec![0],
        };
        if !allowed.contains(&o.code) {
            return Err(format!(
                "`{text}` (as {who}) exited {}, expected {allowed:?}:\n{}",
                o.code,
                o.all().trim_end()
            ));
        }
        match &self.shown {
            Some(shown) if o.stdout.trim_end() != shown.trim_end() => {
                Err(format!("`{text}` (as {who}) printed\n{}\nbut the docs show\n{shown}", o.stdout.trim_end()))
            }
            _ => Ok(()),
        }
    }
}

/// A stock tool one of the command's parts (split at `&&`, `||`, `;` and `|`) starts with, when it is not
/// installed (under CI=true that fails the test: see [`require_tool`]).
fn missing_stock_tool(text: &str) -> Option<&'static str> {
    const STOCK: [&str; 6] = ["minisign", "ssh-keygen", "gpg", "gpgv", "signify-openbsd", "git"];
    text.split(['&', ';', '|']).find_map(|part| {
        let first = part.split_whitespace().next()?;
        let tool = STOCK.into_iter().find(|t| *t == first)?;
        (!require_tool(tool, INSTALL_TOOLS)).then_some(tool)
    })
}

fn documents() -> Vec<PathBuf> {
    let mut files = vec![root().join("README.md")];
    for e in std::fs::read_dir(root().join("docs")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "md") {
            files.push(p);
        }
    }
    files.sort();
    files
}

#[test]
fn every_shell_block_in_the_docs_runs() {
    let only = std::env::var("DOCS_ONLY").ok();
    let mut tally = Tally::default();
    for f in documents() {
        let name = f.strip_prefix(root()).unwrap().display().to_string();
        if only.as_ref().is_some_and(|o| !name.contains(o.as_str())) {
            continue;
        }
        run_document(&name, &std::fs::read_to_string(&f).unwrap(), &mut tally);
    }
    eprintln!("ran {} commands; skipped {} blocks:", tally.ran, tally.skipped.len());
    for s in &tally.skipped {
        eprintln!("  skipped {s}");
    }
    assert!(
        tally.failed.is_empty(),
        "{} documents stopped at a failing block:\n\n{}",
        tally.failed.len(),
        tally.failed.join("\n\n")
    );
    if only.is_none() && !tally.tool_missing {
        // Skips are the exception: a new block that cannot run needs a reason, and few may have one.
        // (Counted only with every stock tool installed, as under CI, where a missing one fails.)
        let (ran, skipped, blocks) = (tally.ran, tally.skipped.len(), tally.blocks);
        assert!(ran >= 200 && skipped * 6 < blocks, "ran {ran} commands, skipped {skipped} of {blocks} blocks");
    }
}

/// The runner itself: a block fails on a wrong exit code, on an `echo $?` the command does not match, on
/// output that differs under `same-output`, and a failure stops the rest of the document.
#[test]
fn the_docs_runner_fails_a_block_that_does_not_do_what_it_shows() {
    let cases = [
        ("<!-- docs-test: world people -->\n```sh\nfrostsign verify --key missing.pub x\n```\n", "exited 2"),
        ("<!-- docs-test: world people -->\n```console\n$ true\n$ echo $?\n3\n```\n", "exited 0, expected [3]"),
        ("<!-- docs-test: world people; same-output -->\n```console\n$ echo 130\n131\n```\n", "docs show\n131"),
        ("```sh\nfrostsign --version\n```\n", "needs `<!-- docs-test: world NAME -->`"),
    ];
    for (doc, needle) in cases {
        let mut tally = Tally::default();
        run_document("case.md", &format!("{doc}<!-- docs-test: world people -->\n```sh\ntrue\n```\n"), &mut tally);
        assert_eq!(tally.failed.len(), 1, "{doc}");
        assert!(tally.failed[0].contains(needle), "{needle:?} not in {}", tally.failed[0]);
        assert_eq!(tally.ran, usize::from(!needle.contains("world NAME")), "the document stops at its failure");
    }
    let mut tally = Tally::default();
    let doc = "<!-- docs-test: world people -->\n```console\n$ frostsign --version\n$ echo $?\n0\n```\n<!-- docs-test: skip a person -->\n```sh\nfalse\n```\n";
    run_document("case.md", doc, &mut tally);
    assert!(tally.failed.is_empty(), "{:?}", tally.failed);
    assert_eq!((tally.ran, tally.skipped.len()), (1, 1));
}
