// Switchboard's web inbox: a little script over server-rendered pages.
// It sends changes to the JSON API (/api/v1) with the session cookie,
// shows the API's errors next to the field they name, and keeps the inbox
// live with the API's event stream. No third-party code.
"use strict";

(function () {
  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));

  // api calls the JSON API and returns the decoded body, or throws an
  // Error with .field and .code from the API's error shape.
  async function api(method, path, body) {
    const opts = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    const res = await fetch(path, opts);
    if (res.status === 401) {
      location.href = "/login?next=" + encodeURIComponent(location.pathname + location.search);
      throw new Error("Your session has ended; sign in again.");
    }
    const text = await res.text();
    const data = text ? JSON.parse(text) : null;
    if (!res.ok) {
      const e = (data && data.error) || {};
      const err = new Error(e.message || "Something went wrong (" + res.status + ").");
      err.field = e.field || "";
      err.code = e.code || "";
      throw err;
    }
    return data;
  }

  function toast(msg) {
    const t = $("#toast");
    if (!t) return;
    t.textContent = msg;
    t.classList.add("show");
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => t.classList.remove("show"), 4000);
  }

  // showError puts err's message next to the field it names inside form
  // (the closest [data-field] slot: exact, then a parent path), or in the
  // form's general slot.
  function showError(form, err) {
    clearErrors(form);
    let field = err.field || "";
    let slot = null;
    while (true) {
      slot = $$('[data-field="' + field + '"]', form)[0];
      if (slot || field === "") break;
      field = field.includes(".") ? field.slice(0, field.lastIndexOf(".")) : "";
    }
    if (!slot) { toast(err.message); return; }
    slot.textContent = humanize(err.message);
    slot.classList.add("show");
    const input = slot.parentElement && $("input, select, textarea", slot.parentElement);
    if (input && field) {
      input.setAttribute("aria-invalid", "true");
      if (slot.id === "") slot.id = "err-" + Math.random().toString(36).slice(2);
      input.setAttribute("aria-describedby", slot.id);
      input.focus();
    }
  }

  function clearErrors(form) {
    $$("[data-field]", form).forEach((s) => { s.textContent = ""; s.classList.remove("show"); });
    $$("[aria-invalid]", form).forEach((i) => i.removeAttribute("aria-invalid"));
  }

  // humanize drops API jargon that a person does not need: rule ids in
  // parentheses and JSON field names at the start.
  function humanize(msg) {
    return msg.replace(/\s*\(R-[A-Z]+\d+\)/g, "").replace(/^[a-z_.]+ (must|is|names) /, (m, verb) => "This " + verb + " ");
  }

  // --- generic API forms (settings) ---------------------------------------

  function setPath(obj, path, value) {
    const keys = path.split(".");
    let o = obj;
    for (let i = 0; i < keys.length - 1; i++) {
      o[keys[i]] = o[keys[i]] || {};
      o = o[keys[i]];
    }
    o[keys[keys.length - 1]] = value;
  }

  // formJSON builds the request body from [data-json] inputs: kind bool
  // (checkbox), int, list (checkboxes collected into an array), raw (JSON
  // text), or a string; [data-hours] fieldsets become working hours.
  function formJSON(form) {
    const body = {};
    const lists = {};
    for (const el of $$("[data-json]", form)) {
      const path = el.dataset.json, kind = el.dataset.kind || "string";
      if (kind === "list") {
        lists[path] = lists[path] || [];
        if (el.checked) lists[path].push(el.value);
        continue;
      }
      let v = el.value;
      if (kind === "bool") v = el.checked;
      else if (kind === "int") v = v === "" ? 0 : Number(v);
      else if (kind === "raw") {
        try { v = v.trim() === "" ? {} : JSON.parse(v); }
        catch (e) { const err = new Error("This is not valid JSON: " + e.message); err.field = path; throw err; }
      }
      setPath(body, path, v);
    }
    for (const path in lists) setPath(body, path, lists[path]);
    for (const fs of $$("[data-hours]", form)) {
      const ranges = [];
      const from = minutes($("[data-from]", fs).value), to = minutes($("[data-to]", fs).value);
      for (const d of $$("[data-day]", fs)) {
        if (d.checked) ranges.push({ day: Number(d.dataset.day), start: from, end: to === 0 ? 1440 : to });
      }
      setPath(body, fs.dataset.hours, { time_zone: $("[data-tz]", fs).value.trim() || "UTC", ranges });
    }
    return body;
  }

  function minutes(hhmm) {
    const m = /^(\d\d):(\d\d)/.exec(hhmm || "");
    return m ? Number(m[1]) * 60 + Number(m[2]) : 0;
  }

  async function submitAPIForm(form) {
    clearErrors(form);
    let action = form.dataset.action;
    for (const p of $$("[data-param]", form)) action = action.replace("{" + p.dataset.param + "}", encodeURIComponent(p.value));
    const button = $("button[type=submit]", form);
    try {
      if (button) button.disabled = true;
      const res = await api(form.dataset.method, action, formJSON(form));
      if (form.dataset.then === "channel" && res && res.id) location.href = "/app/settings/channels/" + res.id;
      else location.reload();
    } catch (err) {
      showError(form, err);
    } finally {
      if (button) button.disabled = false;
    }
  }

  document.addEventListener("submit", (ev) => {
    const form = ev.target;
    if (form.classList.contains("api-form")) { ev.preventDefault(); submitAPIForm(form); }
  });

  document.addEventListener("click", async (ev) => {
    const del = ev.target.closest("[data-delete]");
    if (!del) return;
    if (!confirm(del.dataset.confirm || "Delete?")) return;
    try {
      await api("DELETE", del.dataset.delete);
      if (del.dataset.after) location.href = del.dataset.after; else location.reload();
    } catch (err) { showError(del.closest("form"), err); }
  });

  // Changing the kind of a new channel offers that kind's example config.
  const kind = $("#nc-kind");
  if (kind) kind.addEventListener("change", () => {
    const opt = kind.selectedOptions[0];
    if (opt && opt.dataset.example) $("#nc-config").value = opt.dataset.example;
  });

  // --- availability (avatar menu) -----------------------------------------

  const statusForm = $("#status-form");
  // Changes are sent one after the other, each with the toggles as they
  // were when it was made: two quick clicks must not race, or the server
  // could apply the older one last.
  let statusQueue = Promise.resolve();
  if (statusForm) statusForm.addEventListener("change", () => {
    const body = { status: $("#available-toggle").checked ? "available" : "away", reassign_replies: $("#reassign-toggle").checked };
    statusQueue = statusQueue.then(async () => {
      try {
        const u = await api("PUT", "/api/v1/users/me/status", body);
        showStatus(u);
        toast(u.effective_status === "available" ? "You are available." : "You are away.");
      } catch (err) { showError(statusForm, err); }
    });
  });

  const statusWords = { working_hours: "Away — outside working hours", out_of_office: "Away — out of office", set_by_admin: "Away — set by an admin" };
  function showStatus(u) {
    const now = $("#status-now");
    now.dataset.status = u.effective_status;
    now.dataset.reason = u.status_reason;
    now.textContent = u.effective_status === "available" ? "Available" : (statusWords[u.status_reason] || "Away — you set it");
    const dot = $(".avatar-menu .dot");
    if (dot) dot.className = "dot " + u.effective_status;
    $("#available-toggle").checked = u.status === "available";
    $("#reassign-toggle").checked = !!u.reassign_replies;
  }

  // --- the inbox ----------------------------------------------------------

  const inbox = $(".inbox");
  if (!inbox) return;

  let refreshing = null, again = false, againForce = false;
  // last holds each part's HTML as the server last sent it: a part is only
  // replaced when that changes (comparing with innerHTML would not do: the
  // browser serialises markup its own way), so unchanged parts keep their
  // elements, focus and any click in progress.
  const last = {};
  // refresh swaps in the server-rendered parts that changed. A part where
  // the user is typing or choosing (a focused input, textarea or select) is
  // left alone unless force is set, so that nobody's work is pulled away
  // under them. A refresh asked for while one runs runs once more after it.
  async function refresh(force) {
    if (refreshing) { again = true; againForce = againForce || force; return refreshing; }
    refreshing = (async () => {
      try {
        const res = await fetch(inbox.dataset.parts, { credentials: "same-origin", headers: { Accept: "application/json" } });
        if (res.status === 401) { location.href = "/login"; return; }
        if (!res.ok) return;
        const parts = await res.json();
        const active = document.activeElement;
        const busy = active && active.matches("input, textarea, select");
        for (const id in parts) {
          const el = document.getElementById(id);
          if (!el) continue;
          if (!force && busy && el.contains(active)) continue;
          if (last[id] === parts[id]) continue;
          last[id] = parts[id];
          const open = id === "why" && $("#why-details") && $("#why-details").open;
          el.innerHTML = parts[id];
          if (open && $("#why-details")) $("#why-details").open = true; // keep the panel open
        }
        document.body.dataset.refreshed = String(Number(document.body.dataset.refreshed || 0) + 1);
      } finally {
        refreshing = null;
        if (again) {
          const f = againForce;
          again = againForce = false;
          refresh(f);
        }
      }
    })();
    return refreshing;
  }

  let timer = null;
  function soon() {
    clearTimeout(timer);
    timer = setTimeout(() => refresh(false), 150);
  }

  // Live updates: the API's event stream sends only what this user may
  // see (R-I4); the browser reconnects by itself with Last-Event-ID.
  const live = new EventSource("/api/v1/events");
  for (const type of ["conversation.created", "conversation.assigned", "conversation.status_changed", "message.created", "user.status_changed"]) {
    live.addEventListener(type, (ev) => {
      if (type === "user.status_changed") {
        const d = JSON.parse(ev.data);
        if (statusForm && d.user_id === statusForm.dataset.me) api("GET", "/api/v1/users/me").then(showStatus).catch(() => {});
      }
      soon();
    });
  }
  live.addEventListener("open", () => { document.body.dataset.live = "open"; });
  live.addEventListener("error", () => { document.body.dataset.live = "reconnecting"; });

  const convID = () => { const f = $("#reply-form"); return f && f.dataset.conv; };

  // Reply: Send posts the message; on an unassigned conversation the API
  // assigns it to the sender (R-M3).
  const reply = $("#reply-form");
  if (reply) {
    reply.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const body = $("#reply-body").value;
      const internal = $("#reply-internal").checked;
      try {
        $("#send").disabled = true;
        await api("POST", "/api/v1/conversations/" + convID() + "/messages", { body, internal });
        $("#reply-body").value = "";
        clearErrors(reply);
        await refresh(true);
        $("#reply-body").focus();
      } catch (err) { showError(reply, err); }
      finally { $("#send").disabled = false; }
    });
    $("#reply-body").addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); reply.requestSubmit(); }
    });
  }

  // Assign, take, close, reopen live in the conversation's head, which is
  // re-rendered: listen on the document.
  document.addEventListener("submit", async (ev) => {
    if (ev.target.id !== "assign-form") return;
    ev.preventDefault();
    const form = ev.target;
    const v = $("#assignee", form).value;
    const body = v.startsWith("user:") ? { user_id: v.slice(5) } : v.startsWith("team:") ? { team_id: v.slice(5) } : { user_id: null };
    try {
      await api("POST", "/api/v1/conversations/" + form.dataset.conv + "/assign", body);
      toast("Assignment saved.");
      await refresh(true);
    } catch (err) { showError(form, err); }
  });

  document.addEventListener("click", async (ev) => {
    const b = ev.target.closest("#take, #close, #reopen");
    if (!b) return;
    try {
      if (b.id === "take") await api("POST", "/api/v1/conversations/" + b.dataset.conv + "/assign", { user_id: "me" });
      else await api("POST", "/api/v1/conversations/" + b.dataset.conv + "/" + b.dataset.to);
      toast(b.id === "take" ? "It is yours." : b.id === "close" ? "Closed." : "Reopened.");
      await refresh(true);
    } catch (err) { toast(err.message); }
  });

  // Keyboard: j/k move through the list, r focuses the reply box.
  document.addEventListener("keydown", (ev) => {
    if (ev.target.closest("input, textarea, select") || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const links = $$("#list .conversations a");
    const i = links.findIndex((a) => a.getAttribute("aria-current") === "true");
    if (ev.key === "j" && links.length) links[Math.min(i + 1, links.length - 1)].click();
    else if (ev.key === "k" && links.length) links[Math.max(i - 1, 0)].click();
    else if (ev.key === "r" && $("#reply-body")) { ev.preventDefault(); $("#reply-body").focus(); }
  });
})();
