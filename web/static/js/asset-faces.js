// Faces on the asset page: a box and its list entry light up together (hover or focus),
// and for videos "play from here" seeks the player to where a face is seen. Without this
// script the boxes still link to their entries and the forms still work.

const pairs = new Map();
for (const element of document.querySelectorAll("[data-face]")) {
  const id = element.dataset.face;
  pairs.set(id, [...(pairs.get(id) || []), element]);
}

const light = (id, on) => {
  for (const element of pairs.get(id) || []) element.classList.toggle("is-active", on);
};

for (const [id, elements] of pairs) {
  for (const element of elements) {
    element.addEventListener("pointerenter", () => light(id, true));
    element.addEventListener("pointerleave", () => light(id, false));
    element.addEventListener("focusin", () => light(id, true));
    element.addEventListener("focusout", () => light(id, false));
  }
}

const video = document.querySelector("[data-video-player] video");
for (const button of document.querySelectorAll("button[data-seek]")) {
  if (!video) continue;
  button.hidden = false;
  button.addEventListener("click", () => {
    video.currentTime = Number(button.dataset.seek) || 0;
    video.scrollIntoView({ block: "nearest" });
    video.focus();
  });
}
