// The ZIP's progress page: ask the API every second until the ZIP is there, then show
// its link. Without this script the page's Refresh link does the same by hand.
const box = document.getElementById("zip-progress");
if (box && !["done", "failed", "expired"].includes(box.dataset.status)) {
  const bar = document.getElementById("zip-bar");
  const poll = async () => {
    const response = await fetch(box.dataset.statusUrl, { headers: { Accept: "application/json" } });
    if (!response.ok) return;
    const body = await response.json();
    bar.value = Math.round(body.progress * 100);
    bar.textContent = `${bar.value} %`;
    if (["done", "failed", "expired"].includes(body.status)) {
      window.location.reload();  // the page lists what happened to each asset
      return;
    }
    setTimeout(poll, 1000);
  };
  setTimeout(poll, 1000);
}
