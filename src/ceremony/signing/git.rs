//! Signed git tags: the group signs a tag object with SSHSIG (namespace `git`), as `git tag -s` does with
//! `gpg.format=ssh`, so `git tag -v` verifies it with an allowed signers file.
//!
//! The request fixes the tag name, the ref it is about, the object (commit) id, the tagger line and the
//! message. Each signer rebuilds the tag object from its own clone: the ref must resolve there to the same
//! commit, otherwise it refuses.

use super::bad;
use crate::error::{Error, Result};
use crate::plain_text::{PlainText, TextKind};
use crate::textdoc::{DocError, Document};
use std::path::Path;
use std::process::{Command, Stdio};

/// A tag to be signed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GitTag {
    /// Tag name, e.g. `v1.4.0`.
    pub name: String,
    /// The ref the release manager tagged, e.g. `main` or `refs/heads/release-1.4`.
    pub ref_name: String,
    /// The tagged object id (hex).
    pub object: String,
    /// The tagged object's type (`commit`).
    pub kind: String,
    /// `Name <email> UNIX-TIME +0000`.
    pub tagger: String,
    /// The tag message, ending with a newline.
    pub message: PlainText,
}

/// Longest tag or ref name frostsign accepts (git has no limit; a file name has one).
pub const MAX_REF_NAME: usize = 200;

/// Why `name` is not a valid tag name, or `None` if it is one: what `git check-ref-format refs/tags/NAME`
/// accepts, with frostsign's rules (see [`ref_name_problem`]).
pub fn tag_name_problem(name: &str) -> Option<&'static str> {
    // `@` alone is refused as a whole ref name only; `refs/tags/@` is valid (`git tag @` works).
    if name == "@" {
        None
    } else {
        ref_name_problem(name)
    }
}

/// Why `name` is not a valid git ref name, or `None` if it is one.
///
/// The rules of `git check-ref-format --allow-onelevel`: no component starts with `.` or ends with `.lock`;
/// no `..`, `//` or `@{`; not `@`; no ASCII control character, space, `~ ^ : ? * [ \`; no leading or
/// trailing `/`; no trailing `.`. frostsign adds three rules of its own: no leading `-` (as `git tag`
/// refuses, so a name never reads as an option), at most [`MAX_REF_NAME`] bytes, and no invisible
/// formatting characters (a signer reads the name).
pub fn ref_name_problem(name: &str) -> Option<&'static str> {
    let bad_char = |c: char| c.is_ascii_control() || " ~^:?*[\\".contains(c);
    Some(if name.is_empty() {
        "it is empty"
    } else if name.len() > MAX_REF_NAME {
        "it is longer than 200 bytes"
    } else if name.starts_with('-') {
        "it starts with `-`"
    } else if name.starts_with('/') || name.ends_with('/') {
        "it starts or ends with `/`"
    } else if name.contains("//") {
        "it contains `//`"
    } else if name.contains("..") {
        "it contains `..`"
    } else if name.contains("@{") {
        "it contains `@{`"
    } else if name == "@" {
        "it is `@`"
    } else if name.ends_with('.') {
        "it ends with `.`"
    } else if name.chars().any(bad_char) {
        "it contains a space, a control character or one of `~ ^ : ? * [ \\`"
    } else if name.split('/').any(|c| c.starts_with('.')) {
        "a part of it starts with `.`"
    } else if name.split('/').any(|c| c.ends_with(".lock")) {
        "a part of it ends with `.lock`"
    } else if !crate::textdoc::is_plain_text(name) {
        "it contains invisible formatting characters"
    } else {
        return None;
    })
}

/// Longest tagger line accepted.
const MAX_TAGGER_CHARS: usize = 300;

