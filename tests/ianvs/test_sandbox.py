"""Hostile candidate code: each attack is contained by the sandbox and scored as a failure."""

from __future__ import annotations

import os
import random
import socket
import sys
import time
from pathlib import Path

import pytest

from ianvs_export.sandbox import SandboxLimits, isolation_prefix, run_python
from ianvs_export.scoring import sample_scores

LIMITS = SandboxLimits(cpu_s=1, wall_s=4.0, memory_mb=256, output_bytes=100_000)

MEDIAN = (
    "def median(values):\n    ordered = sorted(values)\n    middle = len(ordered) // 2\n"
    "    if len(ordered) % 2:\n        return float(ordered[middle])\n"
    "    return (ordered[middle - 1] + ordered[middle]) / 2\n"
)
TESTS = "def test_median():\n    assert median([3, 1, 2]) == 2.0\n    assert median([4, 1, 3, 2]) == 2.5\n"


def _spawn_escaping(command: list[str], own_group: bool) -> str:
    """Python that starts `command` through _posixsubprocess (no audit event), optionally in its own group."""
    args = ", ".join(repr(part.encode()) for part in command)
    pgid = 0 if own_group else -1
    # 3.11 signature: args, executables, close_fds, pass_fds, cwd, env, 6 pipe fds, errpipe r/w, restore_signals,
    # call_setsid, pgid_to_set, gid, extra_groups, uid, child_umask, preexec_fn, allow_vfork
    return (
        "import _posixsubprocess, os\n"
        "r, w = os.pipe()\n"
        f"pid = _posixsubprocess.fork_exec([{args}], [{args.split(',')[0]}], True, (), None, None,"
        f" -1, -1, -1, -1, -1, -1, r, w, True, False, {pgid}, None, None, None, -1, None, False)\n"
        "print(pid, flush=True)\n"
    )


def _survivors(token: str, timeout: float = 10.0) -> list[int]:
    """Live processes whose command line holds token, after waiting up to timeout for them to disappear.

    The sandbox may run the program in its own PID namespace, where pids mean nothing outside: look for the
    command line instead.
    """
    deadline = time.monotonic() + timeout
    while True:
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                cmdline = (entry / "cmdline").read_bytes()
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if token.encode() in cmdline.split(b"\0") and state not in ("Z", "X"):
                found.append(int(entry.name))
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def _token() -> str:
    return f"{random.randint(1000, 9999)}.{random.randint(100000, 999999)}"  # a sleep duration no one else uses


def test_a_plain_program_passes_and_its_output_is_kept() -> None:
    result = run_python("print('hello')\n", LIMITS)
    assert result.status == "passed"
    assert result.stdout == "hello\n"


def test_a_failing_assertion_fails() -> None:
    result = run_python("assert 1 == 2\n", LIMITS)
    assert result.status == "failed"
    assert "AssertionError" in result.stderr


def test_infinite_loop_is_stopped_by_the_cpu_limit() -> None:
    result = run_python("while True:\n    pass\n", LIMITS)
    assert result.status == "timeout"
    assert result.duration_s < LIMITS.wall_s  # the CPU limit, not the wall clock, stopped it


def test_sleeping_forever_is_stopped_by_the_wall_clock() -> None:
    result = run_python("import time\ntime.sleep(600)\n", SandboxLimits(cpu_s=1, wall_s=1.0))
    assert result.status == "timeout"
    assert result.returncode is not None and result.returncode < 0  # killed


def test_memory_hog_hits_the_address_space_limit() -> None:
    result = run_python("blocks = []\nwhile True:\n    blocks.append(bytearray(50 * 1024 * 1024))\n", LIMITS)
    assert result.status == "failed"
    assert "MemoryError" in result.stderr


def test_fork_bomb_is_refused() -> None:
    result = run_python("import os\nwhile True:\n    os.fork()\n", LIMITS)
    assert result.status == "failed"
    assert "sandbox: os.fork is not allowed" in result.stderr
    shell = run_python("import subprocess\nsubprocess.run(['sh', '-c', ':(){ :|:& };:'])\n", LIMITS)
    assert shell.status == "failed"
    assert "not allowed" in shell.stderr
    system = run_python("import os\nos.system('echo escaped')\n", LIMITS)
    assert system.status == "failed"
    assert "escaped" not in system.stdout


