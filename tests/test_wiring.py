"""The wiring belongs to its runtime: two runtimes in one process, set up differently, do
not hear each other's events, run each other's periodic tasks or share services; and
`dam doctor --wiring` shows what the plugins wired."""

from __future__ import annotations

import ast
import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from dam import clock, events, jobs, migrate
from dam.cli import install_commands
from dam.models import Asset, AssetKind, AssetStatus
from dam.plugins import BUILTIN_PLUGINS, builtin_wiring
from dam.runtime import Runtime, build_runtime
from dam.settings import Settings
from gdpr.judgement import verdicts
from ingest.receive import create_asset
from ingest.sniff import HEAD_BYTES, sniff
from search.query import Access, SearchRequest, parse_query
from search.service import service_for
from tests import media


@pytest.fixture
def two(
    settings_factory: Callable[..., Settings], tmp_path: Path
) -> Iterator[tuple[Runtime, Runtime]]:
    """Runtime a on the parametrised database with face detection and a web channel;
    runtime b on its own SQLite file, without face detection, with a print channel."""
    a = build_runtime(
        settings_factory(data_dir=tmp_path / "a", channels="internal,web", face_detection=True)
    )
    b = build_runtime(
        settings_factory(
            data_dir=tmp_path / "b",
            database_url=f"sqlite:///{tmp_path / 'b.db'}",
            channels="internal,print",
            face_detection=False,
        )
    )
    for rt in (a, b):
        migrate.upgrade(rt.engine)
    yield a, b
    b.close()
    a.close()


def upload(rt: Runtime, seed: int, title: str) -> str:
    data = media.jpeg(320, 240, seed=seed)
    stored = rt.blobs.put_stream([data])
    with rt.unit_of_work() as session:
        received = create_asset(
            session,
            stored=stored,
            sniffed=sniff(data[:HEAD_BYTES]),
            filename="p.jpg",
            owner=None,
            title=title,
        )
        return received.asset.id


def found(rt: Runtime, q: str) -> list[str]:
    service = service_for(rt)
    service.sync.flush()
    request = SearchRequest(query=parse_query(q), access=Access(True, True), per_page=10)
    return [hit.id for hit in service.backend().search(request).hits]


def test_two_runtimes_in_one_process_keep_to_themselves(two: tuple[Runtime, Runtime]) -> None:
    a, b = two
    heard: dict[str, list[events.Event]] = {"a": [], "b": []}
    ticks: list[str] = []
    a.wiring.subscribe(events.AssetProcessed, lambda _rt, e: heard["a"].append(e))
    b.wiring.subscribe(events.AssetProcessed, lambda _rt, e: heard["b"].append(e))
    a.wiring.add_periodic("tick", lambda rt: ticks.append(rt.settings.channels))

    in_a = upload(a, 1, "Zeilboot op de Leie")  # the immediate queue runs the pipeline
    in_b = upload(b, 2, "Tractor op het veld")

    # Each runtime heard its own asset only; subscribers were given their own runtime.
    assert [e.asset_id for e in heard["a"]] == [in_a]  # type: ignore[attr-defined]
    assert [e.asset_id for e in heard["b"]] == [in_b]  # type: ignore[attr-defined]
    # Each database holds its own asset, processed with its own settings: only a looked
    # for faces (its FacesDetected subscriber wrote to a's database).
    with a.session() as session:
        asset = session.get(Asset, in_a)
        assert asset is not None and asset.status == AssetStatus.ready
        assert asset.faces_checked_at is not None
        assert session.get(Asset, in_b) is None
    with b.session() as session:
        asset = session.get(Asset, in_b)
        assert asset is not None and asset.status == AssetStatus.ready
        assert asset.faces_checked_at is None
        assert list(session.exec(select(Asset.id))) == [in_b]
    # Verdicts were judged by each runtime's own change feed, for its own channels; its
    # steps come from its own wiring, in order (verdicts before the search documents).
    assert a.changes is not b.changes
    assert [name for name, _ in a.changes.steps] == ["verdicts", "search"]
    assert [name for name, _ in b.changes.steps] == ["verdicts", "search"]
    assert a.changes.steps[1][1] is not b.changes.steps[1][1]
    with a.session() as session:
        assert set(verdicts.stored(session, in_a)) == {"internal", "web"}
    with b.session() as session:
        assert set(verdicts.stored(session, in_b)) == {"internal", "print"}
    # Each index (in its own data directory) holds its own document.
    assert service_for(a) is not service_for(b)
    assert found(a, "zeilboot") == [in_a] and found(a, "tractor") == []
    assert found(b, "tractor") == [in_b] and found(b, "zeilboot") == []
    # A periodic task added to a runs with a's sweeps only.
    b.run_periodic()
    assert ticks == []
    a.run_periodic()
    assert ticks == ["internal,web"]


