// Asking (stream, draft, stop, regenerate, edit, queue) and the saved conversations (list, save, rename, delete,
// export). Loaded before app.js, which defines $, el, state and the request helpers.
"use strict";

// ---------------------------------------------------------------- asking

function historyOf(conv) {
  const out = [];
  const ms = conv.messages;
  for (let i = 0; i + 1 < ms.length; i++) {
    if (ms[i].role === "user" && ms[i + 1].role === "assistant" && ms[i + 1].answer && !ms[i + 1].status) {
      out.push({ role: "user", content: ms[i].content.slice(0, 2000) },
        { role: "assistant", content: (ms[i + 1].answer.answer || "").slice(0, 2000) });
    }
  }
  // the server reads only the last few turns and bounds the history (RAG_MAX_HISTORY_TURNS / _CHARS): send those
  return out.slice(-6);
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