def test_writing_outside_its_folder_is_refused(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    target = tmp_path / "escape.txt"
    attacks = [
        f"open({str(target)!r}, 'w').write('x')\n",
        f"import os\nos.remove({str(victim)!r})\n",
        f"import os\nos.rename({str(victim)!r}, 'stolen.txt')\n",
        f"import os\nos.symlink({str(tmp_path)!r}, 'link')\nopen('link/escape.txt', 'w').write('x')\n",
        "import os\nfd = os.open('../escape.txt', os.O_WRONLY | os.O_CREAT)\n",
        f"import shutil\nshutil.rmtree({str(tmp_path)!r})\n",
    ]
    for attack in attacks:
        result = run_python(attack, LIMITS)
        assert result.status == "failed", attack
        assert "sandbox:" in result.stderr, attack
    assert victim.read_text() == "keep me"
    assert not target.exists()
    # its own folder stays writable
    assert run_python("open('scratch.txt', 'w').write('fine')\n", LIMITS).status == "passed"


def test_opening_a_socket_is_refused() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(0.2)
        port = listener.getsockname()[1]
        for attack in (
            f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2)\n",
            "import socket\nsocket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n",
            "import urllib.request\nurllib.request.urlopen('http://example.com', timeout=2)\n",
        ):
            result = run_python(attack, LIMITS)
            assert result.status == "failed", attack
            assert "sandbox:" in result.stderr, attack
        with pytest.raises(TimeoutError):
            listener.accept()  # nothing ever connected


def test_output_flood_hits_the_output_limit() -> None:
    result = run_python("import sys\nwhile True:\n    sys.stdout.write('x' * 65536)\n", LIMITS)
    assert result.status == "output_limit"
    assert len(result.stdout) <= LIMITS.output_bytes


def test_a_child_left_in_the_process_group_is_killed() -> None:
    token = _token()
    result = run_python(_spawn_escaping(["/bin/sleep", token], own_group=False), LIMITS)
    assert result.stdout.strip().isdigit()  # it did start
    assert _survivors(token) == [], "a process started by the program survived the sandbox"


def test_a_child_that_left_the_process_group_dies_with_the_pid_namespace() -> None:
    if "-p" not in isolation_prefix():
        pytest.skip("no PID namespace on this machine: only the process group is killed")
    token = _token()
    result = run_python(_spawn_escaping(["/bin/sleep", token], own_group=True), LIMITS)
    assert result.stdout.strip().isdigit()
    assert _survivors(token) == [], "a process that left the group survived the sandbox"


def test_the_network_is_an_empty_namespace_even_past_the_audit_hook() -> None:
    if not isolation_prefix():
        pytest.skip("no network namespace on this machine: only the audit hook refuses sockets")
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        # /proc/net/tcp lists only the namespace's own sockets: the listener above is invisible from inside
        result = run_python(f"print(open('/proc/net/tcp').read().count(':{port:04X} '))\n", LIMITS)
    assert result.status == "passed"
    assert result.stdout.strip() == "0"


def test_the_program_gets_its_own_temporary_home() -> None:
    result = run_python("import os\nprint(os.getcwd() == os.environ['HOME'] == os.environ['TMPDIR'])\n", LIMITS)
    assert result.stdout.strip() == "True"
    folder = run_python("import os\nprint(os.getcwd())\n", LIMITS).stdout.strip()
    assert folder and not os.path.exists(folder)  # deleted afterwards


@pytest.mark.parametrize(
    "payload",
    [
        "while True:\n    pass\n",
        "hog = bytearray(2 * 1024 ** 3)\n",
        "import os\nos.fork()\n",
        "open('/tmp/smartco-escape.txt', 'w').write('x')\n",
        "import socket\nsocket.create_connection(('127.0.0.1', 9), timeout=1)\n",
        "print('x' * 10_000_000)\n",
    ],
    ids=["infinite-loop", "memory-hog", "fork", "write-outside", "socket", "output-flood"],
)
def test_hostile_generated_code_is_scored_as_a_failure(payload: str) -> None:
    row = {
        "answers": [f"```python\n{MEDIAN}\n{payload}```"],
        "status": ["ok"],
        "extras": {"tests": TESTS, "entry_point": "median"},
    }
    scores = sample_scores("generation", MEDIAN, row, LIMITS)
    assert scores["pass_at_1"] == 0.0
    assert scores["tests_passed"] == 0.0
    # the same function without the payload passes: the failure is the containment, not the function
    clean = {**row, "answers": [f"```python\n{MEDIAN}```"]}
    assert sample_scores("generation", MEDIAN, clean, LIMITS)["pass_at_1"] == 1.0
    assert not Path("/tmp/smartco-escape.txt").exists()


def test_a_missing_interpreter_is_an_error_not_an_exception() -> None:
    result = run_python("print(1)\n", LIMITS, python=str(Path(sys.executable).parent / "no-such-python"))
    assert result.status in ("error", "failed")
