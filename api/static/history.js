// The conversation kept across reloads (localStorage) and written out as Markdown with its citations.
// An exchange is {question, filters, answer}: the question as typed, the filters it was asked with ("" for none)
// and the /chat answer without its retrieved passages (only the citations and closest passages are shown).

const STORAGE = "newsqa.conversation";
const KEEP = 100; // exchanges kept and shown; older ones are dropped first
// Exchanges sent to POST /chat with a new question: the server resolves a follow-up from the turn before it and that
// turn's answer (the turn before resolved the same way, so only a chain of follow-ups reaches further back;
// qa/conversation.py), and it refuses more than 200 messages, which KEEP exchanges would exceed. 20 exchanges (41
// messages with the question) keep any plausible chain of follow-ups and stay far under that limit.
const CHAT_EXCHANGES = 20;
export const NOT_FOUND = "Not found in the articles.";

/** The stored exchanges, oldest first ([] when there are none or they cannot be read). */
export function loadExchanges() {
  try {
    const stored = JSON.parse(localStorage.getItem(STORAGE) || "null");
    return Array.isArray(stored?.exchanges) ? stored.exchanges.filter((e) => e && e.answer && e.question) : [];
  } catch {
    return [];
  }
}

/** Keep the exchanges; false when the browser refused (storage full or disabled): the page still works. */
export function saveExchanges(exchanges) {
  try {
    if (exchanges.length) localStorage.setItem(STORAGE, JSON.stringify({ exchanges: exchanges.slice(-KEEP) }));
    else localStorage.removeItem(STORAGE);
    return true;
  } catch {
    return false;
  }
}

/** What is stored of an answer: everything but the passages. */
export function storable(answer) {
  const { passages, ...kept } = answer;
  return kept;
}

/** The recent conversation as /chat wants it: the last CHAT_EXCHANGES exchanges as [{role, content}], an abstention
 * standing as NOT_FOUND. */
export function chatMessages(exchanges) {
  return exchanges.slice(-CHAT_EXCHANGES).flatMap((e) => [
    { role: "user", content: e.question },
    { role: "assistant", content: e.answer.answer === null ? NOT_FOUND : e.answer.answer },
  ]);
}

function where(citation) {
  const parts = [`characters ${citation.start}–${citation.end}`];
  if (citation.published) parts.push(citation.published);
  const link = citation.url && /^https?:\/\//i.test(citation.url) ? ` <${citation.url}>` : "";
  return `${citation.title}${link} (${citation.doc_id}, ${parts.join(", ")})`;
}

function quoted(text) {
  return text.split("\n").map((line) => `> ${line}`).join("\n");
}

/** One answer in Markdown: the answer, each cited sentence quoted with its [n], then the numbered sources. */
export function answerMarkdown(answer) {
  const lines = [];
  if (answer.answer === null) {
    lines.push(`**${NOT_FOUND}**${answer.abstain_reason ? ` Why: ${answer.abstain_reason}.` : ""}`);
    if (answer.closest?.length) {
      lines.push("", "Not in the articles — closest passages (evidence, not an answer):");
      answer.closest.forEach((c, i) => lines.push("", quoted(c.quote), `> — [${i + 1}] reader probability ${c.score.toFixed(2)}`));
      lines.push("", ...answer.closest.map((c, i) => `[${i + 1}] ${where(c)}`));
    }
    return lines.join("\n");
  }
  const marks = answer.citations.map((_, i) => `[${i + 1}]`).join("");
  lines.push(`**${answer.answer}** ${marks}`.trim());
  answer.citations.forEach((c, i) => {
    if (c.quote !== answer.answer || i > 0) lines.push("", `${quoted(c.quote)} [${i + 1}]`);
  });
  if (answer.citations.length) lines.push("", ...answer.citations.map((c, i) => `[${i + 1}] ${where(c)}`));
  return lines.join("\n");
}

/** The whole conversation as a Markdown document. */
export function conversationMarkdown(exchanges, when = new Date()) {
  const parts = [`# Conversation with newsqa, ${when.toISOString().slice(0, 10)}`];
  for (const e of exchanges) {
    const asked = [`## ${e.question}`];
    if (e.filters) asked.push("", `Filters: ${e.filters}`);
    if (e.answer.question && e.answer.question !== e.question) asked.push("", `Answered as: ${e.answer.question}`);
    parts.push(asked.join("\n"), answerMarkdown(e.answer));
  }
  return `${parts.join("\n\n")}\n`;
}
