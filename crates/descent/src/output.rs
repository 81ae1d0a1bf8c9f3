//! Outputs that appear whole or not at all, and never replace what a user had unless asked.
//!
//! - [`AtomicFile`] / [`write()`]: content goes to a temporary file in the target's folder, is
//!   flushed and synced, then renamed into place.
//! - [`PartialFile`]: a file written over a whole run (a trace) under a fixed partial name
//!   next to the target, so a checkpoint can record its length and a resumed run can continue
//!   it; renamed into place when complete.
//! - [`OutputDir`]: a folder (a report, a cache) built under a temporary name and renamed
//!   into place.
//!
//! [`Existing`] says what happens when the target already exists: by default the output is
//! refused with [`Error::Exists`], both before any work starts ([`Existing::check`]) and at
//! the final rename (no-clobber, so a file that appeared meanwhile is not lost either).

use crate::{Error, Result};
use std::fs::File;
use std::io::{BufWriter, Seek, Write};
use std::path::{Path, PathBuf};

/// What to do when an output's path already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Existing {
    /// Refuse: nothing is written and the existing file stays (the default).
    #[default]
    Keep,
    /// Replace it (`--force`).
    Replace,
}

/// Whether `a` and `b` are one file: both exist and share a device and inode (so `.`/`..`,
/// symbolic and hard links are seen through); elsewhere than Unix, the same canonical path.
pub fn same_file(a: &Path, b: &Path) -> bool {
    let (Ok(ma), Ok(mb)) = (std::fs::metadata(a), std::fs::metadata(b)) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        ma.dev() == mb.dev() && ma.ino() == mb.ino()
    }
    #[cfg(not(unix))]
    {
        let _ = (ma, mb);
        matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
    }
}

/// Refuses `outputs` (a role and a path each) that are the same file as one of `inputs`,
/// naming both: nothing may be written over what a run reads, replacing allowed or not.
pub fn refuse_output_over_input(outputs: &[(&str, &Path)], inputs: &[(&str, &Path)]) -> Result<()> {
    for (output, out) in outputs {
        if let Some((input, path)) = inputs.iter().find(|(_, inp)| same_file(out, inp)) {
            return Err(Error::config(
                output,
                out.display(),
                format!(
                    "it is the {input} file {}: an output may not replace an input (nothing was written)",
                    path.display()
                ),
            ));
        }
    }
    Ok(())
}

impl Existing {
    /// `Replace` when `force`, else `Keep`.
    pub fn from_force(force: bool) -> Self {
        if force {
            Existing::Replace
        } else {
            Existing::Keep
        }
    }

    /// Fails early when `path` exists and may not be replaced.
    pub fn check(self, path: &Path) -> Result<()> {
        if self == Existing::Keep && path.symlink_metadata().is_ok() {
            return Err(Error::Exists {
                path: path.to_path_buf(),
            });
        }
        Ok(())
    }
}

/// The folder a file goes in (`.` for a bare name).
fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// A file being written; [`commit`](AtomicFile::commit) makes it appear at its path. Dropped
/// without a commit, it leaves nothing behind.
pub struct AtomicFile {
    temp: tempfile::NamedTempFile,
    writer: BufWriter<File>,
    path: PathBuf,
    existing: Existing,
}

impl AtomicFile {
    /// Starts writing `path` (checking now that it may be written).
    pub fn create(path: &Path, existing: Existing) -> Result<Self> {
        existing.check(path)?;
        let temp = tempfile::Builder::new()
            .prefix(".descent-")
            .suffix(".tmp")
            .tempfile_in(folder_of(path))
            .map_err(|e| Error::io(path, e))?;
        readable_by_all(temp.path(), 0o644).map_err(|e| Error::io(path, e))?;
        let file = temp.reopen().map_err(|e| Error::io(path, e))?;
        Ok(AtomicFile {
            temp,
            writer: BufWriter::new(file),
            path: path.to_path_buf(),
            existing,
        })
    }

    /// The buffered writer.
    pub fn writer(&mut self) -> &mut impl Write {
        &mut self.writer
    }

