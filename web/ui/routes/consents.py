"""Consents in the UI: a person's consent versions with the form to record one, changing
one (a new version), withdrawing (GDPR art. 7(3): from the person page in two clicks, the
button and the confirmation) and the take-down list that follows a withdrawal.

Plain forms (CSRF, redirect after post, flash messages). The person page shows the panel
through `consent_panel(...)`; every decision is a gdpr service call that audits by id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlmodel import Session, col, select

from dam import clock
from dam.errors import Conflict, DomainError, TooLarge, UnsupportedMedia
from dam.models import Person, Rendition
from dam.settings import Settings
from gdpr import dashboard
from gdpr.consent import consents
from gdpr.consent.withdrawal_impact import withdrawal_impact
from gdpr.publishing import usages
from gdpr.recognition.identity import get_person
from ingest.evidence import store_evidence
from ingest.evidence_preview import PREVIEW
from web.deps import BlobsDep, SessionDep, SettingsDep
from web.ui import consent_forms
from web.ui.consent_forms import ConsentForm, ConsentRow
from web.ui.deps import FormDep, TemplatesDep, csrf_protect, page
from web.ui.labels import N_
from web.ui.redirects import safe_next, see_other
from web.ui.templating import Viewer, flash

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])

Officer = Annotated[Viewer, Depends(page("consents.manage"))]
Recorder = Annotated[Viewer, Depends(page("usages.record"))]
Reason = Annotated[str, Form(max_length=10_000)]
Next = Annotated[str, Form(max_length=2000)]

ERRORS = {
    "closed": N_("This version was replaced or withdrawn meanwhile. Look at the page again."),
    "nothing": N_("There is no consent in force to withdraw."),
}
EVIDENCE_ERRORS = {
    UnsupportedMedia: N_("Upload the signed form as a PDF, JPEG, PNG or HEIC file."),
    TooLarge: N_("The file is larger than the upload limit."),
}


@dataclass(frozen=True)
class ConsentPanel:
    """The context of people/_consents.html (as `consent_panel`)."""

    person: Person
    rows: list[ConsentRow]
    channels: tuple[str, ...]
    form: ConsentForm
    today: date
    previews: frozenset[str] = frozenset()  # evidence asset ids with a first-page preview

    @property
    def in_force(self) -> bool:
        return any(row.open for row in self.rows)


def consent_panel(
    db: Session, settings: Settings, person_id: str, form: ConsentForm | None = None
) -> ConsentPanel:
    person = get_person(db, person_id)
    versions = consents.list_consents(db, person_id)
    ids = {i for c in versions for i in (c.recorded_by, c.withdrawn_by) if i}
    return ConsentPanel(
        person=person,
        rows=consent_forms.rows_of(versions, dashboard.emails(db, ids), settings),
        channels=settings.channel_list,
        form=form or consent_forms.blank_form(settings),
        today=clock.today(settings.default_timezone),
        previews=_with_preview(db, [c.evidence_asset_id for c in versions]),
    )


def _with_preview(db: Session, evidence_ids: list[str | None]) -> frozenset[str]:
    """Which signed forms have a preview (PDFs: their first page)."""
    wanted = [i for i in evidence_ids if i]
    if not wanted:
        return frozenset()
    found = db.exec(
        select(Rendition.asset_id).where(
            col(Rendition.asset_id).in_(wanted), Rendition.name == PREVIEW
        )
    )
    return frozenset(found)


def _form_page(
    request: Request,
    templates: TemplatesDep,
    viewer: Viewer,
    *,
    panel: ConsentPanel,
    action: str,
    replacing: ConsentRow | None = None,
    status: int = 200,
) -> Response:
    return templates.render(
        request,
        "consents/form.html",
        viewer,
        status=status,
        panel=panel,
        action=action,
        replacing=replacing,
    )


def _store_evidence(
    request: Request,
    db: Session,
    blobs: BlobsDep,
    settings: Settings,
    viewer: Viewer,
    form: FormDep,
    values: ConsentForm,
) -> str | None:
    """The uploaded evidence as a new evidence asset's id (or the kept one); on a bad file
    the problem goes into `values.errors` and None comes back. A PDF stored without a
    preview says why on the next page."""
    upload = consent_forms.evidence_file(form)
    if upload is None:
        return values.evidence_asset_id
    assert viewer.user is not None
    try:
        stored = store_evidence(
            db,
            blobs=blobs,
            owner=viewer.user,
            file=upload.file,
            filename=upload.filename,
            max_bytes=settings.max_upload_bytes,
        )
    except (UnsupportedMedia, TooLarge) as exc:
        values.errors["evidence"] = EVIDENCE_ERRORS[type(exc)]
        return None
    if stored.preview_problem is not None:
        flash(request, "info", viewer.explain(stored.preview_problem))
    return stored.asset.id


@router.get("/people/{person_id}/consents/new")
def new_consent_page(
    person_id: str,
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    viewer: Officer,
    templates: TemplatesDep,
) -> Response:
    panel = consent_panel(db, settings, person_id)
    return _form_page(
        request, templates, viewer, panel=panel, action=f"/people/{person_id}/consents"
    )


@router.post("/people/{person_id}/consents")
def record_consent(
    person_id: str,
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    blobs: BlobsDep,
    viewer: Officer,
    templates: TemplatesDep,
    form: FormDep,
) -> Response:
    assert viewer.user is not None
    person = get_person(db, person_id)
    values, data = consent_forms.read_form(form, settings=settings, is_minor=person.is_minor)
    if data is not None:
        evidence = _store_evidence(request, db, blobs, settings, viewer, form, values)
        if not values.errors:
            data = data.model_copy(update={"evidence_asset_id": evidence})
            consents.record_consent(
                db, person_id=person_id, data=data, actor=viewer.user, settings=settings
            )
            flash(request, "success", viewer.gettext("The consent is recorded."))
            return see_other(f"/people/{person_id}#consents")
    panel = consent_panel(db, settings, person_id, form=values)
    action = f"/people/{person_id}/consents"
    return _form_page(request, templates, viewer, panel=panel, action=action, status=422)


def _row_of(panel: ConsentPanel, consent_id: str) -> ConsentRow:
    return next(row for row in panel.rows if row.consent.id == consent_id)


@router.get("/consents/{consent_id}/change")
def change_consent_page(
    consent_id: str,
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    viewer: Officer,
    templates: TemplatesDep,
) -> Response:
    consent = consents.get_consent(db, consent_id)
    assert consent.person_id is not None
    panel = consent_panel(db, settings, consent.person_id, consent_forms.form_of(consent, settings))
    row = _row_of(panel, consent_id)
    if not row.open:
        flash(request, "error", viewer.gettext(ERRORS["closed"]))
        return see_other(f"/people/{consent.person_id}#consents")
    action = f"/consents/{consent_id}/change"
    return _form_page(request, templates, viewer, panel=panel, action=action, replacing=row)


@router.post("/consents/{consent_id}/change")
def change_consent(
    consent_id: str,
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    blobs: BlobsDep,
    viewer: Officer,
    templates: TemplatesDep,
    form: FormDep,
) -> Response:
    """A change is a new version; the one it replaces stays as history."""
    assert viewer.user is not None
    old = consents.get_consent(db, consent_id)
    assert old.person_id is not None
    person = get_person(db, old.person_id)
    values, data = consent_forms.read_form(
        form, settings=settings, is_minor=person.is_minor, keep_evidence=old.evidence_asset_id
    )
    if data is not None:
        evidence = _store_evidence(request, db, blobs, settings, viewer, form, values)
        if not values.errors:
            data = data.model_copy(update={"evidence_asset_id": evidence})
            try:
                change = consents.replace_consent(
                    db, consent_id=consent_id, data=data, actor=viewer.user, settings=settings
                )
            except Conflict:
                flash(request, "error", viewer.gettext(ERRORS["closed"]))
                return see_other(f"/people/{person.id}#consents")
            flash(
                request,
                "success",
                viewer.gettext("Version %(n)s is recorded.", n=change.consent.version),
            )
            return see_other(f"/people/{person.id}#consents")
    panel = consent_panel(db, settings, person.id, form=values)
    row = _row_of(panel, consent_id)
    action = f"/consents/{consent_id}/change"
    return _form_page(
        request, templates, viewer, panel=panel, action=action, replacing=row, status=422
    )


@router.get("/people/{person_id}/withdraw")
def withdraw_page(
    person_id: str,
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    viewer: Officer,
    templates: TemplatesDep,
) -> Response:
    """Step 2 of the withdrawal: what it will do, an optional reason, and the button."""
    panel = consent_panel(db, settings, person_id)
    return templates.render(
        request,
        "consents/withdraw.html",
        viewer,
        panel=panel,
        impact=withdrawal_impact(db, person_id),
        only=None,
        action=f"/people/{person_id}/withdraw",
    )


@router.post("/people/{person_id}/withdraw")
def withdraw_all(
    person_id: str,
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    viewer: Officer,
    reason: Reason = "",
) -> Response:
    """Step 3: every consent in force is withdrawn and the person's assets are re-judged
    before this answers; then the take-down list shows what to recall."""
    assert viewer.user is not None
    data = consents.WithdrawInput(reason=reason.strip()[: consent_forms.REASON_MAX])
    try:
        changes = consents.withdraw_all(
            db, person_id=person_id, data=data, actor=viewer.user, settings=settings
        )
    except Conflict:
        flash(request, "error", viewer.gettext(ERRORS["nothing"]))
        return see_other(f"/people/{person_id}#consents")
    _withdrawn(request, viewer, max((c.assets_rejudged for c in changes), default=0))
    return see_other(f"/people/{person_id}/takedown")


@router.get("/consents/{consent_id}/withdraw")
def withdraw_one_page(
    consent_id: str,
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    viewer: Officer,
    templates: TemplatesDep,
) -> Response:
    consent = consents.get_consent(db, consent_id)
    assert consent.person_id is not None
    panel = consent_panel(db, settings, consent.person_id)
    return templates.render(
        request,
        "consents/withdraw.html",
        viewer,
        panel=panel,
        impact=withdrawal_impact(db, consent.person_id),
        only=_row_of(panel, consent_id),
        action=f"/consents/{consent_id}/withdraw",
    )


@router.post("/consents/{consent_id}/withdraw")
def withdraw_one(
    consent_id: str,
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    viewer: Officer,
    reason: Reason = "",
) -> Response:
    assert viewer.user is not None
    consent = consents.get_consent(db, consent_id)
    data = consents.WithdrawInput(reason=reason.strip()[: consent_forms.REASON_MAX])
    try:
        change = consents.withdraw_consent(
            db, consent_id=consent_id, data=data, actor=viewer.user, settings=settings
        )
    except Conflict:
        flash(request, "error", viewer.gettext(ERRORS["closed"]))
        return see_other(f"/people/{consent.person_id}#consents")
    _withdrawn(request, viewer, change.assets_rejudged)
    return see_other(f"/people/{consent.person_id}/takedown")


def _withdrawn(request: Request, viewer: Viewer, judged: int) -> None:
    flash(
        request,
        "success",
        viewer.ngettext(
            "The consent is withdrawn; %(num)s photo or video is judged again.",
            "The consent is withdrawn; %(num)s photos and videos are judged again.",
            judged,
        ),
    )


@router.get("/people/{person_id}/takedown")
def takedown_page(
    person_id: str,
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    viewer: Officer,
    templates: TemplatesDep,
) -> Response:
    """Every recorded publication of the person's assets: to recall, then recalled."""
    person = get_person(db, person_id)
    items = usages.takedown_list(db, person_id, include_recalled=True)
    ids = {i for item in items for i in (item.usage.recorded_by, item.usage.recalled_by) if i}
    return templates.render(
        request,
        "consents/takedown.html",
        viewer,
        person=person,
        open_items=[i for i in items if i.usage.recalled_at is None],
        recalled=[i for i in items if i.usage.recalled_at is not None],
        emails=dashboard.emails(db, ids),
    )


@router.post("/usages/{usage_id}/recall")
def recall_usage(
    usage_id: str,
    request: Request,
    db: SessionDep,
    viewer: Recorder,
    next: Next = "",
) -> Response:
    """Mark one publication as taken down."""
    assert viewer.user is not None
    try:
        usage = usages.mark_recalled(db, usage_id=usage_id, actor=viewer.user)
    except DomainError:
        flash(request, "error", viewer.gettext("This was changed or removed meanwhile."))
        return see_other(safe_next(next, "/"))
    flash(request, "success", viewer.gettext("Marked as taken down."))
    return see_other(safe_next(next, f"/assets/{usage.asset_id}"))
