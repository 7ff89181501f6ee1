"""The rate-limit budget shared by every worker that uses one token.

Before each request a worker takes one unit; after each reply it records what GitHub
said (remaining, reset). With Redis the budget lives in one hash per token (keyed by a
hash of the token and API URL, never the token itself), so workers together stay under
the limit; without Redis (the laptop default) it is kept per process.
"""

from __future__ import annotations

import hashlib
import threading
import time

# Atomically: unknown budget or a past reset -> go; units left -> take one and go;
# otherwise -> seconds until the reset.
_ACQUIRE = """
local remaining = tonumber(redis.call('HGET', KEYS[1], 'remaining'))
local reset = tonumber(redis.call('HGET', KEYS[1], 'reset'))
local now = tonumber(ARGV[1])
if remaining == nil or reset == nil or now >= reset then return '0' end
if remaining > 0 then
  redis.call('HINCRBY', KEYS[1], 'remaining', -1)
  return '0'
end
return tostring(reset - now)
"""

# A new window (different reset) replaces the budget; within a window keep the lowest
# remaining, since other workers' replies may be more recent than this one.
_OBSERVE = """
local reset = tonumber(redis.call('HGET', KEYS[1], 'reset'))
local remaining = tonumber(redis.call('HGET', KEYS[1], 'remaining'))
local new_remaining = tonumber(ARGV[1])
local new_reset = tonumber(ARGV[2])
if reset == nil or new_reset > reset then
  redis.call('HSET', KEYS[1], 'remaining', new_remaining, 'reset', new_reset)
elseif new_reset == reset and (remaining == nil or new_remaining < remaining) then
  redis.call('HSET', KEYS[1], 'remaining', new_remaining)
end
redis.call('EXPIRE', KEYS[1], math.max(60, math.floor(new_reset - tonumber(ARGV[3])) + 60))
return 1
"""


def budget_key(token: str, api_url: str) -> str:
    digest = hashlib.sha256(f"{api_url}\n{token}".encode()).hexdigest()[:24]
    return f"faultline:github-budget:{digest}"


class LocalBudget:
    """A per-process budget (used when REDIS_URL is empty)."""

    _states: dict[str, dict] = {}
    _lock = threading.Lock()

    def __init__(self, key: str):
        self.key = key

    def acquire(self) -> float:
        """Take one request; returns 0 to go ahead, or the seconds to wait for the reset."""
        now = time.time()
        with self._lock:
            state = self._states.get(self.key)
            if state is None or now >= state["reset"]:
                return 0.0
            if state["remaining"] > 0:
                state["remaining"] -= 1
                return 0.0
            return state["reset"] - now

    def observe(self, remaining: int, reset: float) -> None:
        with self._lock:
            state = self._states.get(self.key)
            if state is None or reset > state["reset"]:
                self._states[self.key] = {"remaining": remaining, "reset": reset}
            elif reset == state["reset"]:
                state["remaining"] = min(state["remaining"], remaining)


class RedisBudget:
    """A budget shared through Redis by every worker using the same token.

    While Redis is unreachable (restarting, say) it falls back to the per-process budget:
    GitHub's own rate-limit replies still pace the miner, and a crawl goes on."""

    def __init__(self, key: str, redis_url: str):
        import redis

        self.key = key
        # Timeouts, so that a hung Redis cannot hang a crawl.
        self.redis = redis.Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=5)
        self._errors = redis.RedisError
        self._local = LocalBudget(key)
        self._acquire = self.redis.register_script(_ACQUIRE)
        self._observe = self.redis.register_script(_OBSERVE)

    def acquire(self) -> float:
        try:
            return float(self._acquire(keys=[self.key], args=[time.time()]))
        except self._errors:
            return self._local.acquire()

    def observe(self, remaining: int, reset: float) -> None:
        self._local.observe(remaining, reset)
        try:
            self._observe(keys=[self.key], args=[remaining, reset, time.time()])
        except self._errors:
            pass  # the local budget holds it until Redis answers again


def make_budget(*, token: str, api_url: str, redis_url: str):
    key = budget_key(token, api_url)
    return RedisBudget(key, redis_url) if redis_url else LocalBudget(key)
