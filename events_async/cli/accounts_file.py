"""`--accounts FILE`: the credentials of a fleet, as CSV or JSON lines. Pure, no I/O.

- CSV: `sid,token` per line, or `sid,token,account_sid` when the login is an API key
  (`SK…`); an optional header line (`sid,token…`), blank lines and `#` comments.
- JSON lines: one object per line, `{"sid": "AC…", "token": "…"}` (and `"account_sid"`
  for an API key). Other keys are ignored.

A line that cannot be read is named by its number only: its text may hold a secret.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator

from .._validate import is_sid
from ..fleet import Login
from .spec import UsageError

__all__ = ["parse_accounts"]


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


def _from_json_lines(lines: list[tuple[int, str]], name: str) -> list[Login]:
    logins = []
    for number, line in lines:
        where = f"{name}, line {number}"
        try:
            record = json.loads(line)
        except ValueError:
            raise UsageError(f"{where}: not a JSON object") from None
        if not isinstance(record, dict):
            raise UsageError(f"{where}: not a JSON object")
        logins.append(
            _login(record.get("sid"), record.get("token"), record.get("account_sid"), where)
        )
    return logins


def _from_csv(lines: list[tuple[int, str]], name: str) -> list[Login]:
    logins = []
    for index, (number, line) in enumerate(lines):
        cells = [cell.strip() for cell in next(csv.reader([line]))]
        if index == 0 and cells and cells[0].lower() in ("sid", "account_sid", "login"):
            continue  # a header
        where = f"{name}, line {number}"
        if len(cells) not in (2, 3):
            raise UsageError(f"{where}: expected sid,token or sid,token,account_sid")
        logins.append(_login(cells[0], cells[1], cells[2] if len(cells) == 3 else None, where))
    return logins


def parse_accounts(text: str, name: str) -> list[Login]:
    """The logins a file holds (`name` is how messages call it); `UsageError` otherwise."""
    lines = list(_lines(text))
    if not lines:
        raise UsageError(f"{name} lists no accounts")
    if lines[0][1].startswith("{"):
        return _from_json_lines(lines, name)
    return _from_csv(lines, name)
