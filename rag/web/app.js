// The chat page: plain JS, no framework. Document text is inserted as text nodes; answers are Markdown rendered by
// the vendored marked and sanitized by the vendored DOMPurify before they reach the page.
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

// ---------------------------------------------------------------- asking

function historyOf(conv) {
  const out = [];
  const ms = conv.messages;
  for (let i = 0; i + 1 < ms.length; i++) {
    if (ms[i].role === "user" && ms[i + 1].role === "assistant" && ms[i + 1].answer && !ms[i + 1].status) {
      out.push({ role: "user", content: ms[i].content }, { role: "assistant", content: ms[i + 1].answer.answer || "" });
    }
  }
  return out;
}

async function ask(question) {
  const conv = state.conv;
  if (state.editFrom !== null) {
    conv.messages.splice(state.editFrom);
    state.editFrom = null;
    renderConversation(conv);
  }
  setNote("");
  const history = historyOf(conv);
  conv.messages.push({ role: "user", content: question, created: Date.now() / 1000 });
  addUser(question, conv.messages.length - 1);
  const view = addAssistant();
  view.msg.classList.add("streaming");
  setStage(view, "正在检索…");
  const run = { controller: new AbortController(), view };
  state.runs.set(conv, run);
  updateControls();
  const gen = $("generator").value;
  const payload = { question, history, generator: gen || null, stream: true, draft: true, collection: collection() };
  const m = { role: "assistant", content: "", created: Date.now() / 1000 };
  let text = "";
  let citations = null;
  let draft = null;
  let final = null;
  try {
    const resp = await request("/ask", {
      method: "POST", signal: run.controller.signal,
      headers: headers({ "Content-Type": "application/json", Accept: "text/event-stream" }),
      body: JSON.stringify(payload),
    });
    if (!resp.ok) throw await responseError(resp);
    if ((resp.headers.get("content-type") || "").includes("application/json")) {
      final = await resp.json();
    } else {
      await readSSE(resp, (name, data) => {
        if (name === "draft") {
          draft = withCollection(data, payload.collection);
          finishAnswer(view, draft, question, null);
          view.msg.classList.add("streaming", "draft");
          setStage(view, "已显示快速摘录，智能回答正在生成…");
        } else if (name === "stage") {
          if (!draft) setStage(view, "正在生成…");
        } else if (name === "token") {
          text += data && typeof data === "object" ? (data.text || "") : String(data);
          if (!text) return;
          if (draft) {
            let live = view.msg.querySelector(".live");
            if (!live) {
              live = el("div", { className: "live" }, el("p", { className: "live-title" }, "智能回答（生成中，完成后会校验引用）："),
                el("div", { className: "live-text" }));
              view.msg.insertBefore(live, view.msg.querySelector(".cite-list") || null);
            }
            live.querySelector(".live-text").textContent = text;
          } else {
            setStage(view, "");
            renderAnswer(view.body, text, citations);
          }
        } else if (name === "citations") {
          citations = (Array.isArray(data) ? data : []).map((c) => Object.assign(c, { collection: payload.collection }));
          if (!draft) renderAnswer(view.body, text, citations);
        } else if (name === "done") {
          final = data;
        } else if (name === "error") {
          throw new Error((data && data.error && data.error.message) || (data && data.message) || String(data));
        }
      });
    }
    if (!final) throw new Error("回答中断：没有收到完整结果，请重试");
    withCollection(final, payload.collection);
    const failed = final.answerable === false || /fallback from/.test(final.generator || "");
    if (draft && failed) {
      m.answer = draft;
      m.note = final.answerable === false ? "智能回答没有找到有依据的答案，保留上面的快速摘录。" : "智能回答未能完成，保留上面的快速摘录。";
    } else {
      m.answer = final;
      if (draft) m.note = "快速摘录已替换为智能回答（引用已校验）。";
      else if (text && text.trim() !== (final.answer || "").trim()) {
        m.note = final.answerable === false ? "生成的文字没有通过引用校验，已改为拒答。" : "生成的文字经引用校验后有所修改，以下为校验后的回答。";
      }
    }
    m.content = m.answer.answer || "";
    conv.messages.push(m);
    finishAnswer(view, m.answer, question, m);
    if (m.note) note(view, m.note, draft && !failed ? "" : "warn");
  } catch (e) {
    if (e.name === "AbortError") {
      m.status = "stopped";
      m.content = draft ? draft.answer : text;
      if (draft) { m.answer = draft; finishAnswer(view, draft, question, null); } else {
        setStage(view, "");
        view.msg.classList.remove("streaming");
        if (text) renderAnswer(view.body, text, citations);
      }
      m.note = draft ? "已停止生成，保留快速摘录。" : "已停止生成。";
      note(view, m.note, "warn");
    } else {
      m.status = "error";
      m.content = e.offline || e instanceof TypeError ? OFFLINE : (e.message || String(e));
      const retry = () => { dropTurn(conv, view, question); if (state.conv === conv) ask(question); };
      showError(view, m.content, retry);
      if (m.content === OFFLINE && !$("question").value && state.conv === conv) $("question").value = question;
    }
    conv.messages.push(m);
  } finally {
    state.runs.delete(conv);
    updateControls();
    if (state.conv === conv) view.msg.scrollIntoView({ block: "end" });
    save(conv);
    if (state.queued && state.conv === conv) {
      const q = state.queued;
      state.queued = null;
      ask(q);
    }
  }
}

