// The empty conversation: what is indexed (counts, the newest articles) and three example questions made from
// the indexed titles, so a first visit shows what the page can do with this collection.
import { el } from "./answer.js";
import { getJSON } from "./http.js";

const NEWEST = 5;
// A headline is a statement; asked "why", "who" or "where", it points the reader at the article's own sentences.
const FORMS = ["Why: {}?", "Who: {}?", "Where: {}?"];

/** Newest first by publication date; undated articles after the dated ones, in the index's order. */
export function newest(docs) {
  return [...docs].sort((a, b) => (b.published || "").localeCompare(a.published || ""));
}

/** Three example questions from the newest titles (a title used again takes the next form). */
export function examples(docs) {
  const titles = newest(docs).map((d) => d.title.trim().replace(/[.?!:;]+$/, "")).filter(Boolean);
  if (!titles.length) return [];
  return FORMS.map((form, i) => form.replace("{}", titles[i % titles.length]));
}

/** Wire the panel; `onAsk(question)` sends an example, `onDocuments()` opens the documents view. */
export function createWelcome(onAsk, onDocuments) {
  const panel = document.getElementById("welcome");
  const stats = document.getElementById("welcome-stats");
  const list = document.getElementById("welcome-newest");
  const tries = document.getElementById("welcome-examples");

  function article(doc) {
    const item = el("li", "welcome__article");
    item.append(el("span", "welcome__title", doc.title));
    item.append(el("span", "welcome__date", doc.published ? ` · ${doc.published}` : " · undated"));
    return item;
  }

  function example(question) {
    const button = el("button", "example", question);
    button.type = "button";
    button.addEventListener("click", () => onAsk(question));
    const item = el("li");
    item.append(button);
    return item;
  }

  async function refresh() {
    let health;
    let docs;
    try {
      [health, docs] = await Promise.all([getJSON("/health"), getJSON("/documents")]);
    } catch (error) {
      stats.textContent = `Could not read what is indexed: ${error.message}`;
      return;
    }
    const n = (x, word) => `${x.toLocaleString("en")} ${word}${x === 1 ? "" : "s"}`;
    stats.textContent = `${n(health.documents, "article")} indexed (${n(health.passages, "passage")}, `
      + `${n(health.sentences, "sentence")}).`;
    if (!docs.length) {
      const add = el("button", "button button--small", "Add articles");
      add.type = "button";
      add.addEventListener("click", onDocuments);
      stats.append(" Nothing to ask about yet: ", add);
    }
    list.replaceChildren(...newest(docs).slice(0, NEWEST).map(article));
    tries.replaceChildren(...examples(docs).map(example));
    panel.classList.toggle("welcome--empty", !docs.length);
  }

  return {
    refresh,
    /** Shown only while the conversation is empty. */
    show(visible) {
      panel.hidden = !visible;
      if (visible) refresh();
    },
  };
}
