//! The only way the CLI writes to the terminal. Every line goes through [`crate::text::neutralize`], so
//! whatever text from a file slipped into a message unescaped, no escape sequence, C1 control, bidi
//! control or invisible character reaches the terminal; `--json` output goes through
//! [`crate::text::json_safe`] and stays valid JSON.
//!
//! A closed standard output (`frostsign dkg status --json | head -3`) is not an error worth a message:
//! the process exits at once, quietly, with [`BROKEN_PIPE_EXIT`] (what a shell reports for a program
//! killed by SIGPIPE), never with a panic and never with 0, so `set -o pipefail` scripts cannot mistake
//! a cut-off `verify` for a valid one.

use std::io::Write;

/// Exit code when standard output was closed before everything was written (128 + SIGPIPE).
pub const BROKEN_PIPE_EXIT: i32 = 141;

/// Write `text` to standard output, neutralized. Exits the process if standard output is gone.
pub fn stdout(text: &str) {
    let safe = crate::text::neutralize(text);
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(safe.as_bytes()).and_then(|()| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(BROKEN_PIPE_EXIT);
        }
        stderr(&format!("error: could not write to standard output: {e}\n"));
        std::process::exit(crate::ExitKind::Refused.code());
    }
}

/// Write `text` to standard error, neutralized. Errors are ignored: there is nowhere left to report them.
pub fn stderr(text: &str) {
    let safe = crate::text::neutralize(text);
    let _ = std::io::stderr().lock().write_all(safe.as_bytes());
}

/// Pretty-printed JSON of `value` on standard output, terminal-safe and still valid JSON.
pub fn json(value: &impl serde::Serialize) {
    match serde_json::to_string_pretty(value) {
        Ok(text) => stdout(&format!("{}\n", crate::text::json_safe(&text))),
        Err(e) => stderr(&format!("error: could not encode the JSON output: {e}\n")),
    }
}

/// The sink the CLI installs for the library's events (see [`crate::report`]): warnings on standard
/// error; progress on standard error only when it is a terminal.
pub fn report(e: &crate::report::Event<'_>) {
    use crate::report::Event;
    use std::io::IsTerminal;
    match e {
        Event::Warning(text) => stderr(&format!("warning: {text}\n")),
        Event::Progress { what, done, total } if std::io::stderr().is_terminal() => {
            let pct = done * 100 / (*total).max(1);
            // The carriage return is frostsign's own (it redraws the line); the text is neutralized.
            let _ = std::io::stderr().write_all(b"\r");
            stderr(&format!("hashing {what}: {pct:>3}% of {} MiB", total >> 20));
            let _ = std::io::stderr().flush();
        }
        Event::ProgressDone if std::io::stderr().is_terminal() => stderr("\n"),
        _ => {}
    }
}
