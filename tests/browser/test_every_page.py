"""Every page the UI serves, as every role, in Dutch and English, in a real browser:

- the words: no English on Dutch pages (outside a small allowlist), no "(s)"/"(en)" plural
  placeholders and no raw codes (audit actions such as usage.recorded, enum values such as
  privacy_officer) on any page;
- the width: at 360 px nothing is wider than the viewport
  (document.documentElement.scrollWidth);
- on request, screenshots of every page at 1366 and 390 px under
  test-artifacts/screenshots/pages/ (gitignored), for review: DAM_TEST_SCREENSHOTS=pages
  as an administrator (who reaches every page) and anonymous, =all as every role.

Dutch is crawled as every role. English, where only the codes, placeholders and widths
are checked, as an administrator and anonymous: the other roles see a subset of the
administrator's pages in the same templates.

The pages are the app's own GET routes (the UI's routers and the public share pages), so a
page added later is crawled too; a route with a path parameter this file does not know
fails the test until a value for it is added to `values_for`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi.routing import APIRoute
from playwright.sync_api import Browser, Page

from dam.models import Face, ImportRun, Role
from dam.runtime import Runtime
from tests import media
from tests.browser.conftest import SCREENSHOTS, Person, api_token, log_in
from web.ui.routes import UI_ROUTERS, public

LOCALES = {"nl": "nl-BE", "en": "en-GB"}
PHONE = 360
SHOT_WIDTHS = (1366, 390)

# English words that are not also Dutch words, as they would show in an untranslated text.
_ENGLISH_WORDS = """
    the and with this that these those your you are for from which will would should could
    have has had were was been being there their they them what when where who why how
    please click select selected choose none nothing everything anything all any each more
    less yes not only also but into onto about after before than then here
    page pages photo photos picture pictures people person consent consents asset assets
    file files share shared settings setting library collection collections search
    searching error errors failed ready processing review cleared blocked viewer creative
    officer administrator admin erased withdrawn pending expired replaced active
    delete deleted edit edited save saved cancel close next previous back loading
    unknown show hide login logout log sign account role roles user users token tokens
    face faces name names date dates title titles description tags tag credit source
    licence license channel channels publication publications recorded recall
"""
ENGLISH = frozenset(_ENGLISH_WORDS.split())
# English words a Dutch page may show on purpose. Kept short: each one needs a reason.
ALLOWED = frozenset(
    {
        "token",  # "API-token" is the word Flemish IT uses (Dutch has no other)
        "tokens",
    }
)
PLURAL_PLACEHOLDER = re.compile(r"\w\((?:s|en|n|es)\)(?!\w)")
DOTTED_CODE = re.compile(
    r"\b(?:asset|share|usage|consent|face|person|user|token|collection|caption|retention|"
    r"audit|job|people|assets|shares|usages|consents|faces|users|tokens|collections|jobs)"
    r"\.[a-z_]+\b"
)
SNAKE_CODE = re.compile(r"\b[a-z]+_[a-z_]+\b")
# What is data, not wording: addresses, file names, ids.
DATA = re.compile(
    r"\S+@\S+|https?://\S+|\bX-[A-Za-z-]+|\S+\.(?:jpe?g|png|webp|mp4|zip|json|vtt|srt)\b|\b[0-9a-z]{26}\b",
    re.I,
)

# The words of a page: text nodes and the attributes people hear or see, outside code,
# scripts and elements in another language (the language switch says "English").
PAGE_WORDS = """() => {
  const lang = document.documentElement.lang;
  const skip = (el) => {
    if (!el) return true;
    if (el.closest("script,style,template,noscript,code,kbd,pre,samp,[translate=no]")) return true;
    const other = el.closest("[lang]");
    return other !== null && other.getAttribute("lang") !== lang;
  };
  const out = [document.title];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (!skip(node.parentElement)) out.push(node.textContent);
  }
  for (const el of document.querySelectorAll("[aria-label],[title],[placeholder],[alt]")) {
    if (skip(el)) continue;
    for (const name of ["aria-label", "title", "placeholder", "alt"]) {
      if (el.hasAttribute(name)) out.push(el.getAttribute(name));
    }
  }
  const buttons = "input[type=submit][value],input[type=button][value]";
  for (const el of document.querySelectorAll(buttons)) {
    if (!skip(el)) out.push(el.value);
  }
  return out.join("\\n");
}"""


# The outermost elements that reach past the right edge, to say what to fix.
TOO_WIDE = """(width) => {
  const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
    (el.classList.length ? "." + [...el.classList].join(".") : "");
  const out = [];
  for (const el of document.body.querySelectorAll("*")) {
    const box = el.getBoundingClientRect();
    if (box.right <= width + 1 || box.width === 0) continue;
    const parent = el.parentElement.getBoundingClientRect();
    if (parent.right > width + 1 && el.parentElement !== document.body) continue;
    out.push(name(el.parentElement) + " > " + name(el) + " (" + Math.round(box.right) + ")");
  }
  return out.slice(0, 6);
}"""


@dataclass(frozen=True)
class Site:
    """What the pages show: made once through the API, as people would."""

    values: dict[str, str]
    extra: tuple[str, ...]  # pages a route reaches only in another state


def page_routes() -> list[str]:
    """The path of every GET page: the UI's routers and the public share pages."""
    paths = []
    for router in (*UI_ROUTERS, public.router):
        for route in router.routes:
            if isinstance(route, APIRoute) and "GET" in route.methods:
                paths.append(route.path)
    return sorted(set(paths))


