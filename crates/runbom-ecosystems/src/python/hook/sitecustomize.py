"""runbom's runtime hook: records which modules this Python process loads.

Loaded as ``sitecustomize`` (``runbom run`` puts its directory first on PYTHONPATH) or as
``_runbom_hook`` from a ``.pth`` file (``runbom hook install``). Standard library only.

Per process it takes ``sys.modules`` (each module's name and ``__file__``) at each interval and
at exit: that is the whole record. No PEP 578 audit hook: a Python-level hook is called for every
audit event of the program (opens, unmarshals, execs: 2 % of a 3.13 program's instructions, 4 %
of 3.8's, which raises ``code.__new__`` for every code object), and the report keeps only modules
present in ``sys.modules`` anyway. ``os.execv``/``os.execve`` are wrapped to flush first and
``subprocess`` is patched when the program imports it (3.6 has no ``os.register_at_fork``
either, so a forked child is noticed by its pid at its first flush). Older
interpreters (2.7) are not observed: the hook leaves ``u<pid>`` in the session saying so. It never maps modules
to distributions: runbom does that from RECORD files. It writes ``p<pid>.json`` into
``RUNBOM_SESSION_DIR`` (temp file + rename) at exit, from a background thread every
``RUNBOM_FLUSH_SECONDS`` (default 60) when new modules appeared, and before ``os._exit`` and
before ``signal.raise_signal`` of a signal that will kill the process; before an ``os.exec*``
replaces the program it writes ``p<pid>-<start>.json``, as the new program reuses the pid.
Under ``runbom run`` a child's environment that dropped this hook's PYTHONPATH entry (pipx, tox
and other launchers clean PYTHONPATH) gets that one entry back, so the child is observed too.
Forked children start over with their own pid. Every exception is swallowed and counted: the hook never
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
        self.last_size = -1
        self.lock = _thread.allocate_lock()
        self.spawned = []
        argv0 = (getattr(sys, "argv", None) or [""])[0]
        # Python deletes `__main__.__file__` once the script returns, before atexit runs.
        self.main_file = os.path.abspath(argv0) if argv0 not in ("", "-c", "-m") else None
        self.marker = None
        self.refusals = []
        self.refused = set()
        self.event_pending = False
        self.forked = False
        self.modules_at_start = len(sys.modules)
        self.exec_file = None
        self.started = 0


def _mark_running():
    """`r<pid>` tells runbom this process may still write; removed after the last flush."""
    session = os.environ.get("RUNBOM_SESSION_DIR")
    if session:
        marker = os.path.join(session, "r%d" % _state.pid)
        os.close(os.open(marker, os.O_CREAT | os.O_WRONLY, 0o644))
        _state.marker = marker


_state = None
_config = {}
# This hook's directory when `runbom run` loads it as sitecustomize through PYTHONPATH.
_hook_dir = None


def _keep_hook_in(env):
    """Puts this hook's directory back on the PYTHONPATH of a child's environment that was
    copied from ours (it still names our session) but lost the entry; nothing else changes."""
    if _hook_dir is None or not isinstance(env, dict) or env.get("RUNBOM_DISABLE"):
        return
    if env.get("RUNBOM_SESSION_DIR") != os.environ.get("RUNBOM_SESSION_DIR"):
        return
    path = env.get("PYTHONPATH")
    if not path:
        env["PYTHONPATH"] = _hook_dir
    elif isinstance(path, str) and _hook_dir not in path.split(os.pathsep):
        env["PYTHONPATH"] = _hook_dir + os.pathsep + path


def _wrap_os_exec():
    """Flushes before `os.execv` and `os.execve` (`os.execle`, `os.execvpe` and `os.execlpe` all
    call `os.execve`, the other `exec*` `os.execv`), and puts this hook back into `execve`'s
    `env`."""
    real_execv, real_execve = os.execv, os.execve

    def execv(path, argv):
        _before_exec(path, None)
        return real_execv(path, argv)

    def execve(path, argv, env):
        _before_exec(path, env)
        return real_execve(path, argv, env)

    for wrapper, real in ((execv, real_execv), (execve, real_execve)):
        wrapper.__doc__ = real.__doc__
        wrapper.__name__ = real.__name__
    os.execv = execv
    os.execve = execve


def _before_exec(path, env):
    try:
        if env is not None and _hook_dir is not None:
            _keep_hook_in(env)
        _started("exec", path, None, env)
        _flush_before_exec()
    except BaseException:
        _state.errors += 1


class _SubprocessWatcher:
    """On `sys.meta_path` until the program imports `subprocess`: then its
    `Popen._execute_child` puts this hook back into a child's environment."""

    def find_spec(self, name, path=None, target=None):
        if name != "subprocess":
            return None
        try:
            sys.meta_path.remove(self)
            for finder in sys.meta_path:
                find = getattr(finder, "find_spec", None)
                spec = find(name, path, target) if find is not None else None
                if spec is not None:
                    break
            else:
                return None
            loader = spec.loader
            real_exec = loader.exec_module

            def exec_module(module):
                real_exec(module)
                _watch_popen(module)

            loader.exec_module = exec_module
            return spec
        except BaseException:
            _state.errors += 1
            return None


