//! A ceremony folder: where keyholders drop and pick up message files.
//!
//! Message files have fixed names (`round1-<FPR>.txt`, ...) so that a folder is easy to read and so that a
//! rerun finds its own earlier output. A file's name must agree with what it says inside (sender,
//! recipient), otherwise it is rejected.

use crate::card::Card;
use crate::error::{Error, Result};
use crate::exchange::message::{self, Expect, Opened, MAX_MESSAGE_BYTES};
use crate::fsx;
use crate::identity::Identity;
use std::cell::RefCell;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::SystemTime;

/// A ceremony folder.
pub struct Folder {
    dir: PathBuf,
    /// The last listing of the file names ([`Folder::names`]): a key generation folder of 100 keyholders
    /// holds about 10,000 files, and listing it costs milliseconds of system time each time.
    listing: RefCell<Option<Listing>>,
}

/// The folder's names as listed, and the folder's modification time read just before.
struct Listing {
    changed: SystemTime,
    names: Rc<[OsString]>,
}

/// A copy lists the folder afresh (it shares no listing with the original).
impl Clone for Folder {
    fn clone(&self) -> Folder {
        Folder { dir: self.dir.clone(), listing: RefCell::new(None) }
    }
}

impl std::fmt::Debug for Folder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Folder").field("dir", &self.dir).finish_non_exhaustive()
    }
}

/// A message read from the folder and opened.
#[derive(Debug)]
pub struct Received {
    /// The opened message.
    pub opened: Opened,
    /// The exact file text (for transcripts).
    pub text: String,
    /// The file's path (for error messages).
    pub path: PathBuf,
}

impl Folder {
    /// The folder at `dir` (must exist).
    pub fn open(dir: &Path) -> Result<Folder> {
        if !dir.is_dir() {
            return Err(Error::new(format!("`{}` is not a ceremony folder (no such folder)", crate::text::path(dir)))
                .with_help("give the folder that holds the ceremony's files with --dir"));
        }
        Ok(Folder { dir: dir.to_path_buf(), listing: RefCell::new(None) })
    }

    /// Every name in the folder (files, links, anything), sorted. The listing is kept and given again
    /// while the folder's modification time (which creating, removing or renaming a file in it changes)
    /// is the one read just before it was taken; otherwise, or on a file system that keeps no
    /// modification time, the folder is listed again. A file added within the file system's timestamp
    /// granularity after a listing (a few milliseconds) may be missed until a later call, as one added
    /// just after any listing is. A listing that fails part-way is an error: callers never take a partial
    /// listing for the whole folder.
    pub fn names(&self) -> Result<Rc<[OsString]>> {
        let list = |e: std::io::Error| Error::io("list", &self.dir, e);
        let changed = std::fs::metadata(&self.dir).and_then(|m| m.modified()).ok();
        let kept = self
            .listing
            .borrow()
            .as_ref()
            .filter(|l| changed.is_some() && Some(l.changed) == changed)
            .map(|l| Rc::clone(&l.names));
        if let Some(names) = kept {
            return Ok(names);
        }
        let mut names = std::fs::read_dir(&self.dir)
            .map_err(list)?
            .map(|entry| entry.map(|e| e.file_name()))
            .collect::<std::io::Result<Vec<_>>>()
            .map_err(list)?;
        names.sort();
        let names: Rc<[OsString]> = names.into();
        *self.listing.borrow_mut() = changed.map(|changed| Listing { changed, names: Rc::clone(&names) });
        Ok(names)
    }

    /// The folder's path.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Path of a file in the folder.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// True if the file exists.
    pub fn has(&self, name: &str) -> bool {
        self.path(name).exists()
    }

    /// Read a text file, or `None` if nothing is there. Anything under the name that is not a plain
    /// file (a symbolic link, even a dangling one, a FIFO, a folder) is an error naming it, never "missing".
    pub fn read(&self, name: &str, limit: u64) -> Result<Option<String>> {
        let path = self.path(name);
        if std::fs::symlink_metadata(&path).is_err() {
            return Ok(None);
        }
        fsx::read_text_untrusted(&path, limit).map(Some)
    }

    /// Read and open a message file, or `None` if it does not exist. The sender must be `expected_sender`.
    pub fn receive(
        &self,
        name: &str,
        expect: &Expect<'_>,
        known: &[Card],
        expected_sender: usize,
        me: Option<&Identity>,
    ) -> Result<Option<Received>> {
        let Some(text) = self.read(name, MAX_MESSAGE_BYTES)? else { return Ok(None) };
        let path = self.path(name);
        let opened = message::open(&text, &path, expect, known, me)?;
        if opened.sender != expected_sender {
            return Err(Error::file(
                &path,
                format!(
                    "the file name says it comes from {} but it was signed by {}",
                    known[expected_sender].label(),
                    known[opened.sender].label()
                ),
            )
            .with_help("a file was renamed or copied to the wrong name; remove it"));
        }
        Ok(Some(Received { opened, text, path }))
    }

    /// Publish a file (see [`fsx::publish`]): created, or already there with identical bytes.
    pub fn publish(&self, name: &str, text: &str) -> Result<bool> {
        fsx::publish(&self.path(name), text.as_bytes())
    }

    /// Publish several files (see [`fsx::publish_all`]); for each, whether it was created.
    pub fn publish_all(&self, files: &[(&str, &str)]) -> Result<Vec<bool>> {
        let files: Vec<(&str, &[u8])> = files.iter().map(|(name, text)| (*name, text.as_bytes())).collect();
        fsx::publish_all(&self.dir, &files)
    }
}

#[cfg(test)]
mod tests {
    use super::Folder;

    #[test]
    fn a_listing_is_kept_while_the_folder_is_unchanged_and_taken_again_once_it_changed() {
        let d = tempfile::tempdir().unwrap();
        for name in ["b.txt", "a.txt"] {
            std::fs::write(d.path().join(name), name).unwrap();
        }
        let folder = Folder::open(d.path()).unwrap();
        let first = folder.names().unwrap();
        assert_eq!(&first[..], ["a.txt", "b.txt"]);
        assert!(std::rc::Rc::ptr_eq(&first, &folder.names().unwrap()), "kept while nothing changed");
        // A change the folder's modification time shows (set apart explicitly: a file created within
        // the same timestamp tick would not move it).
        std::fs::write(d.path().join("c.txt"), "c").unwrap();
        let later = std::time::SystemTime::now() + std::time::Duration::from_secs(5);
        std::fs::File::open(d.path()).unwrap().set_modified(later).unwrap();
        assert_eq!(&folder.names().unwrap()[..], ["a.txt", "b.txt", "c.txt"]);
        // A copy never shares a listing.
        let copy = folder.clone();
        assert!(!std::rc::Rc::ptr_eq(&copy.names().unwrap(), &folder.names().unwrap()));
        assert!(!format!("{folder:?}").contains("a.txt"), "Debug does not print the listing");
    }

    #[test]
    fn a_folder_that_cannot_be_listed_is_an_error_not_an_empty_listing() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("ceremony");
        std::fs::create_dir(&dir).unwrap();
        let folder = Folder::open(&dir).unwrap();
        assert!(folder.names().unwrap().is_empty());
        std::fs::remove_dir(&dir).unwrap();
        let e = folder.names().unwrap_err();
        assert!(e.message().contains("ceremony"), "{}", e.message());
    }
}
