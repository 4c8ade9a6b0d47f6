// The upload page: drag and drop or the file picker, several files at once, per-file
// progress and speed over tus, then the asset's processing status until ready or failed.
import { TusUpload, unfinished } from "./tus.js";

const config = JSON.parse(document.getElementById("upload-config").textContent);
const t = config.messages;
const list = document.getElementById("upload-list");
const empty = document.getElementById("queue-empty");
const input = document.getElementById("file-input");
const zone = document.getElementById("dropzone");
const batchForm = document.getElementById("batch-details");
const editLink = document.getElementById("edit-uploads");
const PARALLEL = 2;
const uploaded = [];
let numbered = 0;

// The batch details apply to every file chosen after they were filled in; the title is a
// prefix, numbered when a batch holds more than one file.
function batchMetadata(total) {
  const data = new FormData(batchForm);
  const prefix = String(data.get("title_prefix") || "").trim();
  numbered += 1;
  return {
    title: prefix && total > 1 ? `${prefix} ${numbered}` : prefix,
    tags: data.get("tags"),
    collection_id: data.get("collection_id"),
    licence_status: data.get("licence_status"),
    credit: data.get("credit"),
    licence_source: data.get("licence_source"),
  };
}

function remember(assetId) {
  if (!editLink || uploaded.includes(assetId)) return;
  uploaded.push(assetId);
  const url = new URL(editLink.dataset.base, window.location.href);
  for (const id of uploaded) url.searchParams.append("id", id);
  editLink.href = url.pathname + url.search;
  editLink.hidden = false;
}
const formatLocale = config.locale === "nl" ? "nl-BE" : "en-GB";
const numberFormat = new Intl.NumberFormat(formatLocale, { maximumFractionDigits: 1 });
const integerFormat = new Intl.NumberFormat(formatLocale, { maximumFractionDigits: 0 });

// As the server writes sizes (dam/sizes.py): powers of 1024, one decimal at most.
function size(bytes) {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (unit < units.length - 1 && (unit === 0 ? value >= 1024 : Math.round(value * 10) / 10 >= 1024)) {
    value /= 1024;
    unit++;
  }
  return `${(unit === 0 ? integerFormat : numberFormat).format(value)} ${units[unit]}`;
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

class Row {
  constructor(file) {
    this.item = element("li", "upload-item");
    this.item.append(element("span", "name", file.name), element("span", "muted", size(file.size)));
    this.bar = element("progress");
    this.bar.max = 100;
    this.bar.value = 0;
    this.bar.setAttribute("aria-label", file.name);
    this.state = element("p", "state");
    this.status = element("span", "status", t.waiting);
    this.status.setAttribute("role", "status");
    this.detail = element("span", "detail muted");
    this.state.append(this.status, " ", this.detail);
    this.item.append(this.bar, this.state);
    list.append(this.item);
    empty.hidden = true;
  }

  set(status, kind) {
    this.status.textContent = status;
    this.item.classList.remove("is-ready", "is-failed");
    if (kind) this.item.classList.add(`is-${kind}`);
    this.item.dataset.state = kind || "";
  }

  link(href, text) {
    const a = element("a", "", text);
    a.href = href;
    this.detail.replaceChildren(a);
  }
}

function speedometer() {
  const samples = [];
  return (bytes) => {
    const now = performance.now();
    samples.push([now, bytes]);
    while (samples.length > 2 && now - samples[0][0] > 3000) samples.shift();
    const [t0, b0] = samples[0];
    return now > t0 ? ((bytes - b0) * 1000) / (now - t0) : 0;
  };
}

async function waitUntilProcessed(row, assetId) {
  while (true) {
    const response = await fetch(config.assetApi + assetId, { cache: "no-store" });
    if (response.ok) {
      const asset = await response.json();
      if (asset.status === "ready") {
        row.set(t.ready, "ready");
        row.link(`/assets/${assetId}`, t.view);
        return;
      }
      if (asset.status === "failed") {
        row.set(`${t.failed}: ${asset.error || ""}`, "failed");
        row.link(`/assets/${assetId}`, t.view);
        return;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, config.pollMs));
  }
}

async function send(file, metadata) {
  const row = new Row(file);
  if (file.size > config.maxBytes) {
    row.set(t.tooLarge, "failed");
    return;
  }
  const speed = speedometer();
  const upload = new TusUpload(file, {
    endpoint: config.endpoint,
    headers: { "X-CSRF-Token": config.csrfToken },
    chunkBytes: config.chunkBytes,
    metadata,
    retryDelaysMs: config.retryDelaysMs,
    onProgress: (sent) => {
      row.bar.value = file.size ? (100 * sent) / file.size : 100;
      row.item.dataset.sent = String(sent);
      const done = t.progress.replace("{done}", size(sent)).replace("{total}", size(file.size));
      row.detail.textContent = `${done} · ${t.speed.replace("{speed}", size(speed(sent)))}`;
    },
    onRetry: () => row.set(t.resuming),
    onResume: (offset) => {
      row.set(t.resumed);
      row.item.dataset.resumedAt = String(offset);
    },
  });
  row.set(t.uploading);
  try {
    const result = await upload.start();
    row.bar.value = 100;
    remember(result.assetId);
    if (result.duplicate) {
      row.set(t.duplicate, "ready");
      row.link(`/assets/${result.assetId}`, t.open);
      return;
    }
    row.set(t.processing);
    row.detail.textContent = "";
    await waitUntilProcessed(row, result.assetId);
  } catch (err) {
    // 507: the server's disk is full; say so in the page's language.
    row.set(`${t.failed}: ${err.status === 507 ? t.storageFull : err.message}`, "failed");
  }
}

const queue = [];
let running = 0;

function pump() {
  while (running < PARALLEL && queue.length) {
    running++;
    const [file, metadata] = queue.shift();
    send(file, metadata).finally(() => {
      running--;
      pump();
    });
  }
}

function add(files) {
  numbered = 0;
  queue.push(...files.map((file) => [file, batchMetadata(files.length)]));
  pump();
}

input.addEventListener("change", () => {
  add([...input.files]);
  input.value = "";
});

for (const type of ["dragenter", "dragover"]) {
  zone.addEventListener(type, (event) => {
    event.preventDefault();
    zone.classList.add("dragover");
  });
}
for (const type of ["dragleave", "drop"]) {
  zone.addEventListener(type, () => zone.classList.remove("dragover"));
}
zone.addEventListener("drop", (event) => {
  event.preventDefault();
  add([...event.dataTransfer.files]);
});

const interrupted = unfinished();
if (interrupted.length) {
  empty.textContent = `${t.unfinished} ${interrupted.map((u) => u.name).join(", ")}`;
}
