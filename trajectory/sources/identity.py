"""Who did it: bot detection, pseudonymous actors and deterministic event ids shared by every source."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable

from trajectory.privacy import pseudonymise

# Accounts that are automation, not engineers; `[bot]` logins and GitHub App e-mails are caught by pattern.
DEFAULT_BOTS: tuple[str, ...] = (
    "dependabot",
    "dependabot-preview",
    "renovate",
    "renovate-bot",
    "github-actions",
    "pre-commit-ci",
    "greenkeeper",
    "snyk-bot",
    "codecov",
    "allcontributors",
    "imgbot",
    "mergify",
    "web-flow",
)
_BOT_PATTERN = re.compile(r"\[bot\]|^bot@|-bot$|\bbot$", re.IGNORECASE)
_NAMESPACE = uuid.UUID("6f1d6f52-8a3b-5c1e-9b35-2f0b8c7d4e11")


def is_bot(*identities: str | None, extra: Iterable[str] = ()) -> bool:
    """True when any of a login, name or e-mail names automation (a `[bot]` login or a listed account)."""
    listed = {name.lower() for name in (*DEFAULT_BOTS, *extra)}
    for identity in identities:
        if not identity:
            continue
        value = identity.strip().lower()
        local = value.split("@", 1)[0].split("+", 1)[-1]
        if _BOT_PATTERN.search(value) or value in listed or local in listed:
            return True
    return False


def actor_id(identity: str | None, salt: str) -> str:
    """The pseudonymous actor of an identity (e-mail or login); `unknown` when there is none."""
    if not identity or not identity.strip():
        return pseudonymise("unknown", salt)
    return pseudonymise(identity, salt)


def stable_event_id(*parts: object) -> uuid.UUID:
    """A UUID (version 5) that is the same for the same parts, so re-imports and replays are idempotent."""
    return uuid.uuid5(_NAMESPACE, "\x1f".join(str(part) for part in parts))
