//! Filesystem primitives with the guarantees the rest of the tool relies on.
//!
//! - Writes are atomic: a temporary file in the same folder, fsync, rename, fsync of the folder. A reader
//!   sees the old content or the new one, never half a file, even after a crash.
//! - Reads are bounded: a file larger than the limit is refused after reading at most `limit + 1` bytes.
//! - Removal of secrets is durable: the folder is fsynced after the unlink.

use crate::error::{Error, Result};
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Mode of every secret file.
pub const PRIVATE_FILE: u32 = 0o600;
/// Mode of the home folder and its subfolders.
pub const PRIVATE_DIR: u32 = 0o700;
/// Mode of public files written into ceremony folders.
pub const PUBLIC_FILE: u32 = 0o644;

/// Open a regular file for reading without ever blocking: the open is non-blocking (a FIFO, a terminal or
/// a device given as a file would otherwise hang the command, possibly while it holds the home's lock),
/// and anything but a regular file is refused with an error naming it. Symbolic links are followed.
pub fn open_regular(path: &Path) -> Result<File> {
    // Look before opening: opening some devices has effects of its own (a watchdog, a terminal), so
    // anything but a regular file (or a folder, refused below with its own message) is refused without
    // being opened; the type is checked again on the opened file, in case the path changed in between.
    let meta = std::fs::metadata(path).map_err(|e| Error::io("read", path, e))?;
    if !meta.is_file() && !meta.is_dir() {
        return Err(not_regular(path));
    }
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(|e| Error::io("read", path, e))?;
    check_regular(file, path)
}

fn not_regular(path: &Path) -> Error {
    Error::file(path, "is not a regular file (a FIFO, socket or device?)")
        .with_help("give a plain file; to read from a pipe, save its output to a file first")
}

/// Like [`open_regular`] for a file found in a ceremony folder, which anyone with access to the folder
/// may have planted: a symbolic link is refused too (it could point at a secret of the reader).
pub fn open_regular_untrusted(path: &Path) -> Result<File> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(|e| {
            if e.raw_os_error() == Some(libc::ELOOP) {
                Error::file(path, "is a symbolic link; files in a ceremony folder must be plain files")
                    .with_help("replace the link with a copy of the file it points to, if you trust it")
            } else {
                Error::io("read", path, e)
            }
        })?;
    check_regular(file, path)
}

fn check_regular(file: File, path: &Path) -> Result<File> {
    let meta = file.metadata().map_err(|e| Error::io("read", path, e))?;
    if meta.is_dir() {
        return Err(Error::file(path, "is a directory, not a file").with_help("give the path of the file inside it"));
    }
    if !meta.is_file() {
        return Err(not_regular(path));
    }
    Ok(file)
}

/// Read a whole regular file of at most `limit` bytes.
///
/// Refuses directories and other non-regular files (without blocking on them, see [`open_regular`]) and
/// anything larger than `limit`, with an error that names the file. Memory use is bounded by `limit + 1`
/// whatever the file's size.
pub fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>> {
    read_opened(open_regular(path)?, path, limit)
}

/// Like [`read_limited`] for a file found in a ceremony folder (see [`open_regular_untrusted`]).
pub fn read_limited_untrusted(path: &Path, limit: u64) -> Result<Vec<u8>> {
    read_opened(open_regular_untrusted(path)?, path, limit)
}

/// Read a UTF-8 text file found in a ceremony folder (see [`read_limited_untrusted`]).
pub fn read_text_untrusted(path: &Path, limit: u64) -> Result<String> {
    utf8(read_limited_untrusted(path, limit)?, path)
}

fn read_opened(file: File, path: &Path, limit: u64) -> Result<Vec<u8>> {
    // Sized once from the file's length (bounded by the limit): a buffer that grows while it reads frees
    // copies of what it held, and these files include secret key and passphrase files.
    let len = file.metadata().map(|m| m.len()).unwrap_or(0).min(limit + 1);
    let mut buf = Vec::with_capacity(usize::try_from(len).unwrap_or(0) + 1);
    file.take(limit + 1).read_to_end(&mut buf).map_err(|e| Error::io("read", path, e))?;
    if buf.len() as u64 > limit {
        return Err(Error::file(path, format!("is too large (over {} bytes) for this kind of file", limit))
            .with_help("check that you gave the right file; frostsign files are small text files"));
    }
    Ok(buf)
}

/// Read a small UTF-8 text file (see [`read_limited`]).
pub fn read_text(path: &Path, limit: u64) -> Result<String> {
    utf8(read_limited(path, limit)?, path)
}

fn utf8(bytes: Vec<u8>, path: &Path) -> Result<String> {
    String::from_utf8(bytes).map_err(|e| {
        Error::file(path, format!("is not UTF-8 text (invalid byte at offset {})", e.utf8_error().valid_up_to()))
            .with_help("this is not a frostsign file, or it was damaged in transit")
    })
}

