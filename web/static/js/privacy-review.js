// The review flow at speed: one key per decision on the face in focus (or the first face
// still to decide). Y confirms the suggestion, N moves to the name field, D dismisses as
// not a face, R as not recognisable, J/K move between faces, S skips to the next photo.
// The keys press the page's own buttons, so the forms (and the server) do the work.

const faces = () => [...document.querySelectorAll(".review-face[data-undecided]")];

function current() {
  const active = document.activeElement;
  const holder = active && active.closest ? active.closest(".review-face[data-undecided]") : null;
  return holder || faces()[0] || null;
}

function typing(target) {
  return target instanceof HTMLElement && (target.isContentEditable || ["INPUT", "SELECT", "TEXTAREA"].includes(target.tagName));
}

function move(step) {
  const all = faces();
  const index = all.indexOf(current());
  const next = all[Math.min(Math.max(index + step, 0), all.length - 1)];
  if (next) next.focus();
}

function press(face, key) {
  const control = face && face.querySelector(`[data-key="${key}"]`);
  if (!control) return false;
  if (control.tagName === "INPUT") control.focus();
  else control.click();
  return true;
}

const keys = document.getElementById("review-keys");
if (keys && faces().length) {
  keys.hidden = false;
  // Start on the face the address names (after a decision), else the first one to decide.
  const named = location.hash ? document.getElementById(location.hash.slice(1)) : null;
  const start = named && named.matches(".review-face[data-undecided]") ? named : faces()[0];
  start.focus();

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(event.target)) {
      if (event.key === "Escape") current()?.focus();
      return;
    }
    const key = event.key.toLowerCase();
    let handled = true;
    if (key === "j") move(1);
    else if (key === "k") move(-1);
    else if (key === "s") {
      const skip = document.getElementById("review-skip");
      if (skip) skip.click();
      else handled = false;
    } else handled = ["y", "n", "d", "r"].includes(key) && press(current(), key);
    if (handled) event.preventDefault();
  });
}
