"""The command's errors name what the user typed, and conflicting or bad input is refused:
a library error's parameter becomes the flag (or the environment variable) it came from,
through the parser's table; exclusive flags, TYPE:VERSION, repeated accounts and an output
that cannot be written each get one clear line and an exit status of their own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from events_async import InvalidRequestError, SubscribedType
from events_async.cli import main
from events_async.cli.accounts_file import AccountsFile, read_accounts
from events_async.cli.parser import ALL_GROUPS, PARAM_FLAGS, build_parser, named
from events_async.cli.spec import UsageError
from events_async.fleet import Login
from events_async.testing.demo import seed_large_account

from .test_cli_fleet import ThreadedFake, csv_of

AC = "AC" + "a" * 32
SK = "SK" + "b" * 32
SINK = "DG" + "0" * 32
TOKEN = "t0ken-that-must-never-be-printed"
SIGNED_IN = ["--account-sid", AC, "--auth-token", TOKEN]
CREATE_SINK = ["sinks", "create", "--fake", "--description", "d"]

# argv, environment, the one line on stderr (after "events-async: error: ")
NAMED: list[tuple[list[str], dict[str, str], str]] = [
    (
        ["sinks", "list", "--region", "a.b", *SIGNED_IN],
        {},
        "--region must be one DNS label (letters, digits and hyphens), got 'a.b'",
    ),
    (
        ["sinks", "list", "--edge", "x_y", *SIGNED_IN],
        {},
        "--edge must be one DNS label (letters, digits and hyphens), got 'x_y'",
    ),
    (
        ["sinks", "list", "--timeout", "0", *SIGNED_IN],
        {},
        "--timeout must be a finite, positive number, got 0.0",
    ),
    (["types", "list", "--timeout", "nan", "--fake"], {}, "--timeout must be a finite"),
    (["sinks", "list", "--max-retries", "-1", "--fake"], {}, "--max-retries must be 0 or more"),
    (
        ["sinks", "list", "--base-url", "ftp://x.example", *SIGNED_IN],
        {},
        "--base-url must be an http(s) URL, got 'ftp://x.example'",
    ),
    (
        ["sinks", "list", "--account-sid", "ACnope", "--auth-token", TOKEN],
        {},
        "--account-sid must be an Account SID (AC and 32 hex digits), got a 6-character string",
    ),
    (
        ["sinks", "list", "--api-key", SK],
        {},
        "--api-secret is missing: an API key needs its secret (or set TWILIO_API_SECRET)",
    ),
    (  # a value the flag did not give is named by the variable it came from
        ["sinks", "list", *SIGNED_IN],
        {"TWILIO_REGION": "a.b"},
        "$TWILIO_REGION must be one DNS label (letters, digits and hyphens), got 'a.b'",
    ),
    (
        ["sinks", "list"],
        {"TWILIO_ACCOUNT_SID": TOKEN, "TWILIO_AUTH_TOKEN": TOKEN},
        "$TWILIO_ACCOUNT_SID must be an Account SID (AC and 32 hex digits), "
        f"got a {len(TOKEN)}-character string",
    ),
    (  # the library's sink_type is this command's --type
        [
            "sinks",
            "create",
            "--fake",
            "--description",
            "d",
            "--type",
            "ftp",
            "--configuration",
            "{}",
        ],
        {},
        "--type must be one of kinesis, webhook, segment, email, got 'ftp'",
    ),
    (
        [*CREATE_SINK, "--type", "webhook", "--configuration", "{}"],
        {},
        "--configuration must not be empty",
    ),
    (
        ["subscriptions", "list", "--sink-sid", "DG1", "--fake"],
        {},
        "--sink-sid must be a DG SID (DG and 32 hex digits), got 'DG1'",
    ),
    (  # positionals as the usage line shows them
        ["sinks", "fetch", "nope", "--fake"],
        {},
        "sid must be a DG SID (DG and 32 hex digits), got 'nope'",
    ),
    (
        ["subscribed-events", "list", "DF1", "--fake"],
        {},
        "subscription must be a DF SID (DF and 32 hex digits), got 'DF1'",
    ),
    (
        ["subscriptions", "create", "--fake", "--description", " ", "--sink-sid", SINK, "--type=x"],
        {},
        "--description must be a non-empty string, got ' '",
    ),
]


@pytest.mark.parametrize(("argv", "environ", "says"), NAMED, ids=[" ".join(n[0]) for n in NAMED])
def test_a_refused_value_is_named_as_the_user_gave_it(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    environ: dict[str, str],
    says: str,
) -> None:
    for variable in [v for v in os.environ if v.startswith(("TWILIO_", "EVENTS_ASYNC_"))]:
        monkeypatch.delenv(variable)
    for variable, value in environ.items():
        monkeypatch.setenv(variable, value)

    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [err.rstrip("\n")]  # one line
    assert err.startswith(f"events-async: error: {says}")
    assert TOKEN not in err


def test_every_renamed_parameter_names_a_command_and_one_of_its_flags() -> None:
    build_parser()  # raises LookupError for a flag a command does not have
    paths = {group.name for group in ALL_GROUPS}
    paths |= {f"{group.name} {command.name}" for group in ALL_GROUPS for command in group.commands}
    assert set(PARAM_FLAGS) <= paths


def test_the_receivers_auth_tokens_are_listens_auth_token() -> None:
    args = build_parser().parse_args(["listen", "--auth-token", ""])
    error = InvalidRequestError.for_param("auth_tokens", "must be one or more non-empty strings")
    assert named(error, args) == "--auth-token must be one or more non-empty strings"
    whole = InvalidRequestError("auth_tokens must be strings", param="auth_tokens")
    assert named(whole, args) == "--auth-token: auth_tokens must be strings"  # no detail
    unnamed = InvalidRequestError("a handler for 'x' is already registered")
    assert named(unnamed, args) == str(unnamed)  # no parameter: the library's words


def test_in_use_and_not_in_use_are_exclusive(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["sinks", "list", "--in-use", "--not-in-use", "--fake"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "--not-in-use: not allowed with argument --in-use" in err
    assert len(err.splitlines()) == 1

    parser = build_parser()
    assert parser.parse_args(["sinks", "list", "--in-use"]).in_use is True
    assert parser.parse_args(["sinks", "list", "--not-in-use"]).in_use is False
    assert parser.parse_args(["sinks", "list"]).in_use is None


def _create(*types: str) -> list[str]:
    argv = ["subscriptions", "create", "--description", "d", "--sink-sid", SINK]
    return [*argv, *(option for t in types for option in ("--type", t)), "--fake"]


def test_type_and_version_are_read_from_type_colon_version() -> None:
    args = build_parser().parse_args(_create("a.b.c:2", "a.b.d", "a.b.e:010"))
    assert args.types == [
        SubscribedType("a.b.c", 2),
        SubscribedType("a.b.d"),
        SubscribedType("a.b.e", 10),
    ]


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("com.twilio.messaging.message.delivered:abc", "must be a whole number from 1, got 'abc'"),
        ("X:0", "must be a whole number from 1, got '0'"),
        ("X:-1", "must be a whole number from 1, got '-1'"),
        ("X:", "must be a whole number from 1, got ''"),
        ("X:\u0661", "must be a whole number from 1"),  # an Arabic-Indic one is not ASCII
        (":2", "needs an event type"),
        ("", "needs an event type"),
    ],
)
def test_a_bad_type_colon_version_is_one_line_naming_type(
    capsys: pytest.CaptureFixture[str], typed: str, says: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(_create(typed))
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1
    assert "argument --type: " in err
    assert says in err
    assert "--schema-version" not in err  # a flag this command does not have


# --- repeated accounts ---------------------------------------------------------------------


def test_a_repeated_account_line_is_read_once_with_a_warning_naming_its_line() -> None:
    text = f"sid,token\n{AC},{TOKEN}\n{SK},s,{AC}\n\n{AC},{TOKEN}\n"
    assert read_accounts(text, "fleet.csv") == AccountsFile(
        [Login(AC, TOKEN), Login(SK, "s", AC)],
        ["fleet.csv, line 5 repeats line 2; that account is audited once"],
    )
    lines = f'{{"sid": "{AC}", "token": "{TOKEN}"}}\n' * 2
    assert read_accounts(lines, "f.jsonl").warnings == [
        "f.jsonl, line 2 repeats line 1; that account is audited once"
    ]


@pytest.mark.parametrize(
    "text",
    [f"{AC},{TOKEN}\n{AC},another\n", f"{SK},s,{AC}\n{SK},s\n"],
    ids=["another token", "another account_sid"],
)
def test_the_same_sid_with_other_credentials_is_refused(text: str) -> None:
    with pytest.raises(UsageError) as refused:
        read_accounts(text, "fleet.csv")
    assert str(refused.value) == (
        "fleet.csv, line 2: the sid of line 1 again, with other credentials"
    )
    assert TOKEN not in str(refused.value)


def test_a_fleet_audit_of_a_repeated_account_audits_it_once(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with ThreadedFake() as fake:
        accounts = [seed_large_account(fake.add_subaccount(), sinks=1) for _ in range(2)]
        listed = tmp_path / "fleet.csv"
        listed.write_text(csv_of([accounts[0], accounts[1], accounts[0]]))
        status = main(["audit", "--accounts", str(listed), "--base-url", fake.url, "--json"])
        out, err = capsys.readouterr()
        audited = fake.request_count("GET /v1/Sinks")

    assert status == 0, err
    assert err.splitlines() == [
        f"events-async: warning: {listed}, line 4 repeats line 2; that account is audited once"
    ]
    assert accounts[0].auth_token not in err
    assert out.count('"events_async.audit/1"') == 2
    assert audited == 2


# --- an output that cannot be written ------------------------------------------------------


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("argv", [["types", "list", "--fake"], ["audit", "--fake", "--json"]])
def test_a_full_disk_is_one_line_and_exit_status_74(argv: list[str]) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TWILIO_")}
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [sys.executable, "-m", "events_async", *argv],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            env=clean,
            check=False,
        )
    assert result.returncode == 74
    assert (
        result.stderr == "events-async: error: cannot write the output: No space left on device\n"
    )


def test_the_exit_statuses_are_documented() -> None:
    help_text = build_parser().format_help()
    assert "74 the output could not be written" in " ".join(help_text.split())
    import events_async.cli

    assert "74 (sysexits' EX_IOERR)" in (events_async.cli.__doc__ or "")


def test_usage_errors_name_flags(capsys: pytest.CaptureFixture[str]) -> None:
    subscription = "DF" + "0" * 32
    assert main(["subscriptions", "update", subscription, "--fake"]) == 2
    assert capsys.readouterr().err == (
        "events-async: error: subscriptions update needs --description or --sink-sid\n"
    )
    with pytest.raises(SystemExit) as exited:
        main(["subscribed-events", "update", subscription, "com.x", "--fake"])
    assert exited.value.code == 2
    assert "--schema-version" in capsys.readouterr().err
    assert main(["subscriptions", "list", "--sink-sid", "DG1", "--fake"]) == 2
    assert "--sink-sid must be a DG SID" in capsys.readouterr().err
