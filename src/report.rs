//! How the library tells the user something without printing: it reports events to a sink that the CLI
//! installs once at start-up (`cli::out` writes them to standard error, progress only on a terminal).
//! Without a sink (the library used on its own, unit tests) events go nowhere. Errors are not events:
//! they are returned.

use std::fmt;
use std::sync::OnceLock;

/// Something the user should know while a command runs.
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    /// A weak setting or a risky situation; the command goes on.
    Warning(&'a str),
    /// Progress of a long read: `done` of `total` bytes of `what` (an escaped file name).
    Progress {
        /// What is being read.
        what: &'a str,
        /// Bytes done.
        done: u64,
        /// Bytes in all.
        total: u64,
    },
    /// The long read is over.
    ProgressDone,
    /// A slow step without a measure of progress has started (the passphrase KDF: "unlocking...").
    Busy(&'a str),
    /// The slow step is over.
    BusyDone,
}

static SINK: OnceLock<fn(&Event<'_>)> = OnceLock::new();

/// Install the sink (once; later calls are ignored).
pub fn install(sink: fn(&Event<'_>)) {
    let _ = SINK.set(sink);
}

/// Report an event to the sink, if there is one.
pub fn event(e: &Event<'_>) {
    if let Some(sink) = SINK.get() {
        sink(e);
    }
}

/// Report a warning.
pub fn warn(message: impl fmt::Display) {
    event(&Event::Warning(&message.to_string()));
}
