//! Ceremonies: rounds of authenticated files in a folder, each keyholder doing what it can now.
//!
//! Every ceremony follows the same pattern: a description file in the folder fixes the participants and
//! is hashed into every message; each keyholder's `step` reads what is there, checks it, runs the rounds
//! it can, keeps its secrets encrypted in its home, and publishes its output with fixed names so reruns
//! are idempotent; `status` reads only public files.

pub mod dealer;
pub mod dkg;
pub mod engine;
pub mod refresh;
pub mod repair;
pub mod signing;
