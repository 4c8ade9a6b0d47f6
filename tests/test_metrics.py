"""/metrics scraped after real work and parsed with prometheus-client's own parser; who may
read it; JSON request logs. No label or log line may hold a name or a file name."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from dam import logs
from dam.models import Person, Role
from dam.runtime import Runtime
from dam.settings import Settings
from tests import media
from tests.conftest import Account
from web.app import create_app

pytestmark = pytest.mark.one_database

ROOT = Path(__file__).resolve().parents[1]
NAME = "Quirijn Vandermaelen"
FILE_NAME = "Quirijn_Vandermaelen_op_het_feest.jpg"


def scrape(client: TestClient, headers: dict[str, str]) -> dict[str, list[Sample]]:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    assert NAME.split()[1] not in response.text and "Vandermaelen" not in response.text
    families = text_string_to_metric_families(response.text)
    return {family.name: family.samples for family in families}


def value(samples: list[Sample], name: str, **labels: str) -> float:
    found = [s.value for s in samples if s.name == name and s.labels == labels]
    assert len(found) == 1, (name, labels, [s for s in samples if s.name == name])
    return found[0]


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """The root logger writing JSON lines into a buffer, as DAM_LOG_FORMAT=json sets up."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logs.JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield out
    root.removeHandler(handler)
    root.setLevel(level)


def test_metrics_after_an_upload(
    client: TestClient,
    rt: Runtime,
    make_account: Callable[[Role], Account],
    json_log: io.StringIO,
) -> None:
    creative, admin = make_account(Role.creative), make_account(Role.admin)
    with rt.unit_of_work() as session:
        session.add(Person(name=NAME))
    photo = media.jpeg(seed=3)
    uploaded = client.post(
        "/api/v1/assets",
        headers={**creative.headers, "X-Request-ID": "trace-42"},
        files={"file": (FILE_NAME, photo, "image/jpeg")},
    )
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.headers["x-request-id"] == "trace-42"
    asset_id = uploaded.json()["id"]
    assert client.get(f"/api/v1/assets/{asset_id}", headers=creative.headers).status_code == 200
    assert client.get("/api/v1/assets/nothere", headers=creative.headers).status_code == 404

    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers=creative.headers).status_code == 403
    families = scrape(client, admin.headers)

    requests = families["beeldbank_http_requests"]
    total = "beeldbank_http_requests_total"
    assert value(requests, total, route="/api/v1/assets", method="POST", status="201") == 1
    one = {"route": "/api/v1/assets/{asset_id}", "method": "GET"}
    assert value(requests, total, **one, status="200") == 1
    assert value(requests, total, **one, status="404") == 1
    latency = families["beeldbank_http_request_duration_seconds"]
    assert value(latency, "beeldbank_http_request_duration_seconds_count", **one) == 2
    assert value(latency, "beeldbank_http_request_duration_seconds_bucket", **one, le="+Inf") == 2
    # The multipart body holds the photo and a little more.
    uploaded_bytes = value(
        families["beeldbank_upload_bytes"], "beeldbank_upload_bytes_total", route="/api/v1/assets"
    )
    assert len(photo) < uploaded_bytes < len(photo) + 1000

    assets = families["beeldbank_assets"]
    assert value(assets, "beeldbank_assets", status="ready") == 1
    verdicts = families["beeldbank_verdicts"]
    for channel in rt.settings.channel_list:
        assert sum(s.value for s in verdicts if s.labels["channel"] == channel) == 1
    finished = families["beeldbank_jobs_finished"]
    for stage in ("probe", "renditions", "faces", "identity"):
        count = value(finished, "beeldbank_jobs_finished_total", stage=stage, outcome="done")
        assert count == 1
        durations = families["beeldbank_job_duration_seconds"]
        labels = {"stage": stage, "outcome": "done"}
        assert value(durations, "beeldbank_job_duration_seconds_count", **labels) == 1
        assert value(durations, "beeldbank_job_duration_seconds_bucket", **labels, le="+Inf") == 1
    waiting = families["beeldbank_jobs_waiting"]
    assert value(waiting, "beeldbank_jobs_waiting", state="queued") == 0
    oldest = families["beeldbank_oldest_queued_job_age_seconds"]
    assert value(oldest, "beeldbank_oldest_queued_job_age_seconds") == 0
    assert "beeldbank_search_lag_seconds" in families
    free = families["beeldbank_storage_free_bytes"]
    assert value(free, "beeldbank_storage_free_bytes") > 0
    # No label holds an id, a name or a file name.
    labels = {v for samples in families.values() for s in samples for v in s.labels.values()}
    assert not [v for v in labels if asset_id in v or "Quirijn" in v or ".jpg" in v]

    # One JSON line per request: id, route template, status, duration; no file name.
    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    assert [line for line in lines if "Quirijn" in json.dumps(line)] == []
    access = [line for line in lines if line["logger"] == "beeldbank.access"]
    first = access[0]
    assert first["request_id"] == "trace-42"
    assert (first["route"], first["method"], first["status"]) == ("/api/v1/assets", "POST", 201)
    assert first["duration_ms"] > 0
    ids = {line["request_id"] for line in access}
    assert len(ids) == len(access)  # every request its own id


def test_a_prometheus_network_needs_no_token(
    rt: Runtime, settings_factory: Callable[..., Settings]
) -> None:
    allowed = settings_factory(metrics_allow="10.0.0.0/8")
    rt.settings = allowed
    app = create_app(rt)
    with TestClient(app, client=("10.1.2.3", 40000)) as inside:
        response = inside.get("/metrics")
        assert response.status_code == 200
        assert "beeldbank_assets" in response.text
    with TestClient(app, client=("192.0.2.7", 40000)) as outside:
        assert outside.get("/metrics").status_code == 401


def test_json_formatter_keeps_extras_and_the_request_id() -> None:
    record = logging.makeLogRecord(
        {"name": "x", "levelname": "INFO", "msg": "asset %s stored", "args": ("a1",)}
    )
    record.status = 201
    token = logs.request_id.set("r-1")
    try:
        line = json.loads(logs.JsonFormatter().format(record))
    finally:
        logs.request_id.reset(token)
    assert line["message"] == "asset a1 stored" and line["status"] == 201
    assert line["request_id"] == "r-1" and line["level"] == "INFO"


def test_the_grafana_dashboard_asks_for_metrics_that_exist(
    client: TestClient, make_account: Callable[[Role], Account]
) -> None:
    dashboard = json.loads((ROOT / "docs" / "grafana-dashboard.json").read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    asked = {
        re.sub(r"_(total|bucket|count|sum)$", "", name)
        for expr in exprs
        for name in re.findall(r"\bbeeldbank_[a-z_]+", expr)
    }
    families = scrape(client, make_account(Role.admin).headers)
    assert len(asked) >= 10
    assert asked <= set(families), asked - set(families)


def test_the_command_line_logs_json_lines(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DAM_DATA_DIR": str(tmp_path / "data"),
        "DAM_LOG_FORMAT": "json",
        "DAM_QUEUE_URL": "immediate://",
    }
    env.pop("DAM_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", "from dam.cli import main; main()", "migrate"],
        env=env, capture_output=True, text=True, timeout=300, check=False, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stderr.splitlines() if line.strip()]
    assert lines and all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    assert any(line["logger"].startswith("alembic") for line in lines)