def _watch_popen(subprocess):
    try:
        real = subprocess.Popen._execute_child

        def _execute_child(self, args, executable, preexec_fn, close_fds, pass_fds, cwd, env,
                           *rest):
            try:
                _keep_hook_in(env)
                shell = len(rest) > 2 and rest[2]
                program = executable or ("/bin/sh" if shell else (
                    args if isinstance(args, (str, bytes)) else list(args)[0]))
                _started("spawn", program, cwd, env)
            except BaseException:
                _state.errors += 1
            return real(self, args, executable, preexec_fn, close_fds, pass_fds, cwd, env, *rest)

        _execute_child.__doc__ = real.__doc__
        subprocess.Popen._execute_child = _execute_child
    except BaseException:
        _state.errors += 1


def _started(kind, program, cwd, env):
    """Under `runbom run`, leaves `x<pid>-<n>` in the session: the file of a program this process
    starts (`spawn`) or becomes (`exec`), for runbom to read when that file is what runs (a Go
    binary), also when the program exits before runbom's watch of the process tree sees it."""
    session = os.environ.get("RUNBOM_SESSION_DIR")
    if _hook_dir is None or not session:
        return
    try:
        _write_started(session, kind, program, cwd, env)
    except BaseException:
        _state.errors += 1


def _write_started(session, kind, program, cwd, env):
    path = os.fsdecode(program)
    if os.sep not in path:
        found = _on_path(path, env)
        if found is None:
            return
        path = found
    path = os.path.join(os.fsdecode(cwd) if cwd else os.getcwd(), path)
    _state.started += 1
    name = "x%d-%d" % (_state.pid, _state.started)
    temp = os.path.join(session, "." + name + ".tmp")
    fd = os.open(temp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o644)
    try:
        os.write(fd, kind.encode() + b"\n" + os.fsencode(path) + b"\n")
    finally:
        os.close(fd)
    os.rename(temp, os.path.join(session, name))


