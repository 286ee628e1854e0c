"""`--accounts FILE`: the credentials of a fleet, as CSV or JSON lines. Pure, no I/O.

- CSV: `sid,token` per line, or `sid,token,account_sid` when the login is an API key
  (`SK…`); an optional header line (`sid,token…`), blank lines and `#` comments.
- JSON lines: one object per line, `{"sid": "AC…", "token": "…"}` (and `"account_sid"`
  for an API key). Other keys are ignored.

A line that cannot be read is named by its number only: its text may hold a secret. A
line that repeats an earlier one (the same sid, token and account_sid) is audited once,
with a warning; the same sid with other credentials is refused, as nothing says which
is right. The parsing (`read_accounts`) is pure; `parse_accounts` prints its warnings.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator

import attrs

from .._text import printable
from .._validate import is_sid
from ..fleet import Login
from .spec import UsageError

__all__ = ["AccountsFile", "parse_accounts", "read_accounts"]


@attrs.frozen
class AccountsFile:
    """The logins a file lists, each once, and warnings about lines left out."""

    logins: list[Login]
    warnings: list[str]


def _lines(text: str) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            yield number, stripped


def _login(sid: object, token: object, account_sid: object, where: str) -> Login:
    if not is_sid(sid, "AC", "SK"):
        raise UsageError(f"{where}: the sid is not an Account SID (AC…) or API key SID (SK…)")
    if not isinstance(token, str) or not token:
        raise UsageError(f"{where}: the token is missing")
    checked: str | None = None
    if account_sid not in (None, ""):
        if not is_sid(account_sid, "AC"):
            raise UsageError(f"{where}: the account_sid is not an Account SID (AC…)")
        checked = account_sid
    return Login(sid, token, checked)


def _from_json_lines(lines: list[tuple[int, str]], name: str) -> list[tuple[int, Login]]:
    logins = []
    for number, line in lines:
        where = f"{name}, line {number}"
        try:
            record = json.loads(line)
        except ValueError:
            raise UsageError(f"{where}: not a JSON object") from None
        if not isinstance(record, dict):
            raise UsageError(f"{where}: not a JSON object")
        login = _login(record.get("sid"), record.get("token"), record.get("account_sid"), where)
        logins.append((number, login))
    return logins


def _from_csv(lines: list[tuple[int, str]], name: str) -> list[tuple[int, Login]]:
    logins = []
    for index, (number, line) in enumerate(lines):
        cells = [cell.strip() for cell in next(csv.reader([line]))]
        if index == 0 and cells and cells[0].lower() in ("sid", "account_sid", "login"):
            continue  # a header
        where = f"{name}, line {number}"
        if len(cells) not in (2, 3):
            raise UsageError(f"{where}: expected sid,token or sid,token,account_sid")
        login = _login(cells[0], cells[1], cells[2] if len(cells) == 3 else None, where)
        logins.append((number, login))
    return logins


def _once(numbered: list[tuple[int, Login]], name: str) -> AccountsFile:
    """Each login once; a repeat is a warning, the same sid with other credentials an error."""
    first: dict[str, tuple[int, Login]] = {}
    warnings = []
    for number, login in numbered:
        if login.login not in first:
            first[login.login] = (number, login)
            continue
        seen, earlier = first[login.login]
        if login != earlier or login.secret != earlier.secret:
            raise UsageError(
                f"{name}, line {number}: the sid of line {seen} again, with other credentials"
            )
        warnings.append(f"{name}, line {number} repeats line {seen}; that account is audited once")
    return AccountsFile([login for _, login in first.values()], warnings)


def read_accounts(text: str, name: str) -> AccountsFile:
    """The logins a file holds, each once (`name` is how messages call it), and warnings
    about repeated lines; `UsageError` for a file that cannot be used. Pure."""
    lines = list(_lines(text))
    if not lines:
        raise UsageError(f"{name} lists no accounts")
    if lines[0][1].startswith("{"):
        return _once(_from_json_lines(lines, name), name)
    return _once(_from_csv(lines, name), name)


def parse_accounts(text: str, name: str) -> list[Login]:
    """`read_accounts`' logins, its warnings printed on stderr (one line each)."""
    accounts = read_accounts(text, name)
    for warning in accounts.warnings:
        print(f"events-async: warning: {printable(warning)}", file=sys.stderr)
    return accounts.logins
