// Instant search on the library page: results follow as you type (debounced) and as
// filters change, without reloading the page. The server renders the results fragment
// with the same templates; the address bar carries the query, so results can be shared
// and the back button returns to what was shown before. Without scripts the search form
// is a plain GET form.
import { placeholders } from "./app.js";

const DEBOUNCE_MS = 250;

export function startInstantSearch(onResults) {
  const form = document.getElementById("library-search");
  const region = document.getElementById("library-results");
  const live = document.getElementById("result-count");
  const words = document.getElementById("q");
  if (!form || !region || !words || !window.fetch || !window.history.pushState) return;

  let timer = 0;
  let controller = null;
  let typing = false; // while typing, the address is replaced, not pushed key by key

  function currentUrl() {
    const params = new URLSearchParams();
    // FormData includes the sidebar's controls: they belong to the form by form="...".
    for (const [key, value] of new FormData(form)) {
      if (typeof value === "string" && value.trim() !== "") params.append(key, value);
    }
    const text = params.toString();
    return text ? `/?${text}` : "/";
  }

  function focusKey() {
    const active = document.activeElement;
    if (!active || !region.contains(active)) return null;
    return { id: active.id, name: active.getAttribute("name"), value: active.value };
  }

  function refocus(key) {
    if (!key) return;
    let target = key.id ? document.getElementById(key.id) : null;
    if (!target && key.name) {
      target = [...region.querySelectorAll(`[name="${CSS.escape(key.name)}"]`)].find(
        (el) => el.value === key.value,
      );
    }
    if (target) {
      target.closest("details")?.setAttribute("open", "");
      target.focus();
    }
  }

  async function show(url, how) {
    if (controller) controller.abort();
    controller = new AbortController();
    const fetchUrl = new URL(url, window.location.origin);
    fetchUrl.searchParams.set("fragment", "results");
    region.setAttribute("aria-busy", "true");
    let response;
    try {
      response = await fetch(fetchUrl, {
        headers: { Accept: "text/html" },
        signal: controller.signal,
      });
    } catch (error) {
      if (error.name !== "AbortError") window.location.assign(url);
      return;
    }
    if (!response.ok) {
      // The full page says what went wrong, in the user's language.
      window.location.assign(url);
      return;
    }
    const html = await response.text();
    if (controller.signal.aborted) return;
    const key = focusKey();
    region.innerHTML = html;
    region.removeAttribute("aria-busy");
    const body = region.querySelector(".library-body");
    const address = (body && body.dataset.url) || url;
    if (how === "push") window.history.pushState({ library: true }, "", address);
    if (how === "replace") window.history.replaceState({ library: true }, "", address);
    if (live && body) live.textContent = body.dataset.count;
    placeholders(region);
    onResults(region);
    refocus(key);
  }

  function wordsFrom(url) {
    words.value = new URL(url, window.location.origin).searchParams.get("q") || "";
  }

  words.addEventListener("input", () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(() => {
      show(currentUrl(), typing ? "replace" : "push");
      typing = true;
    }, DEBOUNCE_MS);
  });

  // Check boxes, the channel and the sort: at once, each a step the back button undoes.
  document.addEventListener("change", (event) => {
    const control = event.target;
    if (control === words || control.form !== form) return;
    window.clearTimeout(timer);
    typing = false;
    show(currentUrl(), "push");
  });

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    window.clearTimeout(timer);
    typing = false;
    show(currentUrl(), "push");
  });

  // Links to other library results (clear filters, suggestions, popular tags).
  region.addEventListener("click", (event) => {
    const link = event.target.closest("a[href]");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
    const target = new URL(link.href);
    if (target.origin !== window.location.origin || target.pathname !== "/") return;
    if (link.hasAttribute("data-next-page") || link.rel === "prev") return; // the pager
    event.preventDefault();
    typing = false;
    wordsFrom(target.href);
    show(target.pathname + target.search, "push");
  });

  window.addEventListener("popstate", () => {
    window.clearTimeout(timer);
    typing = false;
    wordsFrom(window.location.href);
    show(window.location.pathname + window.location.search, "none");
  });

  window.history.replaceState({ library: true }, "", window.location.href);
}