    /// Writes `bytes`.
    pub fn write_all(&mut self, bytes: &[u8]) -> Result<()> {
        self.writer
            .write_all(bytes)
            .map_err(|e| Error::io(&self.path, e))
    }

    /// Flushes, syncs and renames the file into place.
    pub fn commit(self) -> Result<()> {
        let path = self.path;
        let file = self
            .writer
            .into_inner()
            .map_err(|e| Error::io(&path, e.into_error()))?;
        file.sync_all().map_err(|e| Error::io(&path, e))?;
        let persisted = match self.existing {
            Existing::Replace => self.temp.persist(&path),
            Existing::Keep => self.temp.persist_noclobber(&path),
        };
        match persisted {
            Ok(_) => {}
            Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(Error::Exists { path });
            }
            Err(e) => return Err(Error::io(&path, e.error)),
        }
        sync_folder(folder_of(&path));
        Ok(())
    }
}

/// Writes `bytes` to `path` atomically.
pub fn write(path: &Path, bytes: &[u8], existing: Existing) -> Result<()> {
    let mut file = AtomicFile::create(path, existing)?;
    file.write_all(bytes)?;
    file.commit()
}

/// Writes `bytes` to `path` atomically, replacing what was there (a file descent itself
/// keeps up to date, such as a checkpoint).
pub fn replace(path: &Path, bytes: &[u8]) -> Result<()> {
    write(path, bytes, Existing::Replace)
}

/// Syncs a folder so a rename in it survives a power cut (best effort: not every file system
/// can sync folders).
fn sync_folder(dir: &Path) {
    if let Ok(f) = File::open(dir) {
        let _ = f.sync_all();
    }
}

/// Renames `from` to `to`, refusing to replace an existing `to` unless `existing` allows it.
fn rename(from: &Path, to: &Path, existing: Existing) -> Result<()> {
    if existing == Existing::Keep {
        // A hard link fails if `to` exists, where a rename would replace it.
        match std::fs::hard_link(from, to) {
            Ok(()) => {
                std::fs::remove_file(from).map_err(|e| Error::io(from, e))?;
                sync_folder(folder_of(to));
                return Ok(());
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(Error::Exists {
                    path: to.to_path_buf(),
                })
            }
            // No hard links here (or a folder): check, then rename.
            Err(_) => existing.check(to)?,
        }
    }
    std::fs::rename(from, to).map_err(|e| Error::io(to, e))?;
    sync_folder(folder_of(to));
    Ok(())
}

/// A file written during a whole run, kept as `.NAME.descent-partial` next to its target
/// until [`commit`](PartialFile::commit). A run with checkpoints records its length at each
/// checkpoint ([`sync`](PartialFile::sync)) and a resumed run [`reopen`](PartialFile::reopen)s
/// it at that length. Dropped without a commit, it is removed unless a checkpoint refers to
/// it.
pub struct PartialFile {
    writer: Option<BufWriter<File>>,
    partial: PathBuf,
    path: PathBuf,
    existing: Existing,
    keep: bool,
}

impl PartialFile {
    /// The partial name of `path`.
    pub fn partial_path(path: &Path) -> PathBuf {
        let name = path
            .file_name()
            .map_or_else(|| "output".into(), |n| n.to_string_lossy().into_owned());
        folder_of(path).join(format!(".{name}.descent-partial"))
    }

    /// Starts writing `path` from empty.
    pub fn create(path: &Path, existing: Existing) -> Result<Self> {
        existing.check(path)?;
        let partial = Self::partial_path(path);
        let file = File::create(&partial).map_err(|e| Error::io(&partial, e))?;
        Ok(PartialFile {
            writer: Some(BufWriter::new(file)),
            partial,
            path: path.to_path_buf(),
            existing,
            keep: false,
        })
    }

