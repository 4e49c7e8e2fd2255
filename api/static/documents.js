// The documents view (a dialog opened from the header): every indexed article with its title, source, date, size
// and id, sorted by any column and filtered by text; uploads by picker or drag-and-drop (upload.js); deleting the
// selected articles or every article of a source, each after a confirmation that names what goes.
import { el } from "./answer.js";
import { hostOf, sourceOptions } from "./filters.js";
import { RequestError, getJSON, write } from "./http.js";
import { ACCEPT, createUploads } from "./upload.js";

const SHOWN = 500; // rows drawn at most; the filter narrows the rest
const IDS_PER_REQUEST = 100; // ids per DELETE /documents?doc_id=..., so the URL stays short

/** Where an article comes from, as the table shows it: its site name, else its web site, else its author. */
export function sourceOf(doc) {
  return doc.site_name?.trim() || hostOf(doc.url) || doc.author?.trim() || "";
}

const fold = (text) => text.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();

const COLUMNS = {
  title: (d) => fold(d.title),
  source: (d) => fold(sourceOf(d)),
  published: (d) => d.published || "",
  chars: (d) => d.chars,
  doc_id: (d) => d.doc_id,
};

/** Wire the view; `onChange()` runs whenever documents were added or removed. */
export function createDocumentsView(onChange) {
  const dialog = document.getElementById("docs");
  const count = document.getElementById("docs-count");
  const filter = document.getElementById("docs-filter");
  const body = document.querySelector("#docs-table tbody");
  const all = document.getElementById("docs-all");
  const status = document.getElementById("docs-status"); // what the last action did
  const summary = document.getElementById("docs-summary"); // what the filter shows
  const remove = document.getElementById("docs-delete");
  const bySource = document.getElementById("docs-by-source");
  const source = document.getElementById("docs-source");
  const sources = document.getElementById("docs-sources");
  const picker = document.getElementById("docs-file");
  const drop = document.getElementById("docs-drop");
  const uploads = createUploads(document.getElementById("uploads"), changed);

  let docs = [];
  let sort = { key: "published", descending: true };
  const selected = new Set();

  function shown() {
    const words = fold(filter.value).split(/\s+/).filter(Boolean);
    const rows = docs.filter((d) => {
      const text = fold([d.title, sourceOf(d), d.published || "undated", d.doc_id].join(" "));
      return words.every((w) => text.includes(w));
    });
    const key = COLUMNS[sort.key];
    const order = sort.descending ? -1 : 1;
    // Undated (empty) values go last whichever way the column is sorted.
    return rows.sort((a, b) => {
      const [x, y] = [key(a), key(b)];
      if (x === "" || y === "") return (x === "") - (y === "");
      return (x < y ? -1 : x > y ? 1 : 0) * order || a.doc_id.localeCompare(b.doc_id);
    });
  }

  function cell(text, className) {
    return el("td", className, text);
  }

  function draw() {
    const rows = shown();
    count.textContent = `(${docs.length.toLocaleString("en")})`;
    body.replaceChildren(...rows.slice(0, SHOWN).map((d) => {
      const tr = el("tr");
      tr.dataset.docId = d.doc_id;
      const box = el("input");
      box.type = "checkbox";
      box.checked = selected.has(d.doc_id);
      box.setAttribute("aria-label", `Select ${d.title}`);
      box.addEventListener("change", () => {
        if (box.checked) selected.add(d.doc_id);
        else selected.delete(d.doc_id);
        drawSelection();
      });
      const pick = el("td", "docs__pick");
      pick.append(box);
      tr.append(pick, cell(d.title, "docs__title"), cell(sourceOf(d) || "—", "docs__source"),
        cell(d.published || "undated", d.published ? "docs__date" : "docs__date docs__date--none"),
        cell(`${d.chars.toLocaleString("en")} chars`, "docs__size"), cell(d.doc_id, "docs__id"));
      return tr;
    }));
    const hidden = rows.length - Math.min(rows.length, SHOWN);
    const parts = filter.value.trim() ? [`${rows.length.toLocaleString("en")} of ${docs.length.toLocaleString("en")} match`] : [];
    if (hidden) parts.push(`showing the first ${SHOWN}: filter to see the others`);
    summary.textContent = docs.length ? parts.join("; ") : "No articles are indexed yet: add some above.";
    for (const th of document.querySelectorAll("#docs-table th[data-sort]")) {
      th.setAttribute("aria-sort", th.dataset.sort === sort.key ? (sort.descending ? "descending" : "ascending") : "none");
    }
    all.checked = rows.length > 0 && rows.every((d) => selected.has(d.doc_id));
    drawSelection();
  }

  function drawSelection() {
    remove.disabled = selected.size === 0;
    remove.textContent = selected.size ? `Delete selected (${selected.size})` : "Delete selected";
  }

  async function load() {
    try {
      docs = await getJSON("/documents");
    } catch (error) {
      status.textContent = `Could not list the documents: ${error.message}`;
      return;
    }
    const ids = new Set(docs.map((d) => d.doc_id));
    for (const id of [...selected]) if (!ids.has(id)) selected.delete(id);
    sources.replaceChildren(...sourceOptions(docs).map(([value, label]) => {
      const option = el("option");
      option.value = value;
      option.label = label;
      return option;
    }));
    draw();
  }

  function changed() {
    load();
    onChange();
  }

  /** Ask before deleting: resolves true when the user confirmed. */
  function confirmDelete(question, titles) {
    const box = document.getElementById("confirm");
    document.getElementById("confirm-text").textContent = question;
    const list = document.getElementById("confirm-list");
    list.replaceChildren(...titles.slice(0, 8).map((t) => el("li", "", t)));
    if (titles.length > 8) list.append(el("li", "confirm__more", `and ${titles.length - 8} more`));
    box.returnValue = "";
    return new Promise((resolve) => {
      box.addEventListener("close", () => resolve(box.returnValue === "delete"), { once: true });
      box.showModal();
      document.getElementById("confirm-cancel").focus();
    });
  }

  const titleOf = (id) => docs.find((d) => d.doc_id === id)?.title ?? id;
  const articles = (n) => `${n.toLocaleString("en")} article${n === 1 ? "" : "s"}`;

  async function deleteSelected() {
    const ids = [...selected];
    if (!(await confirmDelete(`Delete ${articles(ids.length)} from the index?`, ids.map(titleOf)))) return;
    let gone = 0;
    try {
      for (let i = 0; i < ids.length; i += IDS_PER_REQUEST) {
        const query = ids.slice(i, i + IDS_PER_REQUEST).map((id) => `doc_id=${encodeURIComponent(id)}`).join("&");
        status.textContent = `Deleting ${articles(ids.length)}…`;
        gone += (await write("DELETE", `/documents?${query}`)).data.count;
      }
      status.textContent = `Deleted ${articles(gone)}.`;
    } catch (error) {
      status.textContent = `Deleted ${articles(gone)}; then the server refused: ${error.message}`;
    }
    selected.clear();
    changed();
  }

  async function deleteBySource(event) {
    event.preventDefault();
    const name = source.value.trim();
    if (!name) return;
    const query = `/documents?source=${encodeURIComponent(name)}`;
    try {
      const found = (await write("DELETE", `${query}&dry_run=true`)).data;
      if (!found.count) {
        status.textContent = `No article matches the source “${name}”.`;
        return;
      }
      if (!(await confirmDelete(`Delete the ${articles(found.count)} of the source “${name}”?`,
        found.deleted.map(titleOf)))) return;
      const done = (await write("DELETE", query)).data;
      status.textContent = `Deleted ${articles(done.count)} of the source “${name}”.`;
      source.value = "";
    } catch (error) {
      status.textContent = error instanceof RequestError ? `Not deleted: ${error.message}` : String(error);
    }
    changed();
  }

  // ---- wiring -----------------------------------------------------------------------------------------------
  picker.accept = ACCEPT.join(",");
  document.getElementById("docs-pick").addEventListener("click", () => picker.click());
  picker.addEventListener("change", () => {
    uploads.add(picker.files);
    picker.value = "";
  });
  for (const type of ["dragenter", "dragover"]) {
    dialog.addEventListener(type, (event) => {
      if (!event.dataTransfer?.types.includes("Files")) return;
      event.preventDefault();
      drop.classList.add("is-over");
    });
  }
  dialog.addEventListener("dragleave", (event) => {
    if (!dialog.contains(event.relatedTarget)) drop.classList.remove("is-over");
  });
  dialog.addEventListener("drop", (event) => {
    if (!event.dataTransfer?.files.length) return;
    event.preventDefault();
    drop.classList.remove("is-over");
    uploads.add(event.dataTransfer.files);
  });
  filter.addEventListener("input", draw);
  for (const th of document.querySelectorAll("#docs-table th[data-sort]")) {
    th.querySelector("button").addEventListener("click", () => {
      const key = th.dataset.sort;
      sort = { key, descending: sort.key === key ? !sort.descending : key === "published" || key === "chars" };
      draw();
    });
  }
  all.addEventListener("change", () => {
    for (const d of shown()) {
      if (all.checked) selected.add(d.doc_id);
      else selected.delete(d.doc_id);
    }
    draw();
  });
  remove.addEventListener("click", deleteSelected);
  bySource.addEventListener("submit", deleteBySource);
  document.getElementById("docs-close").addEventListener("click", () => dialog.close());

  return {
    open() {
      if (!dialog.open) dialog.showModal();
      filter.focus();
      load();
    },
    /** Files dropped on the page outside the view: open it and upload them. */
    upload(files) {
      this.open();
      uploads.add(files);
    },
  };
}
