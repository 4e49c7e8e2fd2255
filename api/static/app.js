// Chat page logic: the conversation (kept across reloads), the source panel, and the header's actions. Article and
// answer text is only ever inserted with textContent / createTextNode, never as HTML, so a document containing
// <script> or <img onerror> shows those characters and runs nothing. Loaded as a module (strict mode; runs after
// the document is parsed).
import { codePointSlicer, el, renderAnswer } from "./answer.js";
import { createDocumentsView } from "./documents.js";
import { createFilters } from "./filters.js";
import {
  answerMarkdown, chatMessages, conversationMarkdown, loadExchanges, saveExchanges, storable,
} from "./history.js";
import { RequestError, getJSON, write } from "./http.js";
import { createWelcome } from "./welcome.js";

const log = document.getElementById("log");
const form = document.getElementById("ask-form");
const input = document.getElementById("question");
const send = document.getElementById("send");
const panel = document.getElementById("source");
const panelTitle = document.getElementById("source-title");
const panelMeta = document.getElementById("source-meta");
const panelText = document.getElementById("source-text");
const panelClose = document.getElementById("source-close");
const more = document.getElementById("more");
const filters = createFilters();

let exchanges = loadExchanges(); // [{question, filters, answer}]; /chat is sent the recent ones (chatMessages)
let busy = false;
let openedFrom = null;
const texts = new Map(); // doc_id -> Promise of the GET /documents/{id} body

const documentsView = createDocumentsView(() => {
  texts.clear(); // an article may have changed or gone
  if (!exchanges.length) welcome.refresh();
});
const welcome = createWelcome((question) => ask(question), () => documentsView.open());

function scrollLogToEnd() {
  log.lastElementChild?.scrollIntoView({ block: "end" });
}

function addUserTurn(text, filtered) {
  const item = el("li", "msg msg--user");
  item.append(el("span", "visually-hidden", "You: "), el("p", "msg__text", text));
  if (filtered) item.append(el("p", "msg__filters", `Filters: ${filtered}`));
  log.append(item);
  welcome.show(false);
  return item;
}

function addPending() {
  const item = el("li", "msg msg--assistant msg--pending", "Searching the articles…");
  item.setAttribute("aria-busy", "true");
  log.append(item);
  scrollLogToEnd();
  return item;
}

async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
  const area = el("textarea", "visually-hidden", text); // plain-http pages on a LAN have no clipboard API
  document.body.append(area);
  area.select();
  const copied = document.execCommand("copy");
  area.remove();
  if (!copied) throw new Error("the browser refused to copy");
}

function showAnswer(item, exchange) {
  renderAnswer(item, exchange.question, exchange.answer, openSource);
  const actions = el("p", "msg__actions");
  const copy = el("button", "button button--ghost button--small", "Copy");
  copy.type = "button";
  copy.setAttribute("aria-label", "Copy the answer with its citations");
  const said = el("span", "msg__said");
  said.setAttribute("role", "status");
  copy.addEventListener("click", async () => {
    try {
      await copyText(answerMarkdown(exchange.answer));
      said.textContent = "Copied, with its citations.";
    } catch (error) {
      said.textContent = `Not copied: ${error.message}`;
    }
  });
  actions.append(copy, said);
  item.append(actions);
}

// A request that failed keeps its question: back in the box if the box is empty, and a Retry on the turn. A refusal
// (422: a filter the server rejects, or one the browser could not read; or the question itself, empty or too long)
// says how to go on instead.
const FILTER_REFUSAL = /^(body\.)?(since|until|source)\b/;

function renderError(item, asked, error, text) {
  const refused = error instanceof RequestError && error.status === 422;
  const line = el("p", "error__text", refused ? "The question was not asked: " : "No answer: ");
  line.append(el("span", "error__detail", error instanceof Error ? error.message : String(error)));
  item.replaceChildren(line);
  item.removeAttribute("aria-busy");
  item.className = "msg msg--assistant msg--error";
  if (refused) {
    const filter = FILTER_REFUSAL.test(error.message);
    item.append(el("p", "error__hint", filter ? "Change or clear the filters, then send the question again."
      : "Change the question, then send it again."));
  }
  else {
    const retry = el("button", "button button--small error__retry", "Retry");
    retry.type = "button";
    retry.addEventListener("click", () => {
      if (busy) return;
      asked.remove();
      item.remove();
      if (input.value.trim() === text) setQuestion("");
      ask(text);
    });
    item.append(retry);
  }
  if (!input.value.trim()) setQuestion(text);
}

