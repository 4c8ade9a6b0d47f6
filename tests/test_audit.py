"""The hash-chained audit log: appends, verification, tampering, concurrency."""

from __future__ import annotations

import threading

from sqlalchemy import text

from dam import audit
from dam.runtime import Runtime


def append(rt: Runtime, n: int, actor: str = "u1") -> None:
    for i in range(n):
        with rt.unit_of_work() as session:
            audit.record(
                session,
                action="asset.updated",
                actor_id=actor,
                subject_type="asset",
                subject_id=f"a{i}",
                details={"fields": ["title"]},
            )


def test_chain_verifies_and_links(rt: Runtime) -> None:
    append(rt, 5)
    with rt.session() as session:
        result = audit.verify(session)
        rows = session.execute(
            text("SELECT seq, prev_hash, hash FROM audit_entry ORDER BY seq")
        ).all()
    assert result == audit.VerifyResult(ok=True, entries=5, first_bad=None)
    assert [r.seq for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0].prev_hash == audit.GENESIS
    assert all(rows[i].prev_hash == rows[i - 1].hash for i in range(1, 5))


def test_tampering_is_found(rt: Runtime) -> None:
    append(rt, 4)
    with rt.unit_of_work() as session:
        session.execute(text("UPDATE audit_entry SET actor_id = 'someone-else' WHERE seq = 3"))
    with rt.session() as session:
        assert audit.verify(session) == audit.VerifyResult(ok=False, entries=3, first_bad=3)


def test_removing_the_last_entries_is_found(rt: Runtime) -> None:
    append(rt, 4)
    with rt.unit_of_work() as session:
        session.execute(text("DELETE FROM audit_entry WHERE seq = 4"))
    with rt.session() as session:
        result = audit.verify(session)
    assert not result.ok
    assert result.first_bad == 4


def test_rolled_back_action_leaves_no_entry(rt: Runtime) -> None:
    try:
        with rt.unit_of_work() as session:
            audit.record(session, action="asset.deleted", subject_id="x")
            raise RuntimeError("the action failed")
    except RuntimeError:
        pass
    with rt.session() as session:
        assert audit.verify(session) == audit.VerifyResult(ok=True, entries=0, first_bad=None)


def test_concurrent_appends_never_fork_the_chain(rt: Runtime) -> None:
    threads = [threading.Thread(target=append, args=(rt, 10, f"u{t}")) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with rt.session() as session:
        assert audit.verify(session) == audit.VerifyResult(ok=True, entries=40, first_bad=None)


# --- what the audit log can show has words (web/ui/labels.py) -------------------------------

SOURCES = ("dam", "gdpr", "ingest", "web")


def _recorded() -> tuple[set[str], set[str], dict[str, set[str]]]:
    """Every action, detail key and constant detail value the code records: the calls of
    audit.record, gdpr.gate._audit (details as keywords) and the consent service's _finish
    (extra details as keywords), with details given as a dict literal or built in a
    variable of the same function; the `source` an upload is stored with (create_asset)
    and the reason of a refused sign-on (dam.sso._refuse)."""
    import ast
    from pathlib import Path

    actions: set[str] = set()
    keys: set[str] = set()
    values: dict[str, set[str]] = {}

    def constants(node: ast.AST | None) -> list[str]:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return [node.value]
        if isinstance(node, ast.IfExp):
            return constants(node.body) + constants(node.orelse)
        return []

    def dict_items(node: ast.AST | None) -> list[tuple[str, ast.AST]]:
        if isinstance(node, ast.IfExp):
            return dict_items(node.body) + dict_items(node.orelse)
        if not isinstance(node, ast.Dict):
            return []
        items = []
        for key, value in zip(node.keys, node.values, strict=True):
            if key is None:  # **{...}
                items += dict_items(value)
            elif isinstance(key, ast.Constant) and isinstance(key.value, str):
                items.append((key.value, value))
        return items

    def add(key: str, value: ast.AST | None) -> None:
        keys.add(key)
        values.setdefault(key, set()).update(constants(value))

    root = Path(__file__).resolve().parent.parent
    for path in (p for top in SOURCES for p in (root / top).rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef):
                continue
            built: dict[str, list[tuple[str, ast.AST]]] = {}
            for node in ast.walk(function):
                if isinstance(node, ast.Assign) and len(node.targets) == 1:
                    target = node.targets[0]
                    if isinstance(target, ast.Name):
                        built.setdefault(target.id, []).extend(dict_items(node.value))
                    elif isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
                        built.setdefault(target.value.id, []).extend(
                            (k, node.value) for k in constants(target.slice)
                        )
            for call in (n for n in ast.walk(function) if isinstance(n, ast.Call)):
                name = ast.unparse(call.func)
                given = {k.arg: k.value for k in call.keywords if k.arg}
                if name == "audit.record":
                    actions.update(constants(given.get("action")))
                    details = given.get("details")
                    items = dict_items(details)
                    if isinstance(details, ast.Name):
                        items = built.get(details.id, [])
                    for key, value in items:
                        add(key, value)
                elif name in ("_audit", "_finish"):
                    position = 1 if name == "_audit" else 2
                    actions.update(constants(call.args[position]))
                    for key, value in given.items():
                        add(key, value)
                elif name == "create_asset" and "source" in given:
                    values.setdefault("source", set()).update(constants(given["source"]))
                elif name == "_refuse":  # dam.sso records the refusal's reason
                    for refusal in (a for a in call.args if isinstance(a, ast.Call)):
                        values.setdefault("reason", set()).update(constants(refusal.args[0]))
    return actions, keys, values


def test_every_recorded_action_and_detail_has_words() -> None:
    """What the audit log shows of an entry (privacy/audit.html) is named in the reader's
    language: every action, every detail key, and every code a detail records."""
    from ingest import receive
    from web.ui import audit_details, labels

    actions, keys, values = _recorded()
    assert {"asset.uploaded", "download.archive_fetched", "consent.replaced"} <= actions
    assert {"source", "captions", "replaced", "languages", "fields"} <= keys
    assert sorted(actions - set(labels.action)) == []
    assert sorted(keys - set(labels.detail)) == []
    default_source = receive.create_asset.__kwdefaults__["source"]
    values["source"].add(default_source)
    assert {"upload", "tus", "import", "consent_evidence", "metadata", "sso"} <= values["source"]
    unnamed = {
        key: sorted(found - set(audit_details.CODES[key]))
        for key, found in values.items()
        if key in audit_details.CODES and found - set(audit_details.CODES[key])
    }
    assert unnamed == {}
    assert values["reason"] == {"account_disabled", "no_role"}


def test_edited_fields_have_names() -> None:
    """asset.updated and person.updated record the names of the fields they changed."""
    from dam.assets import AssetUpdate
    from gdpr.recognition.people import PersonUpdate
    from web.ui import labels

    fields = set(AssetUpdate.model_fields) | set(PersonUpdate.model_fields)
    assert sorted(fields - set(labels.field)) == []
