// Answers on the page: Markdown (vendored marked, sanitized by the vendored DOMPurify) with [n] buttons, sources,
// notes, timings, copy with sources, and 👍/👎 feedback. Loaded before app.js, which defines $, el and state.
"use strict";

// ---------------------------------------------------------------- rendering answers

const TIMING_NAMES = {
  retrieve: "检索", rewrite: "改写问题", embed: "向量", generate: "生成", verify: "校验", total: "总计",
  ttft: "首字用时", llm: "模型用时", prompt_tokens: "提示词", completion_tokens: "生成", tokens_per_s: "生成速度",
};

function formatTiming(k, v) {
  const name = TIMING_NAMES[k] || k;
  const n = Number(v);
  if (k === "tokens_per_s") return `${name} ${n.toFixed(1)} 词元/秒`;
  if (k.endsWith("_tokens")) return `${name} ${Math.round(n)} 词元`;
  return n >= 1000 ? `${name} ${(n / 1000).toFixed(1)} 秒` : `${name} ${n.toFixed(n < 10 ? 1 : 0)} 毫秒`;
}

function formatTimings(t) {
  return Object.entries(t || {}).map(([k, v]) => formatTiming(k, v)).join(" · ");
}

function generatorLabel(g) {
  g = g || "";
  if (/fallback from/.test(g)) return "快速（摘录原文）：智能回答未完成，已改用摘录";
  if (g.startsWith("extractive")) return "快速（摘录原文）";
  if (g.startsWith("llm")) return "智能（本地大模型）";
  if (g.startsWith("openai")) return "智能（外部大模型）";
  return g || "?";
}

const PURIFY = {
  ALLOWED_TAGS: ["p", "br", "strong", "em", "b", "i", "del", "ul", "ol", "li", "table", "thead", "tbody", "tr", "th",
    "td", "code", "pre", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "a", "span"],
  ALLOWED_ATTR: ["href", "title", "align", "start"],
  RETURN_DOM_FRAGMENT: true,
};

// Markdown → sanitized DOM; without the vendored libraries, plain text.
function markdown(text) {
  if (window.marked && window.DOMPurify) {
    const frag = window.DOMPurify.sanitize(window.marked.parse(text, { gfm: true, breaks: true, async: false }), PURIFY);
    for (const a of frag.querySelectorAll("a")) { a.target = "_blank"; a.rel = "noopener noreferrer"; }
    return frag;
  }
  const frag = document.createDocumentFragment();
  frag.append(el("p", {}, text));
  return frag;
}

// Answer text (Markdown) with each [n] turned into a button that opens citation n.
function renderAnswer(container, text, citations) {
  const frag = markdown(text || "");
  const walker = document.createTreeWalker(frag, NodeFilter.SHOW_TEXT);
  const nodes = [];
  while (walker.nextNode()) if (/\[\d+\]/.test(walker.currentNode.nodeValue)) nodes.push(walker.currentNode);
  for (const node of nodes) {
    const parts = document.createDocumentFragment();
    const s = node.nodeValue;
    const re = /\[(\d+)\]/g;
    let last = 0;
    let m;
    while ((m = re.exec(s))) {
      if (m.index > last) parts.append(document.createTextNode(s.slice(last, m.index)));
      parts.append(citeButton(Number(m[1]), citations));
      last = re.lastIndex;
    }
    if (last < s.length) parts.append(document.createTextNode(s.slice(last)));
    node.replaceWith(parts);
  }
  container.replaceChildren(frag);
}

function citeButton(n, citations) {
  const c = citations ? citations.find((x) => x.n === n) : null;
  const label = c ? `引用 ${n}：${docTitle(c)}` : `引用 ${n}`;
  const btn = el("button", { type: "button", className: "cite", title: label, dataset: { n: String(n) } }, `[${n}]`);
  btn.setAttribute("aria-label", label);
  if (c) btn.addEventListener("click", () => showCitation(c));
  else btn.disabled = true;
  return btn;
}

// A document's readable name: its title, else its file name without the hash prefix the seeds carry.
function docTitle(c) {
  const t = (c.title || "").trim();
  if (t && !/^\d+_[0-9a-f]{8,}(\.\w+)?$/.test(t)) return t;
  return (c.heading || "").split(" > ")[0] || c.source || t || "文档";
}