/// Why a tagger line is not `Name <email> UNIX-TIME +HHMM` as git writes it, if it is not.
fn tagger_problem(tagger: &str) -> Option<&'static str> {
    if !crate::text::is_plain_line(tagger, MAX_TAGGER_CHARS) {
        return Some("one line of plain text without leading or trailing spaces");
    }
    let mut parts = tagger.rsplitn(3, ' ');
    let (tz, time, ident) = (parts.next()?, parts.next()?, parts.next()?);
    let tz_ok = tz.len() == 5 && tz.starts_with(['+', '-']) && tz[1..].bytes().all(|b| b.is_ascii_digit());
    if !tz_ok || time.is_empty() || !time.bytes().all(|b| b.is_ascii_digit()) {
        return Some("the time must be Unix seconds and a +HHMM offset");
    }
    let Some((name, rest)) = ident.split_once(" <") else { return Some("no ` <email>` after the name") };
    let email = rest.strip_suffix('>');
    let bad_part = |s: &str| s.is_empty() || s.contains(['<', '>']) || s.trim() != s;
    match email {
        Some(email) if !bad_part(name) && !email.contains(['<', '>']) => None,
        _ => Some("the name must not be empty and neither name nor email may hold `<` or `>`"),
    }
}

/// Check a tag name and a ref name given on the command line, before git sees them.
pub fn check_names(name: &str, ref_name: &str) -> Result<()> {
    let show = |s: &str| crate::textdoc::printable(s, 80);
    if let Some(why) = tag_name_problem(name) {
        return Err(Error::new(format!("`{}` is not a valid git tag name: {why}", show(name))).with_help(
            "tag names follow the rules of `git check-ref-format`, for example `v1.4.0` or `release/1.4.0`",
        ));
    }
    if let Some(why) = ref_name_problem(ref_name) {
        return Err(Error::new(format!("`{}` is not a valid git ref name: {why}", show(ref_name)))
            .with_help("give a branch or ref, for example `main` or `refs/heads/release-1.4`"));
    }
    Ok(())
}

impl GitTag {
    /// The tag object without signature: what the group signs (through SSHSIG) and git stores.
    pub fn payload(&self) -> Vec<u8> {
        format!(
            "object {}\ntype {}\ntag {}\ntagger {}\n\n{}",
            self.object, self.kind, self.name, self.tagger, self.message
        )
        .into_bytes()
    }

    /// The file the signed tag object is written to: one file name, `/` in the tag name replaced by `-`
    /// (`release/1.4` gives `release-1.4.tag`).
    pub fn file_name(&self) -> String {
        format!("{}.tag", self.name.replace('/', "-"))
    }

    /// Check every field (also used on parse).
    pub fn check(&self) -> std::result::Result<(), DocError> {
        if let Some(why) = tag_name_problem(&self.name) {
            return Err(bad("git-tag", format!("not a valid git tag name: {why}")));
        }
        if let Some(why) = ref_name_problem(&self.ref_name) {
            return Err(bad("git-ref", format!("not a valid git ref name: {why}")));
        }
        let hexlen = self.object.len();
        if !(hexlen == 40 || hexlen == 64)
            || !self.object.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(bad("git-object", "not a git object id"));
        }
        if self.kind != "commit" {
            return Err(bad("git-type", "only commits can be tagged"));
        }
        if let Some(why) = tagger_problem(&self.tagger) {
            return Err(bad("git-tagger", format!("expected `Name <email> TIME +0000`: {why}")));
        }
        // The message is approved by every signer as it is shown: its type (a TextKind::TagMessage) holds
        // it to plain text on every line, like a name.
        Ok(())
    }

    /// Read the git fields of a request document, if it has them.
    pub fn from_doc(doc: &Document) -> std::result::Result<Option<GitTag>, DocError> {
        let Some(name) = doc.get("git-tag") else {
            if doc.get("git-object").is_some() || doc.get("git-ref").is_some() {
                return Err(bad("git-tag", "missing"));
            }
            return Ok(None);
        };
        let message = String::from_utf8(doc.block("git-message")?).map_err(|_| bad("git-message", "not UTF-8"))?;
        let message = PlainText::new(TextKind::TagMessage, &message)
            .map_err(|_| bad("git-message", TextKind::TagMessage.rule()))?;
        let tag = GitTag {
            name: name.to_string(),
            ref_name: doc.require("git-ref")?.to_string(),
            object: doc.require("git-object")?.to_string(),
            kind: doc.require("git-type")?.to_string(),
            tagger: doc.require("git-tagger")?.to_string(),
            message,
        };
        tag.check()?;
        Ok(Some(tag))
    }
}

