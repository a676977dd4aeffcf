"""Run untrusted Python (a candidate's code and its tests) in a limited, network-less, throw-away subprocess.

Layers, all applied to every run:
- a fresh temporary directory as cwd, HOME and TMPDIR, deleted afterwards;
- resource limits set by the child before any candidate code runs: CPU seconds (RLIMIT_CPU), address space
  (RLIMIT_AS), size of any written file including stdout/stderr (RLIMIT_FSIZE), open files, no core dumps;
- a wall-clock limit enforced by the parent, after which the whole process group is SIGKILLed (it is also
  killed after a normal exit, so nothing a program started survives it);
- namespaces, when the machine allows them (`unshare`, with `-r` when not root): a new, empty network
  namespace, and a new PID namespace whose first process is the interpreter, so that every process the
  program starts dies with it, even one that left the process group (setsid/setpgid);
- in every case an audit hook in the child refuses socket creation and connections, process creation (fork,
  exec, spawn, subprocess, os.system), ctypes, and writing, renaming or deleting files outside the temporary
  directory. The audit hook is a guard against accidents and ordinary hostile code, not a security boundary
  against native code (private modules such as _posixsubprocess bypass it): the namespaces, or a container,
  are that boundary.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

logger = logging.getLogger(__name__)

Status = Literal["passed", "failed", "timeout", "output_limit", "error"]

# Runs in the child before the candidate's program: limits first, then the audit hook, then the program.
_BOOTSTRAP = r"""
import os, resource, sys
root = os.path.realpath(os.getcwd())
cpu, memory, fsize, nofile = (int(v) for v in sys.argv[2:6])
resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
BLOCKED = ("socket.", "os.fork", "os.forkpty", "os.exec", "os.posix_spawn", "os.spawn", "os.system",
           "subprocess.Popen", "ctypes.", "os.startfile", "pty.spawn")
PATHS = {"os.remove": 1, "os.rmdir": 1, "os.mkdir": 1, "os.rename": 2, "os.replace": 2, "os.chmod": 1,
         "os.chown": 1, "os.link": 2, "os.symlink": 2, "os.truncate": 1, "shutil.rmtree": 1, "os.utime": 1}
def inside(path):
    if isinstance(path, int):
        return True
    full = os.path.realpath(os.path.join(root, os.fsdecode(path)))
    return full == root or full.startswith(root + os.sep)
def guard(event, args):
    if event.startswith(BLOCKED) and event not in ("socket.gethostname", "socket.getaddrinfo"):
        raise PermissionError("sandbox: " + event + " is not allowed")
    if event == "socket.getaddrinfo":
        raise PermissionError("sandbox: no network")
    if event == "open":
        path, mode, flags = args
        writing = any(c in str(mode or "") for c in "wax+") or (flags or 0) & (os.O_WRONLY | os.O_RDWR | os.O_CREAT)
        if writing and path is not None and not inside(path):
            raise PermissionError("sandbox: writing outside the sandbox directory")
    elif event in PATHS:
        for path in args[: PATHS[event]]:
            if path is not None and not inside(path):
                raise PermissionError("sandbox: " + event + " outside the sandbox directory")
if os.getpid() == 1:
    # PID 1 of a namespace ignores SIGXCPU/SIGXFSZ and outlives nothing: run the program in a child and report
    # its fate as a shell would (128 + signal); every process left in the namespace dies when this one exits.
    child = os.fork()
    if child:
        status = os.waitpid(child, 0)[1]
        os._exit(128 + os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status))
program = sys.argv[1]
with open(program, encoding="utf-8") as handle:
    code = compile(handle.read(), program, "exec")
