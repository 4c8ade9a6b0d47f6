"""API errors in the caller's language, whole: the refusal of a download reads entirely in
Dutch or entirely in English (it used to start in English and go on in Dutch), and the
verdict's counted reasons use real plurals."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from dam.runtime import Runtime
from gdpr.judgement.verdict import Reason
from gdpr.judgement.verdict_text import describe
from tests.conftest import Account
from tests.gdpr.publishing.test_shares import give_consent, officer, upload, with_person

pytestmark = pytest.mark.one_database

__all__ = ["officer"]  # the fixture, shared with the share-link tests


@pytest.mark.parametrize(
    ("count", "nl", "en"),
    [
        (1, "1 gezicht nog niet herkend", "1 face not identified yet"),
        (2, "2 gezichten nog niet herkend", "2 faces not identified yet"),
    ],
)
def test_counted_reasons_have_real_plurals(count: int, nl: str, en: str) -> None:
    reason = Reason(code="faces_unidentified", count=count)
    assert describe(reason, channel="website", lang="nl", names={}).startswith(nl)
    assert describe(reason, channel="website", lang="en", names={}).startswith(en)
    suggested = Reason(code="faces_suggested", count=count)
    assert "(en)" not in describe(suggested, channel="website", lang="nl", names={})
    assert "(s)" not in describe(suggested, channel="website", lang="en", names={})


def test_a_refused_download_speaks_one_language(
    client: TestClient, rt: Runtime, creative: Account, officer: Account
) -> None:
    asset_id = upload(client, creative, seed=41)
    person_id = with_person(client, rt, officer, asset_id)
    give_consent(client, officer, person_id, ["internal"])
    url = f"/api/v1/assets/{asset_id}/download?channel=website"
    dutch = client.get(url, headers={**creative.headers, "Accept-Language": "nl-BE,nl;q=0.9"})
    assert dutch.status_code == 409
    message = dutch.json()["error"]["message"]
    assert message.startswith("Niet vrijgegeven voor website: "), message
    assert "Alternatieve tekst ontbreekt" in message and "Not cleared" not in message
    english = client.get(url, headers={**creative.headers, "Accept-Language": "en-GB"})
    message = english.json()["error"]["message"]
    assert message.startswith("Not cleared for website: "), message
    assert "Alt text is missing" in message and "ontbreekt" not in message
    # The codes stay for programs, whatever the language.
    assert english.json()["error"]["code"] == dutch.json()["error"]["code"] == "not_cleared"
    codes = {r["code"] for r in dutch.json()["error"]["reasons"]}
    assert "alt_text_missing" in codes


def test_a_missing_asset_in_dutch_and_english(client: TestClient, creative: Account) -> None:
    for header, text in (("nl", "Er is geen bestand met deze id."), ("en", "There is no asset")):
        answer = client.get(
            "/api/v1/assets/nope", headers={**creative.headers, "Accept-Language": header}
        )
        assert answer.status_code == 404 and answer.json()["error"]["message"].startswith(text)
