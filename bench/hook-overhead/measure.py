"""bench/hook-overhead/measure.py: how the Ruby, Perl and Tcl rows measure their variants of one
program against its bare run.

By default, interleaved runs (`RUNS`, default 31, after one warm-up each): medians of wall and
CPU time (user + sys of every process of the run) and the ratio of each against bare. On this
VM wall time spreads by 25 % for the same program, which hides a 3 % target.

With `COUNT=instructions`: the instructions each variant executes under
`valgrind --tool=callgrind` (`RUNS`, default 3, median), which neither load nor noise moves.
The hooks' on-change write is held off (`RUNBOM_FLUSH_SECONDS=3600`) so that valgrind's slowness
(~50x) does not make a hook write more often than it does in a real run of the same program,
which is short enough for only the start and exit writes. Only the program's own process is
counted: the hooks run in it (variants that need more, such as `runbom run`, are wall only).
"""
import os
import re
import resource
import statistics
import subprocess
import tempfile
import time


def compare(title, variants, wall_only=()):
    """Prints the table for `variants` (name -> (argv, env); the first one is bare)."""
    if os.environ.get("COUNT") == "instructions":
        counted = {n: v for n, v in variants.items() if n not in wall_only}
        _print_instructions(title, counted, int(os.environ.get("RUNS") or 3))
    else:
        _print_times(title, variants, int(os.environ.get("RUNS") or 31))


def _print_times(title, variants, runs):
    def cpu():
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    wall = {name: [] for name in variants}
    cpu_time = {name: [] for name in variants}
    for cmd, env in variants.values():  # warm-up
        _run(cmd, env)
    for _ in range(runs):
        for name, (cmd, env) in variants.items():
            start, start_cpu = time.perf_counter(), cpu()
            _run(cmd, env)
            wall[name].append(time.perf_counter() - start)
            cpu_time[name].append(cpu() - start_cpu)
    print(f"{title}: median of {runs} interleaved runs each (CPU = user + sys of every process of the run)")
    for label, samples in (("wall", wall), ("CPU", cpu_time)):
        bare = statistics.median(next(iter(samples.values())))
        for name, values in samples.items():
            t = statistics.median(values)
            print(f"{label:4} {name:14} {t * 1000:8.1f} ms   {t / bare:6.3f}x bare")


def _print_instructions(title, variants, runs):
    counts = {name: [] for name in variants}
    with tempfile.TemporaryDirectory(prefix="runbom-callgrind-") as work:
        out = os.path.join(work, "callgrind.out")
        for _ in range(runs):
            for name, (cmd, env) in variants.items():
                counts[name].append(instructions(cmd, env, out))
    print(f"{title}: instructions under callgrind, median of {runs} runs each (RUNBOM_FLUSH_SECONDS=3600)")
    bare = statistics.median(next(iter(counts.values())))
    for name, values in counts.items():
        n = statistics.median(values)
        spread = (max(values) - min(values)) / n
        print(f"{name:14} {n / 1e6:10.1f} M   {n / bare:6.3f}x bare   (spread {spread * 100:.2f} %)")


def instructions(cmd, env, out):
    """The instructions `cmd` executes in its own process, as callgrind counts them."""
    env = dict(env, RUNBOM_FLUSH_SECONDS="3600")
    _run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *cmd], env)
    with open(out) as f:
        total = re.search(r"^summary: (\d+)$", f.read(), re.M)
    assert total, f"no summary line in {out}"
    return int(total.group(1))


def _run(cmd, env):
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
