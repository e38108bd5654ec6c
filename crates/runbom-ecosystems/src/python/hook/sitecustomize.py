"""runbom's runtime hook: records which modules this Python process loads.

Loaded as ``sitecustomize`` (``runbom run`` puts its directory first on PYTHONPATH) or as
``_runbom_hook`` from a ``.pth`` file (``runbom hook install``). Standard library only.

Per process it keeps a set of module names seen by a PEP 578 audit hook (``import`` events) and,
at flush time, takes ``sys.modules`` to resolve each name's ``__file__``. CPython 3.6 and 3.7 have
no audit hooks: there ``sys.modules`` at each interval and at exit is the whole record (3.6 has no
``os.register_at_fork`` either, so a forked child is noticed by its pid at its first flush). Older
interpreters (2.7) are not observed: the hook leaves ``u<pid>`` in the session saying so. It never maps modules
to distributions: runbom does that from RECORD files. It writes ``p<pid>.json`` into
``RUNBOM_SESSION_DIR`` (temp file + rename) at exit, from a background thread every
``RUNBOM_FLUSH_SECONDS`` (default 60) when new modules appeared, and before ``os._exit`` and
before ``signal.raise_signal`` of a signal that will kill the process. Forked
children start over with their own pid. Every exception is swallowed and counted: the hook never
changes what the program does, prints or returns.
"""

import os
import sys

_RUNBOM_HOOK = True


class _State:
    """Everything the hook keeps for the current process (reset in a forked child)."""

    def __init__(self):
        import _thread
        import time

        self.pid = os.getpid()
        self.ppid = os.getppid()
        self.started_at = time.time()
        self.errors = 0
        self.seen = set()
        self.last_size = -1
        self.lock = _thread.allocate_lock()
        self.spawned = []
        argv0 = (getattr(sys, "argv", None) or [""])[0]
        # Python deletes `__main__.__file__` once the script returns, before atexit runs.
        self.main_file = os.path.abspath(argv0) if argv0 not in ("", "-c", "-m") else None
        self.marker = None


def _mark_running():
    """`r<pid>` tells runbom this process may still write; removed after the last flush."""
    session = os.environ.get("RUNBOM_SESSION_DIR")
    if session:
        marker = os.path.join(session, "r%d" % _state.pid)
        os.close(os.open(marker, os.O_CREAT | os.O_WRONLY, 0o644))
        _state.marker = marker


_state = None
_config = {}


def _audit(event, args):
    try:
        if event == "import":
            _state.seen.add(args[0])
    except BaseException:
        _state.errors += 1


def _quote(text):
    text = text.replace("\\", "\\\\").replace('"', '\\"')
    if not text.isprintable():
        text = "".join(c if c >= " " else "\\u%04x" % ord(c) for c in text)
    return '"' + text + '"'


def _json(value):
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return _quote(value)
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, dict):
        return "{" + ",".join(_quote(k) + ":" + _json(v) for k, v in value.items()) + "}"
    return "[" + ",".join(_json(v) for v in value) + "]"


def _module_file(module):
    try:
        namespace = object.__getattribute__(module, "__dict__")
        file = namespace.get("__file__")
        if isinstance(file, str):
            return file
        spec = namespace.get("__spec__")
        origin = getattr(spec, "origin", None) if spec is not None else None
        if isinstance(origin, str) and os.sep in origin:
            return origin
    except BaseException:
        _state.errors += 1
    return None


def _snapshot():
    """Every module in `sys.modules` (names the audit hook saw that are not there were failed
    imports), with its file."""
    modules = sys.modules.copy()
    snapshot = []
    for name in sorted(n for n in modules if isinstance(n, str)):
        module = modules[name]
        file = _module_file(module)
        if name in ("__main__", "__mp_main__"):
            if file is None:
                file = _state.main_file
            name = _main_spec_name(module) or name
        snapshot.append([name, file])
    return snapshot


def _main_spec_name(module):
    """`python -m pkg.mod` runs `pkg.mod` as `__main__`: report it under its real name."""
    try:
        spec = object.__getattribute__(module, "__dict__").get("__spec__")
        name = getattr(spec, "name", None) if spec is not None else None
        return name if isinstance(name, str) and name not in ("__main__", "__mp_main__") else None
    except BaseException:
        _state.errors += 1
        return None


def _stdlib_dirs():
    dirs = []
    for module in ("os", "_json", "_ssl", "_ctypes", "_decimal", "_socket"):
        file = _module_file(sys.modules[module]) if module in sys.modules else None
        if file:
            dirs.append(os.path.dirname(file))
    for entry in sys.path:
        if entry.endswith("lib-dynload"):
            dirs.append(entry)
    return sorted(set(dirs))


def _sys_path():
    """`sys.path` made absolute: runbom reads the distributions of the environment that really
    ran from it (a venv's `bin/python` is a link to the base interpreter's executable)."""
    paths = []
    for entry in list(sys.path):
        try:
            if isinstance(entry, str):
                paths.append(os.path.abspath(entry or os.curdir))
        except BaseException:
            _state.errors += 1
    return paths


