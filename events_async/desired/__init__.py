"""Event Streams as code: a file of the sinks and subscriptions an account should have.

`load_file` reads and checks the file (TOML) before any request, naming the key path of
anything wrong; `StreamsFile.for_account` fills `{account_sid}` and `{friendly_name}` and
the `{ env = "NAME" }` secrets for one account; `plan` (pure) compares that desired state
with what the account has and returns the ordered changes that converge it.

`plan_account`, `apply_account` and `export_account` do the same against one account;
`plan_fleet`, `apply_fleet` and `export_fleet` over a fleet, streamed like
`audit_fleet`. Each account's outcome is an `AccountResult` (JSON lines of schema
`events_async.plan/1` and `events_async.apply/1`); `read_saved_plan` reads saved plan
lines back, for an apply that refuses accounts which moved since.
"""

from __future__ import annotations

from .account import Applied, apply_plan, read_current
from .converge import (
    Exported,
    apply_account,
    apply_fleet,
    export_account,
    export_fleet,
    plan_account,
    plan_fleet,
)
from .export import export_text
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
from .results import (
    APPLY_SCHEMA,
    PLAN_SCHEMA,
    AccountResult,
    SavedPlanError,
    fingerprint,
    read_saved_plan,
)

__all__ = [
    "APPLY_SCHEMA",
    "PLAN_SCHEMA",
    "AccountResult",
    "Action",
    "Applied",
    "Change",
    "CurrentSink",
    "CurrentState",
    "CurrentSubscription",
    "DesiredSink",
    "DesiredState",
    "DesiredSubscription",
    "DesiredType",
    "Exported",
    "FileError",
    "Plan",
    "SavedPlanError",
    "StreamsFile",
    "apply_account",
    "apply_fleet",
    "apply_plan",
    "export_account",
    "export_fleet",
    "export_text",
    "fingerprint",
    "load_file",
    "parse_file",
    "plan",
    "plan_account",
    "plan_fleet",
    "read_current",
    "read_saved_plan",
]
