//! Process-wide protections, set once at start-up, before any secret is read.
//!
//! While a home is unlocked, the process holds the home key and the identity's secret keys in memory; a
//! core dump (SIGQUIT, SIGABRT, a crash) would write them to disk, where they decrypt the key share
//! without the passphrase. So frostsign turns core dumps off for itself: `RLIMIT_CORE` 0 (no core file)
//! and, on Linux, `PR_SET_DUMPABLE` 0 (no core through a `core_pattern` pipe either, and no `ptrace`
//! attach or `/proc/PID/mem` read by other processes of the same user).

/// Forbid core dumps of this process. Returns what could not be done (the caller warns about it).
pub fn forbid_core_dumps() -> Result<(), String> {
    use rustix::process::{setrlimit, Resource, Rlimit};
    setrlimit(Resource::Core, Rlimit { current: Some(0), maximum: Some(0) })
        .map_err(|e| format!("could not set RLIMIT_CORE to 0: {e}"))?;
    #[cfg(any(target_os = "linux", target_os = "android"))]
    rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable)
        .map_err(|e| format!("could not mark the process not dumpable: {e}"))?;
    Ok(())
}