def _write(exited):
    session = os.environ.get("RUNBOM_SESSION_DIR")
    if not session:
        return
    modules = _snapshot()
    info = sys.version_info
    observation = {
        "schema": "runbom.observation/v1",
        "pid": _state.pid,
        "ppid": _state.ppid,
        "started_at": _state.started_at,
        "argv": [a for a in getattr(sys, "argv", []) if isinstance(a, str)],
        "executable": sys.executable or "",
        "implementation": sys.implementation.name,
        "version": "%d.%d.%d" % (info[0], info[1], info[2]),
        "prefix": sys.prefix,
        "base_prefix": getattr(sys, "base_prefix", sys.prefix),
        "sys_path": _sys_path(),
        "stdlib_dirs": _stdlib_dirs(),
        "stdlib_names": sorted(getattr(sys, "stdlib_module_names", ())),
        "builtin_names": sorted(sys.builtin_module_names),
        "exited": exited,
        "errors": _state.errors,
        "modules": modules,
    }
    path = os.path.join(session, "p%d.json" % _state.pid)
    temp = path + ".tmp"
    with open(temp, "w", encoding="utf-8", errors="replace") as out:
        out.write(_json(observation))
    os.replace(temp, path)


def _spawn_flush(exited):
    """With no runbom parent (an installed hook), start `runbom hook flush`, detached."""
    runbom = _config.get("runbom")
    report_dir = _config.get("report_dir")
    if not runbom or not report_dir or os.environ.get("RUNBOM_RUN"):
        return
    for pid in _state.spawned[:]:
        try:
            if os.waitpid(pid, os.WNOHANG)[0]:
                _state.spawned.remove(pid)
        except ChildProcessError:
            _state.spawned.remove(pid)
    argv = [runbom, "hook", "flush", "--session", os.environ["RUNBOM_SESSION_DIR"],
            "--report-dir", report_dir]
    for key in ("app", "environment"):
        if _config.get(key):
            argv += ["--" + key, _config[key]]
    if exited and _config.get("root_pid") == _state.pid:
        argv.append("--complete")
    env = dict(os.environ)
    env["RUNBOM_DISABLE"] = "1"
    # The server's token travels in the environment, never on a command line others can read.
    for key in ("server", "token", "spool"):
        if _config.get(key):
            env["RUNBOM_" + key.upper()] = _config[key]
    if not hasattr(os, "posix_spawn"):  # before 3.8
        import subprocess

        null = subprocess.DEVNULL
        child = subprocess.Popen(argv, env=env, stdin=null, stdout=null, stderr=null,
                                 start_new_session=True)
        _state.spawned.append(child.pid)
        return
    devnull = [(os.POSIX_SPAWN_OPEN, fd, os.devnull, os.O_RDWR, 0) for fd in (0, 1, 2)]
    _state.spawned.append(os.posix_spawn(runbom, argv, env, file_actions=devnull, setsid=True))


def _flush(exited, only_if_changed):
    if _state.pid != os.getpid():
        _after_fork_in_child()  # 3.6: no os.register_at_fork
    state = _state
    if not (state.lock.acquire(True, 2.0) if exited else state.lock.acquire(False)):
        return
    try:
        if only_if_changed and len(state.seen) + len(sys.modules) == state.last_size:
            return
        _write(exited)
        state.last_size = len(state.seen) + len(sys.modules)
        if exited and state.marker:
            os.unlink(state.marker)
            state.marker = None
        _spawn_flush(exited)
    except BaseException:
        state.errors += 1
    finally:
        state.lock.release()


def _at_exit():
    _flush(True, False)


def _ticker(state):
    import time

    try:
        seconds = float(os.environ.get("RUNBOM_FLUSH_SECONDS") or 60)
    except ValueError:
        seconds = 60.0
    seconds = max(seconds, 0.05)
    while _state is state:
        time.sleep(seconds)
        if _state is state:
            _flush(False, True)


def _start_ticker():
    import _thread

    _thread.start_new_thread(_ticker, (_state,))


def _after_fork_in_child():
    global _state
    try:
        _state = _State()
        _mark_running()
        _start_ticker()
    except BaseException:
        if _state is not None:
            _state.errors += 1


def _wrap_os_exit():
    real_exit = os._exit

    def _exit(status):
        try:
            _flush(True, False)
        except BaseException:
            pass
        real_exit(status)

    _exit.__doc__ = real_exit.__doc__
    _exit.__name__ = real_exit.__name__
    os._exit = _exit