def values_for(path: str, site: Site) -> str | None:
    """`path` with its parameters filled in; None for a file route (not a page)."""
    if re.search(r"\.(vtt|png|jpg)$|/(file|poster|download|captions)\b", path):
        return None
    for name in re.findall(r"{(\w+)}", path):
        assert name in site.values, f"{path}: add a value for {{{name}}} to Site.values"
        path = path.replace(f"{{{name}}}", site.values[name])
    return path


@pytest.fixture(scope="module")
def site(server: str, ui_runtime: Runtime, make_person_module: Callable[..., Person]) -> Site:
    officer = make_person_module(Role.admin)
    headers = {"Authorization": f"Bearer {api_token(ui_runtime, officer)}"}
    with httpx.Client(base_url=server, headers=headers, timeout=120) as client:
        ids = []
        for seed in (3201, 3202):
            answer = client.post(
                "/api/v1/assets",
                files={"file": (f"strand-{seed}.jpg", media.jpeg(seed=seed), "image/jpeg")},
                data={"title": f"Strand in Oostende {seed - 3200}", "tags": "zee, zomer"},
            )
            assert answer.status_code in (200, 201), answer.text
            ids.append(answer.json()["id"])
        client.patch(f"/api/v1/assets/{ids[0]}", json={"alt_text": "Een leeg strand bij eb"})
        collection = client.post("/api/v1/collections", json={"title": "Kust 2026"}).json()
        client.post(f"/api/v1/collections/{collection['id']}/assets", json={"asset_ids": ids})
        person = client.post("/api/v1/people", json={"name": "Mira Verbeke"}).json()
        consent = client.post(
            f"/api/v1/people/{person['id']}/consents",
            json={"channels": ["internal", "website"], "granted_at": "2026-01-01"},
        ).json()
        client.post(
            f"/api/v1/assets/{ids[0]}/usages",
            json={"channel": "website", "url": "https://www.vlaanderen.be/kust"},
        )
        share = client.post(f"/api/v1/assets/{ids[0]}/shares", json={"channel": "internal"})
        assert share.status_code == 201, share.text
        locked = client.post(
            f"/api/v1/assets/{ids[0]}/shares",
            json={"channel": "internal", "password": "strandwandeling 2026"},
        )
        assert locked.status_code == 201, locked.text
        batch = client.post(
            "/api/v1/downloads",
            json={"asset_ids": ids, "channel": "internal", "preset": "web", "redact": False},
        )
        assert batch.status_code == 202, batch.text
        export = client.post(f"/api/v1/people/{person['id']}/export-requests")
        assert export.status_code == 202, export.text
    with ui_runtime.unit_of_work() as session:
        # A finished import as the import page leaves it (running one needs import roots).
        counts = {"imported": 2, "duplicates": 1, "skipped": 0, "refused": 1}
        run = ImportRun(folder="/srv/import/kust", status="done", total=4, done=4, counts=counts)
        session.add(run)
        # A face as the detector stores one, for the page that names it without scripts.
        face = Face(asset_id=ids[0], box_x=0.3, box_y=0.2, box_w=0.2, box_h=0.3, score=0.9,
                    detector="test")  # fmt: skip
        session.add(face)
        session.flush()
        run_id, face_id = run.id, face.id
    return Site(
        values={
            "run_id": run_id,
            "asset_id": ids[0],
            "face_id": face_id,
            "collection_id": collection["id"],
            "person_id": person["id"],
            "consent_id": consent["id"],
            "token": share.json()["token"],
            "batch_id": batch.json()["id"],
            "job_id": export.json()["id"],
        },
        extra=(
            f"/s/{locked.json()['token']}",
            "/s/no-such-link",
            "/no-such-page",
            f"/assets/{ids[0]}?i=0",
        ),
    )


@pytest.fixture(scope="module")
def make_person_module(ui_runtime: Runtime) -> Callable[..., Person]:
    import secrets

    from dam import auth
    from tests.browser.conftest import PASSWORD

    def make(role: Role) -> Person:
        email = f"{role.value}-{secrets.token_hex(4)}@beeldbank.test"
        with ui_runtime.unit_of_work() as session:
            auth.create_user(session, email=email, password=PASSWORD, role=role)
        return Person(email, PASSWORD, role)

    return make


