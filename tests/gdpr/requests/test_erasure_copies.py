"""The ZIPs an erasure withdraws are found by the database (SQLite and PostgreSQL): those
holding one of the assets in their JSON list, or whose manifest may name the person; the
name itself is checked exactly in Python, in any case and with any accents."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from dam import auth, clock
from dam.models import DownloadBatch, Role
from dam.runtime import Runtime
from gdpr.requests.erasure import name_pattern
from gdpr.requests.erasure_copies import holding_query, name_pieces, withdraw_copies

NAME = "Anna de Vries-Ñúñez"


@dataclass(frozen=True)
class Zip:
    asset_ids: list[str]
    titles: list[str] = field(default_factory=list)
    reason: str = ""


def make_batches(rt: Runtime, zips: dict[str, Zip]) -> dict[str, str]:
    """A ready ZIP row for each, its manifest naming each asset with a title; their ids."""
    ids = {}
    with rt.unit_of_work() as session:
        user = auth.create_user(
            session, email="c@example.org", password=secrets.token_urlsafe(16), role=Role.creative
        )
        for key, z in zips.items():
            titles = [*z.titles, *[""] * len(z.asset_ids)]
            outcomes = [
                {"asset_id": a, "outcome": "included", "file": f"{a}.jpg", "title": t}
                for a, t in zip(z.asset_ids, titles, strict=False)
            ]
            outcomes[0]["reason"] = z.reason
            batch = DownloadBatch(
                user_id=user.id,
                channel="internal",
                preset="web",
                asset_ids=z.asset_ids,
                outcomes=outcomes,
                status="ready",
                expires_at=clock.now() + timedelta(days=1),
            )
            session.add(batch)
            session.flush()
            ids[key] = batch.id
    return ids


def test_the_database_picks_the_zips_holding_or_naming_the_person(rt: Runtime) -> None:
    ids = make_batches(
        rt,
        {
            "first": Zip(["a1", "x1"]),
            "last": Zip(["x2", "a2"]),
            "titled": Zip(["x3"], ["Opening met ANNA DE VRIES-ÑÚÑEZ"]),
            "reason": Zip(["x4"], reason="toestemming van anna de vries-ñúñez ingetrokken"),
            "half": Zip(["x5"], ["Anna de Vries op de markt"]),  # not the whole name
            "like_a1": Zip(["a10", "xa1"]),  # ids that contain a1
            "other": Zip(["x6"], ["Jan Peeters op de markt"]),
        },
    )
    # So many assets that one placeholder each would not fit in a statement on SQLite.
    touched = {"a1", "a2", *(f"n{i}" for i in range(40_000))}
    with rt.session() as session:
        found = {b.id for b in session.exec(holding_query(session, touched, NAME))}
    wanted = {ids[k] for k in ("first", "last", "titled", "reason")}
    # The database narrows it down (a manifest with a piece of the name may come along).
    assert wanted <= found <= wanted | {ids["half"]}
    with rt.unit_of_work() as session:
        withdrawn = withdraw_copies(
            session,
            rt.blobs,
            person_id="p",
            asset_ids=touched,
            name=NAME,
            pattern=name_pattern(NAME),
        )
    assert sorted(withdrawn.downloads) == sorted(wanted)
    with rt.session() as session:
        titled = session.get(DownloadBatch, ids["titled"])
        half = session.get(DownloadBatch, ids["half"])
        assert titled is not None and titled.status == "expired"
        assert titled.outcomes is not None and titled.outcomes[0]["title"] == ""
        assert half is not None and half.status == "ready"
        assert half.outcomes is not None and half.outcomes[0]["title"].startswith("Anna")


def test_a_short_name_is_looked_for_in_every_manifest(rt: Runtime) -> None:
    # "Kim" has no plain piece (re.IGNORECASE matches K with the Kelvin sign, which JSON
    # escapes): every manifest is read, and Python finds the name however it is written.
    assert name_pieces("Kim") == []
    ids = make_batches(
        rt,
        {
            "kelvin": Zip(["x1"], ["\u212aIM op het strand"]),
            "other": Zip(["x2"], ["Kimono"]),
        },
    )
    with rt.unit_of_work() as session:
        withdrawn = withdraw_copies(
            session,
            rt.blobs,
            person_id="p",
            asset_ids=set(),
            name="Kim",
            pattern=name_pattern("Kim"),
        )
    assert withdrawn.downloads == [ids["kelvin"]]


def test_name_pieces_are_what_json_keeps_as_it_is() -> None:
    assert name_pieces("Bench Person") == ["bench per"]  # s can be ſ, written \u017f
    assert name_pieces(NAME) == ["anna de vr"]
    assert name_pieces('Jan "de Bakker"') == ["jan ", "de ba"]  # JSON escapes the quote
    assert name_pieces("50%_off Jan") == ["50%_off jan"]  # LIKE's own signs are escaped
