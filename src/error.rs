//! Errors printed the uv way: a lowercase `error:` line, `Caused by:` lines, then a `hint:`.

use std::fmt;
use std::path::{Path, PathBuf};

/// How the process ends: 1 for bad data or a failure, 2 for a usage error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    Failure = 1,
    Usage = 2,
}

#[derive(Debug)]
pub struct Error {
    pub message: String,
    pub causes: Vec<String>,
    pub hint: Option<String>,
    pub exit: Exit,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn failure(message: impl Into<String>) -> Error {
        Error { message: message.into(), causes: Vec::new(), hint: None, exit: Exit::Failure }
    }

    pub fn usage(message: impl Into<String>) -> Error {
        Error { message: message.into(), causes: Vec::new(), hint: None, exit: Exit::Usage }
    }

    pub fn caused_by(mut self, cause: impl fmt::Display) -> Error {
        self.causes.push(cause.to_string());
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Error {
        self.hint = Some(hint.into());
        self
    }

    /// A hint, unless the error already has one (a more specific one, from its cause).
    pub fn or_hint(mut self, hint: impl Into<String>) -> Error {
        if self.hint.is_none() {
            self.hint = Some(hint.into());
        }
        self
    }

    pub fn io(action: &str, path: &Path, err: std::io::Error) -> Error {
        let exit = if err.kind() == std::io::ErrorKind::NotFound { Exit::Usage } else { Exit::Failure };
        Error { exit, ..Error::failure(format!("failed to {action} `{}`", path.display())).caused_by(err) }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error: {}", self.message)?;
        for c in &self.causes {
            write!(f, "\n  Caused by: {c}")?;
        }
        if let Some(h) = &self.hint {
            write!(f, "\n\nhint: {h}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

/// A problem with one input file, at a line when there is one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputProblem {
    pub path: PathBuf,
    pub line: Option<u64>,
    pub what: String,
    pub hint: Option<String>,
}

impl InputProblem {
    pub fn new(path: &Path, line: Option<u64>, what: impl Into<String>) -> InputProblem {
        InputProblem { path: path.to_path_buf(), line, what: what.into(), hint: None }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> InputProblem {
        self.hint = Some(hint.into());
        self
    }

    /// `path:line` as printed in messages and reports.
    pub fn location(&self) -> String {
        match self.line {
            Some(l) => format!("{}:{l}", self.path.display()),
            None => self.path.display().to_string(),
        }
    }
}

impl fmt::Display for InputProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`: {}", self.location(), self.what)
    }
}

impl From<InputProblem> for Error {
    fn from(p: InputProblem) -> Error {
        let mut e = Error::failure(format!("cannot read `{}`", p.location())).caused_by(&p.what);
        e.hint = p.hint;
        e
    }
}