function addUser(text, index) {
  $("empty").hidden = true;
  const body = el("div", { className: "bubble" }, text);
  const msg = el("div", { className: "msg user", dataset: { index: String(index) } }, body);
  const edit = el("button", { type: "button", className: "edit link", onclick: () => startEdit(index) }, "编辑");
  edit.setAttribute("aria-label", `编辑问题：${text.slice(0, 30)}`);
  msg.prepend(edit);
  $("log").append(msg);
  return { msg, body };
}

function addAssistant() {
  $("empty").hidden = true;
  const stage = el("p", { className: "stage", role: "status" });
  const body = el("div", { className: "answer" });
  const msg = el("div", { className: "msg assistant" }, stage, body);
  $("log").append(msg);
  msg.scrollIntoView({ block: "end" });
  return { msg, body, stage };
}

function setStage(view, text) {
  view.stage.textContent = text || "";
  view.stage.hidden = !text;
}

function note(view, text, kind) {
  view.msg.querySelector(".replaced")?.remove();
  view.msg.insertBefore(el("p", { className: "replaced" + (kind ? " " + kind : "") }, text), view.body);
}

function copyText(text, btn) {
  const done = () => { btn.textContent = "已复制"; setTimeout(() => { btn.textContent = "复制"; }, 1500); };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(done, () => fallbackCopy(text) && done());
  } else if (fallbackCopy(text)) done();
}

function fallbackCopy(text) {
  const ta = el("textarea", { value: text, readOnly: true });
  ta.style.position = "fixed";
  ta.style.opacity = "0";
  document.body.append(ta);
  ta.select();
  let ok = false;
  try { ok = document.execCommand("copy"); } catch (_) { ok = false; }
  ta.remove();
  return ok;
}

function sourceLine(c) {
  const where = [docTitle(c), c.heading, c.page ? `第 ${c.page} 页` : ""].filter(Boolean).join(" · ");
  return `[${c.n}] ${where}（${c.source}）${c.quote ? `：「${c.quote}」` : ""}`;
}

// The answer with its numbered sources, as copied and exported.
function answerWithSources(res) {
  const cites = res.citations || [];
  return (res.answer || "") + (cites.length ? "\n\n来源：\n" + cites.map(sourceLine).join("\n") : "");
}

// The finished answer: text, sources, generator, feedback, copy, details.
function finishAnswer(view, res, question, m) {
  const citations = res.citations || [];
  setStage(view, "");
  view.msg.querySelector(".live")?.remove();
  renderAnswer(view.body, res.answer || "", citations);
  view.msg.classList.remove("streaming", "draft");
  for (const x of view.msg.querySelectorAll(".cite-list, .meta, .notfound, .conflicts, .badge")) x.remove();
  if (res.answerable === false) {
    view.msg.classList.add("unanswerable");
    view.msg.prepend(el("p", { className: "notfound" }, "文档中没有找到答案"));
  }
  if ((res.flags || []).includes("draft")) view.msg.prepend(el("span", { className: "badge" }, "快速摘录"));
  if (res.conflicts && res.conflicts.length) {
    const box = el("div", { className: "conflicts", role: "note" }, el("strong", {}, "⚠ 文档说法不一致："));
    for (const c of res.conflicts) {
      const vals = (c.values || []).map((v) => `${v.value} [${v.n}]`).join(" / ");
      box.append(el("div", {}, `${c.subject || ""}${c.attribute ? "的" + c.attribute : ""}：${vals}`));
    }
    view.msg.prepend(box);
  }
  if (citations.length) {
    const list = el("ol", { className: "cite-list", "aria-label": "来源" });
    for (const c of citations) {
      const label = [docTitle(c), c.heading, c.page ? `第 ${c.page} 页` : ""].filter(Boolean).join(" · ");
      list.append(el("li", {}, el("button", { type: "button", className: "cite-chip", onclick: () => showCitation(c) },
        `[${c.n}] `, label)));
    }
    view.msg.append(list);
  }
  const copy = el("button", { type: "button", className: "copy secondary" }, "复制");
  copy.addEventListener("click", () => copyText(answerWithSources(res), copy));
  const details = el("details", { className: "details" }, el("summary", {}, "详情"),
    el("span", { className: "timings" }, formatTimings(res.timings_ms)),
    res.query && res.query !== question ? el("span", { className: "query" }, `检索问题：${res.query}`) : null,
    el("span", { className: "raw-generator" }, `生成器：${res.generator || "?"}`));
  const meta = el("div", { className: "meta" },
    el("span", { className: "generator" }, `回答：${generatorLabel(res.generator)}`), details);
  if (m) meta.append(feedbackButtons(view, res, question, m));
  meta.append(copy);
  view.msg.append(meta);
}

