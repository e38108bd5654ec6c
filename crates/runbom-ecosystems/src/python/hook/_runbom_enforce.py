# runbom's enforcement, the rest of the hook: `_load_enforcement_code` in the hook runs this file
# in the hook's own namespace (no module of its own in `sys.modules`, no name of its own in the
# report) only when a table is named, so a program that is only observed never loads it. It uses
# the hook's globals (`os`, `sys`, `_state`, `_config`, `_flush`, `_TableError` ...) as its own.
# Standard library only, ASCII only; no module docstring (it would replace the hook's).


class _Table:
    def __init__(self):
        self.interpreter = None
        self.mode = "monitor"
        self.fail = "open"
        self.config = "runbom.toml"
        self.expected = ""
        self.rules = {}
        self.first_party = []
        self.stdlib = []
        self.dists = []
        self.files = {}
        self.aliases = []


def _read_table_file(path):
    """The table's text, from a file this user (or root) owns and no one else may write."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError as err:
        raise _TableError("cannot read `%s`: %s" % (path, err.strerror))
    try:
        st = os.fstat(fd)
        if st.st_uid not in (os.getuid(), 0):
            raise _TableError("`%s` belongs to user %d, not to this user (%d) nor root"
                              % (path, st.st_uid, os.getuid()))
        if st.st_mode & 0o022:
            raise _TableError("`%s` may be written by other users (mode %o)"
                              % (path, st.st_mode & 0o777))
        chunks = []
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(fd)
    try:
        return b"".join(chunks).decode("utf-8")
    except UnicodeDecodeError as err:
        raise _TableError("`%s` is not UTF-8 text (byte %d)" % (path, err.start))


def _parse_table(path, text):
    """Parses a `runbom-enforce/1` table; `_TableError` for anything else."""
    lines = text.split("\n")
    if lines[0] != "runbom-enforce/1":
        raise _TableError("`%s` line 1: not a runbom enforcement table (`runbom-enforce/1`)"
                          % path)
    if lines[-1] == "":
        lines.pop()
    if not lines[-1].startswith("end\t") or lines[-1][4:] != str(len(lines) - 1):
        raise _TableError("`%s` is truncated: its last line (%d) is not the `end` record of a "
                          "whole table" % (path, len(lines)))
    table = _Table()
    files = table.files
    for number in range(1, len(lines) - 1):
        kind, _, rest = lines[number].partition("\t")
        if kind == "f":
            file, _, entry = rest.partition("\t")
            if entry.count("\t") != 4:
                raise _TableError("`%s` line %d: a file record has 6 fields" % (path, number + 1))
            files[file] = entry
            continue
        fields = rest.split("\t")
        if (kind == "dist" and len(fields) == 7 and fields[0] == str(len(table.dists))
                and fields[3] in ("allowed", "refused") and fields[5].isdigit()):
            table.dists.append(fields[1:])
        elif kind == "interpreter" and len(fields) == 3:
            table.interpreter = fields
        elif kind == "mode" and fields[0] in ("monitor", "enforce"):
            table.mode = fields[0]
        elif kind == "fail" and fields[0] in ("open", "closed"):
            table.fail = fields[0]
        elif kind == "config":
            table.config = fields[0]
        elif kind == "expected":
            table.expected = fields[0]
        elif kind == "rule" and len(fields) == 3 and fields[1] in ("0", "1") and fields[2].isdigit():
            table.rules[fields[0]] = (fields[1] == "1", fields[2])
        elif kind == "first-party" and fields[0].startswith("/"):
            table.first_party.append(fields[0].rstrip("/") + "/")
        elif kind == "alias" and len(fields) == 2:
            table.aliases.append((fields[0].rstrip("/") + "/", fields[1].rstrip("/") + "/"))
        else:
            raise _TableError("`%s` line %d: unreadable `%s` record" % (path, number + 1, kind))
    for entry in files.values():
        index = entry.partition("\t")[0]
        if not index.isdigit() or int(index) >= len(table.dists):
            raise _TableError("`%s`: a file record names distribution `%s`, which it does not list"
                              % (path, index))
        break  # indexes are written in order: the first and the count say the rest are in range
    if table.interpreter is None:
        raise _TableError("`%s` names no interpreter" % path)
    return table


def _check_interpreter(path, table):
    executable, version, prefix = table.interpreter
    info = sys.version_info
    here = "%d.%d.%d" % (info[0], info[1], info[2])
    if version != here or os.path.realpath(prefix) != os.path.realpath(sys.prefix):
        raise _TableError("`%s` is for the interpreter %s (Python %s, prefix %s), not this one "
                          "(%s, Python %s, prefix %s)" % (path, executable, version, prefix,
                                                          sys.executable, here, sys.prefix))


def _load_table(path):
    """The table at `path`, checked: owner, format, interpreter."""
    table = _parse_table(path, _read_table_file(path))
    _check_interpreter(path, table)
    table.stdlib = [d.rstrip("/") + "/" for d in _stdlib_dirs()]
    if not table.first_party:
        main = _state.main_file
        table.first_party = [(os.path.dirname(main) if main else os.getcwd()).rstrip("/") + "/"]
    return table


def _in_site(file):
    return "/site-packages/" in file or "/dist-packages/" in file


def _starts_with_any(file, dirs):
    for d in dirs:
        if file.startswith(d):
            return True
    return False


def _rule(table, name):
    """(on, runbom.toml line) of a rule."""
    return table.rules.get(name, (True, "0"))


def _sha256_of(file):
    import hashlib

    digest = hashlib.sha256()
    with open(file, "rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def _judge(table, spec):
    """`None` to allow, else (rule, distribution fields or None, why, line, file)."""
    file = spec.origin
    if file is None or not spec.has_location:
        return None  # built-in, frozen, namespace package
    if not file.startswith("/"):
        file = os.path.abspath(file)
    entry = table.files.get(file)
    if entry is None:
        for real, named in table.aliases:
            if file.startswith(real):
                entry = table.files.get(named + file[len(real):])
                break
    if entry is None:
        if not _in_site(file) and _starts_with_any(file, table.stdlib):
            return None
        if not _in_site(file) and _starts_with_any(file, table.first_party):
            return None
        on, line = _rule(table, "listed")
        if not on:
            return None
        return ("listed", None, "owned by no installed distribution, and not in the standard "
                "library or a first-party directory", line, file)
    index, size, mtime, ino, recorded = entry.split("\t")
    dist = table.dists[int(index)]
    name, version, state, rule, line, why = dist
    if state == "refused":
        return (rule, dist, why, line, file)
    on, line = _rule(table, "integrity")
    if on and recorded != "-":
        st = os.stat(file)
        if size != str(st.st_size) or mtime != str(st.st_mtime_ns) or ino != str(st.st_ino):
            if _sha256_of(file) != recorded:
                return ("integrity", dist, "its content differs from RECORD", line, file)
            table.files[file] = "\t".join((index, str(st.st_size), str(st.st_mtime_ns),
                                           str(st.st_ino), recorded))
    return None


def _importer():
    """The module whose code asked for the import: the first frame outside the import system."""
    try:
        frame = sys._getframe(2)
        while frame is not None:
            name = frame.f_globals.get("__name__")
            if name not in ("importlib._bootstrap", "importlib._bootstrap_external", "importlib",
                            __name__) and not frame.f_code.co_filename.startswith("<frozen"):
                return name if isinstance(name, str) else None
            frame = frame.f_back
    except BaseException:
        _state.errors += 1
    return None


def _refuse(table, name, verdict):
    """Records the event, sends it at once, and raises `ImportError` in enforce mode."""
    import time

    rule, dist, why, line, file = verdict
    enforced = table.mode == "enforce"
    owner = "%s %s" % (dist[0], dist[1]) if dist else "no distribution"
    place = "%s:%s" % (table.config, line) if line != "0" else "on by default"
    message = "runbom: %s import of `%s` (%s, %s): %s [rule `%s`, %s]" % (
        "refused" if enforced else "would refuse", name, owner, file, why, rule, place)
    try:
        if (name, file) not in _state.refused:
            _state.refused.add((name, file))
            _state.refusals.append({
                "pid": _state.pid, "at": time.time(), "module": name, "file": file,
                "distribution": dist[0] if dist else None, "version": dist[1] if dist else None,
                "rule": rule, "why": why, "config_line": int(line), "importer": _importer(),
                "enforced": enforced,
            })
            _flush_event()
    except BaseException:
        _state.errors += 1
    if enforced:
        raise ImportError(message, name=name, path=file)


class _EnforcingFinder:
    """First on `sys.meta_path`: finds a module's spec with the finders after it and holds it
    against the table before anything of it runs."""

    def find_spec(self, name, path=None, target=None):
        spec = None
        for finder in sys.meta_path:
            if finder is self:
                continue
            find = getattr(finder, "find_spec", None)
            if find is None:
                continue
            spec = find(name, path, target)
            if spec is not None:
                break
        if spec is None:
            return None
        table = _table
        try:
            verdict = _judge(table, spec) if table is not None else None
        except BaseException:
            _state.errors += 1
            return spec
        if verdict is not None:
            _refuse(table, name, verdict)
        return spec

    def invalidate_caches(self):
        pass


def _flush_event():
    """Sends the events soon from a thread of their own: the importing thread never waits for a
    write, and the refusals of one burst (a package's submodules) go out in one observation."""
    state = _state
    if state.event_pending:
        return
    state.event_pending = True
    import _thread

    _thread.start_new_thread(_send_events, (state,))


def _send_events(state):
    """Writes the observation and says so (`n<pid>`), so `runbom run` reports it at once (an
    installed hook starts `runbom hook flush`)."""
    import time

    time.sleep(0.05)
    if _state is not state or not state.lock.acquire(True, 1.0):
        return
    state.event_pending = False
    try:
        _write(False)
        state.last_size = len(sys.modules)
        session = os.environ.get("RUNBOM_SESSION_DIR")
        if session:
            os.close(os.open(os.path.join(session, "n%d" % state.pid),
                             os.O_CREAT | os.O_WRONLY, 0o644))
        _spawn_flush(False)
    except BaseException:
        state.errors += 1
    finally:
        state.lock.release()


def _judge_loaded_before(table):
    """Modules already loaded when the hook started (by `.pth` files, which site runs first)
    cannot be refused any more: what the table would refuse is reported as "would refuse"."""
    ours = sys.modules.get(__name__)
    for name, module in list(sys.modules.items()):
        spec = getattr(module, "__spec__", None)
        if module is ours or spec is None or not isinstance(name, str):
            continue
        try:
            verdict = _judge(table, spec)
        except BaseException:
            _state.errors += 1
            continue
        if verdict is not None:
            rule, dist, why, line, file = verdict
            verdict = (rule, dist, why + " (loaded before the hook started)", line, file)
            mode, table.mode = table.mode, "monitor"
            try:
                _refuse(table, name, verdict)
            finally:
                table.mode = mode
