//! What the subcommands share: writing their output, and parsing times and months for clap.

use crate::error::Error;

/// Writes output to `--output` atomically, or to stdout.
pub fn emit(bytes: &[u8], output: Option<&std::path::Path>) -> Result<(), Error> {
    match output {
        Some(path) => crate::write::atomic_write(path, bytes),
        None => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            match out.write_all(bytes).and_then(|()| out.flush()) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                Err(e) => Err(Error::failure("failed to write to stdout").caused_by(e)),
            }
        }
    }
}

/// Parses `--month` values for clap.
pub fn parse_month_arg(s: &str) -> Result<crate::model::time::Month, String> {
    crate::model::time::Month::parse(s).ok_or_else(|| format!("`{s}` is not a month: expected YYYY-MM (`2026-10`), a UTC calendar month"))
}

/// Parses `--from`/`--to` values for clap.
pub fn parse_time_arg(s: &str) -> Result<i64, String> {
    crate::model::time::parse_time(s).ok_or_else(|| format!("`{s}` is not a time: expected RFC 3339 (`2026-10-01T00:00:00Z`) or a date (`2026-10-01`)"))
}
