"""Test runs: JUnit XML reports and the shipped pytest plugin become `test.run`, linked across runs to the edits."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from lsp.sidecar import change, edit, make_repo, open_document, save, sidecar, sidecar_env, spooled_kind, until

from lsp_agent.junit import ReportError, ReportScanner, parse_report
from trajectory.events import parse_event

pytestmark = pytest.mark.timeout(120)

CALC = "def add(a, b):\n    return a - b\n"
TESTS = (
    "from calc import add\n\n\ndef test_add():\n    assert add(2, 2) == 4\n\n\n"
    "def test_zero():\n    assert add(0, 0) == 0\n\n\ndef test_skip():\n    import pytest\n    pytest.skip('later')\n"
)


def run_pytest(repo: Path, *args: str, autoload: bool = True) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "SMARTCO_"))}
    if not autoload:
        env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", *args]
    return subprocess.run(command, cwd=repo, env=env, capture_output=True, text=True, timeout=120)


def reports(repo: Path) -> list[Path]:
    return sorted((repo / ".smartco" / "test-results").glob("*.xml"))


def test_plugin_is_registered_for_pytest() -> None:
    assert "lsp_agent.pytest_plugin" in {e.value for e in entry_points(group="pytest11")}


@pytest.mark.slow
def test_plugin_writes_reports_only_in_opted_in_repositories(tmp_path: Path) -> None:
    files = {"calc.py": CALC, "test_calc.py": TESTS}
    opted, other = make_repo(tmp_path / "opted", files=files), make_repo(tmp_path / "other", files=files, opt_in=False)
    assert run_pytest(opted).returncode == 1  # test_add fails
    assert run_pytest(other).returncode == 1
    assert reports(other) == []
    (report,) = reports(opted)
    payload = parse_report(report.read_bytes())
    outcomes = {t["test_id"]: t["outcome"] for t in payload["tests"]}
    assert outcomes == {
        "test_calc.py::test_add": "failed",
        "test_calc.py::test_zero": "passed",
        "test_calc.py::test_skip": "skipped",
    }
    assert payload["framework"] == "pytest" and (payload["passed"], payload["failed"], payload["skipped"]) == (1, 1, 1)
    assert "assert 0 == 4" in next(t["message"] for t in payload["tests"] if t["outcome"] == "failed")
    assert (report.parent / ".gitignore").read_text() == "*\n"
    run_pytest(other, "--smartco-report")  # asked for explicitly
    assert len(reports(other)) == 1
    run_pytest(opted, "--no-smartco-report")
    run_pytest(opted, "-p", "lsp_agent.pytest_plugin", autoload=False)  # usable with -p where autoload is off
    assert len(reports(opted)) == 2


def test_junit_reports_of_other_tools_are_read() -> None:
    surefire = b"""<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="com.acme.CalcTest" time="0,120" tests="3" failures="1" errors="1" skipped="0">
  <testcase name="adds" classname="com.acme.CalcTest" time="0.01"/>
  <testcase name="subtracts" classname="com.acme.CalcTest" time="0.02">
    <failure message="expected:&lt;1&gt; but was:&lt;2&gt;" type="AssertionError">stack</failure>
  </testcase>
  <testcase name="divides" classname="com.acme.CalcTest" time="0.09"><error message="boom"/></testcase>
</testsuite>"""
    payload = parse_report(surefire, "target/surefire-reports/TEST-com.acme.CalcTest.xml")
    assert payload["framework"] == "junit" and payload["duration_s"] == 0.12
    assert [(t["test_id"], t["outcome"]) for t in payload["tests"]] == [
        ("com.acme.CalcTest.adds", "passed"),
        ("com.acme.CalcTest.subtracts", "failed"),
        ("com.acme.CalcTest.divides", "error"),
    ]
    assert payload["tests"][1]["message"] == "expected:<1> but was:<2>"
    for bad in (b"<html/>", b"not xml", b""):
        with pytest.raises(ReportError):
            parse_report(bad)


def test_scanner_reads_each_new_or_changed_report_once(tmp_path: Path) -> None:
    old = tmp_path / "build" / "junit-old.xml"
    old.parent.mkdir()
    old.write_text('<testsuite name="x"><testcase name="a" classname="A"/></testsuite>')
    (tmp_path / "node_modules").mkdir()
    (tmp_path / "node_modules" / "junit.xml").write_text("<testsuite/>")
    scanner = ReportScanner(tmp_path, ("**/junit*.xml", "**/TEST-*.xml"))
    assert scanner.scan() == []  # reports that were there before are history
    (tmp_path / "junit.xml").write_text('<testsuites><testsuite name="s"><testcase name="b"/></testsuite></testsuites>')
    (tmp_path / "node_modules" / "junit2.xml").write_text("<testsuite/>")
    (tmp_path / "other.xml").write_text("<testsuite/>")
    found = scanner.scan()
    assert [(r.path, [t["test_id"] for t in r.payload["tests"]]) for r in found] == [("junit.xml", ["b"])]
    assert scanner.scan() == []
    old.write_text('<testsuite name="x"><testcase name="a" classname="A"><failure/></testcase></testsuite>')
    assert [r.path for r in scanner.scan()] == ["build/junit-old.xml"]


@pytest.mark.slow
async def test_fail_to_pass_is_linked_to_the_edits_between_runs(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", files={"calc.py": CALC, "test_calc.py": TESTS})
    data = tmp_path / "data"
    env = sidecar_env(data, junit_poll_seconds=0.2, junit_globs=".smartco/test-results/*.xml,out/*-results.xml")
    async with sidecar(repo, env, options={"idle_seconds": 0.2}) as client:
        await until(lambda: spooled_kind(data, "session.started"))
        run_pytest(repo)
        first = (await until(lambda: spooled_kind(data, "test.run")))[0]
        doc = open_document(client, repo / "calc.py")
        edit(client, doc, 2, change(1, 13, 1, 14, "+"))
        fixed = "def add(a, b):\n    return a + b\n"
        (repo / "calc.py").write_text(fixed)
        save(client, doc, fixed)
        episode = (await until(lambda: spooled_kind(data, "document.changed")))[0]
        run_pytest(repo)
        second = (await until(lambda: spooled_kind(data, "test.run")[1:]))[0]
        run_pytest(repo, "--junitxml=reports/junit-unit.xml", "--no-smartco-report")  # not a glob of this session
        run_pytest(repo, "--junitxml=out/unit-results.xml", "--no-smartco-report")
        third = (await until(lambda: spooled_kind(data, "test.run")[2:]))[0]
    assert len(spooled_kind(data, "test.run")) == 3  # reports/junit-unit.xml matches none of the globs set
    for event in (first, second, third):
        parse_event(event)
    one, two, three = first["payload"], second["payload"], third["payload"]
    assert (one["passed"], one["failed"], one["skipped"]) == (1, 1, 1) and one["framework"] == "pytest"
    assert first["path"].startswith(".smartco/test-results/pytest-") and one["git_head"]
    assert one.get("previous_run_id") is None and one["fixed"] == [] and one["broken"] == []
    assert (two["passed"], two["failed"]) == (2, 0)
    assert two["previous_run_id"] == first["id"] and two["fixed"] == ["test_calc.py::test_add"]
    assert two["edits_since_previous"] == [episode["id"]]  # the edit that made the test pass
    assert third["path"] == "out/unit-results.xml" and three["previous_run_id"] == second["id"]
    assert {t["test_id"] for t in three["tests"]} == {
        "test_calc.test_add",
        "test_calc.test_zero",
        "test_calc.test_skip",
    }
    assert three["edits_since_previous"] == [] and three["fixed"] == []
