"""Verdict sets are shared by assets with equal facts: the facts' canonical form must
judge exactly like the asset itself, and name equal facts alike (pure)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from dam.models import FaceState
from gdpr.judgement.verdict import AssetTerms, FaceTerms, PersonTerms, judge_all
from gdpr.judgement.verdict_facts import Facts
from tests.gdpr.judgement.test_verdict_pure import T0, moments, scenarios


def facts_of(asset: AssetTerms) -> Facts:
    return Facts.of(
        asset.faces,
        faces_checked=asset.faces_checked,
        undetected_people=asset.undetected_people,
        alt_text=asset.alt_text,
        embargo_until=asset.embargo_until,
        licence_channels=asset.licence_channels,
        licence_until=asset.licence_until,
        restricted=asset.restricted,
        licence_unknown=asset.licence_unknown,
    )


@given(scenarios(), moments, st.booleans(), st.booleans())
def test_facts_judge_like_the_asset(
    scenario: tuple[AssetTerms, dict[str, PersonTerms]],
    at: object,
    restricted: bool,
    licence_unknown: bool,
) -> None:
    asset, people = scenario
    asset = replace(asset, restricted=restricted, licence_unknown=licence_unknown)
    facts = facts_of(asset)
    assert judge_all(facts.terms(), people, at) == judge_all(asset, people, at)  # type: ignore[arg-type]
    # Stored and read back, the facts are the same facts under the same name.
    again = Facts.from_json(facts.as_json())
    assert again == facts and again.id == facts.id


@given(scenarios(), st.randoms())
def test_equal_facts_have_one_name_whatever_the_order_ids_or_zone(
    scenario: tuple[AssetTerms, dict[str, PersonTerms]], rng: object
) -> None:
    asset, _ = scenario
    faces = list(asset.faces)
    rng.shuffle(faces)  # type: ignore[attr-defined]
    other = replace(
        asset,
        id="another asset",
        faces=tuple(replace(f, id=f"x{n}") for n, f in enumerate(faces)),
        alt_text=asset.alt_text + " and more" if asset.alt_text else "  ",
        embargo_until=(
            asset.embargo_until.astimezone(ZoneInfo("Europe/Brussels"))
            if asset.embargo_until
            else None
        ),
    )
    assert facts_of(other).id == facts_of(asset).id


def test_different_facts_have_different_names() -> None:
    base = AssetTerms(id="a", faces=(FaceTerms("f", FaceState.confirmed, "p1"),))
    variants = [
        base,
        replace(base, faces=(FaceTerms("f", FaceState.suggested, "p1"),)),
        replace(base, faces=(FaceTerms("f", FaceState.confirmed, "p2"),)),
        replace(base, faces=base.faces * 2),
        replace(base, faces_checked=False),
        replace(base, undetected_people=True),
        replace(base, alt_text="alt"),
        replace(base, embargo_until=T0),
        replace(base, licence_channels=frozenset({"internal"})),
        replace(base, licence_channels=frozenset()),
        replace(base, licence_until=T0.astimezone(UTC)),
        replace(base, restricted=True),
        replace(base, licence_unknown=True),
    ]
    names = [facts_of(v).id for v in variants]
    assert len(set(names)) == len(variants)
    assert all(len(name) == 32 for name in names)


def test_facts_from_before_licence_statuses_keep_their_name() -> None:
    # A known licence adds nothing to the stored facts: sets made before the licence
    # status existed are still found by their name after the upgrade.
    base = facts_of(AssetTerms(id="a"))
    assert "licence_unknown" not in base.as_json()
    assert "licence_unknown" in facts_of(AssetTerms(id="a", licence_unknown=True)).as_json()