function showError(view, message, retry) {
  setStage(view, "");
  view.msg.classList.remove("streaming");
  view.msg.classList.add("error");
  view.body.replaceChildren(document.createTextNode(`出错了：${message}`));
  if (retry) view.body.append(" ", el("button", { type: "button", className: "retry secondary", onclick: retry }, "重试"));
}

// Remember which collection a citation came from, so "查看全文" still works after switching collections.
function withCollection(res, name) {
  if (res) for (const c of res.citations || []) c.collection = c.collection || name;
  return res;
}

// ---------------------------------------------------------------- feedback

// Thumbs as inline SVG (Material Icons paths, Apache-2.0): no emoji font needed on the reader's machine.
const THUMBS = {
  up: "M1 21h4V9H1v12zm22-11c0-1.1-.9-2-2-2h-6.31l.95-4.57.03-.32c0-.41-.17-.79-.44-1.06L14.17 1 7.59 7.59C7.22 7.95 7 8.45 7 9v10c0 1.1.9 2 2 2h9c.83 0 1.54-.5 1.84-1.22l3.02-7.05c.09-.23.14-.47.14-.73v-2z",
  down: "M15 3H6c-.83 0-1.54.5-1.84 1.22l-3.02 7.05c-.09.23-.14.47-.14.73v2c0 1.1.9 2 2 2h6.31l-.95 4.57-.03.32c0 .41.17.79.44 1.06L9.83 23l6.59-6.59c.36-.36.58-.86.58-1.41V5c0-1.1-.9-2-2-2zm4 0v12h4V3h-4z",
};

function thumb(rating) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("class", "thumb");
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", THUMBS[rating]);
  svg.append(path);
  return svg;
}

function feedbackButtons(view, res, question, m) {
  const box = el("span", { className: "fb-buttons" });
  for (const [rating, text, label] of [["up", "有用", "回答有帮助"], ["down", "有误", "回答有问题"]]) {
    const b = el("button", { type: "button", className: `fb fb-${rating} secondary`, title: label,
      onclick: () => openFeedback(view, res, question, m, rating) }, thumb(rating), text);
    b.setAttribute("aria-label", label);
    b.setAttribute("aria-pressed", m.feedback === rating ? "true" : "false");
    box.append(b);
  }
  return box;
}

function openFeedback(view, res, question, m, rating) {
  view.msg.querySelector(".fb-form")?.remove();
  const id = `fb-${Math.random().toString(36).slice(2)}`;
  const comment = el("textarea", { id: id + "-c", rows: 2, className: "fb-comment" });
  const correct = rating === "down" ? el("input", { id: id + "-a", className: "fb-correct", autocomplete: "off" }) : null;
  const status = el("span", { className: "fb-status", role: "status" });
  const form = el("form", { className: "fb-form" },
    el("p", { className: "fb-title" }, thumb(rating), rating === "up" ? " 这个回答有帮助" : " 这个回答有问题"),
    el("label", { htmlFor: id + "-c" }, "意见（可选）"), comment,
    correct ? el("label", { htmlFor: id + "-a" }, "正确答案（可选，会用于评测）") : null, correct,
    el("div", { className: "row" }, el("button", { type: "submit", className: "fb-submit" }, "提交反馈"),
      el("button", { type: "button", className: "secondary", onclick: () => form.remove() }, "取消"), status));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    status.textContent = "正在提交…";
    try {
      await sendJSON("/feedback", "POST", {
        rating, comment: comment.value.trim(), correct_answer: correct ? correct.value.trim() : "",
        conversation_id: state.conv && state.conv.id, question, query: res.query || question, answer: res.answer || "",
        answerable: res.answerable !== false, citations: res.citations || [], generator: res.generator || "",
        collection: (res.citations && res.citations[0] && res.citations[0].collection) || res.collection || collection(),
      });
      m.feedback = rating;
      for (const b of view.msg.querySelectorAll(".fb")) b.setAttribute("aria-pressed", String(b.classList.contains(`fb-${rating}`)));
      form.replaceWith(el("p", { className: "fb-done", role: "status" }, "已收到反馈，谢谢！"));
      const conv = convOf(view);
      if (conv) save(conv);
    } catch (err) {
      status.textContent = `提交失败：${err.message}`;
    }
  });
  view.msg.append(form);
  comment.focus();
}

function convOf(view) {
  for (const [conv, run] of state.runs) if (run.view === view) return conv;
  return state.conv;
}
