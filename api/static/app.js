// Chat page logic. Article and answer text is only ever inserted with textContent / createTextNode,
// never as HTML, so a document containing <script> or <img onerror> shows those characters and runs nothing.
// Loaded as a module (strict mode; runs after the document is parsed).
import { createFilters } from "./filters.js";

/** A request the server answered with an error: its status and its `detail` message. */
class RequestError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

(function () {
  const log = document.getElementById("log");
  const form = document.getElementById("ask-form");
  const input = document.getElementById("question");
  const send = document.getElementById("send");
  const newChat = document.getElementById("new-chat");
  const panel = document.getElementById("source");
  const panelTitle = document.getElementById("source-title");
  const panelMeta = document.getElementById("source-meta");
  const panelText = document.getElementById("source-text");
  const panelClose = document.getElementById("source-close");
  const filters = createFilters();

  /** The conversation sent to POST /chat: [{role, content}] */
  let messages = [];
  let busy = false;
  let openedFrom = null;
  const documents = new Map(); // doc_id -> Promise of the GET /documents/{id} body

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function scrollLogToEnd() {
    log.lastElementChild?.scrollIntoView({ block: "end" });
  }

  function addUserTurn(text, filtered) {
    const item = el("li", "msg msg--user");
    item.append(el("span", "visually-hidden", "You: "), el("p", "msg__text", text));
    if (filtered) item.append(el("p", "msg__filters", `Filters: ${filtered}`));
    log.append(item);
    scrollLogToEnd();
  }

  function addPending() {
    const item = el("li", "msg msg--assistant msg--pending", "Searching the articles…");
    item.setAttribute("aria-busy", "true");
    log.append(item);
    scrollLogToEnd();
    return item;
  }

  function normalise(q) {
    return q.trim().replace(/\s+/g, " ").replace(/[?.!\s]+$/, "").toLowerCase();
  }

  function renderAnswer(item, typed, answer) {
    item.replaceChildren();
    item.removeAttribute("aria-busy");
    item.className = "msg msg--assistant";
    if (answer.answer === null) {
      item.classList.add("msg--notfound");
      item.append(el("p", "notfound__title", "Not found in the articles."));
      const why = answer.abstain_reason ? `Why: ${answer.abstain_reason}.` : "The articles do not answer this.";
      item.append(el("p", "notfound__reason", why));
    } else {
      const quote = el("p", "answer");
      quote.append(el("strong", "answer__span", answer.answer));
      answer.citations.forEach((citation, i) => quote.append(" ", chip(citation, i + 1)));
      item.append(quote);
      if (answer.citations.length) {
        const [first, ...others] = answer.citations;
        // An event answer ("What happened on Tuesday?") is its whole sentence: shown once, then the other sentences
        // reporting something on the same day, each with its own date.
        const whole = answer.answer === first.quote;
        if (!whole) item.append(sentenceWithSpan(first));
        if (first.dates && first.dates.length) item.append(datesLine(first));
        if (whole && others.length) {
          const more = el("ul", "answer__more");
          more.setAttribute("aria-label", "Also on that day");
          others.forEach((citation, i) => {
            const line = el("li", "answer__also");
            line.append(el("span", "answer__also-quote", citation.quote), " ", chip(citation, i + 2));
            if (citation.dates && citation.dates.length) line.append(datesLine(citation));
            more.append(line);
          });
          item.append(more);
        }
      }
    }
    if (answer.citations.length) item.append(sourceList(answer.citations));
    item.append(el("p", "answer__confidence", `confidence ${answer.confidence.toFixed(2)}`));
    if (normalise(answer.question) !== normalise(typed)) {
      const resolved = el("p", "resolved");
      resolved.append(el("span", "resolved__label", "Answered as: "), el("q", "resolved__question", answer.question));
      item.append(resolved);
    }
  }

  function datesLine(citation) {
    const meant = citation.dates.map((d) => `“${d.text}” = ${d.date}`).join(", ");
    return el("p", "answer__dates", `${meant} (article of ${citation.published})`);
  }

  function chip(citation, n) {
    const button = el("button", "chip", String(n));
    button.type = "button";
    button.dataset.n = String(n);
    button.dataset.docId = citation.doc_id;
    button.setAttribute("aria-label", `Source ${n}: ${citation.title}`);
    button.title = citation.title;
    button.addEventListener("click", () => openSource(citation, n, button));
    return button;
  }

  function sourceList(citations) {
    const list = el("ol", "sources");
    list.setAttribute("aria-label", "Sources");
    citations.forEach((citation) => list.append(el("li", "sources__item", citation.title)));
    return list;
  }

  // A refused question (422: a filter the server rejects, or one the browser could not read) says why and how to
  // go on; the turn is not part of the conversation, and its text goes back into the box to be sent again.
  function renderError(item, error, text) {
    const refused = error instanceof RequestError && error.status === 422;
    const detail = error instanceof Error ? error.message : String(error);
    const line = el("p", "error__text", refused ? "The question was not asked: " : "Something went wrong: ");
    line.append(el("span", "error__detail", detail));
    item.replaceChildren(line);
    if (refused) item.append(el("p", "error__hint", "Change or clear the filters, then send the question again."));
    item.removeAttribute("aria-busy");
    item.className = "msg msg--assistant msg--error";
    if (refused && !input.value.trim()) {
      input.value = text;
      autoGrow();
    }
  }

  async function postJSON(url, body) {
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new RequestError(response.status, data.detail || `${response.status} ${response.statusText}`);
    return data;
  }

  async function ask(text) {
    busy = true;
    send.disabled = true;
    const filtered = filters.current();
    addUserTurn(text, filters.describe(filtered));
    const pending = addPending();
    const conversation = messages.concat([{ role: "user", content: text }]);
    try {
      const problem = filters.problem();
      if (problem) throw new RequestError(422, problem);
      const answer = await postJSON("/chat", { messages: conversation, ...filtered });
      const reply = answer.answer === null ? "Not found in the articles." : answer.answer;
      messages = conversation.concat([{ role: "assistant", content: reply }]);
      renderAnswer(pending, text, answer);
    } catch (error) {
      renderError(pending, error, text);
    } finally {
      busy = false;
      send.disabled = false;
      scrollLogToEnd();
      input.focus();
    }
  }

  // ---- the source panel -------------------------------------------------------------------------------------
  function fetchDocument(docId) {
    if (!documents.has(docId)) {
      const request = fetch(`/documents/${encodeURIComponent(docId)}`).then(async (response) => {
        const data = await response.json().catch(() => ({}));
        if (!response.ok) throw new Error(data.detail || `${response.status} ${response.statusText}`);
        return data;
      });
      request.catch(() => documents.delete(docId));
      documents.set(docId, request);
    }
    return documents.get(docId);
  }

  // Offsets from the server count Unicode code points; JavaScript strings count UTF-16 units.
  function codePointSlicer(text) {
    if (!/[\uD800-\uDFFF]/.test(text)) return (a, b) => text.slice(a, b);
    const points = Array.from(text);
    return (a, b) => points.slice(a, b).join("");
  }

  // The supporting sentence, quoted, with the answer span in bold at its exact offsets.
  function sentenceWithSpan(citation) {
    const sentence = el("blockquote", "answer__sentence");
    const h = citation.highlight;
    const slice = codePointSlicer(citation.quote);
    if (h && h.start >= citation.start && h.end <= citation.end && h.start < h.end) {
      const a = h.start - citation.start;
      const b = h.end - citation.start;
      sentence.append(
        document.createTextNode(slice(0, a)),
        el("strong", "answer__focus", slice(a, b)),
        document.createTextNode(slice(b, citation.end - citation.start)),
      );
    } else {
      sentence.append(document.createTextNode(citation.quote));
    }
    return sentence;
  }

  function buildMark(slice, citation) {
    const mark = el("mark", "quote");
    const h = citation.highlight;
    if (h && h.start >= citation.start && h.end <= citation.end && h.start < h.end) {
      mark.append(
        document.createTextNode(slice(citation.start, h.start)),
        el("strong", "quote__focus", slice(h.start, h.end)),
        document.createTextNode(slice(h.end, citation.end)),
      );
    } else {
      mark.append(document.createTextNode(slice(citation.start, citation.end)));
    }
    return mark;
  }

  function renderMeta(doc, citation, n, matches) {
    panelMeta.replaceChildren(el("span", "", `[${n}] characters ${citation.start}–${citation.end}`));
    if (doc.published) panelMeta.append(" · ", el("span", "", doc.published));
    if (doc.url && /^https?:\/\//i.test(doc.url)) {
      const link = el("a", "", "original article");
      link.href = doc.url;
      link.rel = "noopener noreferrer";
      link.target = "_blank";
      panelMeta.append(" · ", link);
    }
    if (!matches) panelMeta.append(el("p", "warning", "This article changed after the answer; the highlight may be off."));
  }

  async function openSource(citation, n, opener) {
    openedFrom = opener;
    panel.hidden = false;
    document.body.classList.add("has-source");
    panelTitle.textContent = citation.title;
    panelMeta.textContent = "Loading the article…";
    panelText.replaceChildren();
    let doc;
    try {
      doc = await fetchDocument(citation.doc_id);
    } catch (error) {
      panelMeta.textContent = `Could not load the article: ${error.message}`;
      return;
    }
    const slice = codePointSlicer(doc.text);
    const mark = buildMark(slice, citation);
    panelTitle.textContent = doc.title;
    renderMeta(doc, citation, n, mark.textContent === citation.quote);
    panelText.replaceChildren(
      document.createTextNode(slice(0, citation.start)),
      mark,
      document.createTextNode(slice(citation.end, undefined)),
    );
    mark.scrollIntoView({ block: "center" });
    panelClose.focus({ preventScroll: true });
  }

  function closeSource() {
    panel.hidden = true;
    document.body.classList.remove("has-source");
    if (openedFrom && document.body.contains(openedFrom)) openedFrom.focus();
    openedFrom = null;
  }

  // ---- wiring -----------------------------------------------------------------------------------------------
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text || busy) return;
    input.value = "";
    autoGrow();
    ask(text);
  });

  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  function autoGrow() {
    input.style.height = "auto";
    input.style.height = `${Math.min(input.scrollHeight, 160)}px`;
  }
  input.addEventListener("input", autoGrow);

  newChat.addEventListener("click", () => {
    messages = [];
    log.replaceChildren();
    closeSource();
    input.focus();
  });

  panelClose.addEventListener("click", closeSource);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !panel.hidden) closeSource();
  });

  input.focus();
})();
