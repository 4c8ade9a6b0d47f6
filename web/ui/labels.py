"""Names of values that pages show (roles, statuses, kinds, sorts), as message ids.

Templates translate them with `_(labels.status[asset.status])`; the N_() marker is how
the extractor finds them, since a template's `_()` of a variable cannot be extracted.
"""

from __future__ import annotations

from dam.auth import ROLE_NAMES
from dam.presets import PRESET_LABELS
from gdpr.publishing.download_packing import OUTCOME_LABELS


def N_(message: str) -> str:
    """Mark `message` for extraction without translating it here."""
    return message


role = {r.value: name for r, name in ROLE_NAMES.items()}

status = {
    "processing": N_("processing"),
    "ready": N_("ready"),
    "failed": N_("failed"),
}

job_status = {
    "queued": N_("waiting"),
    "running": N_("running"),
    "done": N_("done"),
    "failed": N_("failed"),
    "cancelled": N_("cancelled"),
}

stage = {
    "probe": N_("reading metadata"),
    "renditions": N_("making renditions"),
    "faces": N_("finding faces"),
    "identity": N_("recognising people"),
    "video_probe": N_("reading metadata"),
    "video_renditions": N_("making web versions"),
    "video_storyboard": N_("making the storyboard"),
    "video_faces": N_("finding faces in the video"),
    # Tasks (Wiring.add_task): jobs that are no pipeline stage.
    "redact_video": N_("blurring faces in the video"),
    "pack_download": N_("packing a ZIP download"),
    "suggest_person": N_("looking for this person in the library"),
    "person_export": N_("exporting an access request"),
    "person_erasure": N_("erasing a person"),
    "import_folder": N_("importing a folder"),
}

kind = {
    "image": N_("photos"),
    "video": N_("videos"),
}

sort = {
    "relevance": N_("best match"),
    "newest": N_("newest first"),
    "taken": N_("capture date"),
    "title": N_("title"),
}

rendition = {
    "large": N_("large"),
    "preview": N_("preview"),
    "thumb": N_("thumbnail"),
    "web_1080": N_("web version 1080p"),
    "web_720": N_("web version 720p"),
    "poster": N_("poster frame"),
    "storyboard": N_("storyboard"),
    "storyboard_vtt": N_("storyboard index (WebVTT)"),
}

# Every audit action (dam/audit.py records them; the history and the audit log show them).
# tests/test_audit.py checks that each action the code records has a label here.
action = {
    "asset.uploaded": N_("uploaded"),
    "asset.updated": N_("edited"),
    "asset.deleted": N_("deleted"),
    "asset.downloaded": N_("downloaded"),
    "asset.downloaded_redacted": N_("downloaded with faces blurred"),
    "asset.original_downloaded": N_("downloaded the original"),
    "asset.captioned_downloaded": N_("downloaded with subtitles"),
    "asset.captions_downloaded": N_("downloaded the subtitles"),
    "asset.review_requested": N_("asked for a review"),
    "download.archive_requested": N_("asked for a ZIP download"),
    "download.archive_fetched": N_("downloaded a ZIP"),
    "import.started": N_("started an import"),
    "user.break_glass_on": N_("given emergency access"),
    "user.break_glass_off": N_("emergency access taken away"),
    "user.login_refused": N_("login refused"),
    "user.licence_default_changed": N_("default licence changed"),
    "caption.added": N_("subtitles added"),
    "caption.removed": N_("subtitles removed"),
    "person.export_requested": N_("started an access export"),
    "person.export_downloaded": N_("downloaded an access export"),
    "person.erasure_requested": N_("started an erasure"),
    "collection.created": N_("collection made"),
    "collection.updated": N_("collection edited"),
    "collection.deleted": N_("collection deleted"),
    "collection.assets_added": N_("added to a collection"),
    "collection.assets_removed": N_("removed from a collection"),
    "consent.recorded": N_("consent recorded"),
    "consent.replaced": N_("consent changed"),
    "consent.withdrawn": N_("consent withdrawn"),
    "face.confirmed": N_("face confirmed"),
    "face.dismissed": N_("face dismissed"),
    "face.split": N_("face taken out of its group"),
    "face.ungrouped": N_("face taken out of its group"),
    "person.created": N_("person added"),
    "person.updated": N_("person edited"),
    "person.merged": N_("people merged"),
    "person.embeddings_deleted": N_("biometric data deleted"),
    "person.erased": N_("person erased"),
    "person.exported": N_("access request exported"),
    "person.erasure_proposed": N_("erasure proposed"),
    "retention.embeddings_deleted": N_("biometric data deleted after the retention period"),
    "share.created": N_("share link made"),
    "share.downloaded": N_("downloaded through a share link"),
    "share.revoked": N_("share link withdrawn"),
    "token.created": N_("API token made"),
    "token.revoked": N_("API token withdrawn"),
    "usage.recorded": N_("publication recorded"),
    "usage.recalled": N_("publication taken down"),
    "user.created": N_("user added"),
    "user.deactivated": N_("user deactivated"),
    "user.reactivated": N_("user reactivated"),
    "user.role_changed": N_("role changed"),
    "user.logged_in": N_("logged in"),
    "user.logged_out": N_("logged out"),
}

