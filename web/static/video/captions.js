// Adding and removing a video's subtitles through the JSON API (the session cookie plus
// the page's CSRF token), then reloading so the player offers the new tracks.

for (const section of document.querySelectorAll("[data-video-captions]")) {
  const base = `/api/v1/assets/${section.dataset.assetId}/captions`;
  const headers = { "X-CSRF-Token": section.dataset.csrf };
  const error = section.querySelector("[data-caption-error]");

  const fail = async (response) => {
    let message = `${response.status}`;
    try {
      message = (await response.json()).error.message;
    } catch {
      // keep the status
    }
    if (error) {
      // One problem per line: the file's line numbers stay readable.
      error.textContent = message.replace(/; (line \d+:)/g, "\n$1");
      error.hidden = false;
    }
  };

  for (const button of section.querySelectorAll("[data-remove-caption]")) {
    button.addEventListener("click", async () => {
      button.disabled = true;
      const response = await fetch(`${base}/${encodeURIComponent(button.dataset.removeCaption)}`, {
        method: "DELETE",
        headers,
        credentials: "same-origin",
      });
      if (response.ok) window.location.reload();
      else {
        button.disabled = false;
        await fail(response);
      }
    });
  }

  const form = section.querySelector("[data-add-caption]");
  if (form) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (error) error.hidden = true;
      const submit = form.querySelector("[type=submit]");
      if (submit) submit.disabled = true;
      const data = new FormData(form);
      const file = data.get("file");
      const language = String(data.get("language") || "").trim();
      const query = new URLSearchParams({ kind: String(data.get("kind") || "subtitles") });
      if (data.get("label")) query.set("label", String(data.get("label")));
      const response = await fetch(`${base}/${encodeURIComponent(language)}?${query}`, {
        method: "PUT",
        headers: { ...headers, "Content-Type": "application/octet-stream" },
        body: file,
        credentials: "same-origin",
      });
      if (response.ok) window.location.reload();
      else {
        if (submit) submit.disabled = false;
        await fail(response);
      }
    });
  }
}
