"""A `DedupeStore` shared by every replica of a receiver: Redis, through redis-py's asyncio
client (Valkey is wire-compatible). Install it with `pip install 'events-async[redis]'`.

```python
store = RedisDedupe.from_url("redis://redis.internal:6379/0")
receiver = EventReceiver(auth_tokens=[...], dedupe=store)
```

What it guarantees:

- Each event is handled once across replicas and restarts while its done-mark lives
  (`window`, 4 h 15 min by default: Twilio retries for 4 hours).
- A claim is a lease with a random token. A replica killed mid-handler holds its lease
  for `lease` seconds at most; Twilio's retry after that is handled once, by any replica.
- A replica frees or completes only leases that still hold its own token (compare and
  delete in the script): a slow replica whose lease ran out and was taken by another
  never frees the other's claim.
- At least once, not exactly once, when a handler succeeds but `done` fails: the lease
  runs out and Twilio's retry handles the event again.

Round trips per delivery, whatever its size: 1 for `claim`, 1 for `done` (or `release`),
each one EVALSHA of a Lua script. (redis-py loads the script on first use, and again after
a restart or failover empties the server's script cache: two more round trips then.)

Keys: `{prefix}lease:{id}` (the lease token, expiring after `lease`) and `{prefix}done:{id}`
(the done-mark, expiring after `window`). The scripts touch only the keys they are given.
Redis Cluster: the ids of one delivery hash to different slots, which a script may not
span; give a prefix with a hash tag, e.g. `"{events_async}:dedupe:"`, and every key is in
one slot (one node then holds all of them).

A Redis that fails (refused, timed out, an error reply) raises `StoreError`, naming what
failed and the error's class, never the URL or its password; a receiver answers 503.
"""

from __future__ import annotations

import asyncio
import math
import secrets
from collections.abc import Sequence
from types import TracebackType
from typing import Any

try:
    import redis.asyncio as aioredis
    from redis.commands.core import AsyncScript
    from redis.exceptions import RedisError
except ImportError:  # redis-py is the `redis` extra
    raise ImportError("RedisDedupe needs redis-py: pip install 'events-async[redis]'") from None

from .._validate import check_seconds
from ..errors import InvalidRequestError, StoreError
from .dedupe import DEFAULT_WINDOW_SECONDS, Claim

__all__ = ["DEFAULT_LEASE_SECONDS", "DEFAULT_PREFIX", "RedisDedupe"]

DEFAULT_LEASE_SECONDS = 10.0  # outlives the receiver's default 4 s handler timeout
DEFAULT_PREFIX = "events_async:dedupe:"

# KEYS: done-mark and lease key of each id, in pairs. ARGV: token, lease in ms.
# Answers per id: 0 done already, 1 claimed now (new), 2 leased by another (busy).
_CLAIM = """
local answers = {}
for i = 1, #KEYS, 2 do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    answers[#answers + 1] = 0
  elseif redis.call('SET', KEYS[i + 1], ARGV[1], 'NX', 'PX', ARGV[2]) then
    answers[#answers + 1] = 1
  else
    answers[#answers + 1] = 2
  end
end
return answers
"""

# KEYS: done-mark and lease key of each id, in pairs. ARGV: window in ms, then the token
# of each id ("" when this process holds none). Marks each done, frees only own leases.
_DONE = """
for i = 1, #KEYS, 2 do
  redis.call('SET', KEYS[i], '1', 'PX', ARGV[1])
  local token = ARGV[(i + 1) / 2 + 1]
  if token ~= '' and redis.call('GET', KEYS[i + 1]) == token then
    redis.call('DEL', KEYS[i + 1])
  end
end
return 0
"""

# KEYS: lease key of each id. ARGV: the token of each. Frees only own leases.
_RELEASE = """
for i = 1, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[i] then
    redis.call('DEL', KEYS[i])
  end
end
return 0
"""

_ANSWERS = {0: Claim.DONE, 1: Claim.NEW, 2: Claim.BUSY}
_FAILURES = (RedisError, OSError, asyncio.TimeoutError)


def _milliseconds(seconds: float) -> int:
    return max(1, math.ceil(seconds * 1000))


