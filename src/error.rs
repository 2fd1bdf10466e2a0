//! One error type for the whole tool, printed like cargo's: what went wrong, on which file, what to do next.
//!
//! Every error carries an [`ExitKind`] that fixes the process exit code, so scripts can rely on it:
//! 0 success, 1 a signature is invalid (only `verify`), 2 usage or bad input, 3 a ceremony is still in progress.

use std::fmt;
use std::path::Path;

/// What kind of failure this is; decides the exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitKind {
    /// A signature did not verify (exit 1).
    Invalid,
    /// Usage error, unreadable or malformed input, refused operation (exit 2).
    Refused,
    /// The ceremony is not finished yet (exit 3). Only status commands use it.
    InProgress,
}

impl ExitKind {
    /// The process exit code for this kind.
    pub fn code(self) -> i32 {
        match self {
            ExitKind::Invalid => 1,
            ExitKind::Refused => 2,
            ExitKind::InProgress => 3,
        }
    }
}

/// An error with a headline, optional notes (facts) and an optional help line (what to do).
#[derive(Debug, Clone)]
pub struct Error {
    kind: ExitKind,
    message: String,
    notes: Vec<String>,
    help: Option<String>,
}

/// Result alias used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A refused operation or bad input (exit 2).
    pub fn new(message: impl Into<String>) -> Self {
        Error { kind: ExitKind::Refused, message: message.into(), notes: Vec::new(), help: None }
    }

    /// A signature that does not verify (exit 1).
    pub fn invalid(message: impl Into<String>) -> Self {
        Error { kind: ExitKind::Invalid, ..Error::new(message) }
    }

    /// An error about one file: "`path`: message".
    pub fn file(path: &Path, message: impl fmt::Display) -> Self {
        Error::new(format!("{}: {message}", crate::text::path(path)))
    }

    /// An I/O failure while doing `action` on `path`, with a hint chosen from the error kind.
    pub fn io(action: &str, path: &Path, err: std::io::Error) -> Self {
        use std::io::ErrorKind as K;
        let e = Error::new(format!("could not {action} `{}`: {}", crate::text::path(path), io_reason(&err)));
        match err.kind() {
            K::NotFound => e.with_help("check the path; run the command from the right folder"),
            K::PermissionDenied => e.with_help("check the file's owner and permissions"),
            _ => e,
        }
    }

    /// Add a fact that helps understand the error.
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    /// Say what the user should do next.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Prefix the headline with context, e.g. the file name.
    pub fn context(mut self, context: impl fmt::Display) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }

    /// Change the exit kind.
    pub fn with_kind(mut self, kind: ExitKind) -> Self {
        self.kind = kind;
        self
    }

    /// The exit kind.
    pub fn kind(&self) -> ExitKind {
        self.kind
    }

    /// The headline alone.
    pub fn message(&self) -> &str {
        &self.message
    }
}

fn io_reason(err: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    match err.kind() {
        K::NotFound => "no such file or directory".into(),
        K::PermissionDenied => "permission denied".into(),
        K::IsADirectory => "it is a directory, not a file".into(),
        K::AlreadyExists => "it already exists".into(),
        _ => err.to_string(),
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)?;
        for note in &self.notes {
            write!(f, "\n  note: {note}")?;
        }
        if let Some(help) = &self.help {
            write!(f, "\n  help: {help}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

/// Shorthand for returning a refused-operation error.
#[macro_export]
macro_rules! bail {
    ($($arg:tt)*) => { return Err($crate::error::Error::new(format!($($arg)*))) };
}
