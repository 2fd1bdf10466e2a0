//! frostsign's test suite: one binary, one module per area, one fixture (`common`). Every module drives
//! the real `frostsign` binary end to end (and the library where a test must craft what a malicious party
//! would send). docs/security.md names the test behind each guarantee as `tests/suite/AREA.rs::NAME`.

#[allow(dead_code)]
mod common;

mod architecture;
mod dealer;
mod dkg;
mod docs;
mod docs_blocks;
mod docs_commands;
mod examples;
mod exchange;
mod formats;
mod formats_stock;
mod fuzzing;
mod git_exchange;
mod hardening;
mod identity;
mod membership;
mod page;
mod refresh;
mod repair;
mod rotation;
mod secrets;
mod signing;
mod smoke;
mod supply;
mod verify;
mod watch;
