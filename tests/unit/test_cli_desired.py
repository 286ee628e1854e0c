"""`events-async plan`, `apply` and `export`, in process against a fake on a thread: the
diff, the exit statuses, saved plans, secrets, fleets, `{friendly_name}`, 80 columns."""

from __future__ import annotations

import io
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from events_async._text import KEEP
from events_async.cli import main
from events_async.cli.plan_render import Totals
from events_async.desired import AccountResult, Plan
from events_async.fleet import shard_number
from events_async.testing import FakeAccount, FakeEventsServer, Fault

from ..support import ROOT
from .test_cli_fleet import ThreadedFake, csv_of
from .test_cli_width import assert_reads_at, on_terminal

DELIVERED = "com.twilio.messaging.message.delivered"
FAILED = "com.twilio.messaging.message.failed"
README = ROOT / "README.md"
SECTION = README.read_text().split("\n## Event Streams as code\n")[1].split("\n## ")[0]
FILE = re.findall(r"```toml\n(.*?)```", SECTION, flags=re.DOTALL)[0]
"""The README's example file ("Event Streams as code"): what these tests plan and apply."""
SECRET = "hunter2-write-key"
SEGMENT = """
[[sink]]
description = "analytics"
type = "segment"
write_key = { env = "SEGMENT_WRITE_KEY" }
"""


class Fake(ThreadedFake):
    """`ThreadedFake` with the fake's own options."""

    def __init__(self, **options: Any) -> None:
        super().__init__()
        self.fake = FakeEventsServer(**options)


@pytest.fixture
def fake() -> Iterator[FakeEventsServer]:
    with Fake() as served:
        yield served


@pytest.fixture
def streams(tmp_path: Path) -> Path:
    path = tmp_path / "streams.toml"
    path.write_text(FILE)
    return path


def credentials(fake: FakeEventsServer, account: FakeAccount | None = None) -> list[str]:
    account = account or fake.account
    return ["--base-url", fake.url, "--account-sid", account.sid,
            "--auth-token", account.auth_token, "--max-retries", "0"]  # fmt: skip


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def writes(fake: FakeEventsServer) -> int:
    return fake.request_count("POST *") + fake.request_count("DELETE *")


def json_lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines()]


# --- plan -----------------------------------------------------------------------------------


