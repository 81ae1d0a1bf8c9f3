//! Atomic file output: a file descent writes appears whole or not at all. Content goes to a
//! temporary file in the target's folder, is flushed and synced, then renamed over the target.

use crate::{Error, Result};
use std::io::Write;
use std::path::Path;

/// A file being written; [`commit`](AtomicFile::commit) makes it appear at its path. Dropped
/// without a commit, it leaves nothing behind.
pub struct AtomicFile {
    temp: tempfile::NamedTempFile,
    writer: std::io::BufWriter<std::fs::File>,
    path: std::path::PathBuf,
}

impl AtomicFile {
    /// Starts writing `path`.
    pub fn create(path: &Path) -> Result<Self> {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let temp = tempfile::Builder::new()
            .prefix(".descent-")
            .suffix(".tmp")
            .tempfile_in(dir)
            .map_err(|e| Error::io(path, e))?;
        readable_by_all(temp.path(), 0o644).map_err(|e| Error::io(path, e))?;
        let file = temp.reopen().map_err(|e| Error::io(path, e))?;
        Ok(AtomicFile {
            temp,
            writer: std::io::BufWriter::new(file),
            path: path.to_path_buf(),
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
        self.temp
            .persist(&path)
            .map_err(|e| Error::io(&path, e.error))?;
        Ok(())
    }
}

/// Writes `bytes` to `path` atomically.
pub fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = AtomicFile::create(path)?;
    file.write_all(bytes)?;
    file.commit()
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
