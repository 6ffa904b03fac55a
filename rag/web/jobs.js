// Background indexing jobs on the chat page: a progress bar per job (stage, passages, speed, time left), a cancel
// button, and the files that failed with their reason. Job ids are kept in localStorage, so a reload finds the
// running jobs again and goes on polling them. The upload code calls window.ragJobs.track(job) on a 202 answer, and
// so does a deletion that had to queue behind a running job. Jobs outlive a restart of the service: one it
// interrupted says so, and whether anything of it was published.
"use strict";

(() => {
  const KEY = "rag.jobs";
  const POLL_MS = 700;
  const STAGES = { queued: "排队中", reading: "读取文件", chunking: "切分段落", embedding: "向量化", publishing: "发布索引", done: "完成" };
  const byId = (id) => document.getElementById(id);

  // el("p", {className: "x"}, "text", child…): strings become text nodes, never markup (file names are user data).
  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else if (k === "dataset") Object.assign(node.dataset, v);
      else node[k] = v;
    }
    for (const c of children) if (c !== null && c !== undefined) node.append(typeof c === "string" ? document.createTextNode(c) : c);
    return node;
  }

  function authHeaders() {
    const key = byId("api-key") ? byId("api-key").value.trim() : "";
    return key ? { Authorization: "Bearer " + key } : {};
  }

  function stored() {
    try { return JSON.parse(localStorage.getItem(KEY) || "[]").filter((x) => x && typeof x.id === "string"); } catch (_) { return []; }
  }
  function store(list) { localStorage.setItem(KEY, JSON.stringify(list)); }
  function remember(job) {
    const list = stored().filter((x) => x.id !== job.id);
    list.push({ id: job.id, collection: job.collection });
    store(list.slice(-20));
  }
  function forget(id) { store(stored().filter((x) => x.id !== id)); }

  function box() {
    let b = byId("jobs");
    if (!b) {
      b = el("div", { id: "jobs", className: "jobs" });
      b.setAttribute("aria-live", "polite");
      const anchor = byId("upload-status");
      anchor.parentNode.insertBefore(b, anchor.nextSibling);
    }
    return b;
  }

  function seconds(s) {
    if (s === null || s === undefined) return "";
    s = Math.max(0, Math.round(s));
    return s >= 60 ? `${Math.floor(s / 60)} 分 ${s % 60} 秒` : `${s} 秒`;
  }

  // Share of the whole job done: reading and chunking are quick, embedding is most of it.
  function percent(j) {
    if (j.state === "done") return 100;
    const files = j.files_total ? j.files_read / j.files_total : 0;
    const passages = j.passages_total ? j.passages_done / j.passages_total : 0;
    switch (j.stage) {
      case "reading": return 10 * files;
      case "chunking": return 12;
      case "embedding": return 15 + 80 * passages;
      case "publishing": return 97;
      default: return 0;
    }
  }

  function describe(j) {
    const del = j.kind === "delete";
    const parts = [`「${j.collection}」`, del ? `删除「${(j.documents || []).join("、")}」` : "", STAGES[j.stage] || j.stage].filter(Boolean);
    if (j.state === "queued" && j.queue_position) parts.push(`前面还有 ${j.queue_position - 1} 个任务`);
    if (!del) parts.push(`文件 ${j.files_read}/${j.files_total}`);
    if (j.passages_total) parts.push(`段落 ${j.passages_done}/${j.passages_total}`);
    if (j.state === "running" && j.passages_per_s) parts.push(`${j.passages_per_s.toFixed(1)} 段/秒`);
    if (j.state === "running" && j.eta_s !== null && j.eta_s !== undefined && j.stage === "embedding") parts.push(`预计剩余 ${seconds(j.eta_s)}`);
    if (j.state === "done" && j.report && del) {
      parts.splice(1, parts.length - 1, `已删除「${(j.report.deleted || []).join("、")}」（剩余 ${j.report.n_documents} 篇文档）`);
    } else if (j.state === "done" && j.report) {
      const n = (x) => (x || []).length;
      parts.splice(1, parts.length - 1, `已完成：新增 ${n(j.report.added)}，更新 ${n(j.report.updated)}，未变 ${n(j.report.unchanged)}（共 ${j.report.n_documents} 篇文档，${j.report.n_chunks} 个段落）`);
    }
    if (j.state === "failed" && del) {
      parts.splice(1, parts.length - 1, `删除失败：${j.error ? j.error.message : "未知错误"}`);
    } else if (j.state === "failed") {
      const n = (j.failed || []).length;
      parts.splice(1, parts.length - 1, n ? `索引失败：${n} 个文件无法读取，本次上传未索引任何文件` : `索引失败：${j.error ? j.error.message : "未知错误"}`);
    }
    if (j.state === "cancelled") parts.splice(1, parts.length - 1, "已取消，知识库未改变");
    if (j.state === "interrupted") {
      const p = (j.interrupted || {}).published;
      const what = p === true ? "发布时服务重启，内容可能已经生效，请查看文档列表" : p === false ? "知识库未改变，请重新提交" : "请查看文档列表后决定是否重新提交";
      parts.splice(1, parts.length - 1, `任务因服务停止或重启而中断：${what}`);
    }
    return parts.join(" · ");
  }

  function row(id) {
    let r = box().querySelector(`[data-job-id="${CSS.escape(id)}"]`);
    if (!r) {
      const bar = el("progress", { className: "job-bar", max: 100, value: 0 });
      bar.style.width = "100%";
      const cancel = el("button", { type: "button", className: "secondary job-cancel", onclick: () => cancelJob(id) }, "取消");
      const close = el("button", { type: "button", className: "link job-close", hidden: true, onclick: () => r.remove() }, "关闭");
      r = el("div", { className: "job", dataset: { jobId: id } },
        el("p", { className: "job-text status busy" }), bar, el("ul", { className: "job-failed" }), cancel, close);
      r.style.margin = "6px 0";
      box().append(r);
    }
    return r;
  }

  function render(j) {
    const r = row(j.id);
    const final = !["queued", "running"].includes(j.state);
    r.dataset.state = j.state;
    r.dataset.stage = j.stage;
    const text = r.querySelector(".job-text");
    text.textContent = describe(j);
    text.className = "job-text status " + (j.state === "done" ? "ok" : final ? "error" : "busy");
    const bar = r.querySelector(".job-bar");
    bar.value = percent(j);
    bar.title = `${Math.round(bar.value)}%`;
    const failed = r.querySelector(".job-failed");
    // a reason names its file already ("旧通知.doc: 不支持…"); otherwise the name goes first
    failed.replaceChildren(...(j.failed || []).map((f) => el("li", { className: "job-failed-file" },
      f.reason.startsWith(f.file) ? f.reason : `${f.file}：${f.reason}`)));
    r.querySelector(".job-cancel").hidden = final || j.stage === "publishing";
    r.querySelector(".job-close").hidden = !final;
    if (final) bar.hidden = j.state !== "done";
    const status = byId("upload-status");
    if (final && status && /^(已转入后台索引|知识库正在索引，删除已排队)/.test(status.textContent)) status.textContent = "";
  }

  async function poll(id) {
    for (;;) {
      let resp;
      try {
        resp = await fetch(`/jobs/${encodeURIComponent(id)}`, { headers: authHeaders() });
      } catch (_) {
        await new Promise((ok) => setTimeout(ok, 3000)); // the server is restarting: try again
        continue;
      }
      if (resp.status === 404) {
        forget(id);
        const r = row(id);
        r.dataset.state = "gone";
        r.querySelector(".job-text").textContent = "索引任务已不存在（已过期或已被清理）";
        r.querySelector(".job-cancel").hidden = true;
        r.querySelector(".job-close").hidden = false;
        return;
      }
      if (!resp.ok) { await new Promise((ok) => setTimeout(ok, 3000)); continue; }
      const j = await resp.json();
      render(j);
      if (!["queued", "running"].includes(j.state)) {
        forget(id);
        if (j.state === "done" && byId("refresh-docs")) byId("refresh-docs").click();
        return;
      }
      await new Promise((ok) => setTimeout(ok, POLL_MS));
    }
  }

  async function cancelJob(id) {
    if (!window.confirm("取消这个索引任务吗？知识库保持原样。")) return;
    try {
      const resp = await fetch(`/jobs/${encodeURIComponent(id)}`, { method: "DELETE", headers: authHeaders() });
      if (resp.ok) render(await resp.json());
    } catch (_) { /* the poll shows what happened */ }
  }

  const polling = new Set();
  function track(job) {
    if (!job || typeof job.id !== "string") return;
    remember(job);
    render(job);
    const status = byId("upload-status");
    if (status) {
      status.textContent = job.kind === "delete"
        ? "知识库正在索引，删除已排队，完成后自动执行，进度见下方"
        : `已转入后台索引（${job.files.length} 个文件），进度见下方`;
      status.className = "status busy";
    }
    if (!polling.has(job.id)) {
      polling.add(job.id);
      poll(job.id).finally(() => polling.delete(job.id));
    }
  }

  window.ragJobs = { track };
  for (const j of stored()) {
    polling.add(j.id);
    poll(j.id).finally(() => polling.delete(j.id));
  }
})();
