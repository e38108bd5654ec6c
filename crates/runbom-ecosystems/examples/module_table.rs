//! For `bench/attach`: reads the module table of the live CPython process PID `RUNS` times
//! (default 21) from outside, as `runbom attach` does, and prints one JSON line: the module
//! count, the median and minimum wall time of one read in milliseconds, and the bytes read.

use std::time::Instant;

use runbom_ecosystems::process::LiveProcess;
use runbom_ecosystems::python::attach;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let pid: u32 = std::env::args()
        .nth(1)
        .ok_or("usage: module_table PID")?
        .parse()?;
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(21);
    let mut times = Vec::with_capacity(runs);
    let mut modules = 0;
    for _ in 0..runs.max(1) {
        let started = Instant::now();
        let process = LiveProcess::read(pid)?;
        let observation = attach::observe(&process)?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        modules = observation.modules.len();
    }
    times.sort_by(f64::total_cmp);
    println!(
        "{{\"modules\": {modules}, \"median_ms\": {:.3}, \"min_ms\": {:.3}}}",
        times[times.len() / 2],
        times[0]
    );
    Ok(())
}