# What an audit entry is about.
subject = {
    "asset": N_("asset"),
    "collection": N_("collection"),
    "consent": N_("consent"),
    "download": N_("ZIP download"),
    "face": N_("face"),
    "import": N_("import"),
    "person": N_("person"),
    "share": N_("share link"),
    "token": N_("API token"),
    "usage": N_("publication"),
    "user": N_("user"),
}

# Why a face no longer counts (gdpr.recognition.face_decisions.DISMISS_REASONS,
# gdpr.requests.erasure.ERASED).
face_reason = {
    "not a face": N_("not a face"),
    "not recognisable": N_("not recognisable"),
    "erased": N_("the person was erased"),
}

# Download presets (web/templates/_zip_selection.html) and what a ZIP did per asset: named
# where the ZIP's README names them too.
preset = PRESET_LABELS
zip_outcome = OUTCOME_LABELS

# The details an audit entry keeps (dam.audit.record's `details`), named on the audit log
# (privacy/audit.html); web/ui/audit_details.py writes their values in words where they
# are codes (the tables below), moments, sizes or counts. A key not named here is shown
# as it is; tests/test_audit.py checks that every key the code records is named.
detail = {
    "asset_id": N_("asset"),
    "asset_ids": N_("assets"),
    "assets": N_("assets"),
    "assets_deleted": N_("assets deleted"),
    "assets_redacted": N_("assets redacted"),
    "audit_entries": N_("audit entries"),
    "channel": N_("channel"),
    "captions": N_("with subtitles"),
    "channels": N_("channels"),
    "cluster_id": N_("face group"),
    "consents": N_("consents"),
    "crop": N_("crop"),
    "cues": N_("subtitle lines"),
    "disposition": N_("delivered as"),
    "downloads_withdrawn": N_("downloads withdrawn"),
    "dry_run": N_("trial run"),
    "embeddings": N_("face prints"),
    "evidence_deleted": N_("evidence deleted"),
    "expires_at": N_("expires"),
    "exports_deleted": N_("exports deleted"),
    "face_ids": N_("faces"),
    "faces": N_("faces"),
    "fields": N_("fields"),
    "format": N_("file format"),
    "found_before": N_("found before"),
    "from": N_("role before"),
    "is_minor": N_("minor"),
    "job_id": N_("job"),
    "language": N_("language"),
    "languages": N_("languages"),
    "link_id": N_("share link"),
    "media_type": N_("file type"),
    "merged_id": N_("merged into"),
    "method": N_("sign-in method"),
    "originals_rewritten": N_("originals rewritten"),
    "password": N_("password"),
    "path": N_("path"),
    "person_id": N_("person"),
    "preset": N_("picture size"),
    "reason": N_("reason"),
    "rendition": N_("version"),
    "replaced": N_("replaces"),
    "role": N_("role"),
    "sha256": N_("fingerprint (SHA-256)"),
    "size": N_("file size"),
    "source": N_("source"),
    "status": N_("licence status"),
    "to": N_("role after"),
    "token_id": N_("API token"),
    "tombstone_id": N_("erasure record"),
    "usage_id": N_("publication"),
    "version": N_("version"),
    "videos_reencoded": N_("videos re-encoded"),
}

# How someone signed in (dam.accounts, dam.sso: the audit entry's "method").
sign_in = {
    "password": N_("password"),
    "break_glass": N_("emergency password"),
    "sso": N_("single sign-on"),
}

# Where an upload or a person came from (the audit entry's "source": ingest.receive's
# `source`, ingest/evidence.py, gdpr.recognition.named_people, dam.sso).
source = {
    "upload": N_("upload"),
    "tus": N_("upload in parts"),
    "import": N_("folder import"),
    "consent_evidence": N_("signed consent form"),
    "metadata": N_("names in photo metadata"),
    "sso": N_("single sign-on"),
}

# Why a sign-on was refused (dam.sso._refuse: the audit entry's "reason").
sign_in_refusal = {
    "account_disabled": N_("account switched off"),
    "no_role": N_("no role given"),
}

# What an edit changed (dam.assets.AssetUpdate, gdpr.recognition.people.PersonUpdate: the
# audit entry's "fields").
field = {
    "title": N_("title"),
    "description": N_("description"),
    "alt_text": N_("alt text"),
    "tags": N_("tags"),
    "licence": N_("licence"),
    "licence_status": N_("licence status"),
    "embargo_until": N_("embargo"),
    "undetected_people": N_("people the detector missed"),
    "name": N_("name"),
    "is_minor": N_("minor"),
    "hidden": N_("hidden"),
    "email": N_("e-mail address"),
    "notes": N_("notes"),
}

# A licence status (dam.models.LicenceStatus; none recorded: unknown).
licence_status = {
    "own": N_("own work"),
    "licensed": N_("licensed"),
    "unknown": N_("unknown"),
}

# File formats (dam.presets.FORMATS, subtitles read by ingest.video.captions) by their
# names, the same in every language.
file_format = {
    "jpeg": "JPEG",
    "webp": "WebP",
    "avif": "AVIF",
    "png": "PNG",
    "tiff": "TIFF",
    "vtt": "WebVTT",
    "srt": "SRT",
}
