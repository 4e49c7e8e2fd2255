// Uploads from the documents view: one POST /documents per file, one file at a time, each a row with a progress
// bar. A small file is indexed while the request waits (201); a large one, or a .json/.jsonl feed that may hold many
// articles, is sent with `background=true` and followed as a job (202): bytes sent, then documents committed, with
// a Cancel that aborts the transfer or cancels the job (DELETE /jobs/{id}; committed batches stay).
import { el } from "./answer.js";
import { RequestError, getJSON, write } from "./http.js";

export const ACCEPT = [".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx", ".json", ".jsonl"];
const BACKGROUND_BYTES = 256 * 1024;
const POLL_MS = 400;

const plural = (n, word) => `${n.toLocaleString("en")} ${word}${n === 1 ? "" : "s"}`;

function suffixOf(name) {
  const dot = name.lastIndexOf(".");
  return dot < 0 ? "" : name.slice(dot).toLowerCase();
}

/** In background: a feed, or a file big enough that indexing it would keep the request waiting. */
function inBackground(file) {
  return file.size > BACKGROUND_BYTES || [".json", ".jsonl"].includes(suffixOf(file.name));
}

function outcome(result) {
  const parts = [];
  if (result.added?.length) parts.push(`${plural(result.added.length, "article")} added`);
  if (result.changed?.length) parts.push(`${result.changed.length} updated`);
  if (result.unchanged?.length) parts.push(`${result.unchanged.length} already indexed`);
  if (result.rejected?.length) {
    const first = result.rejected[0];
    parts.push(`${plural(result.rejected.length, "record")} not readable (${first.where}: ${first.reason})`);
  }
  if (result.encoding) parts.push(`read as ${result.encoding}`);
  return parts.join(", ") || "nothing to add";
}

const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

/** Wire the upload rows into `list`; `onChange()` runs after each file that changed the index. */
export function createUploads(list, onChange) {
  const queue = [];
  let running = false;

  function row(file) {
    const item = el("li", "upload");
    const name = el("span", "upload__name", file.name);
    const bar = el("progress", "upload__bar");
    bar.max = 1;
    bar.value = 0;
    bar.setAttribute("aria-label", `Progress of ${file.name}`);
    const status = el("span", "upload__status", "waiting");
    status.setAttribute("role", "status");
    const cancel = el("button", "button button--ghost button--small upload__cancel", "Cancel");
    cancel.type = "button";
    item.append(name, bar, status, cancel);
    list.append(item);
    return { item, bar, status, cancel, cancelled: false, abort: null, job: null };
  }

  function finish(r, state, text) {
    r.item.dataset.state = state;
    r.status.textContent = text;
    r.cancel.remove();
    if (state === "done") r.bar.value = r.bar.max;
  }

  async function follow(r, job) {
    r.job = job.id;
    r.bar.max = Math.max(job.total, 1);
    for (;;) {
      r.bar.value = job.done;
      r.status.textContent = `indexing: ${job.done.toLocaleString("en")} of ${plural(job.total, "article")}`
        + (job.cancel_requested ? ", cancelling after this batch" : "");
      if (["done", "failed", "cancelled"].includes(job.state)) return job;
      await sleep(POLL_MS);
      job = await getJSON(`/jobs/${encodeURIComponent(job.id)}`);
    }
  }

  async function upload(file, r) {
    const form = new FormData();
    form.append("file", file, file.name);
    const url = inBackground(file) ? "/documents?background=true" : "/documents";
    r.item.dataset.state = "sending";
    const sent = await write("POST", url, {
      form,
      onStart: (abort) => { r.abort = abort; },
      onUploadProgress: (loaded, total) => {
        r.bar.max = Math.max(total, 1);
        r.bar.value = loaded;
        r.status.textContent = loaded < total ? `sending: ${Math.round((100 * loaded) / total)} %` : "sent; waiting for the server…";
      },
    });
    r.abort = null;
    if (sent.status !== 202) {
      finish(r, "done", outcome(sent.data));
      return;
    }
    r.item.dataset.state = "indexing";
    const job = await follow(r, sent.data);
    if (job.state === "done") finish(r, "done", outcome(job));
    else if (job.state === "cancelled") {
      finish(r, "cancelled", `cancelled: ${job.done.toLocaleString("en")} of ${plural(job.total, "article")} `
        + "were indexed and stay; delete them to undo");
    } else finish(r, "failed", `failed after ${job.done} of ${job.total}: ${job.error}`);
  }

  async function cancel(r) {
    r.cancelled = true;
    r.cancel.disabled = true;
    if (r.abort) r.abort();
    else if (r.job) {
      try {
        await write("DELETE", `/jobs/${encodeURIComponent(r.job)}`);
      } catch (error) {
        if (!(error instanceof RequestError && error.status === 409)) r.status.textContent = `could not cancel: ${error.message}`;
      }
    } else finish(r, "cancelled", "cancelled before sending");
  }

  async function drain() {
    if (running) return;
    running = true;
    while (queue.length) {
      const [file, r] = queue.shift();
      if (r.cancelled) continue;
      try {
        await upload(file, r);
      } catch (error) {
        finish(r, r.cancelled ? "cancelled" : "failed", r.cancelled ? "cancelled; nothing was added" : error.message);
      }
      onChange();
    }
    running = false;
  }

  /** Queue files (a FileList or an array) for upload; refused suffixes are listed as failed at once. */
  function add(files) {
    for (const file of files) {
      const r = row(file);
      if (!ACCEPT.includes(suffixOf(file.name))) {
        finish(r, "failed", `not an article file; send one of ${ACCEPT.join(" ")}`);
        continue;
      }
      r.cancel.addEventListener("click", () => cancel(r));
      queue.push([file, r]);
    }
    drain();
  }

  return { add };
}
