// The asset page: zoom into the photo, count alt-text characters, suggest tags for the
// tag being typed, and wait for processing to finish.

const frame = document.getElementById("zoom-frame");
const preview = document.getElementById("preview");
const zoom = document.getElementById("zoom-toggle");
if (frame && preview && zoom) {
  zoom.hidden = false;
  zoom.addEventListener("click", () => {
    const zoomed = !frame.classList.contains("zoomed");
    if (zoomed && preview.dataset.large && preview.src !== preview.dataset.large) {
      preview.src = preview.dataset.large;
    }
    frame.classList.toggle("zoomed", zoomed);
    zoom.setAttribute("aria-pressed", String(zoomed));
    zoom.textContent = zoomed ? zoom.dataset.labelOut : zoom.dataset.labelIn;
  });
  preview.addEventListener("click", () => zoom.click());
}

const alt = document.getElementById("alt_text");
const altCount = document.getElementById("alt-count");
if (alt && altCount) {
  const advised = Number(alt.dataset.advised);
  const show = () => {
    const n = alt.value.length;
    altCount.textContent = `${n} / ${advised}`;
    altCount.classList.toggle("field-error", n > advised);
  };
  alt.addEventListener("input", show);
  show();
}

// The datalist suggests whole values; with comma-separated tags the suggestion should
// complete only the tag after the last comma, so the options are rewritten per keystroke.
const tags = document.querySelector("input[data-suggest]");
const list = tags && document.getElementById(tags.getAttribute("list"));
if (tags && list) {
  const known = [...list.options].map((o) => o.value);
  tags.addEventListener("input", () => {
    const parts = tags.value.split(",");
    const current = parts.pop().trim().toLowerCase();
    const head = parts.map((p) => p.trim()).filter(Boolean);
    const prefix = head.length ? head.join(", ") + ", " : "";
    list.replaceChildren(
      ...known
        .filter((t) => t.startsWith(current) && !head.includes(t))
        .slice(0, 20)
        .map((t) => new Option(prefix + t, prefix + t)),
    );
  });
}

const note = document.getElementById("processing-note");
if (note) {
  const poll = async () => {
    const response = await fetch(`/api/v1/assets/${note.dataset.assetId}`);
    if (response.ok && (await response.json()).status !== "processing") {
      window.location.reload();
      return;
    }
    setTimeout(poll, 2000);
  };
  setTimeout(poll, 2000);
}
