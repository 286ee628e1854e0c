"""Bulk, concurrent audits of an account's Event Streams set-up.

`audit_account(client)` reads the sinks, the subscriptions, the subscribed events of
every subscription (concurrently, bounded), the event-type catalog and the latest
version of every schema in use, and reports what is wrong as `Finding`s. Their codes
are the members of `FindingCode`, each with its severity and a description of the
finding's subject (`help(FindingCode)` lists them; the README's findings table is their
rendering, checked by a test).

A part that cannot be read becomes an AUDIT_INCOMPLETE finding; the rest of the audit
goes on, and no finding is drawn from data that was not read. Credentials that cannot
sign in are one AUDIT_INCOMPLETE finding whose subject is "account", however many reads
they failed.

`account_sid` is the Account SID the client signs in as or, for an API key given
without one, the key's SID (`SK…`), so that every report names what was audited.

`AuditReport.to_json()` gives this stable document (schema "events_async.audit/1"):

```
{"schema": "events_async.audit/1", "account_sid": str,
 "started_at": ISO 8601, "duration_seconds": float,
 "totals": {"sinks", "subscriptions", "subscribed_events", "event_types",
            "errors", "warnings", "info": int},
 "findings": [{"severity": "error" | "warning" | "info", "code": str,
               "subject": str, "message": str}, ...]}
```
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, TypeVar, Union

import attrs

from ._audit_rules import (
    SEVERITY_ORDER,
    AuditData,
    Finding,
    FindingCode,
    Severity,
    find_problems,
    make_finding,
)
from ._lazy import lazy_exports
from ._text import KEEP, counted, printable, wrap
from ._validate import check_positive_int
from .catalog import SharedCatalog
from .client import EventsClient
from .errors import AuthenticationError, EventsError
from .models import Schema, SubscribedEvent, Subscription

if TYPE_CHECKING:
    from .fleet import audit_accounts

__all__ = [
    "REPORT_SCHEMA",
    "AuditReport",
    "Finding",
    "FindingCode",
    "Progress",
    "Severity",
    "audit_account",
    "audit_accounts",
]

T = TypeVar("T")
Progress = Callable[[int, Union[int, None]], None]  # noqa: UP007 - a runtime alias on 3.10
"""Called with (done, total) as work advances: `total` is None while more work may still
be found (a determinate bar would fill too soon), then the final count."""

REPORT_SCHEMA = "events_async.audit/1"
DEFAULT_CONCURRENCY = 10


@attrs.frozen
class AuditReport:
    """What an audit of one account found, and how much it read."""

    account_sid: str
    started_at: datetime
    duration_seconds: float
    findings: list[Finding]
    sinks: int = 0
    subscriptions: int = 0
    subscribed_events: int = 0
    event_types: int = 0
    authentication_failed: bool = False

    def count(self, severity: Severity) -> int:
        """How many findings have this severity."""
        return sum(1 for f in self.findings if f.severity is severity)

    @property
    def has_errors(self) -> bool:
        """True when any finding is an error."""
        return self.count(Severity.ERROR) > 0

    def to_json(self) -> dict[str, Any]:
        """The report as the documented JSON document (see the module docstring)."""
        return {
            "schema": REPORT_SCHEMA,
            "account_sid": self.account_sid,
            "started_at": self.started_at.isoformat().replace("+00:00", "Z"),
            "duration_seconds": round(self.duration_seconds, 3),
            "totals": {
                "sinks": self.sinks,
                "subscriptions": self.subscriptions,
                "subscribed_events": self.subscribed_events,
                "event_types": self.event_types,
                "errors": self.count(Severity.ERROR),
                "warnings": self.count(Severity.WARNING),
                "info": self.count(Severity.INFO),
            },
            "findings": [
                {
                    "severity": f.severity.value,
                    "code": str(f.code),
                    "subject": f.subject,
                    "message": f.message,
                }
                for f in self.findings
            ],
        }

    def headline(self) -> str:
        """One sentence: what was read, how long it took and what was found. Words that
        belong together ("11 subscribed events") are joined by `_text.KEEP`."""
        who = f"Audit of {printable(self.account_sid)}"
        took = f"in{KEEP}{self.duration_seconds:.2f}s"
        if self.authentication_failed:
            return f"{who}: the account could not be read (authentication failed) {took}"
        counts = ", ".join(
            counted(self.count(severity), noun, KEEP)
            for severity, noun in (
                (Severity.ERROR, "error"),
                (Severity.WARNING, "warning"),
                (Severity.INFO, "info"),
            )
        )
        read = ", ".join(
            counted(number, noun, KEEP)
            for number, noun in (
                (self.sinks, "sink"),
                (self.subscriptions, "subscription"),
                (self.subscribed_events, f"subscribed{KEEP}event"),
            )
        )
        return f"{who}: {read} {took}: {counts}"

    def summary(self, width: int | None = None) -> str:
        """A readable report: the headline, then each finding as a header line
        (severity, code, subject) with its message indented beneath.

        With `width`, every line fits it: text is wrapped between words, never cut.
        Without, the headline and each message are one line. What the server said is
        escaped (`_text.printable`), so the text is safe for a terminal.
        """
        lines = wrap(self.headline(), width)
        if not self.findings:
            return "\n".join([*lines, "No problems found."])
        return "\n".join([*lines, "", *_finding_lines(self.findings, width)])


_SEVERITY_WIDTH = max(len(s.value) for s in Severity)
_MESSAGE_INDENT = " " * (_SEVERITY_WIDTH + 2)


def _finding_lines(findings: list[Finding], width: int | None = None) -> list[str]:
    """Findings laid out as `ruff` and `gh` print diagnostics: a header line per finding
    (severity, code, subject; codes padded so subjects align) and the message wrapped
    beneath, indented under the code. With `width`, no line is longer and no word is
    lost: a header too long for it puts the subject on a line of its own."""
    code_width = max((len(f.code) for f in findings), default=0)
    indent = _MESSAGE_INDENT if width is None or width >= 40 else "  "
    lines: list[str] = []
    for finding in findings:
        severity = finding.severity.value.upper().ljust(_SEVERITY_WIDTH)
        subject = printable(finding.subject)
        header = f"{severity}  {finding.code.ljust(code_width)}  {subject}"
        if width is not None and len(header) > width:
            header = f"{severity}  {finding.code}  {subject}"
        if width is not None and len(header) > width:
            lines += wrap(finding.code, width, indent, first=f"{severity}  ")
            lines += wrap(subject, width, indent)
        else:
            lines.append(header)
        lines += wrap(printable(finding.message), width, indent)
    return lines


class _Audit:
    """One audit run: bounded concurrent reads, failures collected, progress reported."""

    def __init__(
        self,
        client: EventsClient,
        concurrency: int,
        progress: Progress | None,
        catalog: SharedCatalog | None,
    ) -> None:
        self.client = client
        self.catalog = SharedCatalog() if catalog is None else catalog
        self.slots = asyncio.Semaphore(concurrency)
        self.progress = progress
        self.done = 0
        self.known = 0
        self.all_known = False  # once every part to read has been found
        self.failures: list[Finding] = []
        self.authentication_failed = False

    async def read(self, part: str, read: Callable[[], Awaitable[T]]) -> T | None:
        """`read()` under the concurrency bound; None (and a finding) if it failed."""
        self.known += 1
        self._report()
        try:
            async with self.slots:
                return await read()
        except AuthenticationError as error:
            if not self.authentication_failed:  # one finding, however many reads it failed
                self.authentication_failed = True
                self.failures.append(
                    make_finding(
                        FindingCode.AUDIT_INCOMPLETE, "account", f"could not sign in: {error}"
                    )
                )
            return None
        except EventsError as error:
            self.failures.append(
                make_finding(FindingCode.AUDIT_INCOMPLETE, part, f"could not read {part}: {error}")
            )
            return None
        finally:
            self.done += 1
            self._report()

    def _report(self) -> None:
        if self.progress is not None:
            self.progress(self.done, self.known if self.all_known else None)

    def _held(self, value: T) -> T:
        """A part the shared catalog already holds: counted as a read, none made."""
        self.known += 1
        self._report()
        self.done += 1
        self._report()
        return value

    def _schema(self, schema_id: str) -> Schema | asyncio.Task[Schema | None]:
        """The schema, when the shared catalog holds it; else the task reading it."""
        held = self.catalog.known_schema(schema_id)
        if held is not None:
            return self._held(held)
        read = functools.partial(self.catalog.schema, self.client, schema_id)
        return asyncio.create_task(self.read(f"schema {schema_id}", read))

    async def run(self) -> AuditData:
        client = self.client
        # what the shared catalog holds is taken as it is, without a task or a wait
        catalog = self.catalog.known_event_types()
        catalog_task = None
        if catalog is not None:
            self._held(catalog)
        else:
            read_types = functools.partial(self.catalog.event_types, client)
            catalog_task = asyncio.create_task(self.read("event types", read_types))
        sinks_task = asyncio.create_task(
            self.read("sinks", client.sinks.list(page_size=1000).collect)
        )
        subscriptions = await self.read(
            "subscriptions", client.subscriptions.list(page_size=1000).collect
        )
        if catalog_task is not None:
            catalog = await catalog_task
        schema_of = {t.type: t.schema_id for t in catalog or ()}
        schemas: dict[str, Schema | asyncio.Task[Schema | None] | None] = {}  # in use, in order

        async def events_of(subscription: Subscription) -> list[SubscribedEvent] | None:
            sid = subscription.sid
            events = await self.read(
                sid, client.subscriptions.subscribed_events(sid).list(page_size=1000).collect
            )
            if events:
                for schema_id in dict.fromkeys([schema_of.get(event.type) for event in events]):
                    if schema_id is not None and schema_id not in schemas:
                        schemas[schema_id] = self._schema(schema_id)
            return events

        subscribed = await asyncio.gather(*(events_of(s) for s in subscriptions or ()))
        self.all_known = True  # the schemas in use are all asked for by now
        self._report()
        reading = {k: v for k, v in schemas.items() if isinstance(v, asyncio.Task)}
        if reading:
            schemas.update(zip(reading, await asyncio.gather(*reading.values()), strict=True))
        latest_versions = {
            schema_id: schema.latest_version
            for schema_id, schema in schemas.items()
            if isinstance(schema, Schema)
        }
        return AuditData(
            sinks=await sinks_task,
            subscriptions=subscriptions,
            subscribed_events={
                s.sid: events for s, events in zip(subscriptions or (), subscribed, strict=True)
            },
            catalog=catalog,
            latest_versions=latest_versions,
        )


async def audit_account(
    client: EventsClient,
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: Progress | None = None,
    catalog: SharedCatalog | None = None,
) -> AuditReport:
    """Audit the account `client` signs in as; see the module docstring for the findings.

    At most `concurrency` of the audit's reads are in flight at once (the client's own
    `max_concurrency` applies too). Nothing raises for an unreadable part: it becomes an
    AUDIT_INCOMPLETE finding. `progress` is called with (reads done, total), the total
    None until every read the audit will make is known. With `catalog`, the event types
    and schemas already read for another account are not read again.
    """
    check_positive_int(concurrency, "concurrency")
    started_at = datetime.now(timezone.utc)
    clock = time.perf_counter()
    audit = _Audit(client, concurrency, progress, catalog)
    data = await audit.run()
    findings = sorted(
        [*audit.failures, *find_problems(data)],
        key=lambda f: (SEVERITY_ORDER[f.severity], f.code, f.subject),
    )
    return AuditReport(
        account_sid=client.account_sid or client.api_key or "account",
        started_at=started_at,
        duration_seconds=time.perf_counter() - clock,
        findings=findings,
        sinks=len(data.sinks or ()),
        subscriptions=len(data.subscriptions or ()),
        subscribed_events=sum(len(e or ()) for e in data.subscribed_events.values()),
        event_types=len(data.catalog or ()),
        authentication_failed=audit.authentication_failed,
    )


# The fleet's entry points live in `fleet.py`; this name stays here for existing callers.
__getattr__ = lazy_exports(__name__, {"audit_accounts": "events_async.fleet"})
