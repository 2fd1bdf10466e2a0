//! Threshold release signing over files: t keyholders co-sign one or many artifacts in one session.
//!
//! Files in the session folder:
//! - `request.txt`: what is to be signed (artifacts with sizes and digests, output formats, group, expiry)
//!   and `group.pub`;
//! - `commit-a<A>-<FPR>.txt` (signed by the keyholder): the digests it computed from its own copy (the
//!   release's audit trail) and FROST commitments for every message of attempt A;
//! - `package-a<A>-p<P>.txt` (written by the coordinator, signed by nobody): the FROST signing packages of
//!   phase P; every signer checks it against what it computed itself;
//! - `share-a<A>-p<P>-<FPR>.txt` (signed by the keyholder): its signature shares for phase P;
//! - `restart-a<A>.txt`: the coordinator opened attempt A with fresh nonces;
//! - the finished signatures once done (`NAME.minisig`, `NAME.sig`, `NAME.asc`, `SHA256.sig`, ...).
//!
//! Phase 1 signs, for every artifact and format, a message the signer builds itself from its own digests
//! (see [`Slot`] and [`Plan`]); phase 2 signs minisign's global signatures (phase-1 signature || trusted comment).
//! Whole-file formats are never offered: every message is a digest, a structure that starts with a
//! format-specific prefix, or a manifest, so no message of one format can pass for another's.

pub mod coordinator;
mod files;
pub mod git;
pub mod keyholder;
mod outputs;
mod plan;
mod request;
pub mod status;

pub use files::*;
pub use outputs::*;
pub use plan::*;
pub use request::*;

pub use crate::digest::FileDigests;
pub use git::GitTag;

/// The request file in the session folder.
pub const REQUEST_FILE: &str = "request.txt";
/// The copy of the group's public file in the session folder.
pub const GROUP_COPY: &str = "group.pub";
/// Default lifetime of a request.
pub const DEFAULT_VALIDITY_SECS: i64 = 7 * 24 * 3600;
/// Most artifacts in one session.
pub const MAX_ARTIFACTS: usize = 1000;
/// The signify manifest written by a session with the `signify-manifest` format.
pub const MANIFEST_FILE: &str = "SHA256.sig";
