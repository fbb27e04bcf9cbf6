"""CI runs exactly the README's test line, and says why tests were skipped."""

from __future__ import annotations

from tests.conftest import REPO


def test_ci_runs_the_readme_test_line_and_reports_skips():
    readme = (REPO / "README.md").read_text().split("```sh\n", 1)[1].split("```", 1)[0]
    test_line = readme.splitlines()[1]
    ci_lines = (REPO / ".ci" / "run").read_text().splitlines()
    assert ci_lines[-1] == test_line
    assert test_line.endswith(".venv/bin/pytest -q -rs")
