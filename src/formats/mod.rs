//! Output signature formats: how the group's key is exported and what bytes the group signs for each
//! stock verifier. Each format only builds messages from digests the signer computed itself.

pub mod minisign;
pub mod openpgp;
pub mod signify;
pub mod ssh;