// A failed question and its error, taken out before it is asked again.
function dropTurn(conv, view, question) {
  const i = conv.messages.length - 2;
  if (i >= 0 && conv.messages[i].content === question) conv.messages.splice(i, 2);
  view.msg.previousElementSibling?.remove();
  view.msg.remove();
  if ($("question").value === question) $("question").value = "";
}

function regenerate() {
  const conv = state.conv;
  const ms = conv.messages;
  let i = ms.length - 1;
  while (i >= 0 && ms[i].role !== "user") i--;
  if (i < 0 || state.runs.has(conv)) return;
  const question = ms[i].content;
  state.editFrom = i;
  ask(question);
}

function startEdit(index) {
  const conv = state.conv;
  if (state.runs.has(conv)) { setNote("回答还在生成，请先停止或等它完成，再编辑问题。"); return; }
  state.editFrom = index;
  const q = $("question");
  q.value = conv.messages[index].content;
  grow(q);
  q.focus();
  setNote("正在修改这个问题：发送后，它和之后的对话会被替换。按 Esc 取消。", () => { state.editFrom = null; q.value = ""; setNote(""); });
}

function stop() {
  const run = state.runs.get(state.conv);
  if (run) run.controller.abort();
}

function setNote(text, cancel) {
  const n = $("ask-note");
  n.replaceChildren();
  if (text) n.append(text);
  if (cancel) n.append(" ", el("button", { type: "button", className: "link", onclick: cancel }, "取消"));
  n.hidden = !text;
}

function updateControls() {
  const running = state.runs.has(state.conv);
  $("stop").hidden = !running;
  $("send").textContent = running ? "排队" : "发送";
  for (const b of document.querySelectorAll(".msg .edit, .regen")) b.disabled = running;
  document.querySelector(".regen")?.remove();
  const last = [...document.querySelectorAll("#log .msg.assistant")].pop();
  if (!running && last && state.conv.messages.length) {
    const meta = last.querySelector(".meta") || last;
    meta.append(el("button", { type: "button", className: "regen secondary", onclick: regenerate }, "重新生成"));
  }
}

function submitQuestion() {
  const q = $("question");
  const text = q.value.trim();
  if (!text) return;
  q.value = "";
  grow(q);
  if (state.runs.has(state.conv)) {
    state.queued = text;
    setNote(`上一个回答还在生成，“${text.slice(0, 30)}”会在它完成后自动发送；点“停止”可立即结束。`,
      () => { state.queued = null; q.value = text; setNote(""); });
    return;
  }
  ask(text);
}

// ---------------------------------------------------------------- conversations

function newConversation() {
  return { id: null, title: "", messages: [] };
}