fn temp_path(path: &Path) -> PathBuf {
    use rand_core::{OsRng, RngCore};
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp-{:016x}", OsRng.next_u64()))
}

fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// fsync a folder so that a rename or unlink inside it survives a crash.
pub fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(|e| Error::io("sync folder", dir, e))
}

fn write_temp(path: &Path, bytes: &[u8], mode: u32) -> Result<PathBuf> {
    let tmp = temp_path(path);
    let result = (|| {
        let mut f = OpenOptions::new().write(true).create_new(true).mode(mode).open(&tmp)?;
        // The mode given to open() is filtered by the umask; set it exactly.
        f.set_permissions(fs::Permissions::from_mode(mode))?;
        f.write_all(bytes)?;
        f.sync_all()
    })();
    match result {
        Ok(()) => Ok(tmp),
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            Err(Error::io("write", path, e))
        }
    }
}

/// Atomically replace (or create) `path` with `bytes`, file mode `mode`.
pub fn atomic_write(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    let tmp = write_temp(path, bytes, mode)?;
    if let Err(e) = fs::rename(&tmp, path) {
        let _ = fs::remove_file(&tmp);
        return Err(Error::io("write", path, e));
    }
    sync_dir(parent_of(path))
}

/// Atomically create `path` with `bytes`; fails with `AlreadyExists` semantics if it exists.
///
/// Returns `Ok(false)` (and writes nothing) if the file already exists.
pub fn atomic_create(path: &Path, bytes: &[u8], mode: u32) -> Result<bool> {
    let tmp = write_temp(path, bytes, mode)?;
    // link() refuses to replace an existing file, which rename() would silently do.
    let linked = fs::hard_link(&tmp, path);
    let _ = fs::remove_file(&tmp);
    match linked {
        Ok(()) => {
            sync_dir(parent_of(path))?;
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(Error::io("write", path, e)),
    }
}

/// Publish a public file into a ceremony folder: create it, or accept it if identical bytes are already
/// there (a rerun). Different bytes under the same name are an error: nothing is overwritten.
///
/// A file already there is looked at first: a step republishes everything its state says it published (99
/// files at 100 keyholders), and writing and syncing a temporary file for each only to find the file there
/// was most of the system time of a step.
pub fn publish(path: &Path, bytes: &[u8]) -> Result<bool> {
    let created = publish_unsynced(path, bytes)?;
    if created {
        sync_dir(parent_of(path))?;
    }
    Ok(created)
}

/// [`publish`] for several files of the folder `dir`, each created or found identical, in order; returns
/// for each whether it was created. The folder is synced once for all of them (a round-2 step publishes
/// 99 files at 100 keyholders) instead of once per file: each file's bytes are synced before its name
/// appears, so a crash never leaves a partial file, at worst fewer files, which the next step republishes.
pub fn publish_all(dir: &Path, files: &[(&str, &[u8])]) -> Result<Vec<bool>> {
    let mut created = Vec::with_capacity(files.len());
    let result = files.iter().try_for_each(|(name, bytes)| {
        created.push(publish_unsynced(&dir.join(name), bytes)?);
        Ok(())
    });
    if created.contains(&true) {
        sync_dir(dir)?;
    }
    result.map(|()| created)
}

/// [`publish`] without the sync of the folder.
fn publish_unsynced(path: &Path, bytes: &[u8]) -> Result<bool> {
    if fs::symlink_metadata(path).is_ok() {
        return same_as_published(path, bytes).map(|()| false);
    }
    let tmp = write_temp(path, bytes, PUBLIC_FILE)?;
    let linked = fs::hard_link(&tmp, path);
    let _ = fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => same_as_published(path, bytes).map(|()| false),
        Err(e) => Err(Error::io("write", path, e)),
    }
}

/// The file at `path` holds exactly `bytes`; anything else there (other bytes, a link, not a file) is an
/// error, as publishing never overwrites.
fn same_as_published(path: &Path, bytes: &[u8]) -> Result<()> {
    let existing = read_limited_untrusted(path, bytes.len() as u64 + 1)
        .map_err(|e| e.context("a different file is already in the way"))?;
    if existing == bytes {
        Ok(())
    } else {
        Err(Error::file(path, "already exists with different content; refusing to overwrite it").with_help(
            "someone else wrote this file, or the folder was edited; move it away only if you know why it differs",
        ))
    }
}

/// Remove a file and fsync its folder, so the removal survives a crash. A missing file is fine.
pub fn remove_durably(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Ok(()) => sync_dir(parent_of(path)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("remove", path, e)),
    }
}

/// Create `dir` (and parents) if missing and make sure it is 0700.
pub fn ensure_private_dir(dir: &Path) -> Result<()> {
    if !dir.exists() {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(PRIVATE_DIR)
            .create(dir)
            .map_err(|e| Error::io("create folder", dir, e))?;
    }
    let meta = fs::metadata(dir).map_err(|e| Error::io("open folder", dir, e))?;
    if !meta.is_dir() {
        return Err(Error::file(dir, "is not a folder"));
    }
    if meta.permissions().mode() & 0o777 != PRIVATE_DIR {
        fs::set_permissions(dir, fs::Permissions::from_mode(PRIVATE_DIR))
            .map_err(|e| Error::io("set permissions of", dir, e))?;
    }
    Ok(())
}

