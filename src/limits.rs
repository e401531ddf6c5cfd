//! Bounded reads of the small files a user passes (configuration, price tables, rules): a file
//! larger than any real one is refused without being read whole (docs/config.md, limits).

use crate::error::Error;
use std::io::Read;
use std::path::Path;

/// `crossaz.toml`: a few KB.
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;
/// Price tables and rules: the bundled ones are tens of KB; a region's Price List cache is a few MB.
pub const MAX_TABLE_BYTES: u64 = 64 << 20;

/// Reads `path` as UTF-8 text of at most `limit` bytes; `what` names the file in errors
/// ("a crossaz configuration", "a price table").
pub fn read_text(path: &Path, limit: u64, what: &str) -> Result<String, Error> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(&format!("read {what}"), path, e))?;
    // A regular file's size is known before reading; a pipe's is found by reading one byte past the limit.
    let known = file.metadata().ok().filter(|m| m.is_file()).map(|m| m.len());
    let mut bytes = Vec::new();
    if known.is_none_or(|n| n <= limit) {
        file.take(limit + 1).read_to_end(&mut bytes).map_err(|e| Error::io(&format!("read {what}"), path, e))?;
    }
    if known.is_some_and(|n| n > limit) || bytes.len() as u64 > limit {
        return Err(Error::usage(format!("`{}` is larger than {} MiB: not {what}", path.display(), limit >> 20))
            .hint("check the path: crossaz refuses files far larger than any real one (docs/config.md, limits)"));
    }
    String::from_utf8(bytes).map_err(|e| {
        Error::usage(format!("`{}` is not UTF-8 text: not {what}", path.display()))
            .caused_by(format!("invalid byte at offset {}", e.utf8_error().valid_up_to()))
    })
}
