"""Rendering pages: one Jinja2 environment per language, the context every page shares."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import BytecodeCache, Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.bccache import Bucket
from jinja2.runtime import Context

from dam.auth import has_permission
from dam.errors import DomainError
from dam.models import User
from gdpr.judgement import verdict_text
from web import browser_session as session
from web import catalogs
from web.ui import audit_details, grid_focus, grid_tiles, i18n, labels, nav
from web.ui.static import static_url

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"


@dataclass
class Viewer:
    """Who is looking, in which language: what every page needs to render."""

    user: User | None
    locale: str
    flashes: list[tuple[str, str]] = field(default_factory=list)

    def gettext(self, message: str, **values: object) -> str:
        """`message` in this viewer's language (the extractor finds `.gettext(` calls)."""
        return i18n.gettext(self.locale, message, **values)

    def ngettext(self, singular: str, plural: str, n: int, **values: object) -> str:
        return i18n.ngettext(self.locale, singular, plural, n, **values)

    def explain(self, error: DomainError) -> str:
        """A service's error in this viewer's language."""
        return catalogs.translate(self.locale, error.template, error.params)

    def can(self, permission: str) -> bool:
        return self.user is not None and has_permission(self.user, permission)


def _grouped_plurals(ngettext: Callable[..., str], locale: str) -> Callable[..., str]:
    """Jinja's ngettext, with `%(num)s` written grouped ("1.234 foto’s") while the form is
    chosen from the integer: catalogs.plural_values, as for Python's ngettext."""

    @pass_context
    def grouped(context: Context, singular: str, plural: str, n: int, **values: object) -> str:
        return ngettext(context, singular, plural, n, **catalogs.plural_values(locale, n, values))

    return grouped


class _CompiledTemplates(BytecodeCache):
    """Templates compiled once per process, whatever the number of apps (the tests build
    one per test): Jinja checks each template's source checksum before it reuses one."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if (code := self._code.get(bucket.key)) is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


_COMPILED = _CompiledTemplates()


class Templates:
    """Two environments (nl, en): each has its catalog installed, so rendering is lock-free."""

    def __init__(self, *, timezone: str) -> None:
        self.timezone = timezone
        self.envs = {locale: self._environment(locale) for locale in i18n.LOCALES}

    def _environment(self, locale: str) -> Environment:
        env = Environment(
            loader=FileSystemLoader(TEMPLATES_DIR),
            autoescape=select_autoescape(["html"]),
            extensions=["jinja2.ext.i18n"],
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,
            bytecode_cache=_COMPILED,
        )
        env.install_gettext_translations(i18n.translations(locale), newstyle=True)  # type: ignore[attr-defined]
        plain = env.globals["ngettext"]
        assert callable(plain)
        env.globals["ngettext"] = _grouped_plurals(plain, locale)
        env.filters["day"] = partial(i18n.format_day, locale=locale, tz=self.timezone)
        env.filters["moment"] = partial(i18n.format_moment, locale=locale, tz=self.timezone)
        env.filters["number"] = partial(i18n.format_number, locale=locale)
        env.filters["size"] = partial(i18n.format_size, locale=locale)
        env.filters["seconds"] = partial(i18n.format_seconds, locale=locale)
        env.filters["exposure"] = partial(i18n.format_exposure, locale=locale)
        env.globals["static_url"] = static_url
        env.globals["locale"] = locale
        env.globals["language_names"] = i18n.LANGUAGE_NAMES
        env.globals["labels"] = labels
        env.globals["card_focus"] = grid_focus.card_focus
        # Why an asset, job, ZIP or import failed, and other kept messages, in this language.
        env.globals["failure"] = lambda row: catalogs.failure_text(locale, row) or ""
        env.globals["message_text"] = partial(catalogs.translate_message, locale)
        env.globals["card_tiles"] = grid_tiles.card_tiles
        env.globals["audit_key"] = partial(audit_details.key_name, locale=locale)
        env.globals["audit_value"] = partial(
            audit_details.value_parts, locale=locale, tz=self.timezone
        )
        # Channels are named by gdpr (its verdict texts name them too): one table.
        env.globals["channel_label"] = lambda channel: verdict_text.channel_label(channel, locale)
        return env

    def render(
        self,
        request: Request,
        name: str,
        viewer: Viewer,
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
        **context: Any,
    ) -> HTMLResponse:
        env = self.envs[viewer.locale]
        wiring = request.app.state.runtime.wiring
        menu = [item for item in nav.items(wiring) if viewer.can(item.permission)]
        # Error pages go without badges: the request's database session may be gone.
        badges = {
            item.path: item.badge(request)
            for item in menu
            if item.badge is not None and status < 400
        }
        html = env.get_template(name).render(
            request=request,
            viewer=viewer,
            user=viewer.user,
            can=viewer.can,
            menu=menu,
            menu_badges=badges,
            current_path=request.url.path,
            csrf_token=session.csrf_token(request) if "session" in request.scope else "",
            flashes=pop_flashes(request) + viewer.flashes,
            **context,
        )
        return HTMLResponse(
            html,
            status_code=status,
            headers={"Cache-Control": "private, no-store", **(headers or {})},
        )


def flash(request: Request, kind: str, message: str) -> None:
    """Show `message` (already translated) on the next page this browser renders."""
    # Assign a new list: the session notices assignments, not changes inside its values.
    request.session["flashes"] = [*request.session.get("flashes", []), [kind, message]]


def pop_flashes(request: Request) -> list[tuple[str, str]]:
    if "session" not in request.scope:
        return []
    raw = request.session.pop("flashes", None) or []
    return [(str(kind), str(message)) for kind, message in raw][:10]
