"""API errors in the caller's language, whole: the refusal of a download reads entirely in
Dutch or entirely in English (it used to start in English and go on in Dutch), errors with a
value in them are translated too (issue 15), and counted reasons use real plurals."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from dam.runtime import Runtime
from gdpr.judgement.verdict import Reason
from gdpr.judgement.verdict_text import describe
from tests.conftest import Account
from tests.gdpr.publishing.test_shares import (
    NAME,
    give_consent,
    officer,
    upload,
    with_person,
)
from web.catalogs import size_text

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
    # Reasons are sentences: one after the other, not "... website).; 1 person ...".
    assert ".; " not in message and ".; " not in dutch.json()["error"]["message"]
    # A script that states no language gets English (API.md): the reasons too, not an
    # English frame around Dutch reasons; so do the asset's and the verdict's reasons.
    script = client.get(url, headers=creative.headers).json()["error"]
    assert script["message"] == message
    assert all("ontbreekt" not in r["message"] for r in script["reasons"])
    for path in (f"/api/v1/assets/{asset_id}", f"/api/v1/assets/{asset_id}/verdict"):
        body = client.get(path, headers=creative.headers).json()
        verdict = body.get("verdict", body)
        assert verdict["website"]["reasons"][0]["message"].startswith("Alt text is missing")
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


def test_errors_with_values_answer_in_the_callers_language(
    client: TestClient, rt: Runtime, creative: Account, officer: Account
) -> None:
    """Errors whose message carries a value (a channel, a count, a size) are translated
    with the value in place, counts in their plural form; the code stays the same string
    in every language (API.md)."""
    settings = rt.settings
    channels = ", ".join(settings.channel_list)
    person = client.post("/api/v1/people", headers=officer.headers, json={"name": NAME})
    assert person.status_code == 201, person.text
    limit = settings.max_upload_bytes
    too_many = [f"a{i}" for i in range(settings.download_zip_max_assets + 1)]
    tus = {"Tus-Resumable": "1.0.0"}
    cases = [
        (
            creative,
            ("POST", "/api/v1/downloads", {"json": {"asset_ids": ["x"], "channel": "nope"}}),
            (422, "invalid_input"),
            f"Onbekend kanaal 'nope'. Mogelijke kanalen: {channels}.",
            f"Unknown channel 'nope'. Channels are: {channels}.",
        ),
        (
            creative,
            ("POST", "/api/v1/downloads", {"json": {"asset_ids": too_many, "channel": "website"}}),
            (422, "invalid_input"),
            f"Een ZIP bevat hoogstens {len(too_many) - 1} bestanden; deze selectie telt er "
            f"{len(too_many)}.",
            f"A ZIP holds at most {len(too_many) - 1} assets; this selection has {len(too_many)}.",
        ),
        (
            officer,
            (
                "POST",
                f"/api/v1/people/{person.json()['id']}/consents",
                {"json": {"channels": ["website", "zilch", "nope"], "granted_at": "2026-01-01"}},
            ),
            (422, "invalid_input"),
            f"Onbekende kanalen: nope, zilch. Mogelijke kanalen: {channels}.",
            f"Unknown channels: nope, zilch. Channels are: {channels}.",
        ),
        (
            creative,
            (
                "POST",
                "/api/v1/uploads",
                {"headers": {**tus, "Upload-Length": str(settings.max_upload_bytes + 1)}},
            ),
            (413, "too_large"),
            f"Het bestand is groter dan de uploadlimiet van {size_text(limit, 'nl')}.",
            f"The file is larger than the upload limit of {size_text(limit, 'en')}.",
        ),
        (
            creative,
            (
                "POST",
                "/api/v1/uploads",
                {"headers": {**tus, "Upload-Length": "10", "Upload-Metadata": "filename ***"}},
            ),
            (400, "bad_request"),
            "De Upload-Metadata-waarde voor 'filename' is geen geldige base64.",
            "Upload-Metadata value for 'filename' is not valid base64.",
        ),
    ]
    for account, (method, url, kwargs), (status, code), dutch, english in cases:
        for language, expected in (("nl-BE,nl;q=0.9", dutch), ("en-GB", english)):
            headers = {**account.headers, **kwargs.get("headers", {}), "Accept-Language": language}
            answer = client.request(method, url, json=kwargs.get("json"), headers=headers)
            assert answer.status_code == status, (url, answer.text)
            assert answer.json()["error"] == {"code": code, "message": expected}