def test_a_periodic_task_with_an_interval_runs_once_per_interval_per_runtime(
    two: tuple[Runtime, Runtime], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = two
    start = clock.now()
    moment = {"now": start}
    monkeypatch.setattr(jobs, "now", lambda: moment["now"])
    ran: list[str] = []
    for rt, name in ((a, "a"), (b, "b")):
        rt.wiring.add_periodic(
            "hourly", lambda _rt, n=name: ran.append(n), every=timedelta(hours=1)
        )
    a.run_periodic()
    a.run_periodic()  # within the hour: skipped
    moment["now"] = start + timedelta(minutes=59)
    a.run_periodic()
    b.run_periodic()  # b keeps its own time: its first run
    assert ran == ["a", "b"]
    moment["now"] = start + timedelta(minutes=61)
    a.run_periodic()
    assert ran == ["a", "b", "a"]
    # Retention reads every person: it is registered hourly, not on every sweep.
    assert a.wiring.periodic_every["retention"] == timedelta(hours=1)


def test_a_runtime_wired_without_a_plugin_lacks_its_parts(
    settings_factory: Callable[..., Settings],
) -> None:
    rt = build_runtime(settings_factory(), builtin_wiring(("ingest.plugin",)))
    try:
        assert set(rt.services) == set()
        assert rt.wiring.pipeline_for(AssetKind.image) == ["probe", "renditions", "faces"]
        assert events.AssetStored not in rt.wiring.subscribers
        assert rt.changes.steps == []  # gdpr and search add the feed's steps
    finally:
        rt.close()
    full = builtin_wiring()
    assert full.pipeline_for(AssetKind.image) == ["probe", "renditions", "faces", "identity"]
    assert full.pipeline_for(AssetKind.video)[-2:] == ["video_faces", "identity"]


def test_a_session_no_runtime_opened_cannot_publish(rt: Runtime) -> None:
    with Session(rt.engine) as session, pytest.raises(RuntimeError, match="not opened by a"):
        events.publish_after_commit(session, events.AssetChanged(asset_id="x"))


def test_doctor_wiring_prints_the_whole_wiring() -> None:
    cli = install_commands()
    shown = CliRunner().invoke(cli, ["doctor", "--wiring"])
    assert shown.exit_code == 0, shown.output
    text = " ".join(shown.output.split())
    assert "image: probe -> renditions -> faces -> identity" in text
    assert "gdpr.recognition.identity.identify_asset_faces" in text
    assert "search.plugin.index_step" in text and "gdpr.plugin._refresh_due" in text
    as_json = CliRunner().invoke(cli, ["doctor", "--wiring", "--json"])
    assert as_json.exit_code == 0
    data = json.loads(as_json.output)
    assert data == json.loads(json.dumps(builtin_wiring().describe()))
    assert data["plugins"] == list(BUILTIN_PLUGINS)
    # The change feed replaced the verdict and search subscribers: its steps, in order.
    assert data["subscribers"] == {}
    assert data["change_steps"] == [
        ["verdicts", "gdpr.plugin.verdict_step"],
        ["search", "search.plugin.index_step"],
    ]
    assert set(data["services"]) == {"search"}
    assert "search.facts" in data["extensions"] and "web.nav" in data["extensions"]


def test_only_the_runtime_makes_sessions() -> None:
    """A session made anywhere else would not know its runtime: its events and jobs
    would be lost (or refused). Every package asks the runtime for one."""
    root = Path(__file__).resolve().parents[1]
    makers = []
    for package in ("dam", "ingest", "gdpr", "search", "web"):
        for path in (root / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Call):
                    name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                    if name == "Session":
                        makers.append(f"{path.relative_to(root)}:{node.lineno}")
    assert [m.split(":")[0] for m in makers] == ["dam/runtime.py"], makers
