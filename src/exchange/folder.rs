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
use std::path::{Path, PathBuf};

/// A ceremony folder.
///
/// A value lists the folder's file names at most once ([`Folder::names`]): it is a step's view, taken
/// when first needed. A loop that waits for new files (a `--watch`) opens the folder again for each round.
#[derive(Clone, Debug)]
pub struct Folder {
    dir: PathBuf,
    /// The file names, sorted, once listed: a key generation folder of 100 keyholders holds about 10,000
    /// files, and listing it costs milliseconds of system time each time.
    names: std::cell::OnceCell<Vec<std::ffi::OsString>>,
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
        Ok(Folder { dir: dir.to_path_buf(), names: std::cell::OnceCell::new() })
    }

    /// Every name in the folder (files, links, anything), sorted; listed on the first call and remembered
    /// for the life of this value, so files added later are not in it (open the folder again to see them).
    /// An entry that cannot be read makes the listing an error (and nothing is remembered).
    pub fn names(&self) -> Result<&[std::ffi::OsString]> {
        if let Some(names) = self.names.get() {
            return Ok(names);
        }
        let list = |e: std::io::Error| Error::io("list", &self.dir, e);
        let mut names = std::fs::read_dir(&self.dir)
            .map_err(list)?
            .map(|entry| entry.map(|e| e.file_name()))
            .collect::<std::io::Result<Vec<_>>>()
            .map_err(list)?;
        names.sort();
        Ok(self.names.get_or_init(|| names))
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
    fn a_folder_value_lists_its_names_once_and_a_new_value_sees_files_added_since() {
        let d = tempfile::tempdir().unwrap();
        for name in ["b.txt", "a.txt"] {
            std::fs::write(d.path().join(name), name).unwrap();
        }
        let view = Folder::open(d.path()).unwrap();
        assert_eq!(view.names().unwrap(), ["a.txt", "b.txt"]);
        std::fs::write(d.path().join("c.txt"), "c").unwrap();
        assert_eq!(view.names().unwrap(), ["a.txt", "b.txt"], "the view lists once");
        assert_eq!(Folder::open(d.path()).unwrap().names().unwrap(), ["a.txt", "b.txt", "c.txt"]);
    }
}
