"""Finding codes are one enum, `FindingCode`: the README's findings table is its rendering,
and every code the audit can produce is a member, at the member's severity."""

from __future__ import annotations

import ast
import json
import pickle
import re

import events_async
from events_async import EventsClient, audit
from events_async.audit import AuditReport, Finding, FindingCode, Severity, audit_account
from events_async.testing import FakeEventsServer, Fault
from events_async.testing.demo import seed_demo_account

from ..support import ROOT

PACKAGE = ROOT / "events_async"
TABLE_HEADER = "| code | severity | description |\n|---|---|---|\n"


def _readme_table() -> list[tuple[str, str, str]]:
    """The rows of the README's findings table (in the Audit section), as written."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("\n## Audit\n") :]
    section = section[: section.find("\n## ", 1)]
    assert section.count(TABLE_HEADER) == 1, "the Audit section has one findings table"
    body = section[section.index(TABLE_HEADER) + len(TABLE_HEADER) :].split("\n\n")[0]
    rows = []
    for line in body.splitlines():
        match = re.fullmatch(r"\| `(\w+)` \| (\w+) \| (.+) \|", line)
        assert match, f"not a findings row: {line!r}"
        rows.append((match[1], match[2], match[3]))
    return rows


def test_the_readme_table_is_the_rendering_of_the_enum() -> None:
    expected = [(c.value, c.severity.value, c.description) for c in FindingCode]
    assert _readme_table() == expected  # every code, in order, with its severity and text


def test_each_member_is_its_name_with_a_severity_and_a_one_line_description() -> None:
    assert len(FindingCode) >= 12
    for code in FindingCode:
        assert code.value == code.name
        assert isinstance(code.severity, Severity)
        assert code.description
        assert "\n" not in code.description
        assert "|" not in code.description  # it must fit a table cell
        assert FindingCode(code.value) is code
        assert f"- {code} ({code.severity}): {code.description}" in str(FindingCode.__doc__)


def test_a_member_is_its_string_wherever_a_string_was() -> None:
    code = FindingCode.SINK_NOT_VALIDATED
    assert code == "SINK_NOT_VALIDATED"
    assert isinstance(code, str)
    assert hash(code) == hash("SINK_NOT_VALIDATED")
    assert {"SINK_NOT_VALIDATED": 1}[code] == 1
    assert str(code) == f"{code}" == "SINK_NOT_VALIDATED"
    assert json.dumps({"code": code}) == '{"code": "SINK_NOT_VALIDATED"}'
    assert pickle.loads(pickle.dumps(code)) is code
    # A finding made with the bare string equals one made with the member.
    assert Finding(Severity.WARNING, code, "DG1", "m") == Finding(
        Severity.WARNING, "SINK_NOT_VALIDATED", "DG1", "m"
    )


def test_finding_code_is_a_public_name() -> None:
    assert "FindingCode" in set(events_async.__all__) & set(audit.__all__)
    assert events_async.FindingCode is audit.FindingCode is FindingCode
    assert FindingCode.__module__ == "events_async.audit"  # what help() and pickle name


# --- every code the audit can produce is a member ------------------------------------------


def _code_arguments() -> list[tuple[str, ast.expr]]:
    """The code argument of every `Finding(...)` and `make_finding(...)` in the package
    (but the one inside `make_finding`, which passes its own on), with where it is."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        passing_on = {
            id(inner)
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef) and node.name == "make_finding"
            for inner in ast.walk(node)
        }
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
                continue
            if id(node) in passing_on:
                continue
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            keywords = {k.arg: k.value for k in node.keywords}
            if node.func.id == "Finding":
                argument = node.args[1] if len(node.args) > 1 else keywords.get("code")
            elif node.func.id == "make_finding":
                argument = node.args[0] if node.args else keywords.get("code")
            else:
                continue
            assert argument is not None, where
            found.append((where, argument))
    return found


def _is_member(argument: ast.expr) -> bool:
    if isinstance(argument, ast.Attribute) and isinstance(argument.value, ast.Name):
        return argument.value.id == "FindingCode" and argument.attr in FindingCode.__members__
    if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
        return argument.value in FindingCode.__members__  # a bare string left elsewhere
    return False


def test_every_code_written_in_the_package_is_a_member() -> None:
    arguments = _code_arguments()
    assert len(arguments) >= 13, arguments  # the rules' eleven and the audit's two
    assert [where for where, argument in arguments if not _is_member(argument)] == []


def _codes(report: AuditReport) -> set[str]:
    for finding in report.findings:
        assert isinstance(finding.code, FindingCode), finding
        assert finding.severity is finding.code.severity, finding
    return {f.code for f in report.findings}


async def test_every_code_the_audit_produces_is_a_member_and_every_member_is_produced() -> None:
    async with FakeEventsServer() as fake, fake.client(max_retries=0) as client:
        seed_demo_account(fake.account)
        produced = _codes(await audit_account(client))
        fake.inject(Fault("GET /v1/Sinks", status=500, times=1))
        produced |= _codes(await audit_account(client))
        async with EventsClient(fake.account.sid, "wrong", base_url=fake.url) as stranger:
            produced |= _codes(await audit_account(stranger))
    assert produced == set(FindingCode)