/// Create a (public) folder if missing.
pub fn ensure_dir(dir: &Path) -> Result<()> {
    fs::create_dir_all(dir).map_err(|e| Error::io("create folder", dir, e))?;
    if !dir.is_dir() {
        return Err(Error::file(dir, "is not a folder"));
    }
    Ok(())
}

/// Open (creating it with `mode`) a lock file, without ever blocking on it or following a link: a FIFO or
/// a link planted where the lock should be (a folder put back from someone else's copy) is refused
/// instead of hanging every command. The caller takes the lock (`lock` or `try_lock`).
pub fn open_lock_file(path: &Path, mode: u32) -> Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let not_a_lock = || {
        Error::file(path, "is not a regular file; a lock must be a plain file")
            .with_help("remove it (no frostsign command is using it), then run the command again")
    };
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(mode)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW | libc::O_NOCTTY)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            // A FIFO without a reader (ENXIO) or a symbolic link (ELOOP).
            Some(libc::ENXIO | libc::ELOOP) => not_a_lock(),
            _ => Error::io("open lock file", path, e),
        })?;
    if !file.metadata().map_err(|e| Error::io("open lock file", path, e))?.is_file() {
        return Err(not_a_lock());
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_create_refuses_to_replace() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f");
        assert!(atomic_create(&p, b"one", PRIVATE_FILE).unwrap());
        assert!(!atomic_create(&p, b"two", PRIVATE_FILE).unwrap());
        assert_eq!(fs::read(&p).unwrap(), b"one");
        assert_eq!(fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o600);
        // no temporary files left behind
        assert_eq!(fs::read_dir(d.path()).unwrap().count(), 1);
    }

    #[test]
    fn publish_is_idempotent_and_never_overwrites() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("m.txt");
        assert!(publish(&p, b"x").unwrap());
        assert!(!publish(&p, b"x").unwrap());
        assert!(publish(&p, b"y").is_err());
        assert_eq!(fs::read(&p).unwrap(), b"x");
    }

    #[test]
    fn publish_all_creates_accepts_identical_and_never_overwrites_or_follows_links() {
        let d = tempfile::tempdir().unwrap();
        let (a, b): (&[u8], &[u8]) = (b"a", b"b");
        assert_eq!(publish_all(d.path(), &[("a.txt", a), ("b.txt", b)]).unwrap(), [true, true]);
        assert_eq!(publish_all(d.path(), &[("a.txt", a), ("c.txt", b)]).unwrap(), [false, true]);
        assert!(publish_all(d.path(), &[("a.txt", b)]).is_err());
        std::os::unix::fs::symlink(d.path().join("a.txt"), d.path().join("l.txt")).unwrap();
        assert!(publish_all(d.path(), &[("l.txt", a)]).is_err(), "a link is never taken for the file");
        assert_eq!(fs::read(d.path().join("a.txt")).unwrap(), b"a");
        // no temporary files left behind
        assert_eq!(fs::read_dir(d.path()).unwrap().count(), 4);
    }

    #[test]
    fn untrusted_reads_refuse_links_and_fifos() {
        let d = tempfile::tempdir().unwrap();
        let secret = d.path().join("secret");
        fs::write(&secret, b"token").unwrap();
        let link = d.path().join("link.txt");
        std::os::unix::fs::symlink(&secret, &link).unwrap();
        let e = read_limited_untrusted(&link, 100).unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
        assert!(!e.to_string().contains("token"));
        let fifo = d.path().join("fifo.txt");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        let e = read_limited_untrusted(&fifo, 100).unwrap_err();
        assert!(e.to_string().contains("not a regular file"), "{e}");
    }

    #[test]
    fn nonblocking_reads_refuse_fifos_but_follow_links() {
        let d = tempfile::tempdir().unwrap();
        let file = d.path().join("backup");
        fs::write(&file, "text\n").unwrap();
        let link = d.path().join("link");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        assert_eq!(read_text(&link, 100).unwrap(), "text\n");
        let fifo = d.path().join("fifo");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        let e = read_text(&fifo, 100).unwrap_err();
        assert!(e.to_string().contains("not a regular file"), "{e}");
        assert!(read_text(&file, 3).unwrap_err().to_string().contains("too large"));
    }

    #[test]
    fn read_limited_bounds_and_names_problems() {
        let d = tempfile::tempdir().unwrap();
        let big = d.path().join("big");
        fs::write(&big, vec![0u8; 1000]).unwrap();
        let e = read_limited(&big, 100).unwrap_err();
        assert!(e.to_string().contains("too large"), "{e}");
        let e = read_limited(d.path(), 100).unwrap_err();
        assert!(e.to_string().contains("is a directory"), "{e}");
    }
}
