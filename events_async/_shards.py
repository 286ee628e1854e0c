"""Splitting a fleet between machines: a stable hash of each account's SID.

`Shard` and `shard_number` are public as `events_async.fleet.Shard` / `.shard_number`
(their `__module__` says so); they live here so that the fleet's module keeps to its job.
"""

from __future__ import annotations

import hashlib

import attrs

from ._validate import check_positive_int
from .errors import InvalidRequestError

__all__ = ["Shard", "shard_number"]


def shard_number(account_sid: str, count: int) -> int:
    """The shard (1 to `count`) an account belongs to: a stable hash of its SID, the same
    on every machine and Python (unlike `hash()`)."""
    digest = hashlib.sha256(account_sid.encode("utf-8", "surrogatepass")).digest()
    return 1 + int.from_bytes(digest[:8], "big") % count


@attrs.frozen
class Shard:
    """One of `count` disjoint parts of a fleet (`index` from 1 to `count`)."""

    index: int
    count: int

    def __attrs_post_init__(self) -> None:
        check_positive_int(self.count, "shard count")
        check_positive_int(self.index, "shard index", self.count)

    @classmethod
    def parse(cls, text: str) -> Shard:
        """`"K/N"`: the K-th of N shards, K from 1 to N."""
        index, slash, count = text.partition("/")
        if not slash or not index.strip().isdigit() or not count.strip().isdigit():
            raise InvalidRequestError(f"a shard is K/N (such as 2/8), got {text!r}")
        return cls(int(index), int(count))

    def __contains__(self, account_sid: object) -> bool:
        return isinstance(account_sid, str) and shard_number(account_sid, self.count) == self.index

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


Shard.__module__ = shard_number.__module__ = "events_async.fleet"
