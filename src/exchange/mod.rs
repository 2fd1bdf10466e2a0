//! What keyholders exchange: authenticated, optionally encrypted message files.

pub mod folder;
pub mod git;
pub mod message;

pub use message::{decode_payload, open, seal, Expect, Opened};
