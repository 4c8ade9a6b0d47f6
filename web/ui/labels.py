"""Names of values that pages show (roles, statuses, kinds, sorts), as message ids.

Templates translate them with `_(labels.status[asset.status])`; the N_() marker is how
the extractor finds them, since a template's `_()` of a variable cannot be extracted.
"""

from __future__ import annotations


def N_(message: str) -> str:
    """Mark `message` for extraction without translating it here."""
    return message


role = {
    "viewer": N_("viewer"),
    "creative": N_("creative"),
    "privacy_officer": N_("privacy officer"),
    "admin": N_("administrator"),
}

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

action = {
    "asset.uploaded": N_("uploaded"),
    "asset.updated": N_("edited"),
    "asset.original_downloaded": N_("downloaded the original"),
    "asset.deleted": N_("deleted"),
    "caption.added": N_("subtitles added"),
    "caption.removed": N_("subtitles removed"),
    "person.export_requested": N_("started an access export"),
    "person.export_downloaded": N_("downloaded an access export"),
    "person.erasure_requested": N_("started an erasure"),
}

# Messages the services raise that people meet in the UI; translated when shown.
service_messages = (
    N_("An e-mail address needs an @."),
    N_("A password needs at least 10 characters."),
    N_("A user with this e-mail address exists already."),
    N_("This is the last administrator; make someone else admin first."),
    N_("There is no asset with this id."),
    N_("There is no collection with this id."),
    N_("None of these assets exists."),
    N_("Select one or more assets first."),
    N_("Log in to continue."),
    N_("The form is not valid."),
    N_("Unknown language."),
    N_("This form has expired or did not come from Beeldbank; reload the page and try again."),
)

# Download presets (web/templates/_zip_selection.html) and what a ZIP did per asset.
preset = {
    "web": N_("Web (1600 px)"),
    "large": N_("Large (2560 px)"),
    "print": N_("Print (full resolution)"),
    "square": N_("Square (1080 × 1080)"),
    "portrait": N_("Portrait (1080 × 1350)"),
    "landscape": N_("Landscape (1920 × 1080)"),
    "story": N_("Story (1080 × 1920)"),
    "banner": N_("Banner"),
}
zip_outcome = {
    "included": N_("included"),
    "redacted": N_("included, faces blurred"),
    "left_out": N_("left out"),
    "not_found": N_("not found"),
}
