// The video player: storyboard previews while hovering over or dragging the position
// slider (also with the keyboard), and a larger web version when the player is shown
// large. Works on every [data-video-player] the page holds; without this script the
// native <video> controls remain.

const PREVIEW_WIDTH_FALLBACK = 160;

/** "83.4" -> "1:23"; hours when needed. */
export function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${rest}` : `${m}:${rest}`;
}

function parseTime(text) {
  const parts = text.trim().split(":").map(Number);
  return parts.reduce((total, part) => total * 60 + part, 0);
}

/** The cues of a storyboard WebVTT: [{start, end, url, x, y, w, h}]. */
export function parseStoryboard(text, base) {
  const cues = [];
  for (const block of text.replace(/\r/g, "").split(/\n\n+/)) {
    const lines = block.split("\n").filter(Boolean);
    const timing = lines.findIndex((line) => line.includes("-->"));
    if (timing < 0 || !lines[timing + 1]) continue;
    const [from, to] = lines[timing].split("-->").map((t) => parseTime(t.split(" ")[0] || t));
    const [ref, fragment = ""] = lines[timing + 1].trim().split("#xywh=");
    const [x, y, w, h] = fragment.split(",").map(Number);
    cues.push({ start: from, end: to, url: new URL(ref, base).href, x, y, w, h });
  }
  return cues;
}

function cueAt(cues, time) {
  let found = cues[0];
  for (const cue of cues) {
    if (cue.start <= time) found = cue;
    else break;
  }
  return found;
}

function chooseSource(video) {
  // Start small; prefer a larger web version when the player is wide on this screen.
  const sources = [...video.querySelectorAll("source")];
  if (sources.length < 2 || !video.paused || video.currentTime > 0) return;
  const needed = video.clientWidth * (window.devicePixelRatio || 1);
  const fitting = sources.filter((s) => Number(s.dataset.width) <= Math.max(needed, 1));
  const best = fitting.length ? fitting[fitting.length - 1] : sources[0];
  if (best !== sources[0]) {
    video.src = best.src;
  }
}

async function setUpStoryboard(figure, video) {
  const scrub = figure.querySelector(".video-scrub");
  const range = figure.querySelector("[data-video-position]");
  const preview = figure.querySelector(".video-scrub-preview");
  const image = figure.querySelector(".video-scrub-image");
  const label = figure.querySelector(".video-scrub-time");
  if (!scrub || !range || !preview || !image || !label) return;
  const vttUrl = new URL(figure.dataset.storyboard, window.location.href);
  let cues = [];
  try {
    const response = await fetch(vttUrl, { credentials: "same-origin" });
    if (response.ok) cues = parseStoryboard(await response.text(), vttUrl);
  } catch {
    cues = [];
  }
  scrub.hidden = false;
  let dragging = false;

  const show = (time, clientX) => {
    const duration = Number(range.max) || 0;
    label.textContent = clock(time);
    const cue = cues.length ? cueAt(cues, time) : null;
    if (cue) {
      image.style.backgroundImage = `url("${cue.url}")`;
      image.style.backgroundPosition = `-${cue.x}px -${cue.y}px`;
      image.style.width = `${cue.w}px`;
      image.style.height = `${cue.h}px`;
    }
    const width = cue ? cue.w : PREVIEW_WIDTH_FALLBACK;
    const box = range.getBoundingClientRect();
    const x = clientX === undefined ? (duration ? (time / duration) * box.width : 0) : clientX - box.left;
    const left = Math.min(Math.max(x - width / 2, 0), Math.max(box.width - width, 0));
    preview.style.transform = `translateX(${left}px)`;
    preview.hidden = false;
  };
  const hide = () => {
    if (!dragging) preview.hidden = true;
  };
  const timeAt = (clientX) => {
    const box = range.getBoundingClientRect();
    const share = Math.min(Math.max((clientX - box.left) / box.width, 0), 1);
    return share * (Number(range.max) || 0);
  };
  const announce = () => {
    range.setAttribute("aria-valuetext", `${clock(Number(range.value))} / ${clock(Number(range.max))}`);
  };

  range.addEventListener("pointermove", (event) => show(timeAt(event.clientX), event.clientX));
  range.addEventListener("pointerleave", hide);
  range.addEventListener("pointerdown", () => {
    dragging = true;
  });
  window.addEventListener("pointerup", () => {
    if (dragging) {
      dragging = false;
      hide();
    }
  });
  // Dragging and the keyboard both change the value: preview it and seek there.
  range.addEventListener("input", () => {
    const time = Number(range.value);
    show(time);
    video.currentTime = time;
    announce();
  });
  range.addEventListener("focus", () => show(Number(range.value)));
  range.addEventListener("blur", () => {
    dragging = false;
    hide();
  });
  range.addEventListener("keydown", (event) => {
    if (event.key === "Escape") preview.hidden = true;
  });
  video.addEventListener("timeupdate", () => {
    if (document.activeElement !== range && !dragging) {
      range.value = String(video.currentTime);
      announce();
    }
  });
  video.addEventListener("loadedmetadata", () => {
    if (Number.isFinite(video.duration)) range.max = String(video.duration);
    announce();
  });
  announce();
}

for (const figure of document.querySelectorAll("[data-video-player]")) {
  const video = figure.querySelector("video");
  if (!video) continue;
  chooseSource(video);
  if (figure.dataset.storyboard) setUpStoryboard(figure, video);
}
