// A person's page: confirm or reject suggestions at speed. Each suggestion is focusable;
// Y/Enter confirms, N/Delete rejects, J/K or the arrow keys move. The decision goes to the
// JSON API with the session cookie and the CSRF header; the forms are the no-script way.
// The photos and videos are the library's tiles, opening in its lightbox.
import { startLightbox } from "./lightbox.js";

startLightbox();

const list = document.getElementById("suggestion-list");
const status = document.getElementById("decision-status");
const pending = document.getElementById("pending-count");

function items() {
  return [...list.querySelectorAll(".suggestion")];
}

function move(from, step) {
  const all = items();
  const next = all[all.indexOf(from) + step];
  if (next) next.focus();
}

async function decide(item, decision) {
  if (!item || item.dataset.busy) return;
  item.dataset.busy = "1";
  const face = item.dataset.faceId;
  const confirm = decision === "confirm";
  try {
    const response = await fetch(`/api/v1/faces/${face}/${confirm ? "confirm" : "split"}`, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        Accept: "application/json",
        "Content-Type": "application/json",
        "X-CSRF-Token": list.dataset.csrfToken,
      },
      body: confirm ? JSON.stringify({ person_id: list.dataset.personId }) : undefined,
    });
    if (!response.ok) throw new Error(String(response.status));
  } catch {
    delete item.dataset.busy;
    status.textContent = list.dataset.msgFailed;
    return;
  }
  const all = items();
  const index = all.indexOf(item);
  const next = all[index + 1] || all[index - 1];
  item.closest("li").remove();
  status.textContent = confirm ? list.dataset.msgConfirmed : list.dataset.msgRejected;
  const left = items().length;
  if (pending) {
    const n = Math.max(0, Number(pending.dataset.count) - 1);
    pending.dataset.count = String(n);
    pending.textContent = `(${new Intl.NumberFormat(document.documentElement.lang).format(n)})`;
  }
  if (next) {
    next.focus();
  } else if (left === 0) {
    status.textContent += ` ${list.dataset.msgDone}`;
    document.getElementById("suggestions-heading").focus();
  }
}

if (list && status) {
  list.addEventListener("submit", (event) => {
    event.preventDefault();
    decide(event.target.closest(".suggestion"), event.submitter?.value);
  });
  list.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const item = event.target.closest(".suggestion");
    if (!item) return;
    const onItem = event.target === item; // Enter on a button presses that button
    const key = event.key.toLowerCase();
    if (key === "y" || (key === "enter" && onItem)) decide(item, "confirm");
    else if (key === "n" || ((key === "delete" || key === "backspace") && onItem)) decide(item, "reject");
    else if (key === "j" || key === "arrowdown") move(item, 1);
    else if (key === "k" || key === "arrowup") move(item, -1);
    else return;
    event.preventDefault();
  });
}
