// Access exports and erasures while they wait or run (a request's page, the privacy
// dashboard's list): asks the API for each one's progress every two seconds and moves its
// progress bar and words ("3 van 8 bestanden verwerkt": an erasure counts files; an export
// says a percentage). Once a request has ended, its own page is shown anew (the server
// renders the download or the tombstone); in a list, its words say so in place. Without
// scripts: the Refresh link, or loading the page again.

const DELAY_MS = 2000;
const OPEN = ["queued", "running"];
const lang = document.documentElement.lang === "nl" ? "nl-BE" : "en-GB";
const plural = new Intl.PluralRules(lang);
const whole = new Intl.NumberFormat(lang, { maximumFractionDigits: 0 });

function fill(template, values) {
  return template.replace(/\{(\w+)\}/g, (_, key) => values[key]);
}

function say(node, text) {
  if (node && node.textContent !== text) node.textContent = text; // a live region: only changes
}

function show(box, job) {
  const bar = box.querySelector("progress");
  const words = box.querySelector(".request-progress-text");
  if (job.status !== "running") return;
  say(document.getElementById(box.dataset.statusId), box.dataset.busy);
  if (job.files_total !== null && job.files_total !== undefined) {
    const total = job.files_total;
    bar.max = Math.max(total, 1);
    bar.value = Math.min(total, job.progress * total);
    const form = plural.select(total) === "one" ? box.dataset.filesOne : box.dataset.filesOther;
    say(words, fill(form, { done: whole.format(job.files_done), total: whole.format(total) }));
  } else if (job.progress > 0) {
    const percent = Math.round(job.progress * 100);
    bar.max = 100;
    bar.value = percent;
    say(words, fill(box.dataset.percent, { percent: whole.format(percent) }));
  }
}

function ended(box, job) {
  if (box.dataset.onEnd === "reload") {
    window.location.reload();
    return;
  }
  const status = document.getElementById(box.dataset.statusId);
  box.remove();
  say(status, job.status === "done" ? box.dataset.done : box.dataset.failed);
}

function follow(box) {
  const poll = async () => {
    try {
      const response = await fetch(box.dataset.requestUrl, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      if (response.ok) {
        const job = await response.json();
        if (!OPEN.includes(job.status)) {
          ended(box, job);
          return;
        }
        show(box, job);
      }
    } catch {
      // The server may be briefly away (a restart): try again at the next tick.
    }
    window.setTimeout(poll, DELAY_MS);
  };
  window.setTimeout(poll, DELAY_MS);
}

for (const box of document.querySelectorAll(".request-progress[data-request-url]")) {
  if (OPEN.includes(box.dataset.status)) follow(box);
}
