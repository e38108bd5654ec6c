//! Progress bars on stderr: drawn only when stderr is a terminal, so pipes and CI logs stay clean.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A bar of `len` steps labelled `message`; hidden when stderr is not a terminal.
pub fn bar(len: u64, message: &str) -> ProgressBar {
    styled(
        len,
        message,
        "{spinner} {msg} {bar:30} {pos}/{len} ({elapsed})",
    )
}

/// A bar counting bytes (downloads).
pub fn bytes(len: u64, message: &str) -> ProgressBar {
    styled(
        len,
        message,
        "{spinner} {msg} {bar:30} {bytes}/{total_bytes} ({bytes_per_sec})",
    )
}

fn styled(len: u64, message: &str, template: &str) -> ProgressBar {
    let target = if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(len), target);
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar.set_message(message.to_owned());
    bar
}

/// One step of a longer job: a spinner while it runs (on a terminal), then one line on stderr
/// saying what it did, terminal or not.
pub struct Step {
    spinner: ProgressBar,
    message: String,
    started: std::time::Instant,
}

/// Starts a step labelled `message`.
pub fn step(message: &str) -> Step {
    let spinner = styled(0, message, "{spinner} {msg} ({elapsed})");
    spinner.enable_steady_tick(std::time::Duration::from_millis(100));
    Step {
        spinner,
        message: message.to_owned(),
        started: std::time::Instant::now(),
    }
}

impl Step {
    /// Ends the step with what came of it.
    pub fn done(self, outcome: &str) {
        self.spinner.finish_and_clear();
        eprintln!(
            "✓ {}: {outcome} ({:.1} s)",
            self.message,
            self.started.elapsed().as_secs_f64()
        );
    }
}