    /// Continues writing `path` whose partial file had `len` bytes at the checkpoint (later
    /// bytes, written after it, are dropped). When the run went on to finish after that
    /// checkpoint, the partial file is gone and `path` is whole: a copy of it is continued,
    /// and `path` stays as it is until the continued file is complete.
    pub fn reopen(path: &Path, existing: Existing, len: u64) -> Result<Self> {
        let partial = Self::partial_path(path);
        if !partial.exists() && path.is_file() {
            std::fs::copy(path, &partial).map_err(|e| Error::io(&partial, e))?;
        }
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&partial)
            .map_err(|e| Error::io(&partial, e))?;
        let found = file.metadata().map_err(|e| Error::io(&partial, e))?.len();
        if found < len {
            return Err(Error::Format {
                path: partial,
                reason: format!(
                    "has {found} bytes but the checkpoint recorded {len}: it was changed since"
                ),
            });
        }
        file.set_len(len).map_err(|e| Error::io(&partial, e))?;
        file.seek(std::io::SeekFrom::End(0))
            .map_err(|e| Error::io(&partial, e))?;
        Ok(PartialFile {
            writer: Some(BufWriter::new(file)),
            partial,
            path: path.to_path_buf(),
            existing,
            keep: true,
        })
    }

    /// Goes back to `len` bytes (dropping what was written after).
    pub fn truncate(&mut self, len: u64) -> Result<()> {
        let partial = self.partial.clone();
        let writer = self.writer()?;
        writer.flush().map_err(|e| Error::io(&partial, e))?;
        let file = writer.get_mut();
        file.set_len(len).map_err(|e| Error::io(&partial, e))?;
        file.seek(std::io::SeekFrom::End(0))
            .map_err(|e| Error::io(&partial, e))?;
        Ok(())
    }

    /// The buffered writer.
    pub fn writer(&mut self) -> Result<&mut BufWriter<File>> {
        let partial = &self.partial;
        self.writer
            .as_mut()
            .ok_or_else(|| Error::io(partial, std::io::Error::other("already committed")))
    }

    /// Flushes (and with `durable`, syncs) what is written and returns its length. Once
    /// synced durably the partial file is kept even if the run then fails: a checkpoint
    /// refers to it.
    pub fn sync(&mut self, durable: bool) -> Result<u64> {
        let partial = self.partial.clone();
        let writer = self.writer()?;
        writer.flush().map_err(|e| Error::io(&partial, e))?;
        let file = writer.get_mut();
        if durable {
            file.sync_data().map_err(|e| Error::io(&partial, e))?;
        }
        let len = file.metadata().map_err(|e| Error::io(&partial, e))?.len();
        self.keep |= durable;
        Ok(len)
    }

    /// Flushes, syncs and renames the file into place.
    pub fn commit(mut self) -> Result<()> {
        self.sync(true)?;
        self.writer = None;
        rename(&self.partial, &self.path, self.existing)?;
        self.keep = true;
        Ok(())
    }
}

impl Drop for PartialFile {
    fn drop(&mut self) {
        if !self.keep {
            self.writer = None;
            let _ = std::fs::remove_file(&self.partial);
        }
    }
}

/// A folder of outputs built under a temporary name next to its target; it appears whole at
/// [`commit`](OutputDir::commit), and vanishes if dropped before.
pub struct OutputDir {
    temp: tempfile::TempDir,
    path: PathBuf,
    existing: Existing,
}

impl OutputDir {
    /// Starts building the folder `path` (checking now that it may be written).
    pub fn create(path: &Path, existing: Existing) -> Result<Self> {
        existing.check(path)?;
        let temp = tempfile::Builder::new()
            .prefix(".descent-")
            .tempdir_in(folder_of(path))
            .map_err(|e| Error::io(path, e))?;
        readable_by_all(temp.path(), 0o755).map_err(|e| Error::io(path, e))?;
        Ok(OutputDir {
            temp,
            path: path.to_path_buf(),
            existing,
        })
    }

    /// Where the folder's files go until the commit.
    pub fn dir(&self) -> &Path {
        self.temp.path()
    }

    /// The folder's final path.
    pub fn target(&self) -> &Path {
        &self.path
    }

