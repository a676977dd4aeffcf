"""pytest plugin: each run's per-test outcomes, written as JUnit XML where the sidecar reads them.

Installed with smartco (entry point `pytest11`), it stays inert unless the run's root directory is inside a
repository that opted in to capture, or `--smartco-report` / `SMARTCO_PYTEST_REPORT=1` asks for it. Reports go
to `.smartco/test-results/` (kept out of git by a `.gitignore` there; the newest `KEEP` are kept), one file per
run, written whole and renamed into place, so the sidecar never reads half a report.
"""

from __future__ import annotations

import os
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

REPORT_DIR = Path(".smartco") / "test-results"
KEEP = 20
ENV_SWITCH = "SMARTCO_PYTEST_REPORT"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("smartco")
    group.addoption(
        "--smartco-report",
        action="store_true",
        default=None,
        help="Write per-test outcomes to .smartco/test-results/ for the smartco sidecar (default: in opted-in "
        "repositories).",
    )
    group.addoption("--no-smartco-report", action="store_false", dest="smartco_report", help="Do not write them.")


def _wanted(config: pytest.Config) -> bool:
    choice = config.getoption("smartco_report", None)
    if choice is not None:
        return bool(choice)
    if os.environ.get(ENV_SWITCH) in ("0", "1"):
        return os.environ[ENV_SWITCH] == "1"
    from lsp_agent.repository import COMMITTED_MARKER, LOCAL_MARKER, find_root, git_dir

    root = find_root(Path(str(config.rootpath)).resolve())
    return root is not None and ((root / COMMITTED_MARKER).is_file() or (git_dir(root) / LOCAL_MARKER).is_file())


def pytest_configure(config: pytest.Config) -> None:
    if _wanted(config) and not hasattr(config, "workerinput"):  # xdist workers report through the controller
        config.pluginmanager.register(Reporter(Path(str(config.rootpath))), "smartco-reporter")


class Reporter:
    """Collects the outcome of every test (setup, call and teardown folded into one) and writes them at the end."""

    def __init__(self, rootpath: Path) -> None:
        self.rootpath = rootpath
        self.started = time.time()
        self.cases: dict[str, dict[str, Any]] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        case = self.cases.setdefault(report.nodeid, {"outcome": "passed", "duration": 0.0, "message": None})
        case["duration"] += report.duration
        case["location"] = report.location
        if report.failed:
            outcome = "failed" if report.when == "call" else "error"
            if case["outcome"] not in ("failed", "error"):
                case["outcome"], case["message"] = outcome, _message(report)
        elif report.skipped and case["outcome"] == "passed":
            case["outcome"], case["message"] = "skipped", _message(report)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if not self.cases:
            return
        target = self.rootpath / REPORT_DIR
        try:
            target.mkdir(parents=True, exist_ok=True)
            ignore = target / ".gitignore"
            if not ignore.exists():
                ignore.write_text("*\n")
            path = target / f"pytest-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}.xml"
            temporary = path.with_suffix(".tmp")
            temporary.write_bytes(self.xml())
            temporary.replace(path)
            for old in sorted(target.glob("pytest-*.xml"))[:-KEEP]:
                old.unlink(missing_ok=True)
        except OSError as err:  # a read-only checkout must not fail the test run
            reporter = session.config.pluginmanager.get_plugin("terminalreporter")
            if reporter is not None:
                reporter.write_line(f"smartco: test report not written: {err}")

    def xml(self) -> bytes:
        suite = ET.Element("testsuite", name="pytest", tests=str(len(self.cases)))
        suite.set("time", f"{time.time() - self.started:.3f}")
        for nodeid, case in self.cases.items():
            file, _, name = nodeid.partition("::")
            element = ET.SubElement(suite, "testcase", nodeid=nodeid, name=name or file, file=file)
            element.set("classname", file.removesuffix(".py").replace("/", "."))
            element.set("time", f"{case['duration']:.6f}")
            tag = {"failed": "failure", "error": "error", "skipped": "skipped"}.get(case["outcome"])
            if tag is not None:
                ET.SubElement(element, tag, message=(case["message"] or "")[:2000])
        return ET.tostring(suite, encoding="utf-8", xml_declaration=True)


def _message(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None:
        return str(crash.message)
    if isinstance(report.longrepr, tuple) and len(report.longrepr) == 3:
        return str(report.longrepr[2])
    return str(report.longrepr or "")
