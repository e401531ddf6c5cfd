//! Where messages go: data to stdout, everything else to stderr; a progress bar only on a terminal.

use crate::error::InputProblem;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

#[derive(Clone, Copy, Debug)]
pub struct Printer {
    pub quiet: bool,
}

impl Printer {
    /// A byte-count progress bar, hidden when stderr is not a terminal or with `--quiet`.
    pub fn progress(&self, total: u64, what: &str) -> ProgressBar {
        let bar = ProgressBar::with_draw_target(Some(total), self.draw_target());
        bar.set_style(
            ProgressStyle::with_template("{msg} [{bar:30}] {binary_bytes}/{binary_total_bytes} ({eta})")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_message(what.to_string());
        bar
    }

    fn draw_target(&self) -> ProgressDrawTarget {
        let visible = !self.quiet && std::io::stderr().is_terminal() && std::env::var_os("CROSSAZ_NO_PROGRESS").is_none();
        if visible { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() }
    }

    /// A spinner with a status line (work of unknown length), hidden as `progress` is.
    pub fn spinner(&self, what: &str) -> ProgressBar {
        let bar = ProgressBar::with_draw_target(None, self.draw_target());
        bar.set_style(ProgressStyle::with_template("{spinner} {msg}").unwrap_or_else(|_| ProgressStyle::default_spinner()));
        bar.set_message(what.to_string());
        if !bar.is_hidden() {
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
        }
        bar
    }

    pub fn warn(&self, message: &str) {
        if !self.quiet {
            eprintln!("warning: {message}");
        }
    }

    pub fn warn_input(&self, p: &InputProblem) {
        self.warn(&p.to_string());
    }

    /// Prints input errors, the first ones in full and then a count.
    pub fn input_errors(&self, problems: &[InputProblem]) {
        const SHOWN: usize = 10;
        for p in problems.iter().take(SHOWN) {
            eprintln!("{}\n", crate::error::Error::from(p.clone()));
        }
        if problems.len() > SHOWN {
            eprintln!("error: {} more input problems like these\n", problems.len() - SHOWN);
        }
    }
}