sys.addaudithook(guard)
del resource
exec(code, {"__name__": "__main__", "__file__": program, "__builtins__": __builtins__})
"""


@dataclass(frozen=True)
class SandboxLimits:
    cpu_s: int = 5
    wall_s: float = 10.0
    memory_mb: int = 512
    output_bytes: int = 1_000_000
    open_files: int = 64


@dataclass(frozen=True)
class SandboxResult:
    status: Status
    returncode: int | None
    duration_s: float
    stdout: str
    stderr: str
    network_isolation: str

    @property
    def passed(self) -> bool:
        return self.status == "passed"


# Most isolated first. In a PID namespace the bootstrap (PID 1) forks the program and exits with 128 + signal.
_PREFIXES = (
    ("-n", "-p", "-f", "--kill-child"),
    ("-r", "-n", "-p", "-f", "--kill-child"),
    ("-n",),
    ("-r", "-n"),
)


@functools.cache
def isolation_prefix() -> tuple[str, ...]:
    """The `unshare` command prefix that works on this machine (network and PID namespaces), or () if none."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return ()
    for options in _PREFIXES:
        prefix = (unshare, *options)
        try:
            done = subprocess.run([*prefix, "true"], capture_output=True, timeout=10, check=False)
        except (OSError, subprocess.SubprocessError):
            continue
        if done.returncode == 0:
            return prefix
    logger.warning("sandbox: no namespaces available; only limits, the audit hook and the process group apply")
    return ()


def isolation_name() -> str:
    """How sandboxed runs are isolated on this machine (for reports)."""
    prefix = isolation_prefix()
    if not prefix:
        return "audit-hook"
    return " ".join([Path(prefix[0]).name, *prefix[1:]]) + " + audit-hook"


def run_python(source: str, limits: SandboxLimits | None = None, python: str | None = None) -> SandboxResult:
    """Run one Python program under the sandbox; never raises for anything the program does."""
    limits = limits or SandboxLimits()
    work = Path(tempfile.mkdtemp(prefix="smartco-sandbox-"))
    try:
        return _run_in(work, source, limits, python or sys.executable)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run_in(work: Path, source: str, limits: SandboxLimits, python: str) -> SandboxResult:
    program = work / "program.py"
    program.write_text(source, encoding="utf-8")
    prefix = isolation_prefix()
    argv = [
        *prefix,
        python,
        "-I",
        "-S",
        "-B",
        "-c",
        _BOOTSTRAP,
        str(program),
        str(limits.cpu_s),
        str(limits.memory_mb * 1024 * 1024),
        str(limits.output_bytes),
        str(limits.open_files),
    ]
    env = {"HOME": str(work), "TMPDIR": str(work), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
    started = time.perf_counter()
    with (work / ".stdout").open("w+b") as out, (work / ".stderr").open("w+b") as err:
        try:
            child = subprocess.Popen(
                argv, cwd=work, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err, start_new_session=True
            )
        except OSError as error:
            logger.warning("sandbox: cannot start the interpreter: %s", error.strerror)
            return SandboxResult("error", None, 0.0, "", str(error), isolation_name())
        timed_out = False
        try:
            child.wait(timeout=limits.wall_s)
        except subprocess.TimeoutExpired:
            timed_out = True
        _kill_group(child)
        duration = time.perf_counter() - started
        overflow = max(_size(out), _size(err)) >= limits.output_bytes
        stdout, stderr = _head(out, limits.output_bytes), _head(err, limits.output_bytes)
    returncode = child.returncode
    if "-p" in prefix and returncode > 128:
        returncode = 128 - returncode  # the namespace's PID 1 reported a signal the shell way
    status = _status(returncode, timed_out, overflow)
    return SandboxResult(status, returncode, duration, stdout, stderr, isolation_name())


def _kill_group(child: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.pid, signal.SIGKILL)
    child.wait()


def _head(handle: BinaryIO, limit: int) -> str:
    handle.seek(0)
    return handle.read(min(limit, 20_000)).decode("utf-8", errors="replace")


def _size(handle: BinaryIO) -> int:
    return os.fstat(handle.fileno()).st_size


def _status(returncode: int | None, timed_out: bool, overflow: bool) -> Status:
    if timed_out or returncode in (-signal.SIGXCPU, -signal.SIGKILL):
        return "timeout"
    if overflow or returncode == -signal.SIGXFSZ:
        return "output_limit"
    return "passed" if returncode == 0 else "failed"