def all_pages(site: Site) -> list[str]:
    found = [p for p in (values_for(path, site) for path in page_routes()) if p]
    return [*found, *site.extra]


def _around(text: str, start: int, end: int) -> str:
    return " ".join(text[max(0, start - 30) : end + 30].split())


def problems_in(text: str, lang: str) -> list[str]:
    """What is wrong with a page's words (an empty list when nothing is)."""
    text = DATA.sub(" ", text)
    found = [f"plural placeholder {m!r}" for m in PLURAL_PLACEHOLDER.findall(text)]
    found += [f"raw code {m!r}" for m in DOTTED_CODE.findall(text)]
    for m in SNAKE_CODE.finditer(text):
        found.append(f"raw code {m[0]!r} in {_around(text, m.start(), m.end())!r}")
    if lang == "nl":
        words = {w.lower() for w in re.findall(r"[A-Za-z]+", text)}
        for word in sorted(words & ENGLISH - ALLOWED):
            at = re.search(rf"(?i)\b{word}\b", text)
            where = _around(text, at.start(), at.end()) if at else ""
            found.append(f"English word {word!r} in {where!r}")
    return found


def shot_name(path: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", path.split("?")[0].lower()).strip("-") or "library"


@pytest.fixture
def role_page(browser: Browser, server: str) -> Iterator[Callable[[str], Page]]:
    contexts = []

    def open_page(lang: str) -> Page:
        context = browser.new_context(
            base_url=server, locale=LOCALES[lang], viewport={"width": 1366, "height": 900}
        )
        context.set_default_timeout(30_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def test_no_page_is_left_out(site: Site) -> None:
    """The crawl reaches every page route with its parameters filled in."""
    pages = all_pages(site)
    assert "/" in pages and "/privacy/audit" in pages and "/admin/settings" in pages
    assert any(p.startswith("/s/") for p in pages) and any(p.startswith("/embed/") for p in pages)
    assert not [p for p in pages if "{" in p]


def _who(role: Role | None) -> str:
    return role.value if role else "anonymous"


CRAWLS = [
    pytest.param(role, lang, id=f"{_who(role)}-{lang}")
    for lang in LOCALES
    for role in [None, *Role]
    if lang == "nl" or role in (None, Role.admin)
]


@pytest.mark.parametrize(("role", "lang"), CRAWLS)
def test_every_page_in_proper_words_and_within_a_phone(
    role_page: Callable[[str], Page],
    site: Site,
    make_person_module: Callable[..., Person],
    role: Role | None,
    lang: str,
) -> None:
    page = role_page(lang)
    if role is not None:
        log_in(page, make_person_module(role))
    who = _who(role)
    wrong: dict[str, list[str]] = {}
    wide: dict[str, str] = {}
    for path in all_pages(site):
        page.set_viewport_size({"width": 1366, "height": 900})
        page.goto(path)  # waits for the load event: the pages render on the server
        assert page.locator("html").get_attribute("lang") == lang, path
        if found := problems_in(page.evaluate(PAGE_WORDS), lang):
            wrong[path] = found
        _shoot(page, f"{shot_name(path)}-{who}", lang, 1366)
        page.set_viewport_size({"width": PHONE, "height": 740})
        page.wait_for_timeout(50)  # let the layout settle after the resize
        overflow = page.evaluate("document.documentElement.scrollWidth") - PHONE
        if overflow > 0:
            wide[path] = f"{overflow} px: {', '.join(page.evaluate(TOO_WIDE, PHONE))}"
        page.set_viewport_size({"width": 390, "height": 844})
        _shoot(page, f"{shot_name(path)}-{who}", lang, 390)
    listed = "\n".join(f"{path}: {', '.join(found)}" for path, found in wrong.items())
    assert wrong == {}, f"words to fix as {who} in {lang}:\n{listed}"
    listed = "\n".join(f"{path}: {why}" for path, why in wide.items())
    assert wide == {}, f"pages wider than {PHONE} px as {who} in {lang}:\n{listed}"


# Full-page screenshots cost more than the checks: taken only on request.
SHOTS = os.environ.get("DAM_TEST_SCREENSHOTS", "")
SHOT_ROLES = {"anonymous", "admin"} if SHOTS == "pages" else None


def _shoot(page: Page, name: str, lang: str, width: int) -> None:
    if SHOTS not in ("pages", "all"):
        return
    if SHOT_ROLES is not None and name.rsplit("-", 1)[-1] not in SHOT_ROLES:
        return
    folder = SCREENSHOTS / "pages"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}-{lang}-{width}.png"), full_page=True)
