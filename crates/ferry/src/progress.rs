//! Progress bars for a person watching a command: drawn on stderr at a terminal, hidden when
//! stderr is a file or a pipe, so logs and scripts stay clean.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{self, IsTerminal};

/// A bar of `total` units drawn with `template` (indicatif's syntax).
pub fn bar(total: u64, template: &str) -> ProgressBar {
    let target = if io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(total), target);
    bar.set_style(ProgressStyle::with_template(template).expect("a valid progress template"));
    bar
}