class RedisDedupe:
    """A `DedupeStore` in Redis, shared by every replica of a receiver.

    `lease`: how long a claim lasts if its holder never answers (longer than the
    receiver's handler timeout). `window`: how long a handled id stays a duplicate.
    A client passed in stays the caller's; one made by `from_url` is closed by `aclose`.
    """

    def __init__(
        self,
        redis: aioredis.Redis,
        *,
        prefix: str = DEFAULT_PREFIX,
        lease: float = DEFAULT_LEASE_SECONDS,
        window: float = DEFAULT_WINDOW_SECONDS,
    ) -> None:
        if not isinstance(prefix, str):
            raise InvalidRequestError(f"prefix must be a string, got {type(prefix).__name__}")
        self.prefix = prefix
        self.lease = check_seconds(lease, "lease")
        self.window = check_seconds(window, "window")
        self._redis = redis
        self._owned = False
        self._tokens: dict[str, str] = {}  # id -> token of the lease this process holds
        self._claim = redis.register_script(_CLAIM)
        self._done = redis.register_script(_DONE)
        self._release = redis.register_script(_RELEASE)

    @classmethod
    def from_url(cls, url: str, **options: Any) -> RedisDedupe:
        """A store on a client of its own for `url` (closed by `aclose`); `options` other
        than `prefix`, `lease` and `window` go to `redis.asyncio.Redis.from_url`."""
        mine = {
            name: options.pop(name) for name in ("prefix", "lease", "window") if name in options
        }
        client = aioredis.Redis.from_url(url, **options)
        store = cls(client, **mine)
        store._owned = True
        return store

    async def aclose(self) -> None:
        """Close the client if this store made it (`from_url`); a passed-in one is left open."""
        if self._owned:
            self._owned = False
            await self._redis.aclose()

    async def __aenter__(self) -> RedisDedupe:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    def _leases(self, event_ids: Sequence[str]) -> list[str]:
        return [f"{self.prefix}lease:{event_id}" for event_id in event_ids]

    def _pairs(self, event_ids: Sequence[str]) -> list[str]:
        """The done-mark and lease key of each id, in pairs: the scripts' KEYS."""
        prefix = self.prefix
        return [
            f"{prefix}{kind}:{event_id}" for event_id in event_ids for kind in ("done", "lease")
        ]

    async def _run(self, what: str, script: AsyncScript, keys: list[str], args: list[Any]) -> Any:
        try:
            return await script(keys=keys, args=args)
        except _FAILURES as error:
            raise StoreError(f"Redis did not answer the {what}: {type(error).__name__}") from None

    async def claim(self, event_ids: Sequence[str]) -> list[Claim]:
        """See `DedupeStore.claim`: one round trip for all of `event_ids`."""
        if not event_ids:
            return []
        keys = self._pairs(event_ids)
        token = secrets.token_hex(16)
        answers = await self._run("claim", self._claim, keys, [token, _milliseconds(self.lease)])
        if not isinstance(answers, list) or len(answers) != len(event_ids):
            raise StoreError("Redis answered the claim with something other than claims")
        try:
            claims = [_ANSWERS[answer] for answer in answers]
        except (KeyError, TypeError):
            raise StoreError("Redis answered the claim with something other than claims") from None
        for event_id, claim in zip(event_ids, claims, strict=True):
            if claim is Claim.NEW:
                self._tokens[event_id] = token
        return claims

    async def done(self, event_ids: Sequence[str]) -> None:
        """See `DedupeStore.done`: one round trip; frees only leases this process holds."""
        unique = list(dict.fromkeys(event_ids))
        if not unique:
            return
        tokens = [self._tokens.pop(event_id, "") for event_id in unique]
        keys = self._pairs(unique)
        await self._run("done", self._done, keys, [_milliseconds(self.window), *tokens])

    async def release(self, event_ids: Sequence[str]) -> None:
        """See `DedupeStore.release`: one round trip; ids this process holds no lease for
        are skipped, so another replica's claim is never freed."""
        held = {i: self._tokens.pop(i) for i in dict.fromkeys(event_ids) if i in self._tokens}
        if not held:
            return
        await self._run("release", self._release, self._leases(list(held)), [*held.values()])