def _on_path(name, env):
    """`name` as `execvp` finds it on the `PATH` of `env` (or of this process)."""
    search = env.get("PATH") if isinstance(env, dict) else None
    if not isinstance(search, str):
        search = os.environ.get("PATH", os.defpath)
    for directory in search.split(os.pathsep):
        candidate = os.path.join(directory or ".", name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def _flush_before_exec():
    """`os.exec*` replaces the program without running atexit: write what it loaded now, under
    a name of its own (the next program keeps the pid). A forked child that loaded nothing new
    before its exec is the parent's observation already."""
    state = _state
    if state.forked and len(sys.modules) == state.modules_at_start:
        return
    if not state.lock.acquire(True, 2.0):
        return
    try:
        name = "p%d-%d.json" % (state.pid, int(state.started_at * 1e6))
        _write(True, name)
        state.exec_file = os.path.join(os.environ.get("RUNBOM_SESSION_DIR") or "", name)
        if state.marker:
            os.unlink(state.marker)
            state.marker = None
        _spawn_flush(False)  # the session goes on in the next program
    finally:
        state.lock.release()


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


def _json_strings(items):
    """A JSON array of the strings `items`. Paths and module names rarely need escaping: when none
    of them does, the array is one join (C speed) instead of one `_quote` per string, which was
    most of the hook's cost at exit."""
    plain = "".join(items)
    if plain.isprintable() and "\\" not in plain and '"' not in plain:
        return '["' + '","'.join(items) + '"]' if items else "[]"
    return "[" + ",".join(_quote(item) for item in items) + "]"


def _module_file(module):
    """A module's file: `__file__`, else its spec's origin when that is a path."""
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
    """Every module in `sys.modules` and its file ("" for none), flat (name, file, name, file ...)
    in import order: runbom tells from it which extension created a module that has no file. It
    runs at every flush, so the common case is list comprehensions and slices; a name that is not
    a string or a value without a namespace (None marks a failed import) takes the careful path."""
    modules = sys.modules.copy()
    names = list(modules)
    try:
        "".join(names)
        namespace_of = object.__getattribute__
        files = [namespace_of(module, "__dict__").get("__file__") for module in modules.values()]
    except BaseException:
        names = [name for name in names if isinstance(name, str)]
        files = [_module_file(modules[name]) for name in names]
    builtin = sys.builtin_module_names  # no file, and a spec whose origin is "built-in"
    for index in [i for i, file in enumerate(files) if file.__class__ is not str]:
        name = names[index]
        files[index] = "" if name in builtin else _module_file(modules[name]) or ""
    for main in ("__main__", "__mp_main__"):
        if main in modules:
            index = names.index(main)
            names[index] = _main_spec_name(modules[main]) or main
            files[index] = files[index] or _state.main_file or ""
    snapshot = [""] * (2 * len(names))
    snapshot[0::2] = names
    snapshot[1::2] = files
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


def _write(exited, name=None):
    session = os.environ.get("RUNBOM_SESSION_DIR")
    if not session:
        return
    if _state.exec_file and name is None:
        # The exec failed and the program went on: this observation replaces that one.
        try:
            os.unlink(_state.exec_file)
        except OSError:
            pass
        _state.exec_file = None
    info = sys.version_info
    observation = {
        "schema": "runbom.observation/v2",
        "pid": _state.pid,
        "ppid": _state.ppid,
        "started_at": _state.started_at,
        "executable": sys.executable or "",
        "implementation": sys.implementation.name,
        "version": "%d.%d.%d" % (info[0], info[1], info[2]),
        "prefix": sys.prefix,
        "base_prefix": getattr(sys, "base_prefix", sys.prefix),
        "exited": exited,
        "errors": _state.errors,
    }
    if _enforcement is not None:
        observation["enforcement"] = _enforcement
        observation["refusals"] = _state.refusals
    lists = (
        ("argv", [a for a in getattr(sys, "argv", []) if isinstance(a, str)]),
        ("sys_path", _sys_path()),
        ("stdlib_dirs", _stdlib_dirs()),
        ("stdlib_names", sorted(getattr(sys, "stdlib_module_names", ()))),
        ("builtin_names", sorted(sys.builtin_module_names)),
        ("modules", _snapshot()),
    )
    fields = "".join(',"%s":%s' % (key, _json_strings(items)) for key, items in lists)
    text = _json(observation)[:-1] + fields + "}"
    path = os.path.join(session, name or "p%d.json" % _state.pid)
    temp = path + ".tmp"
    with open(temp, "w", encoding="utf-8", errors="replace") as out:
        out.write(text)
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
        if only_if_changed and len(sys.modules) == state.last_size:
            return
        _write(exited)
        state.last_size = len(sys.modules)
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
        _state.forked = True
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
        # The import system's own frozen modules, loaded before site runs: importing
        # `importlib.machinery` would add `importlib`, `types` and `warnings` to every program
        # and cost about a millisecond of its start.
        bootstrap = sys.modules["_frozen_importlib"]
        spec = sys.modules["_frozen_importlib_external"].PathFinder.find_spec("sitecustomize", rest)
        if spec is None or spec.loader is None:
            return
        module = bootstrap.module_from_spec(spec)
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


# Enforcement (`runbom run --enforce`, `runbom hook install --enforce`): a finder first on
# `sys.meta_path` holds every module about to be loaded from a file against the table runbom
# wrote (docs/enforce.md); the table's reader and the finder are in `_runbom_enforce.py`. Everything
# here is apart from observation: `_enforcement` is `None` when no table was asked for, and the
# hook then behaves exactly as without this section.

_enforcement = None
_table = None
_EXIT_CLOSED = 78  # EX_CONFIG: the program did not start because the table could not be loaded


class _TableError(Exception):
    """The table cannot be used; the message names the file and, where it applies, the line."""


def _start_enforcement():
    """Loads the table named by `RUNBOM_ENFORCE_TABLE` (or the installed hook's settings) and
    puts the finder first; on failure applies the fail policy: `open` warns and runs the program
    unenforced, `closed` exits before it starts."""
    global _enforcement, _table
    path = os.environ.get("RUNBOM_ENFORCE_TABLE") or _config.get("enforce_table")
    if not path:
        return
    fail = os.environ.get("RUNBOM_ENFORCE_FAIL") or _config.get("enforce_fail") or "open"
    if os.environ.get("RUNBOM_ENFORCE") == "off":
        _enforcement = {"mode": "monitor", "state": "off",
                        "message": "turned off for this run by RUNBOM_ENFORCE=off"}
        sys.stderr.write("runbom: enforcement is off for this run (RUNBOM_ENFORCE=off)\n")
        return
    try:
        _load_enforcement_code()
        _table = _load_table(path)
    except BaseException as err:
        reason = str(err) if isinstance(err, _TableError) else "cannot load `%s`: %s: %s" % (
            path, err.__class__.__name__, err)
        _enforcement = {"mode": "enforce" if fail == "closed" else "monitor", "state": "failed",
                        "message": reason}
        if fail == "closed":
            sys.stderr.write("runbom: error: the program was not started: %s "
                             "(fail = \"closed\")\n" % reason)
            os._exit(_EXIT_CLOSED)  # wrapped: the observation saying why is written first
        sys.stderr.write("runbom: warning: enforcement is off: %s (fail = \"open\")\n" % reason)
        return
    _enforcement = {"mode": _table.mode, "state": "active", "message": None}
    sys.meta_path.insert(0, _EnforcingFinder())
    _judge_loaded_before(_table)


def _load_enforcement_code():
    """Runs `_runbom_enforce.py`, beside this file, in this module's namespace (its bytecode cached
    in `__pycache__` like any module's): the table's reader, the finder that refuses imports and
    the events, loaded only for a process that was given a table."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_runbom_enforce.py")
    loader = sys.modules["_frozen_importlib_external"].SourceFileLoader("_runbom_enforce", path)
    exec(loader.get_code("_runbom_enforce"), globals())


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
        import atexit

        atexit.register(_at_exit)
        if hasattr(os, "register_at_fork"):  # 3.7+
            os.register_at_fork(after_in_child=_after_fork_in_child)
        _wrap_os_exit()
        _wrap_raise_signal()
        _wrap_os_exec()
        _start_ticker()
        _start_enforcement()
    except BaseException:
        if _state is not None:
            _state.errors += 1


_install()
if __name__ == "sitecustomize":
    if _state is not None:
        try:
            _hook_dir = os.path.dirname(os.path.abspath(__file__))
            if "subprocess" in sys.modules:
                _watch_popen(sys.modules["subprocess"])
            else:
                sys.meta_path.insert(0, _SubprocessWatcher())
        except BaseException:
            _state.errors += 1
    _chain_sitecustomize()
