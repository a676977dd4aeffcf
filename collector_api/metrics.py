"""Prometheus text-format metrics for the collector (per process): event outcomes and request latency."""

from __future__ import annotations

import threading
from collections import defaultdict

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """Counters and a latency histogram; cheap enough to update on every request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.events: dict[str, int] = {"accepted": 0, "duplicate": 0, "rejected": 0}
        self.requests: dict[tuple[str, str, int], int] = defaultdict(int)
        self.latency_buckets: dict[str, list[int]] = defaultdict(lambda: [0] * len(BUCKETS))
        self.latency_sum: dict[str, float] = defaultdict(float)
        self.latency_count: dict[str, int] = defaultdict(int)
        self.webhooks: dict[str, int] = defaultdict(int)

    def count_events(self, accepted: int, duplicate: int, rejected: int) -> None:
        with self._lock:
            self.events["accepted"] += accepted
            self.events["duplicate"] += duplicate
            self.events["rejected"] += rejected

    def count_webhook(self, status: str) -> None:
        with self._lock:
            self.webhooks[status] += 1

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        with self._lock:
            self.requests[(method, route, status)] += 1
            buckets = self.latency_buckets[route]
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    buckets[i] += 1
            self.latency_sum[route] += seconds
            self.latency_count[route] += 1

    def render(self) -> str:
        with self._lock:
            lines = ["# HELP smartco_events_total Events received, by outcome.", "# TYPE smartco_events_total counter"]
            lines += [f'smartco_events_total{{outcome="{k}"}} {v}' for k, v in self.events.items()]
            lines += [
                "# HELP smartco_webhooks_total GitHub webhook deliveries, by outcome.",
                "# TYPE smartco_webhooks_total counter",
            ]
            lines += [f'smartco_webhooks_total{{outcome="{k}"}} {v}' for k, v in sorted(self.webhooks.items())]
            lines += ["# HELP smartco_http_requests_total HTTP requests.", "# TYPE smartco_http_requests_total counter"]
            for (method, route, status), n in sorted(self.requests.items()):
                lines.append(f'smartco_http_requests_total{{method="{method}",route="{route}",status="{status}"}} {n}')
            lines += [
                "# HELP smartco_http_request_seconds Request latency.",
                "# TYPE smartco_http_request_seconds histogram",
            ]
            for route, buckets in sorted(self.latency_buckets.items()):
                for bound, n in zip(BUCKETS, buckets, strict=True):
                    lines.append(f'smartco_http_request_seconds_bucket{{route="{route}",le="{bound}"}} {n}')
                count = self.latency_count[route]
                lines.append(f'smartco_http_request_seconds_bucket{{route="{route}",le="+Inf"}} {count}')
                lines.append(f'smartco_http_request_seconds_sum{{route="{route}"}} {self.latency_sum[route]:.6f}')
                lines.append(f'smartco_http_request_seconds_count{{route="{route}"}} {count}')
        return "\n".join(lines) + "\n"
