// The chat page: plain JS, no framework. Every piece of document or answer text is inserted as a text node.
"use strict";

const $ = (id) => document.getElementById(id);

const state = {
  history: [],          // [{role, content}] of finished turns, sent with each question
  busy: false,
  current: null,        // the citation shown in the panel
};

// el("p", {className: "x", onclick: f}, "text", child…): strings become text nodes, never markup.
function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(node.dataset, v);
    else if (k in node) node[k] = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    node.append(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
  }
  return node;
}

function collection() {
  return $("collection").value.trim() || "default";
}

function headers(extra) {
  const h = Object.assign({}, extra || {});
  const key = $("api-key").value.trim();
  if (key) h["Authorization"] = "Bearer " + key;
  return h;
}

// The message of an error response ({"error": {"code", "message"}}) or of anything else that went wrong.
async function errorMessage(resp) {
  let text = "";
  try {
    text = await resp.text();
    const body = JSON.parse(text);
    if (body && body.error && body.error.message) return body.error.message;
    if (body && body.detail) return typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail);
  } catch (_) { /* not JSON */ }
  return `HTTP ${resp.status}${text ? "：" + text.slice(0, 200) : ""}`;
}

async function getJSON(url, opts) {
  const resp = await fetch(url, Object.assign({ headers: headers() }, opts || {}));
  if (!resp.ok) {
    const err = new Error(await errorMessage(resp));
    err.status = resp.status;
    throw err;
  }
  return resp.json();
}

// ---------------------------------------------------------------- server-sent events over fetch (POST)

// Calls onEvent(name, data) for each event of a text/event-stream body as it arrives.
async function readSSE(resp, onEvent) {
  const reader = resp.body.getReader();
  const decoder = new TextDecoder("utf-8");
  let buf = "";
  const dispatch = (block) => {
    let name = "message";
    const data = [];
    for (const line of block.split(/\r?\n/)) {
      if (!line || line.startsWith(":")) continue;
      const i = line.indexOf(":");
      const field = i < 0 ? line : line.slice(0, i);
      let value = i < 0 ? "" : line.slice(i + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      if (field === "event") name = value;
      else if (field === "data") data.push(value);
    }
    if (!data.length) return;
    let parsed = data.join("\n");
    try { parsed = JSON.parse(parsed); } catch (_) { /* plain text data */ }
    onEvent(name, parsed);
  };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += decoder.decode(value, { stream: true });
    let m;
    while ((m = /\r?\n\r?\n/.exec(buf))) {
      dispatch(buf.slice(0, m.index));
      buf = buf.slice(m.index + m[0].length);
    }
  }
  buf += decoder.decode();
  if (buf.trim()) dispatch(buf);
}

// ---------------------------------------------------------------- chat

const TIMING_NAMES = { retrieve: "检索", rewrite: "改写", embed: "向量", generate: "生成", verify: "校验", total: "总计" };

function formatTimings(t) {
  return Object.entries(t || {})
    .map(([k, v]) => `${TIMING_NAMES[k] || k} ${Number(v).toFixed(Number(v) < 10 ? 1 : 0)} ms`)
    .join(" · ");
}

// Answer text with each [n] turned into a button that opens citation n.
function renderAnswer(container, text, citations) {
  container.replaceChildren();
  const re = /\[(\d+)\]/g;
  let last = 0;
  let m;
  while ((m = re.exec(text))) {
    if (m.index > last) container.append(document.createTextNode(text.slice(last, m.index)));
    const n = Number(m[1]);
    const c = citations ? citations.find((x) => x.n === n) : null;
    const btn = el("button", { type: "button", className: "cite", title: c ? `${c.source}  ${c.heading || ""}` : "引用", dataset: { n: String(n) } },
      `[${n}]`);
    if (c) btn.addEventListener("click", () => showCitation(c));
    else btn.disabled = true;
    container.append(btn);
    last = re.lastIndex;
  }
  if (last < text.length) container.append(document.createTextNode(text.slice(last)));
}

