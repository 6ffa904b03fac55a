// The chat page: plain JS, no framework; render.js (answers) and chat.js (asking, conversations) load first.
// Document text is inserted as text nodes; answers are Markdown rendered and sanitized in render.js.
"use strict";

const $ = (id) => document.getElementById(id);

const state = {
  conv: null,           // the conversation on screen: {id, title, messages: [{role, content, answer?, status?}]}
  convs: [],            // the saved conversations (summaries), newest first
  runs: new Map(),      // conversation -> {controller, view} of the answer it is waiting for
  queued: null,         // a question typed while the answer was running, sent when it ends
  editFrom: null,       // index of the question being edited: sending replaces it and what follows
  current: null,        // the citation shown in the panel
  admin: false,         // may delete documents (admin key, or a server without keys)
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

// ---------------------------------------------------------------- errors in plain Chinese

const OFFLINE = "无法连接服务器，请稍后重试";
const ERROR_ZH = {
  too_large: "内容太长或文件太大",
  bad_input: "输入有误",
  invalid_request: "请求格式有误",
  unauthorized: "需要正确的 API 密钥（在左侧“知识库”最下方填写）",
  forbidden: "这个操作需要管理员密钥",
  not_found: "找不到这个知识库或文档",
  index_not_found: "这个知识库还没有文档，请先上传",
  index_busy: "知识库正在更新，请稍后重试",
  unsupported_format: "不支持这种文件格式",
  decode_error: "无法读取文件内容",
  config_error: "服务端配置有误，请联系管理员",
  generation_error: "生成回答失败",
  generation_timeout: "生成回答超时",
  internal_error: "服务器内部错误，请稍后重试",
};

// An Error carrying the server's code and message ({"error": {"code", "message"}}), worded in Chinese.
async function responseError(resp) {
  let code = "";
  let detail = "";
  try {
    const body = JSON.parse(await resp.text());
    if (body && body.error) { code = body.error.code || ""; detail = body.error.message || ""; }
  } catch (_) { /* not JSON */ }
  const err = new Error(chineseError(code, detail, resp.status));
  err.status = resp.status;
  err.code = code;
  return err;
}

function chineseError(code, detail, status) {
  if (code === "bad_input" && /empty file/.test(detail)) return `文件是空的（${detail.replace(/: empty file$/, "")}）`;
  const head = ERROR_ZH[code] || (status >= 500 ? "服务器出错，请稍后重试" : "请求失败");
  return detail ? `${head}（${detail}）` : `${head}（HTTP ${status}）`;
}

// fetch() that turns "Failed to fetch" into the Chinese message, marked so the caller can offer 重试.
async function request(url, opts) {
  try {
    return await fetch(url, opts);
  } catch (e) {
    if (e.name === "AbortError") throw e;
    const err = new Error(OFFLINE);
    err.offline = true;
    throw err;
  }
}

async function getJSON(url, opts) {
  const o = Object.assign({}, opts || {});
  o.headers = headers(o.headers);
  const resp = await request(url, o);
  if (!resp.ok) throw await responseError(resp);
  return resp.json();
}

function sendJSON(url, method, body) {
  return getJSON(url, { method, headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
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
    meta.textContent = err.status === 404 && span
      ? "这篇文档已从知识库中删除，无法查看全文；上一页的引文是回答时的原文。"
      : `无法打开文档：${err.message}`;
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

async function loadPermissions() {
  try {
    state.admin = (await getJSON("/me")).admin;
  } catch (_) {
    state.admin = false;
  }
}

// The document list of the collection named above it. Loading another collection shows "正在加载…" first; refreshing
// the one listed (after an upload, a deletion or a job) updates the list in place: a row whose document is unchanged
// keeps its elements, so a click on its 删除 lands even while the page refreshes around it.
let docListLoads = 0;

function docItem(d, view) {
  const info = [d.source, `${d.chars} 字`, `${d.passages} 段`];
  if (d.meta && d.meta.page_count) info.push(`${d.meta.page_count} 页`);
  const item = el("li", { className: "doc-item", dataset: { docId: d.doc_id, view } },
    el("button", { type: "button", className: "doc-open link", title: "查看全文", onclick: () => showDocument(d.doc_id, null) },
      d.title || d.doc_id),
    el("span", { className: "doc-info" }, info.join(" · ")));
  if (state.admin) {
    const del = el("button", { type: "button", className: "delete secondary", onclick: () => deleteDocument(d) }, "删除");
    del.setAttribute("aria-label", `删除文档：${d.title || d.doc_id}`);
    item.append(del);
  }
  return item;
}

function placeRows(list, rows) {
  const keep = new Set(rows);
  for (const child of [...list.children]) if (!keep.has(child)) child.remove();
  rows.forEach((row, i) => { if (list.children[i] !== row) list.insertBefore(row, list.children[i] || null); });
}

async function loadDocuments() {
  const list = $("doc-list");
  const name = collection();
  const load = ++docListLoads;
  if (list.dataset.collection !== name) {
    delete list.dataset.collection;
    list.replaceChildren(el("li", { className: "muted" }, "正在加载…"));
    $("doc-count").textContent = "";
  }
  try {
    const body = await getJSON(`/documents?collection=${encodeURIComponent(name)}`);
    if (load !== docListLoads) return; // a later load (another collection, or a newer refresh) draws the list
    $("doc-count").textContent = `（${body.documents.length}）`;
    const shown = new Map([...list.querySelectorAll(":scope > .doc-item")].map((li) => [li.dataset.docId, li]));
    const rows = body.documents.map((d) => {
      const view = JSON.stringify([d.title, d.source, d.chars, d.passages, (d.meta || {}).page_count, state.admin]);
      const have = shown.get(d.doc_id);
      return have && have.dataset.view === view ? have : docItem(d, view);
    });
    placeRows(list, rows.length ? rows : [el("li", { className: "muted" }, "还没有文档")]);
    list.dataset.collection = name;
  } catch (err) {
    if (load !== docListLoads) return;
    delete list.dataset.collection;
    $("doc-count").textContent = "";
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
      const e = (body && body.error) || {};
      setStatus(`上传失败：${chineseError(e.code, e.message, xhr.status)}`, "error");
    }
  });
  xhr.addEventListener("error", () => setStatus(`上传失败：${OFFLINE}`, "error"));
  xhr.send(form);
  $("file-input").value = "";
}

async function deleteDocument(d) {
  const name = collection();
  if (!window.confirm(`确定从知识库「${name}」删除「${d.title || d.doc_id}」吗？删除后，引用它的旧回答将无法查看全文。`)) return;
  setStatus(`正在删除「${d.title || d.source}」…`, "busy");
  const url = `/documents/${encodeURIComponent(d.doc_id)}?collection=${encodeURIComponent(name)}`;
  try {
    const r = await getJSON(url, { method: "DELETE" });
    setStatus(`已删除「${(r.deleted || [d.doc_id]).join("、")}」（剩余 ${r.n_documents ?? "?"} 篇文档）`, "ok");
  } catch (err) {
    if (err.code === "index_busy" && window.ragJobs) {
      // an indexing job holds the collection: the deletion queues behind it as a job of its own (jobs.js)
      try {
        return window.ragJobs.track(await getJSON(url, { method: "DELETE", headers: { Prefer: "respond-async" } }));
      } catch (err2) {
        err = err2;
      }
    }
    setStatus(`删除失败：${err.message}`, "error");
  }
  loadDocuments();
}

// ---------------------------------------------------------------- wiring

function grow(q) {
  q.style.height = "auto";
  q.style.height = `${Math.min(q.scrollHeight + 2, 200)}px`;
}

async function init() {
  const q = $("question");
  $("ask-form").addEventListener("submit", (e) => {
    e.preventDefault();
    submitQuestion();
  });
  q.addEventListener("keydown", (e) => {
    // Enter sends, Shift+Enter is a new line; never while an input method is composing Chinese
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      submitQuestion();
    } else if (e.key === "Escape" && state.editFrom !== null) {
      state.editFrom = null;
      q.value = "";
      setNote("");
    }
  });
  q.addEventListener("input", () => grow(q));
  $("stop").addEventListener("click", stop);
  $("new-chat").addEventListener("click", startNewConversation);
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
    // the input also fires "change" when it loses focus (to a click on the list): the same name reloads nothing
    if ($("doc-list").dataset.collection !== collection()) loadDocuments();
  });
  $("refresh-docs").addEventListener("click", loadDocuments);
  const key = $("api-key");
  key.value = sessionStorage.getItem("rag.key") || "";
  key.addEventListener("change", async () => {
    sessionStorage.setItem("rag.key", key.value.trim());
    startNewConversation();  // the conversation on screen belongs to the previous key
    await loadPermissions();
    loadDocuments();
    loadConversations();
  });

  $("file-input").addEventListener("change", (e) => upload(e.target.files));
  const drop = $("drop");
  drop.addEventListener("keydown", (e) => {
    if (e.key === "Enter" || e.key === " ") { e.preventDefault(); $("file-input").click(); }
  });
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

  if (window.matchMedia("(max-width: 760px)").matches) { $("kb").open = false; $("convs").open = false; }
  state.conv = newConversation();
  renderConversation(state.conv);
  q.focus();
  await loadPermissions();
  loadDocuments();
  await loadConversations();
  const last = localStorage.getItem("rag.conv");
  if (last && state.convs.some((c) => c.id === last) && !state.conv.messages.length) openConversation(last);
}

init();
