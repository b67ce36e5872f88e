"""Failed sign-in counters (and password-reset requests), kept in Redis so that every web process sees the
same numbers.

Counted so that nobody can use them against a member: failures count per account *at one address*, so a
stranger's wrong passwords pause sign-in at the stranger's address only. Each address also has a limit
across all accounts (against spraying). Guessing spread over many addresses is stopped by the account-wide
count: when it reaches its limit the caller marks the account as needing a password reset (a database
flag, so losing Redis does not lift it).

A fixed window per key: the first failure starts the window; once a key has reached its limit, further
attempts are refused until the window ends.
"""
import hashlib

from flask import current_app

from app.redis_conn import get_redis


def _digest(value: str) -> str:
    # Hash so that email addresses never sit in Redis in clear text.
    return hashlib.sha256(value.strip().lower().encode()).hexdigest()[:32]


def _key(kind: str, *values: str) -> str:
    # One digest per part, so that every key of one account shares a prefix (clear_account finds them).
    return ":".join([f"parity:throttle:{kind}", *map(_digest, values)])


def _pause_limits(email: str, address: str) -> list[tuple[str, int]]:
    """The keys that pause sign-in at this address, with their limits."""
    config = current_app.config
    address = address or "unknown"
    return [
        (_key("account-at-address", email, address), config["LOGIN_FAILURES_PER_ACCOUNT_AT_ADDRESS"]),
        (_key("address", address), config["LOGIN_FAILURES_PER_ADDRESS"]),
    ]


def _account_key(email: str, password_hash: str | None) -> str:
    # The account-wide count belongs to the current password: setting a new one (the way out of a
    # required reset) starts a fresh count, so the failures that led to the reset do not mark it again.
    return _key("account", email, password_hash or "")


def is_locked(email: str, address: str) -> bool:
    """True when this account at this address, or this address, has used up its failures for the window."""
    keys = _pause_limits(email, address)
    counts = get_redis().mget([key for key, _ in keys])
    return any(count is not None and int(count) >= limit for count, (_, limit) in zip(counts, keys))


def _count(windows: dict[str, int]) -> list[int]:
    """Add one to each key and return the counts; a key's window (seconds) starts at its first count."""
    client = get_redis()
    pipe = client.pipeline()
    for key in windows:
        pipe.incr(key)
        pipe.ttl(key)
    replies = pipe.execute()
    # (EXPIRE … NX would say this in one call, but the embedded server is Redis 6.2, which lacks it.) A key
    # left without a TTL is given one here too.
    for (key, window), ttl in zip(windows.items(), replies[1::2]):
        if ttl < 0:
            client.expire(key, window)
    return replies[0::2]


def record_failure(email: str, address: str, password_hash: str | None = None) -> bool:
    """Count a failed sign-in; True when the account-wide limit has now been reached, which the caller
    answers by requiring a password reset."""
    config = current_app.config
    windows = {key: config["LOGIN_FAILURE_WINDOW_SECONDS"] for key, _ in _pause_limits(email, address)}
    account_key = _account_key(email, password_hash)
    windows[account_key] = config["LOGIN_ACCOUNT_FAILURE_WINDOW_SECONDS"]
    counts = dict(zip(windows, _count(windows)))
    return counts[account_key] >= config["LOGIN_FAILURES_PER_ACCOUNT_BEFORE_RESET"]


def clear_account(email: str, address: str | None = None) -> None:
    """A successful sign-in forgives the account's earlier failures at its address; without an address
    (an operator setting the password) at every address."""
    client = get_redis()
    if address is not None:
        client.delete(_key("account-at-address", email, address or "unknown"))
        return
    keys = list(client.scan_iter(match=_key("account-at-address", email) + ":*", count=1000))
    if keys:
        client.delete(*keys)


def count_reset_request(email: str, address: str) -> tuple[bool, bool]:
    """Count a password-reset request against its email and its address (a fixed window from the first
    request, like sign-in failures); answers (email within its limit, address within its limit)."""
    config = current_app.config
    window = config["PASSWORD_RESET_WINDOW_SECONDS"]
    by_email, by_address = _count({_key("reset-requests-email", email): window,
                                   _key("reset-requests-address", address or "unknown"): window})
    return by_email <= config["PASSWORD_RESETS_PER_EMAIL"], by_address <= config["PASSWORD_RESETS_PER_ADDRESS"]