function addMessage(role, text) {
  $("empty").hidden = true;
  const body = el("div", { className: role === "user" ? "bubble" : "answer" }, text || "");
  const msg = el("div", { className: `msg ${role}` }, body);
  $("log").append(msg);
  msg.scrollIntoView({ block: "end" });
  return { msg, body };
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

function finishAnswer(view, res, question) {
  const citations = res.citations || [];
  renderAnswer(view.body, res.answer || "", citations);
  view.msg.classList.remove("streaming");
  if (res.answerable === false) {
    view.msg.classList.add("unanswerable");
    view.msg.prepend(el("p", { className: "notfound" }, "文档中没有找到答案"));
  }
  if (citations.length) {
    const list = el("ol", { className: "cite-list" });
    for (const c of citations) {
      const label = [c.title || c.source, c.heading, c.page ? `第 ${c.page} 页` : ""].filter(Boolean).join(" · ");
      list.append(el("li", {}, el("button", { type: "button", className: "cite-chip", onclick: () => showCitation(c) },
        `[${c.n}] `, label)));
    }
    view.msg.append(list);
  }
  const copy = el("button", { type: "button", className: "copy secondary" }, "复制");
  copy.addEventListener("click", () => copyText(res.answer || "", copy));
  const meta = el("div", { className: "meta" },
    el("span", { className: "generator" }, `回答：${res.generator || "?"}`),
    el("span", { className: "timings" }, formatTimings(res.timings_ms)),
    copy);
  if (res.query && res.query !== question) meta.append(el("span", { className: "query" }, `检索问题：${res.query}`));
  view.msg.append(meta);
}

// Remember which collection a citation came from, so "查看全文" still works after switching collections.
function withCollection(citations, name) {
  for (const c of citations) c.collection = name;
  return citations;
}

function showError(view, message) {
  view.msg.classList.remove("streaming");
  view.msg.classList.add("error");
  view.body.replaceChildren(document.createTextNode(`出错了：${message}`));
}

async function ask(question) {
  state.busy = true;
  $("send").disabled = true;
  addMessage("user", question);
  const view = addMessage("assistant", "");
  view.msg.classList.add("streaming");
  const gen = $("generator").value;
  const payload = { question, history: state.history.slice(), generator: gen || null, stream: true, collection: collection() };
  let text = "";
  let citations = null;
  let final = null;
  try {
    const resp = await fetch("/ask", {
      method: "POST",
      headers: headers({ "Content-Type": "application/json", Accept: "text/event-stream" }),
      body: JSON.stringify(payload),
    });
    if (!resp.ok) throw new Error(await errorMessage(resp));
    if ((resp.headers.get("content-type") || "").includes("application/json")) {
      final = await resp.json();
    } else {
      await readSSE(resp, (name, data) => {
        if (name === "token") {
          text += data && typeof data === "object" ? (data.text || "") : String(data);
          renderAnswer(view.body, text, citations);
          view.msg.scrollIntoView({ block: "end" });
        } else if (name === "citations") {
          citations = withCollection(Array.isArray(data) ? data : [], payload.collection);
          renderAnswer(view.body, text, citations);
        } else if (name === "done") {
          final = data;
        } else if (name === "error") {
          throw new Error((data && data.error && data.error.message) || (data && data.message) || String(data));
        }
      });
    }
    if (!final) throw new Error("回答中断：没有收到完整结果");
    withCollection(final.citations || [], payload.collection);
    finishAnswer(view, final, question);
    state.history.push({ role: "user", content: question }, { role: "assistant", content: final.answer || "" });
  } catch (e) {
    showError(view, e.message || String(e));
  } finally {
    state.busy = false;
    $("send").disabled = false;
  }
}

// ---------------------------------------------------------------- citation panel and document view

function openPanel() {
  $("panel").hidden = false;
  document.body.classList.add("panel-open");
}

function closePanel() {
  $("panel").hidden = true;
  document.body.classList.remove("panel-open");
}

// Passage text with [from, to) wrapped in a <mark>; offsets are clamped to the text.
function highlighted(text, from, to, cls) {
  const a = Math.max(0, Math.min(text.length, from));
  const b = Math.max(a, Math.min(text.length, to));
  const frag = document.createDocumentFragment();
  frag.append(document.createTextNode(text.slice(0, a)));
  if (b > a) frag.append(el("mark", { className: cls }, text.slice(a, b)));
  frag.append(document.createTextNode(text.slice(b)));
  return frag;
}

function showCitation(c) {
  state.current = c;
  $("panel-title").textContent = `引用 [${c.n}]`;
  $("panel-back").hidden = true;
  $("cite-view").hidden = false;
  $("doc-view").hidden = true;
  $("cite-source").textContent = c.source + (c.page ? `（第 ${c.page} 页）` : "");
  $("cite-doc-title").textContent = c.title || "—";
  $("cite-heading").textContent = c.heading || "—";
  const passage = $("passage");
  passage.replaceChildren();
  if (c.context) passage.append(el("div", { className: "context" }, c.context));
  const qs = (c.quote_start ?? c.start) - c.start;
  const qe = (c.quote_end ?? c.start) - c.start;
  if (qs >= 0 && qe <= c.text.length && qe > qs) {
    passage.append(highlighted(c.text, qs, qe, "quote"));
  } else {  // the quote lies outside the passage text: show both
    passage.append(document.createTextNode(c.text));
    if (c.quote) passage.append(el("p", { className: "quote-alone" }, "引文：", el("mark", { className: "quote" }, c.quote)));
  }
  openPanel();
  const mark = passage.querySelector("mark.quote");
  if (mark) mark.scrollIntoView({ block: "nearest" });
}

async function showDocument(docId, span) {
  openPanel();
  $("panel-title").textContent = "全文";
  $("panel-back").hidden = !span;
  $("cite-view").hidden = true;
  $("doc-view").hidden = false;
  const meta = $("doc-meta");
  const box = $("doc-text");
  meta.textContent = "正在加载…";
  box.replaceChildren();
  try {
    const d = await getJSON(`/documents/${encodeURIComponent(docId)}?collection=${encodeURIComponent(collectionFor(span))}`);
    meta.replaceChildren(el("strong", {}, d.title || d.doc_id), `  ${d.source} · ${d.text.length} 字`);
    if (!span) {
      box.append(document.createTextNode(d.text));
      box.scrollTop = 0;
      return;
    }
    // the cited chunk, with the quote inside it marked more strongly
    const s = Math.max(0, Math.min(d.text.length, span.start));
    const e = Math.max(s, Math.min(d.text.length, span.end));
    box.append(document.createTextNode(d.text.slice(0, s)));
    const chunk = el("mark", { className: "chunk", id: "cited-chunk" });
    const qs = span.quote_start ?? s;
    const qe = span.quote_end ?? s;
    if (qs >= s && qe <= e && qe > qs) chunk.append(highlighted(d.text.slice(s, e), qs - s, qe - s, "quote"));
    else chunk.append(document.createTextNode(d.text.slice(s, e)));
    box.append(chunk, document.createTextNode(d.text.slice(e)));
    chunk.scrollIntoView({ block: "center" });
  } catch (err) {
    meta.textContent = `无法打开文档：${err.message}`;
  }
}

function collectionFor(span) {
  return (span && span.collection) || collection();
}

// ---------------------------------------------------------------- knowledge base

function setStatus(text, kind) {
  const s = $("upload-status");
  s.textContent = text;
  s.className = "status" + (kind ? " " + kind : "");
}

async function loadDocuments() {
  const list = $("doc-list");
  const name = collection();
  list.replaceChildren(el("li", { className: "muted" }, "正在加载…"));
  $("doc-count").textContent = "";
  try {
    const body = await getJSON(`/documents?collection=${encodeURIComponent(name)}`);
    list.replaceChildren();
    $("doc-count").textContent = `（${body.documents.length}）`;
    if (!body.documents.length) list.append(el("li", { className: "muted" }, "还没有文档"));
    for (const d of body.documents) {
      const info = [d.source, `${d.chars} 字`, `${d.passages} 段`];
      if (d.meta && d.meta.page_count) info.push(`${d.meta.page_count} 页`);
      list.append(el("li", { className: "doc-item", dataset: { docId: d.doc_id } },
        el("button", { type: "button", className: "doc-open link", title: "查看全文", onclick: () => showDocument(d.doc_id, null) },
          d.title || d.doc_id),
        el("span", { className: "doc-info" }, info.join(" · ")),
        el("button", { type: "button", className: "delete secondary", onclick: () => deleteDocument(d) }, "删除")));
    }
  } catch (err) {
    list.replaceChildren(el("li", { className: "muted" }, err.status === 404
      ? `知识库「${name}」还没有文档，上传文件即可创建。`
      : `无法列出文档：${err.message}`));
  }
}

function describeReport(r) {
  const n = (x) => (x || []).length;
  const parts = [`已索引到「${r.collection}」：新增 ${n(r.added)}，更新 ${n(r.updated)}，未变 ${n(r.unchanged)}`];
  if (n(r.deleted)) parts.push(`删除 ${n(r.deleted)}`);
  let text = parts.join("，");
  if (r.n_documents !== undefined) text += `（共 ${r.n_documents} 篇文档，${r.n_chunks} 个段落）`;
  return text;
}

function upload(files) {
  files = Array.from(files || []);
  if (!files.length) return;
  const name = collection();
  const form = new FormData();
  for (const f of files) form.append("files", f, f.name);
  form.append("collection", name);
  const names = files.map((f) => f.name).join("、");
  setStatus(`正在上传 ${names}…`, "busy");
  const xhr = new XMLHttpRequest();
  xhr.open("POST", "/documents");
  for (const [k, v] of Object.entries(headers())) xhr.setRequestHeader(k, v);
  xhr.upload.addEventListener("progress", (e) => {
    if (e.lengthComputable && e.loaded < e.total) setStatus(`正在上传 ${names}… ${Math.round((100 * e.loaded) / e.total)}%`, "busy");
  });
  xhr.upload.addEventListener("load", () => setStatus(`正在索引… ${names}`, "busy"));
  xhr.addEventListener("load", () => {
    let body = null;
    try { body = JSON.parse(xhr.responseText); } catch (_) { body = null; }
    if (xhr.status === 202 && body && window.ragJobs) return window.ragJobs.track(body); // a background job: jobs.js
    if (xhr.status >= 200 && xhr.status < 300 && body) {
      setStatus(describeReport(body), "ok");
      loadDocuments();
    } else {
      const msg = body && body.error ? body.error.message : `HTTP ${xhr.status}`;
      setStatus(`上传失败：${msg}`, "error");
    }
  });
  xhr.addEventListener("error", () => setStatus("上传失败：无法连接服务器", "error"));
  xhr.send(form);
  $("file-input").value = "";
}

async function deleteDocument(d) {
  const name = collection();
  if (!window.confirm(`确定从知识库「${name}」删除「${d.title || d.doc_id}」吗？`)) return;
  setStatus(`正在删除 ${d.source}…`, "busy");
  try {
    const r = await getJSON(`/documents/${encodeURIComponent(d.doc_id)}?collection=${encodeURIComponent(name)}`, { method: "DELETE" });
    setStatus(`已删除「${(r.deleted || [d.doc_id]).join("、")}」（剩余 ${r.n_documents ?? "?"} 篇文档）`, "ok");
  } catch (err) {
    setStatus(`删除失败：${err.message}`, "error");
  }
  loadDocuments();
}

// ---------------------------------------------------------------- wiring

function init() {
  const q = $("question");
  $("ask-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = q.value.trim();
    if (!text || state.busy) return;
    q.value = "";
    ask(text);
  });
  q.addEventListener("keydown", (e) => {
    // Enter sends, Shift+Enter is a new line; never while an input method is composing Chinese
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      $("ask-form").requestSubmit();
    }
  });
  $("new-chat").addEventListener("click", () => {
    state.history = [];
    $("log").replaceChildren($("empty"));
    $("empty").hidden = false;
    closePanel();
    q.focus();
  });
  $("panel-close").addEventListener("click", closePanel);
  $("panel-back").addEventListener("click", () => state.current && showCitation(state.current));
  $("open-doc").addEventListener("click", (e) => {
    e.preventDefault();
    const c = state.current;
    if (c) showDocument(c.doc_id, c);
  });
  document.addEventListener("keydown", (e) => { if (e.key === "Escape" && !$("panel").hidden) closePanel(); });

  const coll = $("collection");
  coll.value = localStorage.getItem("rag.collection") || coll.value;
  coll.addEventListener("change", () => {
    localStorage.setItem("rag.collection", collection());
    loadDocuments();
  });
  $("refresh-docs").addEventListener("click", loadDocuments);
  const key = $("api-key");
  key.value = sessionStorage.getItem("rag.key") || "";
  key.addEventListener("change", () => { sessionStorage.setItem("rag.key", key.value.trim()); loadDocuments(); });

  $("file-input").addEventListener("change", (e) => upload(e.target.files));
  const drop = $("drop");
  for (const ev of ["dragenter", "dragover"]) {
    drop.addEventListener(ev, (e) => { e.preventDefault(); drop.classList.add("over"); });
  }
  for (const ev of ["dragleave", "drop"]) {
    drop.addEventListener(ev, (e) => { e.preventDefault(); drop.classList.remove("over"); });
  }
  drop.addEventListener("drop", (e) => upload(e.dataTransfer.files));
  // a file dropped anywhere else must not make the browser navigate away from the conversation
  window.addEventListener("dragover", (e) => e.preventDefault());
  window.addEventListener("drop", (e) => e.preventDefault());

  if (window.matchMedia("(max-width: 760px)").matches) $("kb").open = false;
  loadDocuments();
}

init();
