//! The offline verification page (`frostsign group page`): one self-contained HTML file with the group's
//! public key built in, which checks a minisign, SSHSIG, OpenPGP or signify manifest signature of a local file in
//! the browser, without any network request.
//!
//! The page itself (markup, style, and the script bundled from the audited @noble/curves and @noble/hashes
//! packages pinned in `web/package-lock.json`) is built by `web/build.mjs` into
//! `web/dist/verify-page.html` and committed, so building frostsign needs no node. Its strict
//! Content-Security-Policy (`default-src 'none'`, the inline script and style allowed by their SHA-256
//! only) is computed when the asset is built; here only the group's fields are filled in, HTML-escaped,
//! outside the script and style, so the hashes stay true for every group.

use crate::error::{Error, Result};
use crate::formats::minisign;
use crate::group::Group;

/// The page template built by `web/build.mjs` (`make page-asset`).
pub const TEMPLATE: &str = include_str!("../web/dist/verify-page.html");

/// Longest --title, in characters.
pub const MAX_TITLE_CHARS: usize = 200;

/// `s` made safe as HTML text and as a double-quoted attribute value.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '{' => out.push_str("&#123;"),
            '}' => out.push_str("&#125;"),
            c => out.push(c),
        }
    }
    out
}

/// The default title: "Verify a download from LABEL" (or from the group's fingerprint).
pub fn default_title(g: &Group) -> String {
    format!("Verify a download from {}", g.display_name())
}

/// The page for group `g`, titled `title` (or [`default_title`]).
pub fn render(g: &Group, title: Option<&str>) -> Result<String> {
    if let Some(t) = title {
        if !crate::text::is_plain_line(t, MAX_TITLE_CHARS) {
            return Err(Error::new(format!(
                "invalid --title `{}`: one line of plain text, 1 to {MAX_TITLE_CHARS} characters, no control or invisible characters, no leading or trailing spaces",
                crate::text::escape_max(t, 80)
            ))
            .with_help("give a short title such as --title \"Verify ACME downloads\", or leave --title out"));
        }
    }
    let title = title.map(str::to_string).unwrap_or_else(|| default_title(g));
    let fields = [
        ("title", title),
        ("name", g.display_name()),
        ("fingerprint", g.fingerprint().to_string()),
        ("key_hex", hex::encode(g.key())),
        ("key_id_hex", hex::encode(g.minisign_key_id())),
        ("key_id", minisign::key_id_display(g.minisign_key_id())),
        ("minisign_key", minisign::public_key_line(g.minisign_key_id(), g.key())),
        ("threshold", g.threshold().to_string()),
        ("members", g.members().len().to_string()),
        ("version", env!("CARGO_PKG_VERSION").to_string()),
    ];
    fill(TEMPLATE, &fields)
}

/// Replace every `{{name}}` of `template` with the HTML-escaped value of `name`, in one pass (a value is
/// never scanned again). Every placeholder must be known and every field used.
fn fill(template: &str, fields: &[(&str, String)]) -> Result<String> {
    let broken = |what: String| Error::new(format!("the built-in page template is broken: {what}"));
    let mut out = String::with_capacity(template.len() + 1024);
    let mut used = vec![false; fields.len()];
    let mut rest = template;
    while let Some(at) = rest.find("{{") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        let end = after.find("}}").ok_or_else(|| broken("an unclosed {{".into()))?;
        let name = &after[..end];
        let i = fields
            .iter()
            .position(|(n, _)| *n == name)
            .ok_or_else(|| broken(format!("unknown placeholder `{}`", crate::text::escape_max(name, 40))))?;
        used[i] = true;
        out.push_str(&html_escape(&fields[i].1));
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    if let Some(i) = used.iter().position(|u| !u) {
        return Err(broken(format!("no placeholder for `{}`", fields[i].0)));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use sha2::{Digest, Sha256};

    fn between<'a>(text: &'a str, open: &str, close: &str) -> &'a str {
        let start = text.find(open).expect("open tag") + open.len();
        let len = text[start..].find(close).expect("close tag");
        &text[start..start + len]
    }

    #[test]
    fn the_csp_allows_exactly_the_inline_script_and_style_by_hash() {
        let hash =
            |s: &str| format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(Sha256::digest(s)));
        let script = between(TEMPLATE, "<script>", "</script>");
        let style = between(TEMPLATE, "<style>", "</style>");
        let csp = between(TEMPLATE, "http-equiv=\"Content-Security-Policy\" content=\"", "\"");
        assert_eq!(
            csp,
            format!(
                "default-src 'none'; script-src {}; style-src {}; base-uri 'none'; form-action 'none'",
                hash(script),
                hash(style)
            )
        );
        assert_eq!(TEMPLATE.matches("<script").count(), 1, "one inline script, no other");
        assert!(!TEMPLATE.contains("src=") && !TEMPLATE.contains("href="), "nothing loaded from elsewhere");
    }

    #[test]
    fn fill_escapes_and_is_one_pass() {
        let fields = [("a", "<b>&\"'{{a}}".to_string()), ("b", "x".to_string())];
        assert_eq!(
            fill("{{a}}|{{b}}|{{a}}", &fields).unwrap(),
            "&lt;b&gt;&amp;&quot;&#39;&#123;&#123;a&#125;&#125;|x|&lt;b&gt;&amp;&quot;&#39;&#123;&#123;a&#125;&#125;"
        );
        assert!(fill("{{a}} {{c}} {{b}}", &fields).is_err());
        assert!(fill("{{a}}", &fields).is_err());
        assert!(fill("{{a}} {{b", &fields).is_err());
    }
}
