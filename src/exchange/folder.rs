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
#[derive(Clone, Debug)]
pub struct Folder {
    dir: PathBuf,
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
        Ok(Folder { dir: dir.to_path_buf() })
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