/// Run git in `repo` and return its trimmed stdout.
pub fn git(repo: &Path, args: &[&str], stdin: Option<&[u8]>) -> Result<String> {
    use std::io::Write;
    let mut cmd = Command::new("git");
    cmd.arg("-C").arg(repo).args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    let mut child = cmd.spawn().map_err(|e| {
        Error::new(format!("could not run git: {e}")).with_help("install git, or run this step where git is available")
    })?;
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("piped")
            .write_all(input)
            .map_err(|e| Error::new(format!("could not talk to git: {e}")))?;
    }
    let out = child.wait_with_output().map_err(|e| Error::new(format!("could not run git: {e}")))?;
    if !out.status.success() {
        return Err(Error::new(format!(
            "`git {}` failed in `{}`: {}",
            args.join(" "),
            crate::text::path(repo),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The commit a ref names in `repo`.
pub fn resolve_commit(repo: &Path, ref_name: &str) -> Result<String> {
    git(repo, &["rev-parse", "--verify", "--quiet", "--end-of-options", &format!("{ref_name}^{{commit}}")], None)
        .map_err(|_| {
            Error::new(format!("`{ref_name}` does not name a commit in the repository `{}`", crate::text::path(repo)))
        })
}

/// Build the tag a release manager asks for: resolve the ref, take the tagger from `tagger` or git's
/// committer identity, stamp it with `time`.
pub fn prepare(
    repo: &Path,
    name: &str,
    ref_name: &str,
    message: &str,
    tagger: Option<&str>,
    time: i64,
) -> Result<GitTag> {
    check_names(name, ref_name)?;
    let object = resolve_commit(repo, ref_name)?;
    if git(repo, &["rev-parse", "--verify", "--quiet", &format!("refs/tags/{name}")], None).is_ok() {
        return Err(Error::new(format!("the tag `{name}` already exists in `{}`", crate::text::path(repo)))
            .with_help("choose another tag name, or delete the unsigned tag first"));
    }
    let who = match tagger {
        Some(t) => t.to_string(),
        None => {
            let ident = git(repo, &["var", "GIT_COMMITTER_IDENT"], None)?;
            // "Name <email> TIME TZ": keep the name and address, the time is the request's.
            ident.rsplitn(3, ' ').nth(2).unwrap_or(&ident).to_string()
        }
    };
    let mut message = message.trim_end_matches('\n').to_string();
    message.push('\n');
    let message =
        PlainText::new(TextKind::TagMessage, &message).map_err(|e| Error::new(format!("cannot make this tag: {e}")))?;
    let tag = GitTag {
        name: name.into(),
        ref_name: ref_name.into(),
        object,
        kind: "commit".into(),
        tagger: format!("{who} {time} +0000"),
        message,
    };
    tag.check().map_err(|e| Error::new(format!("cannot make this tag: {e}")))?;
    Ok(tag)
}

/// A signer's check: `repo` must resolve the request's ref to the same commit.
pub fn rebuild_in_clone(tag: &GitTag, repo: &Path) -> Result<Vec<u8>> {
    let mine = resolve_commit(repo, &tag.ref_name)?;
    if mine != tag.object {
        return Err(Error::new(format!(
            "your clone `{}` has {mine} for `{}`, but the request tags {}",
            crate::text::path(repo),
            tag.ref_name,
            tag.object
        ))
        .with_help("fetch and compare with the release manager; do not sign a commit you have not checked"));
    }
    Ok(tag.payload())
}

/// The signed tag object: payload followed by the armored SSH signature.
pub fn signed_object(tag: &GitTag, group_key: &[u8; 32], sig: &[u8; 64]) -> String {
    let mut text = String::from_utf8(tag.payload()).expect("built from strings");
    text.push_str(&crate::formats::ssh::armored_signature(group_key, "git", sig));
    text
}

/// Store a signed tag object in `repo` (`git mktag`) and point `refs/tags/NAME` at it.
pub fn import(repo: &Path, tag: &GitTag, object: &str) -> Result<String> {
    let id = git(repo, &["mktag"], Some(object.as_bytes()))?;
    git(repo, &["update-ref", &format!("refs/tags/{}", tag.name), &id, ""], None)
        .map_err(|e| e.with_help("the tag may exist already; `git tag -d NAME` first if it is an unsigned one"))?;
    Ok(id)
}