def _wrap_raise_signal():
    """A program that re-raises a fatal signal on itself once it has shut down (uvicorn does,
    after restoring the default handler) dies without running atexit: flush first.

    The wrapper goes into `_signal`, which the interpreter has loaded before site runs and from
    which `signal` copies `raise_signal` when the program imports it; importing `signal` here
    would cost every start several milliseconds (`enum`)."""
    _signal = sys.modules.get("_signal")
    real_raise = getattr(_signal, "raise_signal", None)  # 3.8+
    if real_raise is None:
        return
    survivable = {getattr(_signal, n) for n in ("SIGCHLD", "SIGWINCH", "SIGURG", "SIGCONT",
                                                 "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU")
                  if hasattr(_signal, n)}

    def raise_signal(signum):
        try:
            if signum not in survivable and _signal.getsignal(signum) == _signal.SIG_DFL:
                _flush(True, False)
        except BaseException:
            pass
        real_raise(signum)

    raise_signal.__doc__ = real_raise.__doc__
    raise_signal.__name__ = real_raise.__name__
    _signal.raise_signal = raise_signal
    signal = sys.modules.get("signal")
    if signal is not None and getattr(signal, "raise_signal", None) is real_raise:
        signal.raise_signal = raise_signal


def _read_install_config():
    """The settings `runbom hook install` wrote beside this file; environment variables win."""
    config = {}
    try:
        here = os.path.dirname(os.path.abspath(__file__))
        with open(os.path.join(here, "_runbom_hook.cfg"), encoding="utf-8") as f:
            for line in f:
                key, sep, value = line.rstrip("\n").partition("=")
                if sep:
                    config[key.strip()] = value.strip()
    except OSError:
        pass
    for key in ("app", "environment", "report_dir", "server", "token", "spool"):
        value = os.environ.get("RUNBOM_" + key.upper())
        if value:
            config[key] = value
    return config


def _open_session():
    """An installed hook with no session yet starts one; children inherit it through the env."""
    global _config
    _config = _read_install_config()
    if os.environ.get("RUNBOM_SESSION_DIR"):
        _config["root_pid"] = None
        return True
    report_dir = _config.get("report_dir")
    if not report_dir:
        return False
    import time

    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    session = os.path.join(report_dir, ".sessions", "%s-%d-%s" % (stamp, os.getpid(),
                                                                 os.urandom(4).hex()))
    os.makedirs(session, exist_ok=True)
    os.environ["RUNBOM_SESSION_DIR"] = session
    _config["root_pid"] = os.getpid()
    return True


def _chain_sitecustomize():
    """Run the `sitecustomize` that would have been found after this one, as site.py would."""
    here = os.path.dirname(os.path.abspath(__file__))
    rest = [p for p in sys.path if os.path.abspath(p or os.curdir) != here]
    sys.path[:] = rest
    if sys.version_info < (3, 6):
        _chain_with_imp(rest)
        return
    ours = sys.modules.get("sitecustomize")
    try:
        from importlib.machinery import PathFinder

        spec = PathFinder.find_spec("sitecustomize", rest)
        if spec is None or spec.loader is None:
            return
        from importlib.util import module_from_spec  # only when there is one to chain

        module = module_from_spec(spec)
        sys.modules["sitecustomize"] = module
        spec.loader.exec_module(module)
    except Exception as err:
        sys.modules["sitecustomize"] = ours
        if isinstance(err, ImportError) and err.name == "sitecustomize":
            return
        if sys.flags.verbose:
            sys.excepthook(*sys.exc_info())
        else:
            sys.stderr.write(
                "Error in sitecustomize; set PYTHONVERBOSE for traceback:\n"
                "%s: %s\n" % (err.__class__.__name__, err))


def _refuse_old_interpreter():
    """Leaves `u<pid>` in the session: this interpreter is too old to observe."""
    session = os.environ.get("RUNBOM_SESSION_DIR")
    if session:
        info = sys.version_info
        with open(os.path.join(session, "u%d" % os.getpid()), "w") as out:
            out.write("%d.%d.%d\n%s\n" % (info[0], info[1], info[2], sys.executable or ""))


def _chain_with_imp(rest):
    """Python 2: no importlib.machinery; errors reach site.py, which reports them as usual."""
    import imp

    try:
        found = imp.find_module("sitecustomize", rest)
    except ImportError:
        return
    try:
        imp.load_module("sitecustomize", *found)
    finally:
        if found[0]:
            found[0].close()


def _install():
    global _state
    if os.environ.get("RUNBOM_DISABLE"):
        return
    if sys.version_info < (3, 6):
        try:
            _refuse_old_interpreter()
        except BaseException:
            pass
        return
    if __name__ == "_runbom_hook" and os.environ.get("RUNBOM_RUN"):
        return  # `runbom run` loads its own copy as sitecustomize
    try:
        if not _open_session():
            return
        _state = _State()
        _mark_running()
        if hasattr(sys, "addaudithook"):  # 3.8+
            sys.addaudithook(_audit)
        import atexit

        atexit.register(_at_exit)
        if hasattr(os, "register_at_fork"):  # 3.7+
            os.register_at_fork(after_in_child=_after_fork_in_child)
        _wrap_os_exit()
        _wrap_raise_signal()
        _start_ticker()
    except BaseException:
        if _state is not None:
            _state.errors += 1


_install()
if __name__ == "sitecustomize":
    _chain_sitecustomize()
