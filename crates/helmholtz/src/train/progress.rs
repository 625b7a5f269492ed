//! Progress reporting for long work (training, AIS, sampling).
//!
//! The library reports through [`Progress`]; [`indicatif::ProgressBar`] implements it (a bar on
//! stderr with ETA, hidden when stderr is not a terminal) and [`Silent`] discards everything.

/// A sink for progress of one task.
pub trait Progress: Sync {
    /// Start (or restart) a task of `len` steps.
    fn start(&self, label: &str, len: u64);
    /// `n` more steps are done.
    fn advance(&self, n: u64);
    /// Set the position to `pos` steps (used when resuming part-way).
    fn set_position(&self, pos: u64);
    /// Show a short live message (e.g. the running loss).
    fn message(&self, msg: String);
    /// Print a line above the bar (an epoch summary).
    fn line(&self, msg: &str);
    /// The task is done.
    fn finish(&self);
}

/// Discards all progress.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Progress for Silent {
    fn start(&self, _: &str, _: u64) {}
    fn advance(&self, _: u64) {}
    fn set_position(&self, _: u64) {}
    fn message(&self, _: String) {}
    fn line(&self, _: &str) {}
    fn finish(&self) {}
}

/// Style of the bars: `label [bar] pos/len (eta) message`.
fn style() -> indicatif::ProgressStyle {
    indicatif::ProgressStyle::with_template(
        "{prefix:>10} [{bar:30}] {pos}/{len} ({eta} left) {msg}",
    )
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
    .progress_chars("=> ")
}

impl Progress for indicatif::ProgressBar {
    fn start(&self, label: &str, len: u64) {
        self.set_style(style());
        self.set_prefix(label.to_owned());
        self.set_length(len);
        self.set_position(0);
        self.reset_eta();
    }
    fn advance(&self, n: u64) {
        self.inc(n);
    }
    fn set_position(&self, pos: u64) {
        indicatif::ProgressBar::set_position(self, pos);
    }
    fn message(&self, msg: String) {
        self.set_message(msg);
    }
    fn line(&self, msg: &str) {
        if self.is_hidden() {
            eprintln!("{msg}");
        } else {
            self.println(msg);
        }
    }
    fn finish(&self) {
        self.finish_and_clear();
    }
}
