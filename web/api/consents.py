"""/api/v1 consent routes: consents of a person, withdrawal, usages, the take-down list."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, File, Request, UploadFile
from pydantic import BaseModel

from dam.models import Consent, Usage, User
from gdpr.consent import consents
from gdpr.publishing import usages
from gdpr.recognition.identity import get_person
from ingest.evidence import StoredEvidence, store_evidence
from web import catalogs
from web.deps import BlobsDep, SessionDep, SettingsDep, VisibleAsset, require
from web.errors import api_locale
from web.openapi import errors

router = APIRouter(tags=["consent"])


class ConsentPublic(BaseModel):
    id: str
    person_id: str | None
    version: int
    supersedes_id: str | None
    state: str
    channels: list[str]
    granted_at: datetime
    valid_until: datetime | None
    guardian_name: str | None
    evidence_asset_id: str | None
    form_version: str
    notes: str
    recorded_by: str | None
    created_at: datetime
    superseded_at: datetime | None
    withdrawn_at: datetime | None
    withdrawn_reason: str | None
    withdrawn_by: str | None
    assets_rejudged: int | None = None


class UsagePublic(BaseModel):
    id: str
    asset_id: str
    channel: str
    url: str | None
    note: str
    used_at: datetime
    recorded_by: str | None
    recalled_at: datetime | None


class TakedownEntry(UsagePublic):
    asset_title: str
    asset_filename: str
    face_state: str


class EvidencePublic(BaseModel):
    """A signed form, uploaded for a consent; its id goes into `evidence_asset_id`."""

    id: str
    filename: str
    mime: str
    size: int
    sha256: str
    created_at: datetime
    # A PDF's first page, for the officer's eye (`GET /assets/{id}/renditions/preview`);
    # when a PDF has none, why not, in the caller's language. The form is stored anyway.
    preview: bool = False
    preview_problem: str | None = None


def consent_public(consent: Consent, assets_rejudged: int | None = None) -> ConsentPublic:
    return ConsentPublic(
        id=consent.id,
        person_id=consent.person_id,
        version=consent.version,
        supersedes_id=consent.supersedes_id,
        state=consents.state_of(consent),
        channels=list(consent.channels),
        granted_at=consent.granted_at,
        valid_until=consent.valid_until,
        guardian_name=consent.guardian_name,
        evidence_asset_id=consent.evidence_asset_id,
        form_version=consent.form_version,
        notes=consent.notes,
        recorded_by=consent.recorded_by,
        created_at=consent.created_at,
        superseded_at=consent.superseded_at,
        withdrawn_at=consent.withdrawn_at,
        withdrawn_reason=consent.withdrawn_reason,
        withdrawn_by=consent.withdrawn_by,
        assets_rejudged=assets_rejudged,
    )


def usage_public(usage: Usage) -> UsagePublic:
    return UsagePublic(
        id=usage.id,
        asset_id=usage.asset_id,
        channel=usage.channel,
        url=usage.url,
        note=usage.note,
        used_at=usage.used_at,
        recorded_by=usage.recorded_by,
        recalled_at=usage.recalled_at,
    )


@router.get("/people/{person_id}/consents", response_model=list[ConsentPublic])
def list_consents(
    person_id: str, session: SessionDep, user: User = Depends(require("consents.manage"))
) -> list[ConsentPublic]:
    """Every version of every consent, newest first."""
    return [consent_public(c) for c in consents.list_consents(session, person_id)]


@router.post("/people/{person_id}/consents", status_code=201, response_model=ConsentPublic)
def record_consent(
    person_id: str,
    data: consents.ConsentInput,
    session: SessionDep,
    settings: SettingsDep,
    user: User = Depends(require("consents.manage")),
) -> ConsentPublic:
    change = consents.record_consent(
        session, person_id=person_id, data=data, actor=user, settings=settings
    )
    return consent_public(change.consent, change.assets_rejudged)


@router.post(
    "/people/{person_id}/evidence",
    status_code=201,
    response_model=EvidencePublic,
    responses=errors(413, 415),
)
def upload_evidence(
    person_id: str,
    request: Request,
    session: SessionDep,
    blobs: BlobsDep,
    settings: SettingsDep,
    user: User = Depends(require("consents.manage")),
    file: UploadFile = File(description="The signed form: PDF, JPEG, PNG or HEIC"),
) -> EvidencePublic:
    """Store a signed consent form (restricted, never in the library); name its id as
    `evidence_asset_id` when recording or replacing the person's consent."""
    get_person(session, person_id)
    stored = store_evidence(
        session,
        blobs=blobs,
        owner=user,
        file=file.file,
        filename=file.filename,
        max_bytes=settings.max_upload_bytes,
        person_id=person_id,
    )
    return evidence_public(stored, api_locale(request))