async function ask(text) {
  busy = true;
  send.disabled = true;
  const filtered = filters.current();
  const described = filters.describe(filtered);
  const asked = addUserTurn(text, described);
  const pending = addPending();
  try {
    const problem = filters.problem();
    if (problem) throw new RequestError(422, problem);
    const messages = chatMessages(exchanges).concat([{ role: "user", content: text }]);
    const { data } = await write("POST", "/chat", { json: { messages, ...filtered } });
    const exchange = { question: text, filters: described, answer: storable(data) };
    exchanges.push(exchange);
    saveExchanges(exchanges);
    showAnswer(pending, exchange);
  } catch (error) {
    renderError(pending, asked, error, text);
  } finally {
    busy = false;
    send.disabled = false;
    // A short answer: the end of the conversation; a long one is read from its question down.
    if (asked.isConnected && asked.offsetHeight + pending.offsetHeight > log.clientHeight) asked.scrollIntoView({ block: "start" });
    else scrollLogToEnd();
    input.focus();
  }
}

function restore() {
  for (const exchange of exchanges) {
    addUserTurn(exchange.question, exchange.filters);
    const item = el("li", "msg msg--assistant");
    log.append(item);
    showAnswer(item, exchange);
  }
  welcome.show(!exchanges.length);
  scrollLogToEnd();
}

function exportConversation() {
  more.open = false;
  const now = new Date();
  const blob = new Blob([conversationMarkdown(exchanges, now)], { type: "text/markdown;charset=utf-8" });
  const link = el("a");
  link.href = URL.createObjectURL(blob);
  link.download = `newsqa-conversation-${now.toISOString().slice(0, 10)}.md`;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}

// ---- the source panel ---------------------------------------------------------------------------------------
function fetchDocument(docId) {
  if (!texts.has(docId)) {
    const request = getJSON(`/documents/${encodeURIComponent(docId)}`);
    request.catch(() => texts.delete(docId));
    texts.set(docId, request);
  }
  return texts.get(docId);
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

// ---- the question box: grows with its text, and is never shorter than its placeholder -----------------------
function autoGrow() {
  input.style.height = "auto";
  let needed = input.scrollHeight;
  if (!input.value) {
    input.value = input.placeholder; // measure the placeholder as if it were the text, so it is never cut off
    needed = input.scrollHeight;
    input.value = "";
  }
  input.style.height = `${Math.min(needed + (input.offsetHeight - input.clientHeight), 160)}px`;
}

function setQuestion(text) {
  input.value = text;
  autoGrow();
}

// ---- wiring -------------------------------------------------------------------------------------------------
form.addEventListener("submit", (event) => {
  event.preventDefault();
  const text = input.value.trim();
  if (!text || busy) return;
  setQuestion("");
  ask(text);
});

input.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    form.requestSubmit();
  }
});
input.addEventListener("input", autoGrow);
window.addEventListener("resize", autoGrow);

document.getElementById("new-chat").addEventListener("click", () => {
  exchanges = [];
  saveExchanges(exchanges);
  log.replaceChildren();
  closeSource();
  welcome.show(true);
  input.focus();
});
document.getElementById("open-docs").addEventListener("click", () => documentsView.open());
document.getElementById("export").addEventListener("click", exportConversation);
document.addEventListener("click", (event) => {
  if (more.open && !more.contains(event.target)) more.open = false;
});

// Files dropped anywhere on the page go to the documents view.
document.addEventListener("dragover", (event) => {
  if (event.dataTransfer?.types.includes("Files")) event.preventDefault();
});
document.addEventListener("drop", (event) => {
  if (!event.dataTransfer?.files.length || document.getElementById("docs").open) return;
  event.preventDefault();
  documentsView.upload(event.dataTransfer.files);
});

panelClose.addEventListener("click", closeSource);
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && !panel.hidden) closeSource();
});

restore();
autoGrow();
input.focus();
