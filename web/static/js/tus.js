// A small tus 1.0.0 client (core + creation + termination) for Beeldbank's own server.
//
// The file goes up in chunks, one PATCH each. After a dropped connection the client asks
// the server for its offset (HEAD) and continues from there; the upload's URL is kept in
// localStorage under the file's fingerprint, so choosing the same file again after a page
// reload resumes it too.

const TUS = { "Tus-Resumable": "1.0.0" };
const STORE_PREFIX = "beeldbank.tus.";

export class UploadError extends Error {
  constructor(message, status = 0, retryable = true) {
    super(message);
    this.status = status;
    this.retryable = retryable;
  }
}

function base64(text) {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

function fingerprint(file) {
  return `${STORE_PREFIX}${file.name}:${file.size}:${file.lastModified}`;
}

/** Uploads that a reload interrupted: [{name, size}] for the page to mention. */
export function unfinished() {
  const found = [];
  for (let i = 0; i < localStorage.length; i++) {
    const key = localStorage.key(i);
    if (!key.startsWith(STORE_PREFIX)) continue;
    try {
      const { name, size } = JSON.parse(localStorage.getItem(key));
      found.push({ name, size });
    } catch {
      localStorage.removeItem(key);
    }
  }
  return found;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export class TusUpload {
  constructor(file, options) {
    this.file = file;
    this.options = options; // endpoint, headers, chunkBytes, retryDelaysMs, on{Progress,Retry,Resume}
    this.key = fingerprint(file);
    this.url = null;
    this.offset = 0;
    this.aborted = false;
    this.xhr = null;
  }

  async start() {
    const stored = this.#stored();
    if (stored) {
      this.url = stored.url;
      try {
        const state = await this.#head();
        if (state.assetId) return this.#done(state);
        this.offset = state.offset;
        this.options.onResume?.(this.offset);
      } catch (err) {
        if (err.retryable) throw err;
        this.url = null; // expired or removed on the server: start over
      }
    }
    if (!this.url) await this.#create();
    let attempt = 0;
    while (true) {
      if (this.aborted) throw new UploadError("aborted", 0, false);
      try {
        const result = await this.#patch();
        attempt = 0;
        if (result.assetId) return this.#done(result);
        this.offset = result.offset;
      } catch (err) {
        if (this.aborted || !err.retryable) throw err;
        const delays = this.options.retryDelaysMs;
        if (attempt >= delays.length) throw err;
        this.options.onRetry?.(err);
        await sleep(delays[attempt++]);
        try {
          const state = await this.#head();
          if (state.assetId) return this.#done(state);
          this.offset = state.offset;
          this.options.onResume?.(this.offset);
        } catch (headError) {
          if (!headError.retryable) throw headError;
        }
      }
    }
  }

  async abort() {
    this.aborted = true;
    this.xhr?.abort();
    if (this.url) {
      await fetch(this.url, { method: "DELETE", headers: this.#headers() }).catch(() => {});
    }
    localStorage.removeItem(this.key);
  }

  #headers(extra = {}) {
    return { ...TUS, ...this.options.headers, ...extra };
  }

  #stored() {
    try {
      return JSON.parse(localStorage.getItem(this.key) || "null");
    } catch {
      return null;
    }
  }

  #done(result) {
    localStorage.removeItem(this.key);
    this.options.onProgress?.(this.file.size);
    return result;
  }

  #metadata() {
    // The file's name, then what the page adds for the whole batch (empty values left out).
    const pairs = [`filename ${base64(this.file.name)}`];
    for (const [key, value] of Object.entries(this.options.metadata || {})) {
      if (value) pairs.push(`${key} ${base64(String(value))}`);
    }
    return pairs.join(",");
  }

  async #create() {
    const response = await this.#fetch(this.options.endpoint, {
      method: "POST",
      headers: this.#headers({
        "Upload-Length": String(this.file.size),
        "Upload-Metadata": this.#metadata(),
      }),
    });
    this.url = new URL(response.headers.get("Location"), window.location.href).href;
    this.offset = 0;
    localStorage.setItem(
      this.key,
      JSON.stringify({ url: this.url, name: this.file.name, size: this.file.size }),
    );
  }

  async #head() {
    const response = await this.#fetch(this.url, { method: "HEAD", headers: this.#headers() });
    return {
      offset: Number(response.headers.get("Upload-Offset")),
      assetId: response.headers.get("Beeldbank-Asset-Id"),
      duplicate: false,
    };
  }

  async #fetch(url, init) {
    let response;
    try {
      response = await fetch(url, { ...init, cache: "no-store" });
    } catch (err) {
      throw new UploadError(err.message || "network error");
    }
    if (!response.ok) throw await this.#failure(response.status, () => response.json());
    return response;
  }

  async #failure(status, readJson) {
    let message = `HTTP ${status}`;
    try {
      message = (await readJson()).error.message;
    } catch {
      // no JSON body (HEAD, or a proxy's page): keep the status
    }
    // Server errors and rate limits pass; a refusal (4xx) will not change on its own.
    const retryable = status >= 500 || status === 423 || status === 429;
    return new UploadError(message, status, retryable);
  }

  #patch() {
    const end = Math.min(this.offset + this.options.chunkBytes, this.file.size);
    const chunk = this.file.slice(this.offset, end);
    const start = this.offset;
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      this.xhr = xhr;
      xhr.open("PATCH", this.url);
      const headers = this.#headers({
        "Upload-Offset": String(start),
        "Content-Type": "application/offset+octet-stream",
      });
      for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
      xhr.upload.onprogress = (event) => this.options.onProgress?.(start + event.loaded);
      xhr.onerror = () => reject(new UploadError("network error"));
      xhr.onabort = () => reject(new UploadError("aborted", 0, !this.aborted));
      xhr.onload = async () => {
        if (xhr.status === 409) {
          // The server has a different offset (a chunk arrived partly): ask and go on.
          reject(new UploadError("offset conflict", 409, true));
          return;
        }
        if (xhr.status < 200 || xhr.status >= 300) {
          reject(await this.#failure(xhr.status, () => JSON.parse(xhr.responseText)));
          return;
        }
        resolve({
          offset: Number(xhr.getResponseHeader("Upload-Offset")),
          assetId: xhr.getResponseHeader("Beeldbank-Asset-Id"),
          duplicate: xhr.getResponseHeader("Beeldbank-Duplicate") === "true",
        });
      };
      xhr.send(chunk);
    });
  }
}