def evidence_public(stored: StoredEvidence, locale: str) -> EvidencePublic:
    asset, problem = stored.asset, stored.preview_problem
    return EvidencePublic(
        id=asset.id,
        filename=asset.filename,
        mime=asset.mime,
        size=asset.size,
        sha256=asset.sha256,
        created_at=asset.created_at,
        preview=stored.has_preview,
        preview_problem=catalogs.translate(locale, problem.template, problem.params)
        if problem
        else None,
    )


@router.post(
    "/people/{person_id}/withdraw", response_model=list[ConsentPublic], responses=errors(409)
)
def withdraw_all(
    person_id: str,
    data: consents.WithdrawInput,
    session: SessionDep,
    settings: SettingsDep,
    user: User = Depends(require("consents.manage")),
) -> list[ConsentPublic]:
    """Withdraw every consent of the person still in force; their assets are re-judged
    before this returns."""
    changes = consents.withdraw_all(
        session, person_id=person_id, data=data, actor=user, settings=settings
    )
    return [consent_public(c.consent, c.assets_rejudged) for c in changes]


@router.get("/consents/{consent_id}", response_model=ConsentPublic)
def get_consent(
    consent_id: str, session: SessionDep, user: User = Depends(require("consents.manage"))
) -> ConsentPublic:
    return consent_public(consents.get_consent(session, consent_id))


@router.put(
    "/consents/{consent_id}", status_code=201, response_model=ConsentPublic, responses=errors(409)
)
def replace_consent(
    consent_id: str,
    data: consents.ConsentInput,
    session: SessionDep,
    settings: SettingsDep,
    user: User = Depends(require("consents.manage")),
) -> ConsentPublic:
    """A changed consent is a new version (201); the old one is kept as history."""
    change = consents.replace_consent(
        session, consent_id=consent_id, data=data, actor=user, settings=settings
    )
    return consent_public(change.consent, change.assets_rejudged)


@router.post("/consents/{consent_id}/withdraw", response_model=ConsentPublic, responses=errors(409))
def withdraw(
    consent_id: str,
    data: consents.WithdrawInput,
    session: SessionDep,
    settings: SettingsDep,
    user: User = Depends(require("consents.manage")),
) -> ConsentPublic:
    """Withdraw one consent; every affected asset's verdict is updated before this returns."""
    change = consents.withdraw_consent(
        session, consent_id=consent_id, data=data, actor=user, settings=settings
    )
    return consent_public(change.consent, change.assets_rejudged)


@router.post("/assets/{asset_id}/usages", status_code=201, response_model=UsagePublic)
def record_usage(
    data: usages.UsageInput,
    session: SessionDep,
    settings: SettingsDep,
    user: User = Depends(require("usages.record")),
    *,
    asset: VisibleAsset,
) -> UsagePublic:
    return usage_public(
        usages.record_usage(session, asset_id=asset.id, data=data, actor=user, settings=settings)
    )


@router.get("/assets/{asset_id}/usages", response_model=list[UsagePublic])
def list_usages(
    session: SessionDep, user: User = Depends(require("usages.record")), *, asset: VisibleAsset
) -> list[UsagePublic]:
    return [usage_public(u) for u in usages.list_usages(session, asset.id)]


@router.post("/usages/{usage_id}/recall", response_model=UsagePublic)
def recall_usage(
    usage_id: str, session: SessionDep, user: User = Depends(require("usages.record"))
) -> UsagePublic:
    """Mark a usage as taken down."""
    return usage_public(usages.mark_recalled(session, usage_id=usage_id, actor=user))


@router.get("/people/{person_id}/takedown", response_model=list[TakedownEntry])
def takedown(
    person_id: str, session: SessionDep, user: User = Depends(require("consents.manage"))
) -> list[TakedownEntry]:
    """Every recorded usage, not yet recalled, of every asset the person is on."""
    return [
        TakedownEntry(
            **usage_public(item.usage).model_dump(),
            asset_title=item.asset.title,
            asset_filename=item.asset.filename,
            face_state=item.face_state,
        )
        for item in usages.takedown_list(session, person_id)
    ]
