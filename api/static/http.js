// Talking to the server: reads with fetch, writes with XMLHttpRequest (the one browser API that reports upload
// progress). Every write carries `X-Requested-With` (a header a cross-site form cannot send). Once the server has
// asked for it (401), every request carries the API key, kept in sessionStorage only: it is gone when the tab closes.

const KEY_STORAGE = "newsqa.apiKey";
const UNREACHABLE = "could not reach the server (is it running?); your text is kept, try again";

/** A request the server answered with an error: its status and its `detail` message (status 0: no answer). */
export class RequestError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

function detailOf(status, statusText, data) {
  const detail = data && data.detail;
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail) && detail.length) return detail.map((d) => d.msg || JSON.stringify(d)).join("; ");
  return `${status} ${statusText}`.trim();
}

async function get(url) {
  const headers = { Accept: "application/json" };
  const key = storedKey();
  if (key) headers.Authorization = `Bearer ${key}`;
  let response;
  try {
    response = await fetch(url, { headers });
  } catch {
    throw new RequestError(0, UNREACHABLE);
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new RequestError(response.status, detailOf(response.status, response.statusText, data));
  return data;
}

/** GET a JSON body (with the API key when the server asks for it, as with QA_PROTECT_READS); a RequestError when the
 * server refuses or cannot be reached. */
export function getJSON(url) {
  return withKey(() => get(url));
}

function storedKey() {
  try {
    return sessionStorage.getItem(KEY_STORAGE);
  } catch {
    return null;
  }
}

function send(method, url, { json, form, onUploadProgress, onStart } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("X-Requested-With", "newsqa-page");
    const key = storedKey();
    if (key) xhr.setRequestHeader("Authorization", `Bearer ${key}`);
    if (onUploadProgress) xhr.upload.addEventListener("progress", (e) => onUploadProgress(e.loaded, e.total));
    xhr.addEventListener("load", () => {
      let data = null;
      try {
        data = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        data = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve({ status: xhr.status, data });
      else reject(new RequestError(xhr.status, detailOf(xhr.status, xhr.statusText, data)));
    });
    xhr.addEventListener("error", () => reject(new RequestError(0, UNREACHABLE)));
    xhr.addEventListener("abort", () => reject(new RequestError(0, "cancelled")));
    if (onStart) onStart(() => xhr.abort());
    if (json !== undefined) {
      xhr.setRequestHeader("Content-Type", "application/json");
      xhr.send(JSON.stringify(json));
    } else {
      xhr.send(form ?? null);
    }
  });
}

// ---- the API key, asked for once when the server first says a write needs it --------------------------------
let asking = null; // the one open question for the key: concurrent writes wait for the same answer

function askForKey(message) {
  const dialog = document.getElementById("key-dialog");
  const input = document.getElementById("key-input");
  const note = document.getElementById("key-note");
  note.textContent = message;
  input.value = "";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      const key = dialog.returnValue === "ok" ? input.value.trim() : "";
      if (key) sessionStorage.setItem(KEY_STORAGE, key);
      resolve(Boolean(key));
    }, { once: true });
    dialog.returnValue = "";
    dialog.showModal();
    input.focus();
  });
}

/**
 * A write (POST/DELETE): resolves {status, data}; rejects with a RequestError. On 401 the page asks for the API key
 * (once for all writes waiting at that moment) and sends the write again; cancelling the question gives up.
 * Options: json (a body sent as JSON) or form (FormData), onUploadProgress(loaded, total), onStart(abort).
 */
export function write(method, url, options = {}) {
  return withKey(() => send(method, url, options));
}

/** Run `request()`; on 401 ask for the key (once for all requests refused meanwhile) and run it again. */
async function withKey(request) {
  for (;;) {
    const used = storedKey();
    try {
      return await request();
    } catch (error) {
      if (!(error instanceof RequestError) || error.status !== 401) throw error;
      if (storedKey() !== used) continue; // another write was given a key meanwhile: use it
      sessionStorage.removeItem(KEY_STORAGE);
      asking ??= askForKey(used ? `The server refused that key (${error.message}). Enter it again.`
        : "This server needs its API key (QA_API_KEY). It is kept for this tab only.")
        .finally(() => { asking = null; });
      if (!(await asking)) throw error;
    }
  }
}
