// An access export's or erasure's page while it runs: asks the API for its progress every
// two seconds, moves the progress bar, and shows the page anew once the job has ended
// (the server renders the download or the tombstone). Without scripts: the Refresh link.

const state = document.getElementById("request-state");
const bar = document.getElementById("request-progress");
const DELAY_MS = 2000;

async function poll() {
  try {
    const response = await fetch(state.dataset.requestUrl, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (response.ok) {
      const job = await response.json();
      if (job.status === "done" || job.status === "failed") {
        window.location.reload();
        return;
      }
      if (job.status === "running" && job.progress > 0 && bar) {
        bar.value = Math.round(job.progress * 100);
      }
    }
  } catch {
    // The server may be briefly away (a restart): try again at the next tick.
  }
  window.setTimeout(poll, DELAY_MS);
}

if (state && (state.dataset.status === "queued" || state.dataset.status === "running")) {
  window.setTimeout(poll, DELAY_MS);
}