    /// Renames the folder into place; with [`Existing::Replace`] an existing one is moved
    /// aside first and removed only after the new one is in place.
    pub fn commit(self) -> Result<()> {
        let path = self.path;
        let built = self.temp.keep();
        let exists = path.symlink_metadata().is_ok();
        if exists && self.existing == Existing::Keep {
            let _ = std::fs::remove_dir_all(&built);
            return Err(Error::Exists { path });
        }
        let aside = if exists {
            let aside = tempfile::Builder::new()
                .prefix(".descent-old-")
                .tempdir_in(folder_of(&path))
                .map_err(|e| Error::io(&path, e))?
                .keep();
            let aside = aside.join("old");
            std::fs::rename(&path, &aside).map_err(|e| Error::io(&path, e))?;
            Some(aside)
        } else {
            None
        };
        if let Err(e) = std::fs::rename(&built, &path) {
            if let Some(aside) = &aside {
                let _ = std::fs::rename(aside, &path);
            }
            let _ = std::fs::remove_dir_all(&built);
            return Err(Error::io(&path, e));
        }
        sync_folder(folder_of(&path));
        if let Some(aside) = aside.as_deref().and_then(Path::parent) {
            let _ = std::fs::remove_dir_all(aside);
        }
        Ok(())
    }
}

/// Gives a temporary file or folder the mode an ordinary file or folder would get
/// (temporary ones are created private).
pub fn readable_by_all(path: &Path, mode: u32) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn existing_files_are_kept_unless_replacing() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.txt");
        std::fs::write(&p, "mine").unwrap();
        let err = write(&p, b"new", Existing::Keep).unwrap_err();
        assert!(matches!(err, Error::Exists { .. }), "{err}");
        assert!(err.to_string().contains("`force`"), "{err}");
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "mine");
        write(&p, b"new", Existing::Replace).unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "new");
        // Only the target remains: no temporary files.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_file_that_appears_during_the_write_is_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.txt");
        let mut file = AtomicFile::create(&p, Existing::Keep).unwrap();
        file.write_all(b"late").unwrap();
        std::fs::write(&p, "mine").unwrap();
        assert!(matches!(file.commit(), Err(Error::Exists { .. })));
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "mine");
    }

    #[test]
    fn partial_files_resume_at_the_recorded_length() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("trace.csv");
        let mut f = PartialFile::create(&p, Existing::Keep).unwrap();
        f.writer().unwrap().write_all(b"a\nb\n").unwrap();
        let len = f.sync(true).unwrap();
        f.writer().unwrap().write_all(b"lost\n").unwrap();
        f.sync(false).unwrap();
        drop(f); // a crash: the partial file stays, since a checkpoint refers to it
        assert!(!p.exists());
        let mut f = PartialFile::reopen(&p, Existing::Keep, len).unwrap();
        f.writer().unwrap().write_all(b"c\n").unwrap();
        f.commit().unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "a\nb\nc\n");
        assert!(!PartialFile::partial_path(&p).exists());
    }

    #[test]
    fn partial_files_without_a_checkpoint_vanish_when_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("trace.csv");
        let mut f = PartialFile::create(&p, Existing::Keep).unwrap();
        f.writer().unwrap().write_all(b"a\n").unwrap();
        drop(f);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn output_folders_appear_whole_and_replace_only_when_asked() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("report");
        let out = OutputDir::create(&target, Existing::Keep).unwrap();
        std::fs::write(out.dir().join("index.html"), "one").unwrap();
        assert!(!target.exists());
        out.commit().unwrap();
        assert_eq!(
            std::fs::read_to_string(target.join("index.html")).unwrap(),
            "one"
        );
        assert!(matches!(
            OutputDir::create(&target, Existing::Keep),
            Err(Error::Exists { .. })
        ));
        let out = OutputDir::create(&target, Existing::Replace).unwrap();
        std::fs::write(out.dir().join("index.html"), "two").unwrap();
        out.commit().unwrap();
        assert_eq!(
            std::fs::read_to_string(target.join("index.html")).unwrap(),
            "two"
        );
        // Nothing else is left in the parent.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        // Dropped before the commit: nothing appears.
        let other = dir.path().join("other");
        let out = OutputDir::create(&other, Existing::Keep).unwrap();
        std::fs::write(out.dir().join("x"), "x").unwrap();
        drop(out);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
