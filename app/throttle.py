"""Failed sign-in counters, kept in Redis so that every web process sees the same numbers.

A fixed window per key: the first failure starts a window of LOGIN_FAILURE_WINDOW_SECONDS; once a key
has reached its limit, further attempts are refused until the window ends.
"""
import hashlib

from flask import current_app

from app.redis_conn import get_redis


def _key(kind: str, value: str) -> str:
    # Hash so that email addresses never sit in Redis in clear text.
    digest = hashlib.sha256(value.strip().lower().encode()).hexdigest()[:32]
    return f"parity:signin-failures:{kind}:{digest}"


def _limits(email: str, address: str) -> list[tuple[str, int]]:
    config = current_app.config
    return [
        (_key("account", email), config["LOGIN_FAILURES_PER_ACCOUNT"]),
        (_key("address", address or "unknown"), config["LOGIN_FAILURES_PER_ADDRESS"]),
    ]


def is_locked(email: str, address: str) -> bool:
    """True when this account or this address has used up its failures for the window."""
    keys = _limits(email, address)
    counts = get_redis().mget([key for key, _ in keys])
    return any(count is not None and int(count) >= limit for count, (_, limit) in zip(counts, keys))


def record_failure(email: str, address: str) -> None:
    window = current_app.config["LOGIN_FAILURE_WINDOW_SECONDS"]
    client = get_redis()
    keys = [key for key, _ in _limits(email, address)]
    pipe = client.pipeline()
    for key in keys:
        pipe.incr(key)
        pipe.ttl(key)
    replies = pipe.execute()
    # The window starts at the first failure. (EXPIRE … NX would say this in one call, but the
    # embedded server is Redis 6.2, which lacks it.) A key left without a TTL is given one here too.
    for key, ttl in zip(keys, replies[1::2]):
        if ttl < 0:
            client.expire(key, window)


def clear_account(email: str) -> None:
    """A successful sign-in (or a password reset) forgives the account's earlier failures."""
    get_redis().delete(_key("account", email))



def _reset_request_key(kind: str, value: str) -> str:
    digest = hashlib.sha256(value.strip().lower().encode()).hexdigest()[:32]
    return f"parity:password-reset-requests:{kind}:{digest}"


def count_reset_request(email: str, address: str) -> tuple[bool, bool]:
    """Count a password-reset request against its email and its address (a fixed window from the first
    request, like sign-in failures); answers (email within its limit, address within its limit)."""
    config = current_app.config
    keys = [_reset_request_key("email", email), _reset_request_key("address", address or "unknown")]
    client = get_redis()
    pipe = client.pipeline()
    for key in keys:
        pipe.incr(key)
    counts = pipe.execute()
    for key, count in zip(keys, counts):
        if count == 1 or client.ttl(key) < 0:  # the first request starts the window
            client.expire(key, config["PASSWORD_RESET_WINDOW_SECONDS"])
    return counts[0] <= config["PASSWORD_RESETS_PER_EMAIL"], counts[1] <= config["PASSWORD_RESETS_PER_ADDRESS"]
