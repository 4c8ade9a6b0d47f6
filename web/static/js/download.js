// The crop editor of the download control: the frame over the picture follows the
// numbers, moves with the arrow keys (Shift: 5 %) or by dragging it (mouse, pen or
// finger), grows and shrinks with + and - or by dragging its lower right corner, keeps
// the shape's proportions, and a canvas shows the crop live. Without this script the
// numbers and the Save button still work.
const form = document.querySelector(".crop-form");
const picture = document.getElementById("crop-picture");
const stage = document.getElementById("crop-stage");
const rect = document.getElementById("crop-rect");
const handle = document.getElementById("crop-handle");
const canvas = document.getElementById("crop-preview");
if (form && picture && stage && rect && canvas) {
  const crops = JSON.parse(form.dataset.crops || "{}");
  const sizes = JSON.parse(form.dataset.sizes || "{}");
  const select = form.querySelector("#crop-preset");
  const input = (key) => form.querySelector(`#crop-${key}`);
  const read = () => Object.fromEntries(["x", "y", "w", "h"].map((k) => [k, Number(input(k).value) / 100]));
  const aspect = () => {
    const size = sizes[select.value] || [1, 1];
    return size[0] / size[1];
  };
  const ratio = () => (picture.naturalWidth || 1) / (picture.naturalHeight || 1);
  const clamp = (v, lo, hi) => Math.min(Math.max(v, lo), hi);

  function write(box) {
    // Keep the shape: height follows width in the picture's own pixels.
    let w = clamp(box.w, 0.02, 1);
    let h = (w * ratio()) / aspect();
    if (h > 1) { h = 1; w = aspect() / ratio(); }
    const x = clamp(box.x, 0, 1 - w);
    const y = clamp(box.y, 0, 1 - h);
    for (const [k, v] of Object.entries({ x, y, w, h })) input(k).value = (v * 100).toFixed(1);
    draw();
  }

  function draw() {
    const b = read();
    rect.setAttribute("x", `${b.x * 100}%`);
    rect.setAttribute("y", `${b.y * 100}%`);
    rect.setAttribute("width", `${b.w * 100}%`);
    rect.setAttribute("height", `${b.h * 100}%`);
    if (handle) {
      handle.setAttribute("cx", `${(b.x + b.w) * 100}%`);
      handle.setAttribute("cy", `${(b.y + b.h) * 100}%`);
    }
    if (!picture.complete || !picture.naturalWidth) return;
    const long = 240;
    const a = aspect();
    canvas.width = a >= 1 ? long : Math.round(long * a);
    canvas.height = a >= 1 ? Math.round(long / a) : long;
    const ctx = canvas.getContext("2d");
    const W = picture.naturalWidth;
    const H = picture.naturalHeight;
    ctx.drawImage(picture, b.x * W, b.y * H, b.w * W, b.h * H, 0, 0, canvas.width, canvas.height);
  }

  select.addEventListener("change", () => {
    const c = crops[select.value];
    if (c) write(c);
  });
  for (const k of ["x", "y", "w"]) input(k).addEventListener("input", () => write(read()));
  input("h").addEventListener("input", () => {
    const b = read();
    write({ ...b, w: (b.h * aspect()) / ratio() });
  });
  stage.addEventListener("keydown", (event) => {
    const step = event.shiftKey ? 0.05 : 0.01;
    const b = read();
    const moves = {
      ArrowLeft: { x: b.x - step }, ArrowRight: { x: b.x + step },
      ArrowUp: { y: b.y - step }, ArrowDown: { y: b.y + step },
      "+": { w: b.w + step, x: b.x - step / 2 }, "=": { w: b.w + step, x: b.x - step / 2 },
      "-": { w: b.w - step, x: b.x + step / 2 },
    };
    const change = moves[event.key];
    if (!change) return;
    event.preventDefault();
    write({ ...b, ...change });
  });
  // Dragging: inside the frame moves it, near its lower right corner resizes it, and
  // elsewhere on the picture the frame jumps there first and then follows.
  let drag = null;
  const at = (event) => {
    const box = picture.getBoundingClientRect();
    const width = box.width || 1;
    const height = box.height || 1;
    return {
      x: (event.clientX - box.left) / width,
      y: (event.clientY - box.top) / height,
      width,
      height,
    };
  };
  stage.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    const p = at(event);
    const b = read();
    const reach = 18; // pixels: about a fingertip from the corner
    const nearCorner =
      Math.abs((p.x - (b.x + b.w)) * p.width) < reach &&
      Math.abs((p.y - (b.y + b.h)) * p.height) < reach;
    const inside = p.x >= b.x && p.x <= b.x + b.w && p.y >= b.y && p.y <= b.y + b.h;
    let start = b;
    if (!nearCorner && !inside) {
      write({ ...b, x: p.x - b.w / 2, y: p.y - b.h / 2 });
      start = read();
    }
    drag = { mode: nearCorner ? "resize" : "move", from: p, start };
    stage.setPointerCapture(event.pointerId);
    stage.focus({ preventScroll: true });
    event.preventDefault();
  });
  stage.addEventListener("pointermove", (event) => {
    if (!drag) return;
    const p = at(event);
    const dx = p.x - drag.from.x;
    const dy = p.y - drag.from.y;
    const s = drag.start;
    if (drag.mode === "move") {
      write({ ...s, x: s.x + dx, y: s.y + dy });
    } else {
      const w = Math.max(s.w + dx, ((s.h + dy) * aspect()) / ratio());
      write({ ...s, w: Math.min(w, 1 - s.x, ((1 - s.y) * aspect()) / ratio()) });
    }
  });
  const stop = () => { drag = null; };
  stage.addEventListener("pointerup", stop);
  stage.addEventListener("pointercancel", stop);
  picture.addEventListener("dragstart", (event) => event.preventDefault());
  // The page lists the automatic crops without looking at the photo; once the editor
  // opens, ask the API for the ones a download uses (the attention crop of a photo
  // without faces), so that the frame shows what the file will hold.
  let touched = false;
  for (const type of ["pointerdown", "keydown", "input"]) {
    form.addEventListener(type, () => { touched = true; });
    stage.addEventListener(type, () => { touched = true; });
  }
  select.addEventListener("change", () => { touched = false; });
  const editor = document.getElementById("crop-editor");
  const refresh = async () => {
    if (!form.dataset.cropsUrl) return;
    try {
      const answer = await fetch(form.dataset.cropsUrl, { credentials: "same-origin" });
      if (!answer.ok) return;
      for (const c of await answer.json()) crops[c.preset] = { x: c.x, y: c.y, w: c.w, h: c.h };
      form.dataset.cropsLoaded = "1";
      const now = crops[select.value];
      if (now && !touched) write(now);
    } catch {
      // Offline or refused: the page's crops stay.
    }
  };
  if (editor) {
    editor.addEventListener("toggle", () => { if (editor.open && !form.dataset.cropsLoaded) refresh(); });
  }
  picture.addEventListener("load", draw);
  const first = crops[select.value];
  if (first) write(first); else draw();
}
