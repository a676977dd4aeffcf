"""GitHub's REST API for one repository, served by a real local HTTP server from a `World`, with scripted faults.

Pages are cut `page_size` items at a time and linked with `Link: <...>; rel="next"`; every page has an ETag and
a conditional request for an unchanged page gets 304; `since` filters as GitHub does (updated at or after);
rate-limit headers count down and reset on an injected clock; faults (any status and headers) are answered once
for the first request whose path contains their fragment; a request can be held until the test releases it.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Callable
from datetime import datetime
from urllib.parse import parse_qs, urlencode, urlsplit

from sources.githubworld import REPO, Json, World
from sources.httpstub import Reply

_PULL_PART = re.compile(r"^/pulls/(\d+)/(commits|reviews)$")


class GitHubApi:
    """The handler of a StubServer (see httpstub.StubServer); `url` is set once the server listens."""

    def __init__(self, world: World, *, token: str = "ghp_local", page_size: int = 2, limit: int = 5000) -> None:
        self.world, self.token, self.page_size = world, token, page_size
        self.url = ""
        self.limit = self.remaining = limit
        self.clock: Callable[[], float] = lambda: 0.0
        self.window_s = 3600.0
        self.reset_at = self.window_s
        self.faults: list[tuple[str, Reply]] = []
        self.hold: tuple[str, threading.Event, threading.Event] | None = None
        self.lock = threading.Lock()

    def hold_on(self, fragment: str) -> tuple[threading.Event, threading.Event]:
        """Hold the first request whose path contains `fragment`: (reached, release) events for the test."""
        reached, release = threading.Event(), threading.Event()
        self.hold = (fragment, reached, release)
        return reached, release

    def __call__(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Reply:
        with self.lock:
            fault = next((item for item in self.faults if item[0] in path), None)
            if fault is not None:
                self.faults.remove(fault)
                return fault[1]
            held = self.hold if self.hold is not None and self.hold[0] in path else None
            if held is not None:
                self.hold = None
        if held is not None:
            held[1].set()
            held[2].wait(timeout=60)
        if headers.get("authorization") != f"Bearer {self.token}":
            return Reply(401, {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"})
        split = urlsplit(path)
        params = {key: values[0] for key, values in parse_qs(split.query).items()}
        items = self.listing(split.path, params)
        if items is None:
            return Reply(404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"})
        return self._page(split.path, params, items, headers.get("if-none-match"))

    def listing(self, path: str, params: dict[str, str]) -> list[Json] | None:
        prefix = f"/repos/{REPO}"
        if not path.startswith(prefix):
            return None
        rest, world = path[len(prefix) :], self.world
        since = params.get("since")
        if rest == "/issues":
            return _ordered(_since(world.issues, since), params)
        if rest == "/issues/comments":
            return _ordered(_since(world.issue_comments, since), params)
        if rest == "/pulls/comments":
            return _ordered(_since(world.review_comments, since), params)
        if rest == "/pulls":
            return _ordered(world.pulls, params)
        match = _PULL_PART.match(rest)
        if match:
            table = world.pr_commits if match.group(2) == "commits" else world.reviews
            return table.get(int(match.group(1)))
        return None

    def _page(self, path: str, params: dict[str, str], items: list[Json], etag_seen: str | None) -> Reply:
        number = int(params.get("page", "1"))
        chunk = items[(number - 1) * self.page_size : number * self.page_size]
        data = json.dumps(chunk).encode()
        etag = f'W/"{hashlib.sha1(data).hexdigest()}"'
        headers = {"ETag": etag, **self._quota(counted=etag_seen != etag)}
        if number * self.page_size < len(items):
            after = {**params, "page": str(number + 1)}
            last = {**params, "page": str(-(-len(items) // self.page_size))}
            base = f"{self.url}{path}?"
            headers["Link"] = f'<{base}{urlencode(after)}>; rel="next", <{base}{urlencode(last)}>; rel="last"'
        if etag_seen == etag:
            return Reply(304, b"", headers)
        return Reply(200, data, headers)

    def _quota(self, *, counted: bool) -> dict[str, str]:
        """Rate-limit headers; a 304 costs nothing, as on GitHub."""
        with self.lock:
            if self.clock() >= self.reset_at:
                self.remaining, self.reset_at = self.limit, self.clock() + self.window_s
            if counted:
                self.remaining = max(0, self.remaining - 1)
            return {"X-RateLimit-Limit": str(self.limit), "X-RateLimit-Remaining": str(self.remaining),
                    "X-RateLimit-Reset": str(int(self.reset_at))}  # fmt: skip


def _since(items: list[Json], since: str | None) -> list[Json]:
    if not since:
        return items
    cut = _time(since)
    return [item for item in items if _time(item["updated_at"]) >= cut]


def _ordered(items: list[Json], params: dict[str, str]) -> list[Json]:
    newest_first = params.get("direction", "desc") == "desc"
    return sorted(items, key=lambda item: (_time(item["updated_at"]), item["id"]), reverse=newest_first)


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def rate_limited(status: int, retry_after: str | None = None, message: str = "") -> Reply:
    """A rate-limit answer as GitHub gives it (secondary: Retry-After; primary: Remaining 0, see `primary`)."""
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return Reply(status, {"message": message or "You have exceeded a secondary rate limit."}, headers)


def primary(reset_at: float) -> Reply:
    return Reply(403, {"message": "API rate limit exceeded for user."},
                 {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(reset_at))})  # fmt: skip
