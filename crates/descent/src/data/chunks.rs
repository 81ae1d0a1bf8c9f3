//! Parallel parsing of line-oriented text: a memory-mapped file is cut into chunks that end at
//! line breaks, each chunk is parsed on its own thread, and the results are joined in order, so
//! the outcome is the same as one serial pass whatever the number of chunks. Line numbers in
//! errors are made global by counting the line breaks of the chunks before.

use crate::{Error, Result};
use rayon::prelude::*;
use std::ops::Range;
use std::path::Path;

/// Chunks smaller than this are not split further.
const MIN_CHUNK: usize = 1 << 20;

/// A file's bytes, memory-mapped (or empty).
pub(crate) struct Mapped {
    map: Option<memmap2::Mmap>,
}

impl Mapped {
    /// Maps `path` read-only.
    pub(crate) fn open(path: &Path) -> Result<Self> {
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
        if len == 0 {
            return Ok(Mapped { map: None });
        }
        // SAFETY: the map is read-only and private to this process; descent never writes the
        // file. Another process truncating it while it is read is outside what any reader can
        // defend against (as with `read`, the bytes could change under us).
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| Error::io(path, e))?;
        Ok(Mapped { map: Some(map) })
    }

    /// The bytes.
    pub(crate) fn bytes(&self) -> &[u8] {
        self.map.as_deref().unwrap_or(&[])
    }
}

/// Cuts `bytes` into about `parts` ranges, each ending just after a `\n` (the last at the end).
pub(crate) fn line_chunks(bytes: &[u8], parts: usize) -> Vec<Range<usize>> {
    let target = (bytes.len() / parts.max(1)).max(1);
    let mut chunks = Vec::with_capacity(parts + 1);
    let mut start = 0;
    while start < bytes.len() {
        let guess = (start + target).min(bytes.len());
        let end = match memchr_newline(&bytes[guess..]) {
            Some(k) => guess + k + 1,
            None => bytes.len(),
        };
        chunks.push(start..end);
        start = end;
    }
    chunks
}

/// The default number of chunks for `len` bytes: enough to keep every core busy.
pub(crate) fn default_parts(len: usize) -> usize {
    let threads = rayon::current_num_threads();
    (len / MIN_CHUNK).clamp(1, threads * 8)
}

fn memchr_newline(bytes: &[u8]) -> Option<usize> {
    memchr::memchr(b'\n', bytes)
}

/// A parse failure inside a chunk, at a 1-based line counted from the chunk's start.
pub(crate) struct ChunkError {
    /// 1-based line within the chunk.
    pub line: u64,
    /// What was wrong.
    pub reason: String,
}

/// Parses every chunk of `bytes` (whose first line is line `first_line` of the file) with
/// `parse` in parallel and returns the results in order, each with the file's line number of
/// the chunk's first line. The first failing chunk (in file order) becomes an
/// [`Error::Parse`] with the file's line number.
pub(crate) fn parse_chunks<T: Send>(
    path: &Path,
    bytes: &[u8],
    first_line: u64,
    chunks: &[Range<usize>],
    parse: impl Fn(&[u8]) -> std::result::Result<T, ChunkError> + Sync,
) -> Result<Vec<(u64, T)>> {
    let results: Vec<_> = chunks
        .par_iter()
        .map(|r| {
            let part = &bytes[r.clone()];
            let newlines = memchr::memchr_iter(b'\n', part).count() as u64;
            (newlines, parse(part))
        })
        .collect();
    let mut first_line = first_line;
    let mut parsed = Vec::with_capacity(results.len());
    for (newlines, result) in results {
        match result {
            Ok(value) => parsed.push((first_line, value)),
            Err(e) => {
                return Err(Error::Parse {
                    path: path.to_path_buf(),
                    line: first_line + e.line - 1,
                    reason: e.reason,
                })
            }
        }
        first_line += newlines;
    }
    Ok(parsed)
}

/// Splits a chunk into lines (without `\n` or a trailing `\r`), numbered from 1.
pub(crate) fn lines(chunk: &[u8]) -> impl Iterator<Item = (u64, &[u8])> {
    let body = chunk.strip_suffix(b"\n").unwrap_or(chunk);
    let empty = chunk.is_empty();
    body.split(|&b| b == b'\n')
        .take(if empty { 0 } else { usize::MAX })
        .enumerate()
        .map(|(k, line)| (k as u64 + 1, line.strip_suffix(b"\r").unwrap_or(line)))
}

/// Shows bytes of the input in an error message.
pub(crate) fn show(bytes: &[u8]) -> String {
    const LIMIT: usize = 40;
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(LIMIT)]).into_owned();
    if bytes.len() > LIMIT {
        format!("{text}…")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_end_at_line_breaks_and_cover_everything() {
        let text = b"a\nbb\nccc\n\ndddd\ne";
        for parts in 1..20 {
            let chunks = line_chunks(text, parts);
            assert_eq!(chunks.first().unwrap().start, 0);
            assert_eq!(chunks.last().unwrap().end, text.len());
            for w in chunks.windows(2) {
                assert_eq!(w[0].end, w[1].start);
                assert_eq!(text[w[0].end - 1], b'\n');
            }
        }
    }

    #[test]
    fn lines_are_numbered_and_stripped() {
        let got: Vec<(u64, &[u8])> = lines(b"x\r\n\ny").collect();
        assert_eq!(got, vec![(1, &b"x"[..]), (2, &b""[..]), (3, &b"y"[..])]);
        assert_eq!(lines(b"").count(), 0);
        assert_eq!(lines(b"z\n").count(), 1);
    }
}