def test_plan_shows_each_change_with_its_symbol_and_a_closing_line(
    fake: FakeEventsServer, streams: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = cli(capsys, "plan", "-f", str(streams), *credentials(fake))

    assert status == 0, err
    lines = out.splitlines()
    assert lines[0] == f"Account {fake.account.sid}: 2 changes"
    assert lines[1] == '  + sink "orders webhook" (webhook)'
    assert f'    destination = "https://hooks.example.com/twilio/{fake.account.sid}"' in lines
    assert (
        '  + subscription "delivery receipts" on the new sink "orders webhook": '
        f"{DELIVERED} (latest), {FAILED} v2"
    ) in lines
    assert lines[-1] == "1 account: 1 to change (2 changes), 0 unchanged, 0 failed"
    assert writes(fake) == 0


def test_detailed_exitcode_is_2_with_changes_then_0_once_applied(
    fake: FakeEventsServer, streams: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = ["plan", "-f", str(streams), "--detailed-exitcode", *credentials(fake)]
    assert cli(capsys, *plan)[0] == 2
    assert cli(capsys, "plan", "-f", str(streams), *credentials(fake))[0] == 0  # without it
    status, out, _ = cli(capsys, "apply", "-f", str(streams), "--yes", *credentials(fake))
    assert status == 0
    assert out.splitlines()[-1] == "1 account: 1 changed (2 changes made), 0 unchanged, 0 failed"

    status, out, _ = cli(capsys, *plan)

    assert status == 0
    assert out.splitlines()[0] == f"Account {fake.account.sid}: no changes"


def test_detailed_exitcode_is_1_when_an_account_fails_though_others_change(
    fake: FakeEventsServer, streams: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    accounts = [fake.add_subaccount(), fake.add_subaccount()]
    (tmp_path / "fleet.csv").write_text(csv_of(accounts))
    accounts[1].auth_token = "rotated since the file was written"

    status, out, err = cli(
        capsys, "plan", "-f", str(streams), "--accounts", str(tmp_path / "fleet.csv"),
        "--detailed-exitcode", *credentials(fake),
    )  # fmt: skip

    assert status == 1, err
    assert out.splitlines()[-1] == "2 accounts: 1 to change (2 changes), 0 unchanged, 1 failed"
    assert f"Account {accounts[1].sid}: failed" in out


def test_plan_without_detailed_exitcode_is_1_when_an_account_fails_and_0_only_for_success(
    fake: FakeEventsServer, streams: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    accounts = [fake.add_subaccount(), fake.add_subaccount()]
    (tmp_path / "fleet.csv").write_text(csv_of(accounts))
    fleet = ["plan", "-f", str(streams), "--accounts", str(tmp_path / "fleet.csv")]
    assert cli(capsys, *fleet, *credentials(fake))[0] == 0
    accounts[1].auth_token = "rotated since the file was written"

    status, out, _ = cli(capsys, *fleet, *credentials(fake))

    assert status == 1  # as Terraform: any error is 1, with changes or without
    assert out.splitlines()[-1] == "2 accounts: 1 to change (2 changes), 0 unchanged, 1 failed"
    fake.inject(Fault(route="GET /v1/Sinks", status=500, times=None, account=fake.account.sid))
    status, out, _ = cli(capsys, "plan", "-f", str(streams), *credentials(fake))
    assert (status, out.splitlines()[0]) == (1, f"Account {fake.account.sid}: failed")


def test_a_usage_error_is_1_with_detailed_exitcode_since_2_means_changes(
    fake: FakeEventsServer, streams: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = cli(
        capsys, "plan", "-f", str(streams), "--shard", "1/2", "--detailed-exitcode",
        *credentials(fake),
    )  # fmt: skip
    assert status == 1
    assert err == "events-async: error: --shard needs --subaccounts or --accounts\n"
    assert cli(capsys, "plan", "-f", str(streams), "--shard", "1/2", *credentials(fake))[0] == 2


def test_a_bad_file_is_one_line_naming_its_key_path_before_any_request(
    fake: FakeEventsServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(FILE.replace("schema_version = 2", "schema_version = 0"))
    for command in (["plan"], ["apply", "--yes"]):
        status, out, err = cli(capsys, *command, "-f", str(bad), *credentials(fake))
        assert (status, out) == (1, "")
        assert err == (
            f"events-async: error: {bad}: subscription[0].types[1].schema_version: "
            "must be a whole number, 1 or more\n"
        )
    assert fake.request_count("*") == 0


def test_a_secret_not_set_or_empty_is_the_files_error_before_any_account(
    fake: FakeEventsServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secret = tmp_path / "secret.toml"
    secret.write_text(
        '[[sink]]\ndescription = "seg"\ntype = "segment"\nwrite_key = { env = "SEG_KEY" }\n'
    )
    for value in (None, " "):
        if value is None:
            monkeypatch.delenv("SEG_KEY", raising=False)
        else:
            monkeypatch.setenv("SEG_KEY", value)
        status, out, err = cli(capsys, "plan", "-f", str(secret), *credentials(fake))
        told = "is not set" if value is None else "is empty"
        assert (status, out) == (1, "")
        assert err == f"events-async: error: {secret}: sink[0].write_key: $SEG_KEY {told}\n"
    assert fake.request_count("*") == 0


def test_a_missing_file_and_a_toml_error_are_one_line_too(
    fake: FakeEventsServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = cli(capsys, "plan", "-f", str(tmp_path / "none.toml"), *credentials(fake))
    assert status == 1
    assert err.startswith(f"events-async: error: {tmp_path / 'none.toml'}: cannot be read")
    (tmp_path / "broken.toml").write_text("[[sink]\n")
    status, _, err = cli(capsys, "plan", "-f", str(tmp_path / "broken.toml"), *credentials(fake))
    assert status == 1
    assert err.startswith(f"events-async: error: {tmp_path / 'broken.toml'}: line 1: ")
    assert "Traceback" not in err


def test_json_streams_one_plan_line_per_account_and_nothing_else(
    fake: FakeEventsServer, streams: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    accounts = [fake.add_subaccount() for _ in range(3)]
    (tmp_path / "fleet.csv").write_text(csv_of(accounts))

    status, out, err = cli(
        capsys, "plan", "-f", str(streams), "--accounts", str(tmp_path / "fleet.csv"),
        "--json", *credentials(fake),
    )  # fmt: skip

    assert status == 0, err
    lines = json_lines(out)
    assert [line["schema"] for line in lines] == ["events_async.plan/1"] * 3
    assert sorted(line["account_sid"] for line in lines) == sorted(a.sid for a in accounts)
    assert [c["symbol"] for c in lines[0]["changes"]] == ["+", "+"]


def test_secrets_are_masked_in_the_diff_the_json_and_the_saved_plan(
    fake: FakeEventsServer, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv("SEGMENT_WRITE_KEY", SECRET)
    (tmp_path / "s.toml").write_text(SEGMENT)
    saved = tmp_path / "plan.jsonl"
    base = ["plan", "-f", str(tmp_path / "s.toml"), *credentials(fake)]

    _, out, _ = cli(capsys, *base, "--out", str(saved))
    _, as_json, _ = cli(capsys, *base, "--json")

    assert '    write_key = "***"' in out.splitlines()
    assert json.loads(as_json)["changes"][0]["configuration"] == {"write_key": "***"}
    assert SECRET not in out + as_json + saved.read_text()


def test_a_replaced_sink_shows_create_replacing_then_delete(
    fake: FakeEventsServer, streams: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(capsys, "apply", "-f", str(streams), "--yes", *credentials(fake))[0] == 0
    old = next(iter(fake.account.sinks.values())).sid
    streams.write_text(FILE.replace("hooks.example.com", "hooks2.example.com"))

    _, out, _ = cli(capsys, "plan", "-f", str(streams), *credentials(fake))

    symbols = [line.split()[0] for line in out.splitlines()[1:] if line.startswith("  ")]
    assert [s for s in symbols if s in ("+", "-", "~", "-/+")] == ["-/+", "-/+", "-", "-"]
    assert f'  -/+ sink "orders webhook" (webhook), replacing {old}' in out.splitlines()
    assert f"  - sink \"orders webhook\" ({old}): replaced by the new 'orders webhook'" in out


def test_unmanaged_resources_are_listed_and_pruned_only_with_prune(
    fake: FakeEventsServer, streams: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spare = fake.account.create_sink("spare", "segment", '{"write_key": "k"}')

    _, out, _ = cli(capsys, "plan", "-f", str(streams), *credentials(fake))
    assert "  unmanaged (not in the file; left alone without --prune):" in out
    assert f"    sink {spare.sid} (spare)" in out.splitlines()

    _, out, _ = cli(capsys, "plan", "-f", str(streams), "--prune", *credentials(fake))
    assert f'  - sink "spare" ({spare.sid}): not in the file (--prune)' in out.splitlines()
    assert cli(capsys, "apply", "-f", str(streams), "--prune", "--yes", *credentials(fake))[0] == 0
    assert spare.sid not in fake.account.sinks


def test_an_ambiguous_account_is_reported_untouched_and_fails(
    fake: FakeEventsServer, streams: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for _ in range(2):
        fake.account.create_sink("orders webhook", "segment", '{"write_key": "k"}')

    status, out, _ = cli(capsys, "apply", "-f", str(streams), "--yes", *credentials(fake))

    assert status == 1
    assert f"Account {fake.account.sid}: ambiguous: not touched" in out
    assert (
        "  ambiguous: 2 sinks are described 'orders webhook' (this account is not touched)" in out
    )
    assert writes(fake) == 0


# --- apply ----------------------------------------------------------------------------------


def test_apply_without_yes_where_it_cannot_ask_writes_nothing_and_exits_2(
    fake: FakeEventsServer, streams: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\n"))  # not a terminal

    status, out, err = cli(capsys, "apply", "-f", str(streams), *credentials(fake))

    assert (status, out) == (2, "")
    assert err.startswith("events-async: error: apply needs --yes when stdin is not a terminal")
    assert len(err.splitlines()) == 1
    assert fake.request_count("*") == 0


class _Keyboard(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("answer", "status", "made"), [("y\n", 0, 2), ("n\n", 1, 0), ("", 1, 0)])
def test_on_a_terminal_apply_shows_the_plan_and_asks(
    fake: FakeEventsServer, streams: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch, answer: str, status: int, made: int,
) -> None:  # fmt: skip
    monkeypatch.setattr(sys, "stdin", _Keyboard(answer))

    done, out, err = cli(capsys, "apply", "-f", str(streams), *credentials(fake))

    assert done == status, err
    assert err.startswith("Apply these changes? [y/N] ")
    assert out.startswith(f"Account {fake.account.sid}: 2 changes\n")
    assert writes(fake) == made
    if not made:
        assert "apply cancelled: nothing was written" in err


def test_a_yes_on_a_terminal_applies_the_fleets_accounts_with_changes_and_only_those(
    fake: FakeEventsServer, streams: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:  # fmt: skip
    converged, changing = fake.add_subaccount(), fake.add_subaccount()
    (tmp_path / "one.csv").write_text(csv_of([converged]))
    (tmp_path / "fleet.csv").write_text(csv_of([converged, changing]))
    apply = ["apply", "-f", str(streams), *credentials(fake)]
    assert cli(capsys, *apply, "--accounts", str(tmp_path / "one.csv"), "--yes")[0] == 0
    monkeypatch.setattr(sys, "stdin", _Keyboard("yes\n"))
    reads = fake.request_count("GET /v1/Sinks")

    status, out, err = cli(capsys, *apply, "--accounts", str(tmp_path / "fleet.csv"))

    assert status == 0, err
    assert out.splitlines()[-1] == "1 account: 1 changed (2 changes made), 0 unchanged, 0 failed"
    assert len(changing.sinks) == 1
    assert fake.request_count("GET /v1/Sinks") == reads + 3  # two plans, one apply


def test_a_saved_plan_is_applied_without_asking(
    fake: FakeEventsServer, streams: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:  # fmt: skip
    saved = tmp_path / "plan.jsonl"
    assert cli(capsys, "plan", "-f", str(streams), "--out", str(saved), *credentials(fake))[0] == 0
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))

    status, out, err = cli(capsys, "apply", str(saved), "-f", str(streams), *credentials(fake))

    assert status == 0, err
    assert "Apply these changes" not in err
    assert out.splitlines()[0] == f"Account {fake.account.sid}: 2 changes made"


def test_a_saved_plan_the_account_moved_away_from_is_refused_with_nothing_written(
    fake: FakeEventsServer, streams: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    saved = tmp_path / "plan.jsonl"
    cli(capsys, "plan", "-f", str(streams), "--out", str(saved), *credentials(fake))
    fake.account.create_sink("made by hand", "segment", '{"write_key": "k"}')
    before = writes(fake)

    status, out, _ = cli(capsys, "apply", str(saved), "-f", str(streams), *credentials(fake))

    assert status == 1
    assert f"Account {fake.account.sid}: stale: not applied" in out
    assert "changed since the plan was made" in out
    assert writes(fake) == before


def test_a_saved_plans_accounts_not_selected_are_named_not_written_and_exit_1(
    fake: FakeEventsServer, streams: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The selected accounts the plan names are applied, each on its own fingerprint; the
    plan's others are named on stderr, untouched, and the status is 1."""
    first, second = fake.add_subaccount(), fake.add_subaccount()
    (tmp_path / "fleet.csv").write_text(csv_of([first, second]))
    (tmp_path / "one.csv").write_text(csv_of([first]))
    saved = str(tmp_path / "plan.jsonl")
    plan = ["plan", "-f", str(streams), "--out", saved, *credentials(fake)]
    assert cli(capsys, *plan, "--accounts", str(tmp_path / "fleet.csv"))[0] == 0
    apply = ["apply", saved, "-f", str(streams), *credentials(fake)]

    status, out, err = cli(capsys, *apply, "--accounts", str(tmp_path / "one.csv"))

    assert status == 1
    assert out.splitlines()[-1] == "1 account: 1 changed (2 changes made), 0 unchanged, 0 failed"
    assert err == (
        "events-async: error: 1 account of the saved plan not among those selected, not "
        f"applied: {second.sid}\n"
    )
    assert (len(first.sinks), len(second.sinks)) == (1, 0)

    before = writes(fake)
    status, out, err = cli(capsys, *apply)  # the parent: not in the plan at all

    assert status == 1
    assert f"Account {fake.account.sid}: failed" in out
    assert "the saved plan has no plan for this account" in out
    assert "2 accounts of the saved plan not among those selected, not applied: " in err
    assert writes(fake) == before


def test_a_saved_plan_of_the_whole_fleet_applied_shard_by_shard_misses_no_account(
    fake: FakeEventsServer, streams: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    accounts = [fake.add_subaccount() for _ in range(2)]
    while len({shard_number(a.sid, 2) for a in accounts}) < 2:
        accounts.append(fake.add_subaccount())
    (tmp_path / "fleet.csv").write_text(csv_of(accounts))
    fleet = ["-f", str(streams), "--accounts", str(tmp_path / "fleet.csv"), *credentials(fake)]
    saved = str(tmp_path / "plan.jsonl")
    assert cli(capsys, "plan", *fleet, "--out", saved)[0] == 0

    for index in (1, 2):
        status, _, err = cli(capsys, "apply", saved, *fleet, "--shard", f"{index}/2")
        assert (status, err) == (0, "")
        assert all(len(a.sinks) == 1 for a in accounts if shard_number(a.sid, 2) <= index)
    assert all(len(a.sinks) == 1 for a in accounts)


def test_a_saved_plan_that_is_not_one_is_one_line_and_1(
    fake: FakeEventsServer, streams: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "plan.jsonl").write_text('{"schema": "events_async.audit/1"}\n')
    status, _, err = cli(
        capsys, "apply", str(tmp_path / "plan.jsonl"), "-f", str(streams), *credentials(fake)
    )
    assert status == 1
    assert err == (
        f"events-async: error: {tmp_path / 'plan.jsonl'}, line 1: not a events_async.plan/1 line\n"
    )


def test_a_sink_awaiting_validation_is_reported_with_the_command_that_finishes_it(
    streams: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Fake(webhooks_start_active=False) as fake:
        status, out, _ = cli(capsys, "apply", "-f", str(streams), "--yes", *credentials(fake))
        (sink,) = fake.account.sinks.values()

    assert status == 0
    assert f"events-async sinks validate {sink.sid} --test-id ID" in out


KINESIS = """
[[sink]]
description = "event stream"
type = "kinesis"
arn = "arn:aws:kinesis:us-east-1:111122223333:stream/twilio-events"
role_arn = "arn:aws:iam::111122223333:role/twilio-events"
external_id = "ext-123"

[[subscription]]
description = "delivery receipts"
sink = "event stream"
types = ["com.twilio.messaging.message.delivered"]
"""
"""A Kinesis sink, which Twilio (and the fake) leaves `initialized` until validated."""


def test_a_kinesis_sinks_subscription_waits_for_its_validation_and_each_plan_says_so(
    fake: FakeEventsServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "k.toml").write_text(KINESIS)
    file = ["-f", str(tmp_path / "k.toml"), *credentials(fake)]

    status, out, err = cli(capsys, "apply", *file, "--yes")

    assert status == 0, err
    (sink,) = fake.account.sinks.values()
    assert (sink.sink_type, fake.account.subscriptions) == ("kinesis", {})
    assert sink.status == "validating"  # sent a test event, not validated yet
    lines = out.splitlines()
    assert lines[0] == f"Account {fake.account.sid}: 1 change made"
    assert '  + sink "event stream" (kinesis)' in lines
    waits = lines.index("  waiting for a sink's validation (1 change):")
    assert lines[waits + 1] == (
        '    + subscription "delivery receipts" on the new sink "event stream": '
        f"{DELIVERED} (latest)"
    )
    assert f"    events-async sinks validate {sink.sid} --test-id ID" in lines
    assert lines[-1] == "1 account: 1 changed (1 change made), 0 unchanged, 0 failed"

    status, out, _ = cli(capsys, "plan", *file, "--detailed-exitcode")

    waiting = [
        f"sink {sink.sid} (event stream) is validating: it delivers nothing until it is validated",
        f"subscription 'delivery receipts' waits for sink {sink.sid}'s validation",
    ]
    assert status == 2  # not yet what the file says: drift
    assert out.splitlines() == [
        f"Account {fake.account.sid}: waiting for a sink's validation",
        *(f"  waiting: {line}" for line in waiting),
        "",
        "1 account: 0 to change (0 changes), 1 waiting for validation, 0 unchanged, 0 failed",
    ]
    assert cli(capsys, "plan", *file)[0] == 0  # without --detailed-exitcode: not an error
    assert json_lines(cli(capsys, "plan", *file, "--json")[1])[0]["waiting"] == waiting

    validate = ["sinks", "validate", sink.sid, "--test-id", fake.test_id(sink.sid)]
    assert cli(capsys, *validate, *credentials(fake))[0] == 0  # the command it printed
    status, out, _ = cli(capsys, "apply", *file, "--yes")
    assert (status, out.splitlines()[0]) == (0, f"Account {fake.account.sid}: 1 change made")
    assert cli(capsys, "plan", *file, "--detailed-exitcode")[0] == 0


def test_a_sink_replaced_by_a_kinesis_one_is_kept_until_it_is_validated(
    fake: FakeEventsServer, streams: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    account = fake.add_subaccount()
    (tmp_path / "fleet.csv").write_text(csv_of([account]))
    fleet = ["--accounts", str(tmp_path / "fleet.csv"), *credentials(fake)]
    assert cli(capsys, "apply", "-f", str(streams), "--yes", *fleet)[0] == 0
    (old,) = account.sinks
    kinesis = KINESIS.split("[[subscription]]")[0].replace("event stream", "orders webhook")
    streams.write_text(kinesis + FILE[FILE.index("[[subscription]]") :])

    status, out, err = cli(capsys, "apply", "-f", str(streams), "--yes", *fleet)

    assert status == 0, err
    (new,) = set(account.sinks) - {old}
    lines = out.splitlines()
    assert lines[0] == f"Account {account.sid}: 1 change made"
    assert "  waiting for a sink's validation (3 changes):" in lines
    assert f"    events-async sinks validate {new} --test-id ID" in lines
    assert len(account.subscriptions) == 1  # still on the old sink, still delivering

    status, out, _ = cli(capsys, "plan", "-f", str(streams), "--detailed-exitcode", *fleet)

    assert status == 2
    assert f"  waiting: sink {old} is kept until its replacement {new} is validated" in out
    assert "  waiting: subscription 'delivery receipts' waits for sink " in out
    assert old in account.sinks


def test_apply_json_is_a_line_per_account_and_needs_yes(
    fake: FakeEventsServer, streams: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setattr(sys, "stdin", _Keyboard(""))
    status, _, err = cli(capsys, "apply", "-f", str(streams), "--json", *credentials(fake))
    assert status == 2
    assert "needs --yes" in err

    status, out, _ = cli(capsys, "apply", "-f", str(streams), "--json", "-y", *credentials(fake))

    (line,) = json_lines(out)
    assert (status, line["schema"], line["made"]) == (0, "events_async.apply/1", 2)


def test_apply_over_a_fleet_goes_on_past_a_failing_account(
    fake: FakeEventsServer, streams: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    accounts = [fake.add_subaccount() for _ in range(3)]
    fake.inject(Fault(route="POST /v1/Sinks", status=500, times=None, account=accounts[0].sid))
    (tmp_path / "fleet.csv").write_text(csv_of(accounts))

    status, out, _ = cli(
        capsys, "apply", "-f", str(streams), "--accounts", str(tmp_path / "fleet.csv"), "--yes",
        "--max-in-flight", "4", "--accounts-at-once", "2", *credentials(fake),
    )  # fmt: skip

    assert status == 1
    assert out.splitlines()[-1] == "3 accounts: 2 changed (4 changes made), 0 unchanged, 1 failed"
    assert all(len(a.sinks) == 1 for a in accounts[1:])


# --- {friendly_name}, export ----------------------------------------------------------------


def test_one_accounts_friendly_name_is_read_from_the_accounts_api(
    fake: FakeEventsServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "f.toml").write_text(FILE.replace('"orders webhook"', '"{friendly_name} hook"'))

    status, out, err = cli(
        capsys, "plan", "-f", str(tmp_path / "f.toml"), "--accounts-url", fake.url,
        *credentials(fake),
    )  # fmt: skip

    assert status == 0, err
    assert f'  + sink "{fake.account.friendly_name} hook" (webhook)' in out.splitlines()


def test_a_friendly_name_that_cannot_be_read_is_a_clear_error(
    fake: FakeEventsServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "f.toml").write_text(FILE.replace('"orders webhook"', '"{friendly_name} hook"'))
    fake.inject(Fault(route="GET /2010-04-01/Accounts.json", status=500, times=None))

    status, out, err = cli(
        capsys, "plan", "-f", str(tmp_path / "f.toml"), "--accounts-url", fake.url,
        *credentials(fake),
    )  # fmt: skip

    assert (status, out) == (1, "")
    assert err.startswith(
        "events-async: error: {friendly_name} is used, but the account's friendly name "
        "could not be read: "
    )
    assert len(err.splitlines()) == 1


def test_export_then_plan_shows_no_changes(
    fake: FakeEventsServer, streams: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    cli(capsys, "apply", "-f", str(streams), "--yes", *credentials(fake))
    status, exported, _ = cli(capsys, "export", *credentials(fake))
    assert status == 0
    (tmp_path / "exported.toml").write_text(exported)

    status, out, _ = cli(
        capsys, "plan", "-f", str(tmp_path / "exported.toml"), "--detailed-exitcode",
        *credentials(fake),
    )  # fmt: skip

    assert status == 0, out


def test_a_fleets_export_needs_out_dir_and_writes_a_file_per_account(
    fake: FakeEventsServer, streams: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    accounts = [fake.add_subaccount() for _ in range(2)]
    (tmp_path / "fleet.csv").write_text(csv_of(accounts))
    fleet = ["--accounts", str(tmp_path / "fleet.csv"), *credentials(fake)]
    status, out, err = cli(capsys, "export", *fleet)
    assert (status, out) == (2, "")
    assert "--out-dir DIR" in err

    status, out, _ = cli(capsys, "export", *fleet, "--out-dir", str(tmp_path / "out"))

    assert status == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        f"{a.sid}.toml" for a in accounts
    )
    assert out.splitlines()[-1] == f"2 accounts exported to {tmp_path / 'out'}, 0 failed"


def test_an_out_that_cannot_be_written_is_74_before_any_request(
    fake: FakeEventsServer, streams: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = str(tmp_path / "no" / "such" / "plan.jsonl")
    status, _, err = cli(capsys, "plan", "-f", str(streams), "--out", out, *credentials(fake))
    assert status == 74
    assert err.startswith(f"events-async: error: cannot write --out {out}: ")
    assert fake.request_count("*") == 0


# --- what people read -----------------------------------------------------------------------


def test_the_diff_reads_at_80_columns(
    fake: FakeEventsServer, streams: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.account.create_sink(
        "a spare sink, its description long " * 3, "segment", '{"write_key": "k"}'
    )
    args = ["plan", "-f", str(streams), *credentials(fake)]

    text = on_terminal(monkeypatch, 80, args)

    assert max(len(line) for line in text.splitlines()) <= 80
    assert f"{DELIVERED} (latest)," in text  # a type's name and version stay together
    assert "1 account: 1 to change (2 changes), 0 unchanged, 0 failed" in text


ARN = "arn:aws:kinesis:eu-west-1:111122223333:stream/twilio-events-of-the-storefronts"
LONG = """
[[sink]]
description = "the orders webhook of every storefront in the European region"
type = "webhook"
destination = "https://hooks.example.com/eu/{account_sid}"

[[sink]]
description = "the event stream of every storefront in the European region"
type = "kinesis"
arn = "{ARN}"
role_arn = "arn:aws:iam::111122223333:role/twilio-events"
external_id = "ext-123"

[[subscription]]
description = "delivery receipts and failures of the storefronts' messages"
sink = "the orders webhook of every storefront in the European region"
types = ["com.twilio.messaging.message.delivered",
         { type = "com.twilio.messaging.message.failed", schema_version = 2 }]

[[subscription]]
description = "the same receipts, streamed to the storefronts' data lake"
sink = "the event stream of every storefront in the European region"
types = ["com.twilio.messaging.message.delivered", "com.twilio.messaging.message.failed"]
""".replace("{ARN}", ARN)
"""Descriptions, destinations and subscription lines longer than 80 columns; an ARN longer
than a line."""


def test_plan_apply_and_export_wrap_every_line_at_80_columns_never_cut(
    fake: FakeEventsServer, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    (tmp_path / "long.toml").write_text(LONG)
    file = ["-f", str(tmp_path / "long.toml"), *credentials(fake)]
    piped = cli(capsys, "plan", *file)[1]  # in a pipe: one line each, the words to keep
    assert max(len(line) for line in piped.splitlines()) > 100

    planned = on_terminal(monkeypatch, 80, ["plan", *file])
    applied = on_terminal(monkeypatch, 80, ["apply", "--yes", *file])
    waiting = on_terminal(monkeypatch, 80, ["plan", *file])
    exported = on_terminal(
        monkeypatch, 80, ["export", "--out-dir", str(tmp_path), *credentials(fake)]
    )

    (kinesis,) = (s.sid for s in fake.account.sinks.values() if s.sink_type == "kinesis")
    assert_reads_at(80, planned, [line for line in piped.splitlines() if ARN not in line])
    assert '        "https://hooks.example.com/eu/' in planned  # a word that fits a line: whole
    assert ARN in "".join(line.strip() for line in planned.splitlines())  # longer: split
    assert_reads_at(80, applied, [
        'subscription "the same receipts, streamed to the storefronts\' data lake" on the new '
        'sink "the event stream of every storefront in the European region": '
        f"{DELIVERED} (latest), {FAILED} (latest)",
        f"sink {kinesis} awaits validation",
        "1 account: 1 changed (3 changes made), 0 unchanged, 0 failed",
    ])  # fmt: skip
    assert f"    events-async sinks validate {kinesis} --test-id ID" in applied.splitlines()
    assert_reads_at(80, waiting, [
        "waiting: subscription \"the same receipts, streamed to the storefronts' data lake\" "
        f"waits for sink {kinesis}'s validation",
        "1 account: 0 to change (0 changes), 1 waiting for validation, 0 unchanged, 0 failed",
    ])  # fmt: skip
    assert_reads_at(80, exported, [f"1 account exported to {tmp_path}, 0 failed"])
    assert exported.startswith(f"{fake.account.sid}  ")  # then its file, whole or split
    assert f"{tmp_path}/{fake.account.sid}.toml" in "".join(exported.split())
    for text in (planned, applied, waiting):  # a long line goes on indented under its start
        assert any(line.startswith("      ") for line in text.splitlines())


def test_the_commands_take_the_audits_fleet_flags_worded_for_them(
    capsys: pytest.CaptureFixture[str],
) -> None:
    texts = {}
    for command in ("plan", "apply", "export"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        texts[command] = " ".join(capsys.readouterr().out.split())
    assert "plan the subaccounts the credentials own" in texts["plan"]
    assert "accounts applied at a time" in texts["apply"]
    assert "export only shard K of N" in texts["export"]
    assert "--account-timeout" in texts["apply"]
    assert "without asking" in texts["apply"]


def test_totals_count_a_failed_plan_an_ambiguous_one_an_unchanged_one_and_a_waiting_one() -> None:
    totals = Totals()
    totals.add(AccountResult("AC1", error="no"))
    totals.add(AccountResult("AC2", Plan(ambiguous=("2 sinks",))))
    totals.add(AccountResult("AC3", Plan()))
    assert (
        totals.line().replace(KEEP, " ")
        == "3 accounts: 0 to change (0 changes), 1 unchanged, 2 failed"
    )
    assert not totals.drift
    totals.add(AccountResult("AC4", Plan(waiting=("subscription 'x' waits",))))
    assert totals.drift  # plan --detailed-exitcode: 2
    assert totals.line().replace(KEEP, " ") == (
        "4 accounts: 0 to change (0 changes), 1 waiting for validation, 1 unchanged, 2 failed"
    )


def test_no_sinks_command_shows_a_secret_setting(
    fake: FakeEventsServer, capsys: pytest.CaptureFixture[str]
) -> None:
    configuration = json.dumps({"write_key": "s3cr3t-write-key"})
    status, out, err = cli(capsys, "sinks", "create", "--description", "seg", "--type",
                           "segment", "--configuration", configuration, "--json",
                           *credentials(fake))  # fmt: skip
    assert status == 0, err
    sid = json.loads(out)["sid"]
    assert json.loads(out)["sink_configuration"] == {"write_key": "***"}
    for command in (["fetch", sid], ["fetch", sid, "--json"], ["list", "--wide"],
                    ["list", "--json"]):  # fmt: skip
        status, out, err = cli(capsys, "sinks", *command, *credentials(fake))
        assert status == 0, err
        assert "s3cr3t" not in out
        assert "***" in out
    assert fake.account.sink(sid).sink_configuration == {"write_key": "s3cr3t-write-key"}
