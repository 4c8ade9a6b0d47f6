// The library grid: selecting with mouse and keyboard (shift+click selects a range),
// select all / none, the live count, and infinite scroll on top of the pager links.
// The instant search (library-search.js) replaces the results; they are set up anew.
import { placeholders } from "./app.js";
import { startInstantSearch } from "./library-search.js";
import { startLightbox } from "./lightbox.js";

function setUpSelection(root) {
  const grid = root.querySelector("#grid");
  const counter = root.querySelector("#selection-count");
  if (!grid || !counter) return () => {};
  let lastClicked = null;
  const boxes = () => [...grid.querySelectorAll("input.select")];

  function refresh() {
    const all = boxes();
    const chosen = all.filter((b) => b.checked).length;
    for (const box of all) box.closest(".card").classList.toggle("selected", box.checked);
    // The bar sticks to the top (and shows its actions) only while something is selected.
    counter.closest(".bulk-bar")?.classList.toggle("has-selection", chosen > 0);
    counter.textContent =
      chosen === 1
        ? counter.dataset.templateOne
        : counter.dataset.templateMany.replace("{count}", chosen.toLocaleString(document.documentElement.lang));
  }

  grid.addEventListener("click", (event) => {
    const box = event.target.closest("input.select");
    if (!box) return;
    if (event.shiftKey && lastClicked && lastClicked !== box) {
      const all = boxes();
      const [a, b] = [all.indexOf(lastClicked), all.indexOf(box)].sort((x, y) => x - y);
      for (const other of all.slice(a, b + 1)) other.checked = box.checked;
    }
    lastClicked = box;
  });
  grid.addEventListener("change", refresh);
  for (const [selector, value] of [["[data-select-all]", true], ["[data-select-none]", false]]) {
    const button = root.querySelector(selector);
    if (!button) continue;
    button.hidden = false;
    button.addEventListener("click", () => {
      for (const box of boxes()) box.checked = value;
      refresh();
    });
  }
  refresh();
  return refresh;
}

// Infinite scroll: when the pager's "next page" link comes into view, fetch that page's
// cards and append them. Without scripts the pager links work as they are. The lightbox
// asks for the next page the same way when it goes past the last tile (`more`).
function setUpInfiniteScroll(root, refresh) {
  const grid = root.querySelector("#grid");
  const nextLink = root.querySelector("[data-next-page]");
  if (!grid || !nextLink) return { stop: () => {}, more: async () => false };
  let loading = null;
  let observer = null; // none in a browser without IntersectionObserver: only `more`

  async function load() {
    const url = new URL(nextLink.href);
    url.searchParams.set("fragment", "1");
    const response = await fetch(url, { headers: { Accept: "text/html" } });
    if (!response.ok || !grid.isConnected) return false;
    const template = document.createElement("template");
    template.innerHTML = await response.text();
    grid.append(template.content);
    placeholders(grid);
    refresh();
    const following = response.headers.get("X-Next-Page");
    if (following) {
      nextLink.href = following;
      // Still in view (a tall screen, short pages): observing anew reports it again.
      observer?.unobserve(nextLink);
      observer?.observe(nextLink);
    } else {
      observer?.disconnect();
      nextLink.removeAttribute("data-next-page");
      nextLink.closest(".pager").hidden = true;
    }
    return true;
  }

  // One page at a time, whoever asks (the scroll or the lightbox).
  function more() {
    if (!nextLink.hasAttribute("data-next-page")) return Promise.resolve(false);
    loading ??= load().finally(() => {
      loading = null;
    });
    return loading;
  }

  if ("IntersectionObserver" in window) {
    observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) more();
    }, { rootMargin: "600px" });
    observer.observe(nextLink);
  }
  return { stop: () => observer?.disconnect(), more };
}

// On a narrow screen the filters fold behind their summary (served open, so that they show
// without scripts); on a wide one they are always open. The choice survives a new search.
const wide = window.matchMedia("(min-width: 48rem)");
let filtersOpen = false;

function setUpFilters(root) {
  const details = root.querySelector("details.facets-toggle");
  if (!details) return;
  const apply = () => {
    details.open = wide.matches || filtersOpen;
  };
  details.addEventListener("toggle", () => {
    if (!wide.matches) filtersOpen = details.open;
  });
  wide.onchange = apply;
  apply();
}

let scrolling = { stop: () => {}, more: async () => false };

function setUp(root) {
  scrolling.stop();
  setUpFilters(root);
  const refresh = setUpSelection(root);
  scrolling = setUpInfiniteScroll(root, refresh);
}

setUp(document);
startInstantSearch((region) => setUp(region));
// The results may be replaced (instant search): ask whichever scroll is current.
startLightbox({ more: () => scrolling.more() });
