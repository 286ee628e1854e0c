"""The users' tests in examples/testing/ (a `MockTransport` one and an in-process fake one):
each passes under pytest in a project with no asyncio configuration, and the README shows
each as it is."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .processes import CLEAN

ROOT = Path(__file__).parent.parent
USERS_TESTS = sorted((ROOT / "examples" / "testing").glob("test_*.py"))


def test_both_users_tests_are_there() -> None:
    assert [p.name for p in USERS_TESTS] == [
        "test_with_inprocess_fake.py",
        "test_with_mock_transport.py",
    ]


@pytest.mark.parametrize("example", USERS_TESTS, ids=lambda p: p.name)
def test_the_readme_shows_the_users_test_as_it_is(example: Path) -> None:
    assert example.read_text() in (ROOT / "README.md").read_text()


@pytest.mark.parametrize("example", USERS_TESTS, ids=lambda p: p.name)
def test_the_users_test_passes_in_a_project_with_no_asyncio_configuration(
    example: Path, tmp_path: Path
) -> None:
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
    )
    (tmp_path / example.name).write_text(example.read_text())
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=CLEAN,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
