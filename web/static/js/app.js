// Runs on every page: marks that scripts run, and shows each thumbnail's blurred
// placeholder until the image itself has loaded.
import { decode } from "./blurhash.js";

document.documentElement.classList.replace("no-js", "js");

const SIZE = 32; // placeholder pixels per side; the browser scales the canvas up smoothly

export function placeholders(root = document) {
  for (const frame of root.querySelectorAll(".thumb[data-blurhash]")) {
    const img = frame.querySelector("img");
    if (!img || frame.dataset.painted) continue;
    frame.dataset.painted = "1";
    const shown = () => img.classList.add("loaded");
    if (img.complete && img.naturalWidth > 0) {
      shown();
      continue;
    }
    try {
      const canvas = document.createElement("canvas");
      canvas.width = SIZE;
      canvas.height = SIZE;
      canvas.setAttribute("aria-hidden", "true");
      const ctx = canvas.getContext("2d");
      const image = ctx.createImageData(SIZE, SIZE);
      image.data.set(decode(frame.dataset.blurhash, SIZE, SIZE));
      ctx.putImageData(image, 0, 0);
      frame.prepend(canvas);
    } catch {
      // A malformed hash leaves the plain grey placeholder: nothing else to do.
    }
    img.addEventListener("load", shown, { once: true });
    img.addEventListener("error", shown, { once: true });
  }
}

placeholders();
