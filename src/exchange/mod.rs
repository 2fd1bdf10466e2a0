//! What keyholders exchange: authenticated, optionally encrypted message files.

pub mod folder;
pub mod message;

pub use message::{open, seal, Expect, Opened};