function renderConversation(conv) {
  const log = $("log");
  log.replaceChildren($("empty"));
  $("empty").hidden = conv.messages.length > 0;
  let question = "";
  conv.messages.forEach((m, i) => {
    if (m.role === "user") { question = m.content; addUser(m.content, i); return; }
    const view = addAssistant();
    setStage(view, "");
    if (m.status === "error") showError(view, m.content);
    else if (m.answer) finishAnswer(view, m.answer, question, m.status ? null : m);
    else if (m.content) renderAnswer(view.body, m.content, null);
    if (m.note) note(view, m.note, "warn");
  });
  const run = state.runs.get(conv);
  if (run) log.append(run.view.msg);  // its answer is still arriving
  updateControls();
  renderConversationList();
}

// Saves are chained per conversation: the first creates it on the server, the later ones replace its messages.
function save(conv) {
  if (!conv.messages.length) return Promise.resolve();
  conv.saving = (conv.saving || Promise.resolve()).then(async () => {
    const messages = conv.messages.map((m) => ({ role: m.role, content: m.content, answer: m.answer || null,
      created: m.created, status: m.status || null, note: m.note || null, feedback: m.feedback || null }));
    try {
      const body = conv.id ? await sendJSON(`/conversations/${encodeURIComponent(conv.id)}`, "PATCH", { messages })
        : await sendJSON("/conversations", "POST", { messages });
      conv.id = body.id;
      conv.title = body.title;
      if (state.conv === conv) localStorage.setItem("rag.conv", conv.id);
      await loadConversations();
    } catch (err) {
      if (state.conv === conv) setNote(`对话未能保存：${err.message}`);
    }
  });
  return conv.saving;
}

function fromServer(body) {
  return {
    id: body.id, title: body.title,
    messages: body.messages.map((m) => ({ role: m.role, content: m.content, created: m.created, answer: m.answer || null,
      status: m.status, note: m.note, feedback: m.feedback })),
  };
}

async function loadConversations() {
  try {
    const body = await getJSON("/conversations");
    state.convs = body.conversations;
  } catch (err) {
    state.convs = [];
    $("conv-list").replaceChildren(el("li", { className: "muted" }, `无法读取对话：${err.message}`));
    return;
  }
  renderConversationList();
}

function formatDate(sec) {
  const d = new Date(sec * 1000);
  const now = new Date();
  const time = d.toLocaleTimeString("zh-CN", { hour: "2-digit", minute: "2-digit" });
  return d.toDateString() === now.toDateString() ? `今天 ${time}` : `${d.getMonth() + 1}月${d.getDate()}日 ${time}`;
}

function renderConversationList() {
  const list = $("conv-list");
  list.replaceChildren();
  if (!state.convs.length) list.append(el("li", { className: "muted" }, "还没有保存的对话"));
  for (const c of state.convs) {
    const current = state.conv && state.conv.id === c.id;
    const open = el("button", { type: "button", className: "conv-open link", onclick: () => openConversation(c.id) },
      el("span", { className: "conv-title" }, c.title || "新对话"), el("span", { className: "conv-date" }, formatDate(c.updated)));
    if (current) open.setAttribute("aria-current", "true");
    const rename = el("button", { type: "button", className: "conv-rename icon", title: "重命名", onclick: () => renameConversation(c) }, "✎");
    rename.setAttribute("aria-label", `重命名对话：${c.title}`);
    const del = el("button", { type: "button", className: "conv-delete icon", title: "删除", onclick: () => deleteConversation(c) }, "×");
    del.setAttribute("aria-label", `删除对话：${c.title}`);
    list.append(el("li", { className: "conv-item" + (current ? " current" : ""), dataset: { id: c.id } }, open, rename, del));
  }
  if (state.conv && state.conv.messages.length) {
    list.append(el("li", { className: "conv-export" }, "导出当前对话：",
      el("button", { type: "button", className: "link", id: "export-md", onclick: () => exportConversation("md") }, "Markdown"),
      " · ",
      el("button", { type: "button", className: "link", id: "export-json", onclick: () => exportConversation("json") }, "JSON")));
  }
}

