"""Prometheus metrics of one app instance, and the middleware that times every request."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    """Every metric the service exports, in its own registry (one per app)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.http_requests = Counter(
            "nudge_http_requests",
            "HTTP requests by route and status",
            ["method", "route", "status"],
            registry=r,
        )
        self.http_latency = Histogram(
            "nudge_http_request_duration_seconds",
            "HTTP request latency by route",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.prompts_served = Counter(
            "nudge_prompts_served",
            "Prompts returned by GET /v1/prompts, by trigger",
            ["trigger"],
            registry=r,
        )
        self.prompts_shadowed = Counter(
            "nudge_prompts_shadowed",
            "Prompts of shadow-mode triggers that GET /v1/prompts would have returned",
            ["trigger"],
            registry=r,
        )
        self.signals_recorded = Counter(
            "nudge_signals_recorded",
            "Signals recorded (such as product-qualified leads), by type and trigger",
            ["type", "trigger"],
            registry=r,
        )
        self.firing_errors = Counter(
            "nudge_firing_settle_errors",
            "Accounts whose pending marks or signals could not be settled after a change "
            "(retried at the account's next change)",
            registry=r,
        )
        self.prompts_degraded = Counter(
            "nudge_prompts_degraded",
            "GET /v1/prompts answers served degraded (empty) because Redis was slow or down",
            registry=r,
        )
        self.usage_events = Counter(
            "nudge_usage_events",
            "Usage events by result (accepted, duplicate)",
            ["result"],
            registry=r,
        )
        self.prompt_events = Counter(
            "nudge_prompt_events",
            "Prompt events reported by frontends, by type",
            ["type"],
            registry=r,
        )
        self.rules_reloads = Counter(
            "nudge_rules_reload",
            "Rule reloads by result (success, failure)",
            ["result"],
            registry=r,
        )
        self.rules_last_reload_success = Gauge(
            "nudge_rules_last_reload_success", "1 if the last rule reload succeeded", registry=r
        )
        self.rules_version = Gauge(
            "nudge_rules_version_info",
            "The live rule set's version (always 1)",
            ["version"],
            registry=r,
        )

    def set_rules_version(self, version: str) -> None:
        self.rules_version.clear()
        self.rules_version.labels(version=version).set(1)


class RequestMetricsMiddleware:
    """Counts and times requests by route template (not raw path, to bound label values)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # noqa: PLR0917 ASGI's signature
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope["method"]
            self.metrics.http_requests.labels(method, template, str(status)).inc()
            self.metrics.http_latency.labels(method, template).observe(
                time.perf_counter() - started
            )
