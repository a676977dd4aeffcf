"""A small GitHub REST client: Link pagination, conditional requests (ETag), rate limits honoured with waits shown."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

from trajectory.sources import GitHubError

log = logging.getLogger(__name__)

DEFAULT_API = "https://api.github.com"
_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')
SECONDARY_WAIT_S = 60.0  # GitHub asks for at least a minute when a secondary limit answers without Retry-After
MAX_ETAGS = 20_000


class RateLimitError(GitHubError):
    """A wait the caller did not allow (over `max_wait_s`)."""


@dataclass
class Page:
    """One page of a listing; `not_modified` pages (304) cost no rate limit and carry no items."""

    url: str
    items: list[dict[str, Any]]
    next_url: str | None
    not_modified: bool = False


@dataclass
class ApiStats:
    requests: int = 0
    not_modified: int = 0
    waits: int = 0
    waited_s: float = 0.0
    retries: int = 0


class GitHubClient:
    """GETs against the REST API with a token; `etags` maps url -> [etag, next url, remembered value]."""

    def __init__(
        self,
        token: str | None,
        *,
        api_url: str = DEFAULT_API,
        etags: dict[str, list[Any]] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        on_wait: Callable[[float, str], None] | None = None,
        max_wait_s: float = 3700.0,
        max_attempts: int = 6,
        timeout_s: float = 30.0,
    ) -> None:
        headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28",
                   "User-Agent": "smartco-importer"}  # fmt: skip
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.api_url = api_url.rstrip("/")
        self.client = httpx.Client(headers=headers, timeout=timeout_s)
        self.etags = etags if etags is not None else {}
        self.sleep, self.clock, self.on_wait = sleep, clock, on_wait
        self.max_wait_s, self.max_attempts = max_wait_s, max_attempts
        self.stats = ApiStats()
        self._remaining: int | None = None
        self._reset_at = 0.0

    def url(self, path: str, **params: object) -> str:
        query = urlencode({key: value for key, value in params.items() if value is not None})
        return f"{self.api_url}/{path.lstrip('/')}" + (f"?{query}" if query else "")

    def pages(self, url: str) -> Iterator[Page]:
        """Pages from `url` on, following `Link: rel="next"`."""
        next_url: str | None = url
        while next_url:
            page = self.page(next_url)
            yield page
            next_url = page.next_url

    def page(self, url: str) -> Page:
        cached = self.etags.get(url)
        response = self._get(url, cached[0] if cached else None)
        if response.status_code == 304:
            self.stats.not_modified += 1
            return Page(url, [], cached[1] if cached else None, not_modified=True)
        try:
            data = response.json()
        except ValueError:
            path = url.removeprefix(self.api_url)
            raise GitHubError(f"GitHub answered {path} with something that is not JSON") from None
        items = [item for item in (data if isinstance(data, list) else [data]) if isinstance(item, dict)]
        next_url = _next_link(response.headers.get("Link"))
        if response.headers.get("ETag"):
            self._remember(url, [response.headers["ETag"], next_url, None])
        return Page(url, items, next_url)

    def remember_value(self, url: str, value: Any) -> None:
        """Keep a digest of a page (e.g. commit shas) so a later 304 can still give it."""
        if url in self.etags:
            self.etags[url][2] = value

    def _remember(self, url: str, entry: list[Any]) -> None:
        self.etags.pop(url, None)
        self.etags[url] = entry
        while len(self.etags) > MAX_ETAGS:
            self.etags.pop(next(iter(self.etags)))

    def _get(self, url: str, etag: str | None) -> httpx.Response:
        headers = {"If-None-Match": etag} if etag else {}
        for attempt in range(1, self.max_attempts + 1):
            self._wait_for_quota()
            try:
                response = self.client.get(url, headers=headers)
            except httpx.TransportError as err:
                self._retry(attempt, min(2.0**attempt, 60.0), f"GitHub unreachable ({type(err).__name__})")
                continue
            self.stats.requests += 1
            self._track(response)
            status = response.status_code
            if status in (200, 304):
                return response
            if status in (403, 429) and (delay := self._limit_delay(response)) is not None:
                self._retry(attempt, delay, f"GitHub rate limit ({status})")
            elif status >= 500:
                self._retry(attempt, min(2.0**attempt, 60.0), f"GitHub answered {status}")
            else:
                raise GitHubError(_refusal(status, url.removeprefix(self.api_url), _message(response)))
        raise AssertionError("unreachable")

    def _track(self, response: httpx.Response) -> None:
        remaining, reset = response.headers.get("X-RateLimit-Remaining"), response.headers.get("X-RateLimit-Reset")
        if remaining is not None and remaining.isdigit():
            self._remaining = int(remaining)
        if reset is not None and reset.isdigit():
            self._reset_at = float(reset)

    def _limit_delay(self, response: httpx.Response) -> float | None:
        """How long a 403/429 asks us to wait; None when it is a plain refusal (no rate limit involved)."""
        retry_after = response.headers.get("Retry-After")
        if retry_after is not None:
            try:
                return max(float(retry_after), 0.0)
            except ValueError:
                return SECONDARY_WAIT_S
        if response.headers.get("X-RateLimit-Remaining") == "0":
            return max(self._reset_at - self.clock(), 0.0) + 1.0
        if "rate limit" in _message(response).lower():
            return SECONDARY_WAIT_S
        return None

    def _wait_for_quota(self) -> None:
        if self._remaining == 0 and self._reset_at > self.clock():
            self._pause(self._reset_at - self.clock() + 1.0, "GitHub rate limit exhausted until its reset")
            self._remaining = None

    def _retry(self, attempt: int, delay: float, reason: str) -> None:
        if attempt >= self.max_attempts:
            raise GitHubError(f"giving up after {attempt} attempts: {reason}")
        self.stats.retries += 1
        self._pause(delay, reason)

    def _pause(self, seconds: float, reason: str) -> None:
        if seconds > self.max_wait_s:
            raise RateLimitError(f"{reason}: would have to wait {seconds:.0f}s (more than {self.max_wait_s:.0f}s)")
        log.warning("%s; waiting %.0fs", reason, seconds)
        if self.on_wait:
            self.on_wait(seconds, reason)
        self.stats.waits += 1
        self.stats.waited_s += seconds
        self.sleep(seconds)

    def close(self) -> None:
        self.client.close()


def _refusal(status: int, path: str, message: str) -> str:
    """A refusal that retrying cannot fix, said so that the user knows what to change."""
    if status == 401:
        return f"GitHub refused the token (401 {message}): check GITHUB_TOKEN or --github-token"
    if status == 404:
        return f"GitHub has no {path} (404): check OWNER/NAME and that the token can read that repository"
    if status == 403:
        return f"GitHub refused {path} (403 {message}): the token lacks a permission for it"
    return f"GitHub answered {status} for {path}: {message}"


def _next_link(header: str | None) -> str | None:
    match = _NEXT.search(header or "")
    return match.group(1) if match else None


def _message(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:200]
    return str(data.get("message", "") if isinstance(data, dict) else data)[:200]
