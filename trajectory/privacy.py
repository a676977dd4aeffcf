"""Privacy: pseudonymous engineer ids (salted hashes); secret redaction is added beside it."""

from __future__ import annotations

import hashlib
import hmac


def pseudonymise(identity: str, salt: str) -> str:
    """A stable pseudonym for an engineer identity (e-mail, login, name) under a team's salt.

    The same identity and salt always give the same pseudonym, so work can be linked across sources without
    storing who did it. Identities are compared case-insensitively and without surrounding spaces.
    """
    digest = hmac.new(salt.encode(), identity.strip().lower().encode(), hashlib.sha256).hexdigest()
    return f"u_{digest[:20]}"
