//! frostsign: threshold release signing with FROST (RFC 9591) over Ed25519.
//!
//! n keyholders jointly hold one Ed25519 key; any t of them co-sign a release by exchanging small,
//! authenticated text files; the result is one standard signature that stock tools verify with one
//! public key. This library holds all logic; the `frostsign` binary only parses arguments.
//!
//! Modules, by what they are about:
//! - [`card`], [`home`]: keyholder identities and the encrypted private store;
//! - [`textdoc`], [`exchange`]: the file syntax and the authenticated exchanged messages;
//! - [`fsx`], [`secret`], [`clock`], [`error`]: the small foundations everything else uses.

#![deny(unsafe_code)] // one exception, isolated: `secret::locked` (mlock)
#![warn(missing_docs)]

pub mod card;
pub mod ceremony;
pub mod cli;
pub mod clock;
pub mod digest;
pub mod error;
pub mod exchange;
pub mod formats;
pub mod fsx;
pub mod group;
pub mod home;
pub mod identity;
pub mod page;
pub mod plain_text;
pub mod process;
pub mod report;
pub mod secret;
pub mod text;
pub mod textdoc;
pub mod verify;

pub use error::{Error, ExitKind, Result};

/// Crash-test hook. In debug builds (the ones `cargo test` drives), abort the process at the named point
/// when `FROSTSIGN_CRASH_AT` equals `name`, to prove that a crash there leaves a state from which a rerun
/// is safe. Compiled out of release builds.
#[inline]
pub fn failpoint(name: &str) {
    #[cfg(debug_assertions)]
    if std::env::var("FROSTSIGN_CRASH_AT").is_ok_and(|v| v == name) {
        report::warn(format!("FROSTSIGN_CRASH_AT={name}: simulated crash"));
        std::process::abort();
    }
    #[cfg(not(debug_assertions))]
    let _ = name;
}
