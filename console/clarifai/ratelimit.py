"""One request-rate limit per token, shared by every web and worker process: a token bucket in a cache.

The bucket is kept as numbered turns: turn `n` of a token may be used from time `n / rate` on. A caller
takes the first free turn with the cache's atomic `add` (Redis SET NX; an INSERT against the primary key
of the database cache table), then waits until its time. The `burst - 1` turns before the current one
may still be taken, so a token that was idle may make `burst` calls at once (those and the next turn):
over any span of T seconds at most `rate * T + burst` calls start, in every process together. That is a
token bucket of `burst` tokens refilled at `rate` a second, without any read-modify-write that two
processes could interleave.

The cache is `settings.CONSOLE_RATE_LIMIT_CACHE`: Redis when CACHE_URL is set, else the database.
"""

import hashlib
import math
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import caches

PREFIX = "ratelimit"


def key_for(token: str) -> str:
    """The bucket's name for a token: a digest, so the token itself is never a cache key."""
    return hashlib.sha256(token.encode()).hexdigest()[:32]


def acquire(
    key: str,
    rate: float,
    *,
    burst: int | None = None,
    sleep: Callable[[float], None] = time.sleep,
    wait: bool = True,
) -> float:
    """Wait for this bucket's next turn (`rate` calls a second; 0 means no limit); answer the seconds waited.

    With `wait=False` the turn is taken and the call goes at once: a person at a page goes before the
    jobs, which then wait the longer (their turns come after it)."""
    if rate <= 0:
        return 0.0
    burst = max(1, burst if burst is not None else math.ceil(rate))
    cache = caches[settings.CONSOLE_RATE_LIMIT_CACHE]
    now = time.time()
    # Turns used within [t1, t2] lie in [floor(t1 * rate) - burst + 2, floor(t2 * rate)]: at most
    # rate * (t2 - t1) + burst of them.
    first = math.floor(now * rate) - burst + 2
    # Where the last caller left off: only a hint (it may be stale), so scanning from it is just quicker.
    hint = cache.get(f"{PREFIX}:{key}:next")
    turn = max(first, hint if isinstance(hint, int) else first)
    while True:
        # Kept while the turn can still be asked for: until it falls `burst` turns behind the clock.
        keep = max(turn / rate - now, 0) + burst / rate + 2
        if cache.add(f"{PREFIX}:{key}:{turn}", 1, timeout=keep):
            break
        turn += 1
    cache.set(f"{PREFIX}:{key}:next", turn + 1, timeout=burst / rate + 60)
    late = turn / rate - time.time()
    if wait and late > 0:
        sleep(late)
        return late
    return 0.0
