"""Prometheus metrics and the request log: requests per route template (count, latency,
bytes received by uploads) measured by an ASGI middleware, and the library's figures
(assets, verdicts, jobs, queue, search index lag, storage) read at each scrape.

One registry per app (no module-level state: two apps in one process count apart).
Labels hold route templates, methods, statuses, stages and channels only: never an id,
a name or a file name.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dam import library_stats, logs
from search import dirty

if TYPE_CHECKING:
    from dam.runtime import Runtime

access_log = logging.getLogger("beeldbank.access")

REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
UPLOAD_ROUTES = {
    ("POST", "/api/v1/assets"),
    ("POST", "/api/v1/uploads"),
    ("PATCH", "/api/v1/uploads/{upload_id}"),
}
UNMATCHED = "(unmatched)"


class MetricsResponse(PlainTextResponse):
    """The Prometheus text format: counts and durations, never asset bytes."""

    media_type = CONTENT_TYPE_LATEST


class Metrics:
    """The app's registry and the request figures the middleware records."""

    def __init__(self, runtime: Runtime) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "beeldbank_http_requests",
            "HTTP requests answered, per route template, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "beeldbank_http_request_duration_seconds",
            "Time to answer an HTTP request, per route template and method.",
            ["route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.upload_bytes = Counter(
            "beeldbank_upload_bytes",
            "Bytes received by the upload routes (simple and resumable).",
            ["route"],
            registry=self.registry,
        )
        self.registry.register(LibraryCollector(runtime))

    def render(self) -> bytes:
        return generate_latest(self.registry)


class LibraryCollector(Collector):
    """The library's state, read from the database at every scrape."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def collect(self) -> Iterator[Metric]:
        rt = self.runtime
        with rt.engine.connect() as conn:
            figures = library_stats.gather(conn)
        assets = GaugeMetricFamily(
            "beeldbank_assets", "Library assets per processing status.", labels=["status"]
        )
        for status, count in sorted(figures.assets.items()):
            assets.add_metric([status], count)
        yield assets

        verdicts = GaugeMetricFamily(
            "beeldbank_verdicts",
            "Assets per publication channel and verdict status.",
            labels=["channel", "status"],
        )
        for (channel, status), count in sorted(figures.verdicts.items()):
            verdicts.add_metric([channel, status], count)
        yield verdicts

        jobs = CounterMetricFamily(
            "beeldbank_jobs_finished",
            "Jobs that ended, per stage and outcome (done, failed, cancelled).",
            labels=["stage", "outcome"],
        )
        durations = HistogramMetricFamily(
            "beeldbank_job_duration_seconds",
            "Time spent in a stage's own work, per stage and outcome.",
            labels=["stage", "outcome"],
        )
        for job in figures.jobs:
            jobs.add_metric([job.stage, job.outcome], job.count)
            buckets = [
                (_bound(bound), count)
                for bound, count in zip(library_stats.JOB_BUCKETS, job.buckets, strict=True)
            ]
            durations.add_metric(
                [job.stage, job.outcome], [*buckets, ("+Inf", job.count)], job.seconds
            )
        yield jobs
        yield durations

        waiting = GaugeMetricFamily(
            "beeldbank_jobs_waiting", "Jobs queued or running now.", labels=["state"]
        )
        for state, count in sorted(figures.jobs_waiting.items()):
            waiting.add_metric([state], count)
        yield waiting
        yield GaugeMetricFamily(
            "beeldbank_oldest_queued_job_age_seconds",
            "How long the oldest queued job has waited (0 when none waits).",
            value=figures.oldest_waiting_s,
        )

        count, since = dirty.backlog(rt.engine)
        lag = (library_stats.now() - since).total_seconds() if since is not None else 0.0
        yield GaugeMetricFamily(
            "beeldbank_search_backlog", "Assets waiting to be (re)indexed.", value=count
        )
        yield GaugeMetricFamily(
            "beeldbank_search_lag_seconds",
            "How long the oldest change has waited for the search index (0 when none).",
            value=max(0.0, lag),
        )
        yield GaugeMetricFamily(
            "beeldbank_storage_free_bytes",
            "Free space on the data directory's file system.",
            value=library_stats.free_bytes(rt.settings.data_dir),
        )


def _bound(bound: float) -> str:
    return repr(float(bound))


class RequestMetrics:
    """ASGI middleware: a request id for every request (kept from a sane X-Request-ID,
    sent back, and on every log record of the request), its figures, and one log line
    with the route template, status and duration."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = _header(scope, b"x-request-id")
        request_id = given if given and REQUEST_ID.match(given) else secrets.token_hex(8)
        token = logs.request_id.set(request_id)
        started = time.perf_counter()
        status = 500
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
            return message

        async def tagging_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, counting_receive, tagging_send)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_template(scope)
            method = str(scope.get("method", ""))
            self.metrics.requests.labels(route, method, str(status)).inc()
            self.metrics.latency.labels(route, method).observe(elapsed)
            if (method, route) in UPLOAD_ROUTES and received:
                self.metrics.upload_bytes.labels(route).inc(received)
            access_log.info(
                "%s %s %d %.1f ms",
                method,
                route,
                status,
                elapsed * 1000,
                extra={
                    "route": route,
                    "method": method,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 1),
                },
            )
            logs.request_id.reset(token)


def _route_template(scope: Scope) -> str:
    """The matched route's path template: FastAPI records the whole one (prefixes of
    included routers and all) as the request's effective route; other routes (mounts)
    are in `scope["route"]`."""
    fastapi_scope = scope.get("fastapi")
    context: Any = fastapi_scope.get("effective_route_context") if fastapi_scope else None
    path = getattr(context, "path_format", None) or getattr(scope.get("route"), "path", None)
    return str(path) if path else UNMATCHED


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value).decode("latin-1")
    return None
