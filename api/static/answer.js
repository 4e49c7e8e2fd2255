// Rendering one answer of the conversation: the span in its sentence, numbered citation chips, the sources grouped
// by article, or, for an abstention, the closest passages the reader read, set apart so they never read as an answer.
// Text is only ever inserted with textContent / createTextNode, never as HTML.
import { NOT_FOUND } from "./history.js";

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

/** Offsets from the server count Unicode code points; JavaScript strings count UTF-16 units. */
export function codePointSlicer(text) {
  if (!/[\uD800-\uDFFF]/.test(text)) return (a, b) => text.slice(a, b);
  const points = Array.from(text);
  return (a, b) => points.slice(a, b).join("");
}

/** "what is X" and "What is X?" are the same question. */
export function sameQuestion(a, b) {
  const norm = (q) => q.trim().replace(/\s+/g, " ").replace(/[?.!\s]+$/, "").toLowerCase();
  return norm(a) === norm(b);
}

function validHighlight(citation) {
  const h = citation.highlight;
  return h && h.start >= citation.start && h.end <= citation.end && h.start < h.end ? h : null;
}

/** The sentence, with the span at its exact offsets wrapped in `tag.className`. */
function sentenceWith(container, citation, tag, className) {
  const h = validHighlight(citation);
  if (!h) {
    container.append(document.createTextNode(citation.quote));
    return container;
  }
  const slice = codePointSlicer(citation.quote);
  const a = h.start - citation.start;
  const b = h.end - citation.start;
  container.append(document.createTextNode(slice(0, a)), el(tag, className, slice(a, b)),
    document.createTextNode(slice(b, citation.end - citation.start)));
  return container;
}

function datesLine(citation) {
  const meant = citation.dates.map((d) => `“${d.text}” = ${d.date}`).join(", ");
  return el("p", "answer__dates", `${meant} (article of ${citation.published})`);
}

function chip(citation, n, openSource) {
  const button = el("button", "chip", String(n));
  button.type = "button";
  button.dataset.n = String(n);
  button.dataset.docId = citation.doc_id;
  button.setAttribute("aria-label", `Source ${n}: ${citation.title}`);
  button.title = citation.title;
  button.addEventListener("click", () => openSource(citation, n, button));
  return button;
}

/** One line per article, with the numbers of the citations it holds: an article is never listed twice. */
function sourceList(citations) {
  const byDoc = new Map();
  citations.forEach((c, i) => {
    if (!byDoc.has(c.doc_id)) byDoc.set(c.doc_id, { title: c.title, published: c.published, refs: [] });
    byDoc.get(c.doc_id).refs.push(i + 1);
  });
  const list = el("ul", "sources");
  list.setAttribute("aria-label", "Sources");
  for (const { title, published, refs } of byDoc.values()) {
    const item = el("li", "sources__item");
    item.append(el("span", "sources__refs", refs.map((n) => `[${n}]`).join("")), " ", el("span", "sources__title", title));
    if (published) item.append(el("span", "sources__date", ` · ${published}`));
    list.append(item);
  }
  return list;
}

function renderFound(item, answer, openSource) {
  const [first, ...others] = answer.citations;
  // An event answer ("What happened on Tuesday?") is its whole sentence: shown once with its own number, then the
  // other sentences reporting something on the same day, each with its number and date.
  const whole = first !== undefined && answer.answer === first.quote;
  const quote = el("p", "answer");
  quote.append(el("strong", "answer__span", answer.answer));
  (whole ? [first] : answer.citations).forEach((citation, i) => quote.append(" ", chip(citation, i + 1, openSource)));
  item.append(quote);
  if (!first) return;
  if (!whole) item.append(sentenceWith(el("blockquote", "answer__sentence"), first, "strong", "answer__focus"));
  if (first.dates && first.dates.length) item.append(datesLine(first));
  if (whole && others.length) {
    item.append(el("p", "answer__more-title", "Also on that day"));
    const more = el("ul", "answer__more");
    more.setAttribute("aria-label", "Also on that day");
    others.forEach((citation, i) => {
      const line = el("li", "answer__also");
      line.append(el("span", "answer__also-quote", citation.quote), " ", chip(citation, i + 2, openSource));
      if (citation.dates && citation.dates.length) line.append(datesLine(citation));
      more.append(line);
    });
    item.append(more);
  }
  item.append(sourceList(answer.citations));
}

function renderClosest(answer, openSource) {
  const box = el("section", "closest");
  box.setAttribute("aria-label", "Not in the articles — closest passages");
  box.append(el("p", "closest__title", "Not in the articles — closest passages"),
    el("p", "closest__note", "None of these answers the question. They are the sentences the reader rated highest; "
      + "the underlined words are what it considered."));
  const list = el("ol", "closest__list");
  answer.closest.forEach((citation, i) => {
    const entry = el("li", "closest__item");
    entry.append(sentenceWith(el("blockquote", "closest__quote"), citation, "span", "closest__read"));
    const meta = el("p", "closest__meta");
    meta.append(chip(citation, i + 1, openSource), " ", el("span", "closest__source", citation.title),
      el("span", "closest__score", ` · reader probability ${citation.score.toFixed(2)}`));
    entry.append(meta);
    list.append(entry);
  });
  box.append(list);
  return box;
}

/** Fill `item` with the answer to `typed`; `openSource(citation, n, button)` shows a cited sentence in its article. */
export function renderAnswer(item, typed, answer, openSource) {
  item.replaceChildren();
  item.removeAttribute("aria-busy");
  item.className = "msg msg--assistant";
  if (answer.answer === null) {
    item.classList.add("msg--notfound");
    item.append(el("p", "notfound__title", NOT_FOUND));
    const why = answer.abstain_reason ? `Why: ${answer.abstain_reason}.` : "The articles do not answer this.";
    item.append(el("p", "notfound__reason", why));
    if (answer.closest?.length) item.append(renderClosest(answer, openSource));
  } else {
    renderFound(item, answer, openSource);
  }
  const confidence = answer.confidence.toFixed(2);
  item.append(el("p", "answer__confidence", answer.answer === null
    ? `confidence ${confidence} that the articles do not answer this` : `confidence ${confidence}`));
  if (!sameQuestion(answer.question, typed)) {
    const resolved = el("p", "resolved");
    resolved.append(el("span", "resolved__label", "Answered as: "), el("q", "resolved__question", answer.question));
    item.append(resolved);
  }
}
