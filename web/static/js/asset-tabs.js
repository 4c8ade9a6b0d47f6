// The asset page's parts as tabs: one part shown at a time, chosen with the links above
// them (WAI-ARIA tabs: arrow keys, Home and End move between tabs). Without scripts every
// part shows, one below the other, and the links jump to them. The part in the address
// (#publishing, or the part holding #face-…) is the one shown, so a form that comes back
// to "#details" opens on it.

const nav = document.querySelector("[data-tabs]");
if (nav) {
  const list = nav.querySelector("ul");
  const tabs = [...nav.querySelectorAll("a[data-tab]")];
  const panels = tabs.map((tab) => document.getElementById(tab.dataset.tab));
  list.setAttribute("role", "tablist");
  for (const [i, tab] of tabs.entries()) {
    tab.parentElement.setAttribute("role", "presentation");
    tab.setAttribute("role", "tab");
    tab.setAttribute("aria-controls", panels[i].id);
    panels[i].setAttribute("role", "tabpanel");
    panels[i].setAttribute("aria-labelledby", tab.id);
    panels[i].tabIndex = -1;
  }

  const select = (index, focus) => {
    for (const [i, tab] of tabs.entries()) {
      const on = i === index;
      tab.setAttribute("aria-selected", String(on));
      tab.tabIndex = on ? 0 : -1;
      panels[i].hidden = !on;
    }
    if (focus) tabs[index].focus();
  };

  const fromHash = () => {
    const target = window.location.hash ? document.getElementById(window.location.hash.slice(1)) : null;
    const index = target ? panels.findIndex((p) => p === target || p.contains(target)) : -1;
    return index;
  };

  for (const [i, tab] of tabs.entries()) {
    tab.addEventListener("click", (event) => {
      event.preventDefault();
      select(i, false);
      history.replaceState(null, "", `#${panels[i].id}`);
    });
    tab.addEventListener("keydown", (event) => {
      const last = tabs.length - 1;
      const moves = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: last };
      if (!(event.key in moves)) return;
      event.preventDefault();
      const next = (moves[event.key] + tabs.length) % tabs.length;
      select(next, true);
      history.replaceState(null, "", `#${panels[next].id}`);
    });
  }

  const start = fromHash();
  select(start >= 0 ? start : 0, false);
  if (start >= 0 && window.location.hash) {
    document.getElementById(window.location.hash.slice(1))?.scrollIntoView();
  }
  window.addEventListener("hashchange", () => {
    const index = fromHash();
    if (index >= 0) select(index, false);
  });
}