async function openConversation(id) {
  if (state.conv && state.conv.id === id) return;
  try {
    const cached = [...state.runs.keys()].find((c) => c.id === id);
    state.conv = cached || fromServer(await getJSON(`/conversations/${encodeURIComponent(id)}`));
    state.editFrom = null;
    state.queued = null;
    setNote("");
    localStorage.setItem("rag.conv", id);
    renderConversation(state.conv);
    closePanel();
  } catch (err) {
    setNote(err.status === 404 ? "这个对话已被删除。" : `无法打开对话：${err.message}`);
    loadConversations();
  }
}

async function renameConversation(c) {
  const title = window.prompt("新的对话名称：", c.title);
  if (title === null || !title.trim()) return;
  try {
    await sendJSON(`/conversations/${encodeURIComponent(c.id)}`, "PATCH", { title: title.trim() });
    if (state.conv && state.conv.id === c.id) state.conv.title = title.trim();
    await loadConversations();
  } catch (err) {
    setNote(`重命名失败：${err.message}`);
  }
}

async function deleteConversation(c) {
  if (!window.confirm(`确定删除对话「${c.title}」吗？删除后无法恢复。`)) return;
  try {
    await getJSON(`/conversations/${encodeURIComponent(c.id)}`, { method: "DELETE" });
    if (state.conv && state.conv.id === c.id) startNewConversation();
    await loadConversations();
  } catch (err) {
    setNote(`删除失败：${err.message}`);
  }
}

function startNewConversation() {
  state.conv = newConversation();
  state.editFrom = null;
  state.queued = null;
  localStorage.removeItem("rag.conv");
  setNote("");
  renderConversation(state.conv);
  closePanel();
  $("question").focus();
}

function exportConversation(kind) {
  const conv = state.conv;
  const title = conv.title || "对话";
  let text;
  if (kind === "json") {
    text = JSON.stringify({ id: conv.id, title, exported: new Date().toISOString(),
      messages: conv.messages.map((m) => ({ role: m.role, content: m.content, answer: m.answer || null })) }, null, 2);
  } else {
    const lines = [`# ${title}`, "", `导出时间：${new Date().toLocaleString("zh-CN")}`, ""];
    for (const m of conv.messages) {
      if (m.role === "user") lines.push(`## 问：${m.content}`, "");
      else lines.push(m.answer ? answerWithSources(m.answer) : m.content, "");
    }
    text = lines.join("\n");
  }
  const blob = new Blob([text], { type: kind === "json" ? "application/json" : "text/markdown" });
  const a = el("a", { href: URL.createObjectURL(blob), download: `${title.replace(/[\\/:*?"<>|\s]+/g, "_").slice(0, 40)}.${kind}` });
  document.body.append(a);
  a.click();
  setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
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
      const item = el("li", { className: "doc-item", dataset: { docId: d.doc_id } },
        el("button", { type: "button", className: "doc-open link", title: "查看全文", onclick: () => showDocument(d.doc_id, null) },
          d.title || d.doc_id),
        el("span", { className: "doc-info" }, info.join(" · ")));
      if (state.admin) {
        const del = el("button", { type: "button", className: "delete secondary", onclick: () => deleteDocument(d) }, "删除");
        del.setAttribute("aria-label", `删除文档：${d.title || d.doc_id}`);
        item.append(del);
      }
      list.append(item);
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
  try {
    const r = await getJSON(`/documents/${encodeURIComponent(d.doc_id)}?collection=${encodeURIComponent(name)}`, { method: "DELETE" });
    setStatus(`已删除「${(r.deleted || [d.doc_id]).join("、")}」（剩余 ${r.n_documents ?? "?"} 篇文档）`, "ok");
  } catch (err) {
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
    loadDocuments();
  });
  $("refresh-docs").addEventListener("click", loadDocuments);
  const key = $("api-key");
  key.value = sessionStorage.getItem("rag.key") || "";
  key.addEventListener("change", async () => {
    sessionStorage.setItem("rag.key", key.value.trim());
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
