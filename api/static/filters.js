// The chat page's filters (since, until, source): read from the "Filters" disclosure, summarised beside the
// question box with a one-click clear, and offered as a datalist of the sources the index holds (GET /documents).
// The server is the one judge of a filter's validity (its 422 message is shown in the conversation); this module
// only refuses a date the browser itself reports as half typed, since such an input's value reads as empty.

import { getJSON } from "./http.js";

const FIELDS = ["since", "until", "source"];

function option(value, label) {
  const node = document.createElement("option");
  node.value = value;
  node.label = label;
  return node;
}

// Host of a URL as the server compares it: lower case, without "www." (index/filters.py `_host`).
export function hostOf(url) {
  if (!url) return null;
  try {
    const host = new URL(url.trim()).hostname.toLowerCase();
    return host ? host.replace(/^www\./, "") : null;
  } catch {
    return null;
  }
}

// The id up to its first "_" or "." ("003_", "2021." for a subfolder), which `source` matches as a prefix.
function idPrefix(docId) {
  const match = /^[^_.]+[_.]/.exec(docId);
  return match ? match[0] : docId;
}

/** Datalist entries [value, label] for GET /documents rows: site names, hosts, authors (a wire such as AFP), then
 * doc-id prefixes. */
export function sourceOptions(docs) {
  const kinds = [["site name", (d) => d.site_name?.trim() || null], ["web site", (d) => hostOf(d.url)],
    ["author", (d) => d.author?.trim() || null], ["id prefix", (d) => idPrefix(d.doc_id)]];
  const seen = new Set(); // lower-cased values: the server compares sources ignoring case
  const entries = [];
  for (const [kind, valueOf] of kinds) {
    const counts = new Map(); // lower-cased value -> [value as first written, articles]
    for (const doc of docs) {
      const value = valueOf(doc);
      const key = value?.toLowerCase();
      if (value && !seen.has(key)) counts.set(key, [counts.get(key)?.[0] ?? value, (counts.get(key)?.[1] ?? 0) + 1]);
    }
    for (const [key, [value, n]] of [...counts].sort(([a], [b]) => a.localeCompare(b))) {
      seen.add(key);
      entries.push([value, `${kind} · ${n} article${n === 1 ? "" : "s"}`]);
    }
  }
  return entries;
}

/** Wire the filter controls; the summary keeps itself up to date. Returns what ask() reads. */
export function createFilters() {
  const disclosure = document.getElementById("filters");
  const count = document.getElementById("filter-count");
  const inputs = Object.fromEntries(FIELDS.map((name) => [name, document.getElementById(`filter-${name}`)]));
  const datalist = document.getElementById("filter-sources");
  const note = document.getElementById("filter-note");
  const summary = document.getElementById("filter-summary");
  const summaryText = document.getElementById("filter-summary-text");
  const clear = document.getElementById("filter-clear");

  /** The filters set now, as /chat body fields: {since?, until?, source?} (empty and blank fields left out). */
  function current() {
    const values = {};
    for (const name of FIELDS) {
      const value = inputs[name].value.trim();
      if (value) values[name] = value;
    }
    return values;
  }

  /** "since 2021-11-01 · source bbc", or "" when no filter is set. */
  function describe(values = current()) {
    return Object.entries(values).map(([name, value]) => `${name} ${value}`).join(" · ");
  }

  /** A reason not to send, or null: a date input holding a date the browser could not read. */
  function problem() {
    const bad = ["since", "until"].find((name) => inputs[name].validity.badInput);
    return bad ? `${bad} is not a complete date; finish it (YYYY-MM-DD) or clear it` : null;
  }

  function refresh() {
    const bad = problem();
    const n = Object.keys(current()).length + (bad ? 1 : 0);
    count.textContent = n ? ` (${n} set)` : "";
    summaryText.textContent = bad || describe();
    summary.hidden = n === 0;
  }

  async function loadSources() {
    try {
      const data = await getJSON("/documents"); // with the API key when the server protects reads
      datalist.replaceChildren(...sourceOptions(data).map(([value, label]) => option(value, label)));
      note.hidden = true;
    } catch (error) {
      // The list is a convenience: any source can still be typed.
      note.textContent = `Could not list the sources: ${error instanceof Error ? error.message : error}`;
      note.hidden = false;
    }
  }

  // Listed each time the disclosure opens, so articles added since the page loaded are offered too.
  disclosure.addEventListener("toggle", () => {
    if (disclosure.open) loadSources();
  });
  for (const input of Object.values(inputs)) {
    // A half-typed date fires no input event (its value stays ""), hence keyup and blur as well.
    for (const type of ["input", "change", "keyup", "blur"]) input.addEventListener(type, refresh);
  }
  clear.addEventListener("click", () => {
    for (const input of Object.values(inputs)) input.value = "";
    refresh();
    document.getElementById("question").focus(); // the clear button hides itself: keep the keyboard in play
  });
  refresh();
  return { current, describe, problem };
}
