"""Event Streams as code: a file of the sinks and subscriptions an account should have.

`load_file` reads and checks the file (TOML) before any request, naming the key path of
anything wrong; `StreamsFile.for_account` fills `{account_sid}` and `{friendly_name}` and
the `{ env = "NAME" }` secrets for one account; `plan` (pure) compares that desired state
with what the account has and returns the ordered changes that converge it.
"""

from __future__ import annotations

from .file import (
    DesiredSink,
    DesiredState,
    DesiredSubscription,
    DesiredType,
    FileError,
    StreamsFile,
    load_file,
    parse_file,
)
from .planner import (
    Action,
    Change,
    CurrentSink,
    CurrentState,
    CurrentSubscription,
    Plan,
    plan,
)

__all__ = [
    "Action",
    "Change",
    "CurrentSink",
    "CurrentState",
    "CurrentSubscription",
    "DesiredSink",
    "DesiredState",
    "DesiredSubscription",
    "DesiredType",
    "FileError",
    "Plan",
    "StreamsFile",
    "load_file",
    "parse_file",
    "plan",
]
