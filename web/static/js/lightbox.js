// The lightbox of the library's and a collection's tiles: a tile's link opens its larger
// picture in a modal dialog (#lightbox, _lightbox.html) instead of the asset page; Left and
// Right (or the buttons) go to the previous and next tile of the result set, loading the
// next page of tiles when the last one is reached; Escape (or Close) closes it and focus
// returns to the tile of the picture shown. While open, Tab stays inside the dialog.
// The pictures are the tiles' `data-view` renditions (preview, a video's poster), served
// through the same gated rendition route as the thumbnails; a video with a web version
// (`data-play`, its web_720 through that route) is played there instead, with the native
// controls and its poster first, never by itself; its subtitles (`data-captions`) become
// the player's <track>s, through the same gated caption route as the asset page's player
// (video/player.html), in its menu as there. While the focus is in the video, its
// controls keep the arrow keys (wind back and forward); Escape still closes. A click with
// a modifier key (a new tab), and every tile without scripts, still opens the asset page.

const TILES = "#grid .card-link";

export function startLightbox({ more = async () => false } = {}) {
  const dialog = document.getElementById("lightbox");
  if (!dialog || typeof dialog.showModal !== "function") return;
  const title = dialog.querySelector(".lightbox-title");
  const position = dialog.querySelector(".lightbox-position");
  const image = dialog.querySelector(".lightbox-image");
  const player = dialog.querySelector(".lightbox-player");
  const badge = dialog.querySelector(".lightbox-video");
  const open = dialog.querySelector("[data-lightbox-open]");
  const previous = dialog.querySelector("[data-lightbox-prev]");
  const next = dialog.querySelector("[data-lightbox-next]");
  const said = dialog.querySelector("[data-lightbox-said]");
  let current = null; // the tile's link whose picture is shown
  let loading = false;

  const tiles = () => [...document.querySelectorAll(TILES)].filter((t) => t.dataset.view);
  const total = () => Number(document.getElementById("grid")?.dataset.total) || tiles().length;
  const hasMore = () => document.querySelector("[data-next-page]") !== null;

  function nameOf(tile) {
    return tile.querySelector(".card-title")?.textContent.trim() || "";
  }

  function show(tile) {
    current = tile;
    const all = tiles();
    const index = all.indexOf(tile);
    const name = nameOf(tile);
    title.textContent = name;
    const where = dialog.dataset.position
      .replace("{n}", (index + 1).toLocaleString(document.documentElement.lang))
      .replace("{total}", total().toLocaleString(document.documentElement.lang));
    position.textContent = where;
    said.textContent = `${name}, ${where}`;
    stopPlaying();
    const playing = Boolean(tile.dataset.play) && player !== null;
    const shown = playing ? player : image;
    if (tile.dataset.viewWidth && tile.dataset.viewHeight) {
      shown.width = Number(tile.dataset.viewWidth);
      shown.height = Number(tile.dataset.viewHeight);
    }
    if (playing) {
      image.removeAttribute("src");
      player.poster = tile.dataset.view;
      for (const caption of captionsOf(tile)) {
        const track = document.createElement("track");
        track.kind = caption.kind;
        track.srclang = caption.language;
        track.label = caption.label;
        track.src = caption.url;
        player.append(track);
      }
      player.src = tile.dataset.play;
    } else {
      image.alt = tile.dataset.alt || "";
      image.src = tile.dataset.view;
    }
    image.hidden = playing;
    if (player) player.hidden = !playing;
    const video = tile.dataset.kind === "video";
    badge.hidden = !video || playing;
    badge.textContent = video
      ? `▶ ${dialog.dataset.video}${tile.dataset.duration ? `, ${tile.dataset.duration}` : ""}`
      : "";
    open.href = tile.getAttribute("href");
    previous.disabled = index <= 0;
    next.disabled = index >= all.length - 1 && !hasMore();
    // The neighbours' pictures load while this one is looked at.
    for (const near of [all[index - 1], all[index + 1]]) {
      if (near) new Image().src = near.dataset.view;
    }
  }

  async function step(by) {
    if (!current || loading) return;
    let all = tiles();
    let index = all.indexOf(current) + by;
    if (index >= all.length && hasMore()) {
      loading = true;
      try {
        if (await more()) all = tiles();
      } finally {
        loading = false;
      }
    }
    if (index < 0 || index >= all.length) return;
    const focused = document.activeElement;
    show(all[index]);
    // A button that just became disabled cannot keep focus: keep it in the dialog.
    if (focused instanceof HTMLButtonElement && focused.disabled) {
      (by < 0 ? next : previous).focus();
    }
  }

  function captionsOf(tile) {
    try {
      return JSON.parse(tile.dataset.captions || "[]");
    } catch {
      return [];
    }
  }

  function stopPlaying() {
    if (!player || !player.getAttribute("src")) return;
    for (const track of player.querySelectorAll("track")) track.remove();
    player.pause();
    player.removeAttribute("src");
    player.removeAttribute("poster");
    player.load(); // lets go of the file being streamed
  }

  function focusables() {
    return [...dialog.querySelectorAll("button, a[href], video")].filter(
      (e) => !e.disabled && !e.hidden,
    );
  }

  document.addEventListener("click", (event) => {
    const tile = event.target.closest?.(TILES);
    if (!tile || !tile.dataset.view) return;
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
      return; // a new tab or window: the asset page
    }
    event.preventDefault();
    show(tile);
    document.documentElement.classList.add("has-lightbox");
    dialog.showModal();
    dialog.querySelector("[data-lightbox-close]").focus();
  });

  dialog.addEventListener("keydown", (event) => {
    const inVideo = event.target instanceof Element && event.target.closest("video") !== null;
    if ((event.key === "ArrowLeft" || event.key === "ArrowRight") && !inVideo) {
      event.preventDefault();
      step(event.key === "ArrowLeft" ? -1 : 1);
    } else if (event.key === "Tab") {
      const items = focusables();
      const first = items[0];
      const last = items[items.length - 1];
      if (event.shiftKey && document.activeElement === first) {
        event.preventDefault();
        last.focus();
      } else if (!event.shiftKey && document.activeElement === last) {
        event.preventDefault();
        first.focus();
      }
    }
  });
  previous.addEventListener("click", () => step(-1));
  next.addEventListener("click", () => step(1));
  dialog.querySelector("[data-lightbox-close]").addEventListener("click", () => dialog.close());
  // Escape closes a modal dialog by itself ("cancel", then "close").
  dialog.addEventListener("close", () => {
    document.documentElement.classList.remove("has-lightbox");
    image.removeAttribute("src");
    stopPlaying();
    if (current?.isConnected) current.focus();
    current = null;
  });
  // A click beside the picture (on the dialog's own surface, not a control) closes it too.
  dialog.addEventListener("click", (event) => {
    if (event.target === dialog || event.target.classList.contains("lightbox-stage")) {
      dialog.close();
    }
  });
}
