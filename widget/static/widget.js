/* Switchboard chat widget. Embed with one tag before </body>:
 *   <script src="https://switchboard.example.com/widget.js" data-channel="CHANNEL_ID" defer></script>
 * Plain JavaScript, no dependencies. The stylesheet is inlined by the server. */
(function (CSS) {
  "use strict";

  var script = document.currentScript;
  if (!script) {
    var tags = document.querySelectorAll('script[data-channel][src*="widget.js"]');
    script = tags[tags.length - 1];
  }
  if (!script || window.SwitchboardChat) return;
  var channel = script.getAttribute("data-channel") || "";
  var base = new URL(script.src, location.href);
  var path = "/widget/v1/" + encodeURIComponent(channel);
  var httpBase = base.origin + path;
  var wsBase = (base.protocol === "https:" ? "wss://" : "ws://") + base.host + path + "/ws";
  var KEY = "sbw_" + channel.replace(/[^A-Za-z0-9_-]/g, "");
  var TOKEN_RE = /^[A-Za-z0-9_-]{16,128}$/;

  // ---- storage: a first-party cookie and localStorage (R-C2) ----
  function save(k, v) { try { localStorage.setItem(KEY + "_" + k, JSON.stringify(v)); } catch (e) { /* private mode */ } }
  function load(k, d) {
    try { var v = localStorage.getItem(KEY + "_" + k); return v == null ? d : JSON.parse(v); } catch (e) { return d; }
  }
  function readCookie(name) {
    var m = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return m ? decodeURIComponent(m[1]) : "";
  }
  function randomID(bytes) {
    var a = new Uint8Array(bytes);
    crypto.getRandomValues(a);
    var s = "";
    for (var i = 0; i < a.length; i++) s += ("0" + a[i].toString(16)).slice(-2);
    return s;
  }
  var token = readCookie(KEY);
  if (!TOKEN_RE.test(token)) token = load("token", "");
  if (!TOKEN_RE.test(token)) token = randomID(16);
  document.cookie = KEY + "=" + token + "; path=/; max-age=31536000; SameSite=Lax" + (location.protocol === "https:" ? "; Secure" : "");
  save("token", token);

  // ---- state ----
  var S = {
    info: null,          // channel settings
    avail: null,         // availability (R-V5)
    conv: null,          // the open conversation
    list: [],            // messages shown: {id, client_id, direction, body, author_name, pending, failed}
    cursor: "",          // last server message id seen
    outbox: load("outbox", []), // messages not acknowledged yet: resent after a reconnect
    ws: null, connected: false, everOpened: false, retries: 0, polling: null,
    open: false, agentTyping: "", typingTimer: null, agentRead: "", lastRead: "",
    lastTypingSent: 0, stopTypingTimer: null,
    bot: { step: -1, answers: load("answers", {}), done: load("bot_done", false), waitingFor: "" },
    system: []           // system lines after messages: {after: message index, text}
  };

  // ---- DOM ----
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }
  var style = el("style");
  style.textContent = CSS;
  document.head.appendChild(style);

  var root = el("div", "sbw-right");
  root.id = "sbw-root";
  root.hidden = true;
  var panel = el("div", "sbw-panel");
  panel.hidden = true;
  panel.setAttribute("role", "dialog");
  var header = el("div", "sbw-header");
  var headText = el("div", "sbw-header-text");
  var heading = el("div", "sbw-heading");
  var status = el("div", "sbw-status");
  var closeBtn = el("button", "sbw-close", "\u00d7");
  closeBtn.setAttribute("aria-label", "Close chat");
  headText.appendChild(heading);
  headText.appendChild(status);
  header.appendChild(headText);
  header.appendChild(closeBtn);
  var notice = el("div", "sbw-notice");
  var msgs = el("div", "sbw-messages");
  msgs.setAttribute("aria-live", "polite");
  var typing = el("div", "sbw-typing");
  var identity = el("div", "sbw-identity");
  var nameIn = el("input");
  nameIn.placeholder = "Your name (optional)";
  nameIn.className = "sbw-name";
  nameIn.autocomplete = "name";
  var emailIn = el("input");
  emailIn.placeholder = "Your email (optional)";
  emailIn.type = "email";
  emailIn.className = "sbw-email";
  emailIn.autocomplete = "email";
  identity.appendChild(nameIn);
  identity.appendChild(emailIn);
  var composer = el("form", "sbw-composer");
  var input = el("textarea", "sbw-input");
  input.placeholder = "Write a message…";
  input.rows = 1;
  var sendBtn = el("button", "sbw-send", "Send");
  sendBtn.type = "submit";
  composer.appendChild(input);
  composer.appendChild(sendBtn);
  panel.appendChild(header);
  panel.appendChild(notice);
  panel.appendChild(msgs);
  panel.appendChild(typing);
  panel.appendChild(identity);
  panel.appendChild(composer);
  var teaser = el("div", "sbw-teaser");
  teaser.hidden = true;
  var launcher = el("button", "sbw-launcher");
  launcher.setAttribute("aria-label", "Open chat");
  launcher.innerHTML = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z"/></svg>';
  root.appendChild(panel);
  root.appendChild(teaser);
  root.appendChild(launcher);

  function mount() { document.body.appendChild(root); }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);

  // ---- rendering ----
  function render() {
    if (!S.info) return;
    root.style.setProperty("--sbw-color", S.info.color);
    root.className = "sbw-" + S.info.position + (S.open ? " sbw-open" : "");
    heading.textContent = S.info.heading;
    status.textContent = S.avail ? S.avail.message : "";
    root.setAttribute("data-status", S.avail ? S.avail.status : "");
    // R-V5, R-A10: a hidden launcher, unless the visitor is mid-chat.
    var hide = S.avail && !S.avail.launcher && !S.conv && !S.open;
    root.hidden = !!hide;
    launcher.hidden = false;
    panel.hidden = !S.open;
    notice.textContent = S.conv && S.conv.waiting ? (S.avail && S.avail.waiting ? S.avail.message : "You're in the queue: the first one of our team who is free will answer you.") : "";
    identity.hidden = !!S.conv || botActive() || S.list.length > 0;
    renderMessages();
    typing.textContent = S.agentTyping ? S.agentTyping + " is typing…" : "";
  }

  function renderMessages() {
    var atBottom = msgs.scrollHeight - msgs.scrollTop - msgs.clientHeight < 40;
    while (msgs.firstChild) msgs.removeChild(msgs.firstChild);
    if (S.info.welcome_message) msgs.appendChild(el("div", "sbw-msg sbw-bot sbw-welcome", S.info.welcome_message));
    var lastAuthor = "";
    var lastIn = -1;
    for (var i = 0; i < S.list.length; i++) if (S.list[i].direction === "in" && !S.list[i].pending) lastIn = i;
    for (i = 0; i < S.list.length; i++) {
      var m = S.list[i];
      if (m.direction === "out" && m.author_name && m.author_name !== lastAuthor) msgs.appendChild(el("div", "sbw-author", m.author_name));
      lastAuthor = m.direction === "out" ? m.author_name : "";
      var cls = "sbw-msg sbw-" + m.direction + (m.pending ? " sbw-pending" : "") + (m.failed ? " sbw-failed" : "");
      var b = el("div", cls, m.body);
      if (m.id) b.setAttribute("data-id", m.id);
      if (m.client_id) b.setAttribute("data-client-id", m.client_id);
      if (m.failed) b.title = m.failed;
      msgs.appendChild(b);
      if (i === lastIn && S.agentRead && readCovers(i)) msgs.appendChild(el("div", "sbw-receipt", "Seen"));
      for (var j = 0; j < S.system.length; j++) if (S.system[j].after === i) msgs.appendChild(el("div", "sbw-system", S.system[j].text));
    }
    for (j = 0; j < S.system.length; j++) if (S.system[j].after >= S.list.length || S.system[j].after < 0) msgs.appendChild(el("div", "sbw-system", S.system[j].text));
    if (atBottom || S.open) msgs.scrollTop = msgs.scrollHeight;
    markRead();
  }

  // readCovers: the agent has read up to a message at or after index i.
  function readCovers(i) {
    for (var k = i; k < S.list.length; k++) if (S.list[k].id === S.agentRead) return true;
    for (k = i; k >= 0; k--) if (S.list[k].id === S.agentRead) return false;
    return false;
  }

  function systemLine(text) {
    S.system.push({ after: S.list.length - 1, text: text });
  }

  // ---- messages ----
  function merge(m) {
    for (var i = 0; i < S.list.length; i++) {
      var x = S.list[i];
      if ((m.id && x.id === m.id) || (m.client_id && x.client_id === m.client_id)) {
        if (m.id) { // the server's copy: stored
          x.id = m.id;
          x.pending = false;
          x.failed = "";
        }
        return false;
      }
    }
    S.list.push({ id: m.id, client_id: m.client_id, direction: m.direction, body: m.body, author_name: m.author_name, pending: !m.id });
    return true;
  }

  function serverMessage(m) {
    var isNew = merge(m);
    if (m.id) S.cursor = m.id;
    if (m.client_id) dropFromOutbox(m.client_id);
    if (isNew && m.direction === "out") S.agentTyping = "";
  }

  function dropFromOutbox(cid) {
    var kept = [];
    for (var i = 0; i < S.outbox.length; i++) if (S.outbox[i].client_id !== cid) kept.push(S.outbox[i]);
    if (kept.length !== S.outbox.length) {
      S.outbox = kept;
      save("outbox", S.outbox);
    }
  }

  function setConversation(c) {
    if (!c) return;
    var before = S.conv;
    if (c.status !== "open") {
      if (before && before.id === c.id) {
        systemLine("This chat has ended. Write again to start a new one.");
        S.conv = null;
        S.cursor = "";
      }
      return;
    }
    if (before && before.id !== c.id) {
      S.list = [];
      S.system = [];
      S.cursor = "";
    }
    if (c.assignee_name && (!before || before.assignee_name !== c.assignee_name)) systemLine(c.assignee_name + " joined the chat.");
    S.conv = c;
  }

  function applyState(st, fresh) {
    S.info = st.channel;
    S.avail = st.availability;
    if (fresh) {
      S.list = [];
      S.system = [];
      S.conv = null;
    } else if (S.conv && (!st.conversation || st.conversation.id !== S.conv.id)) {
      setConversation({ id: S.conv.id, status: "closed" }); // it closed while we were away
    }
    if (st.conversation) {
      if (!S.conv || S.conv.id !== st.conversation.id) setConversation(st.conversation);
      else S.conv = st.conversation;
    }
    for (var i = 0; i < st.messages.length; i++) serverMessage(st.messages[i]);
    if (st.cursor) S.cursor = st.cursor;
    // Pending messages of the outbox (sent before a reload) show as pending.
    for (i = 0; i < S.outbox.length; i++) merge({ client_id: S.outbox[i].client_id, direction: "in", body: S.outbox[i].body });
    maybeTeaser();
    startBot();
    render();
  }

  // ---- transport: WebSocket, with an HTTP fallback ----
  function connect() {
    var url = wsBase + "?visitor_token=" + encodeURIComponent(token) + (S.cursor ? "&after=" + encodeURIComponent(S.cursor) : "");
    var ws;
    try { ws = new WebSocket(url); } catch (e) { return reconnectLater(); }
    S.ws = ws;
    var fresh = !S.info;
    ws.onopen = function () {
      S.connected = true;
      S.everOpened = true;
      S.retries = 0;
      stopPolling();
    };
    ws.onmessage = function (ev) {
      var f;
      try { f = JSON.parse(ev.data); } catch (e) { return; }
      if (f.type === "state") {
        applyState(f.state, fresh);
        fresh = false;
        flushOutbox();
        return;
      }
      frame(f);
    };
    ws.onclose = function () {
      if (S.ws !== ws) return;
      S.ws = null;
      S.connected = false;
      reconnectLater();
    };
  }

  function reconnectLater() {
    S.retries++;
    if (!S.everOpened && S.retries >= 3) startPolling(); // WebSockets blocked: poll over HTTP
    var delay = Math.min(10000, 300 * Math.pow(2, Math.min(S.retries, 6))) * (0.75 + Math.random() / 2);
    setTimeout(connect, delay);
  }

  function frame(f) {
    switch (f.type) {
      case "ack":
        if (f.conversation) setConversation(f.conversation);
        if (f.message) serverMessage(f.message);
        break;
      case "message":
        serverMessage(f.message);
        break;
      case "conversation":
        setConversation(f.conversation);
        break;
      case "typing":
        S.agentTyping = f.typing ? (f.name || "Someone") : "";
        clearTimeout(S.typingTimer);
        if (f.typing) S.typingTimer = setTimeout(function () { S.agentTyping = ""; render(); }, 8000);
        break;
      case "read":
        S.agentRead = f.message_id;
        break;
      case "availability":
        S.avail = f.availability;
        break;
      case "error":
        if (f.client_id) failed(f.client_id, f.error);
        break;
    }
    render();
  }

  function failed(cid, err) {
    if (err && (err.code === "rate_limited" || err.code === "overloaded" || err.code === "not_running")) {
      setTimeout(flushOutbox, 2000); // kept in the outbox: try again
      return;
    }
    dropFromOutbox(cid);
    for (var i = 0; i < S.list.length; i++) if (S.list[i].client_id === cid) S.list[i].failed = (err && err.message) || "not sent";
  }

  function transmit(item) {
    if (S.connected && S.ws) {
      S.ws.send(JSON.stringify({ type: "message", client_id: item.client_id, body: item.body, name: item.name, email: item.email, phone: item.phone }));
    } else if (S.polling) {
      post(item);
    }
  }

  function flushOutbox() {
    for (var i = 0; i < S.outbox.length; i++) transmit(S.outbox[i]);
  }

  function post(item) {
    fetch(httpBase + "/messages", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ visitor_token: token, client_id: item.client_id, body: item.body, name: item.name, email: item.email, phone: item.phone })
    }).then(function (r) {
      return r.json().then(function (b) {
        if (r.ok) frame({ type: "ack", message: b.message, conversation: b.conversation });
        else frame({ type: "error", client_id: item.client_id, error: b.error });
      });
    }).catch(function () { /* still in the outbox; the next poll or reconnect sends it */ });
  }

  function poll() {
    var fresh = !S.info;
    fetch(httpBase + "/state?visitor_token=" + encodeURIComponent(token) + (S.cursor && !fresh ? "&after=" + encodeURIComponent(S.cursor) : ""))
      .then(function (r) { return r.json(); })
      .then(function (st) {
        if (!st.channel) return;
        applyState(st, fresh);
        flushOutbox();
      })
      .catch(function () {});
  }

  function startPolling() {
    if (S.polling) return;
    S.polling = setInterval(poll, 3000);
    poll();
  }

  function stopPolling() {
    if (S.polling) clearInterval(S.polling);
    S.polling = null;
  }

  // ---- the visitor's actions ----
  function send(text) {
    text = text.replace(/^\s+|\s+$/g, "");
    if (!text) return;
    if (botActive()) return botAnswer(text);
    var ans = S.bot.answers;
    var item = { client_id: randomID(12), body: text, name: nameIn.value.trim() || ans.name || "", email: emailIn.value.trim() || ans.email || "", phone: ans.phone || "" };
    S.outbox.push(item);
    save("outbox", S.outbox);
    merge({ client_id: item.client_id, direction: "in", body: text });
    transmit(item);
    sendTyping(false);
    render();
  }

  function sendTyping(on) {
    if (!S.connected || !S.conv) return;
    var now = Date.now();
    clearTimeout(S.stopTypingTimer);
    if (on) {
      S.stopTypingTimer = setTimeout(function () { sendTyping(false); }, 4000);
      if (now - S.lastTypingSent < 2500) return;
      S.lastTypingSent = now;
    } else {
      if (!S.lastTypingSent) return;
      S.lastTypingSent = 0;
    }
    S.ws.send(JSON.stringify({ type: "typing", typing: on }));
  }

  // markRead tells the agent what the visitor has seen, while the chat is
  // open and the page visible.
  function markRead() {
    if (!S.open || document.hidden || !S.connected || !S.conv) return;
    var last = "";
    for (var i = 0; i < S.list.length; i++) if (S.list[i].direction === "out" && S.list[i].id) last = S.list[i].id;
    if (!last || last === S.lastRead) return;
    S.lastRead = last;
    S.ws.send(JSON.stringify({ type: "read", message_id: last }));
  }

  // ---- bot chatflow: steps run here, the answers go with the first message ----
  function botActive() {
    return S.info && S.info.chatflow && S.info.chatflow.kind === "bot" && !S.bot.done && !S.conv;
  }

  function startBot() {
    if (!botActive() || S.bot.step >= 0 || !S.open) return;
    S.bot.step = 0;
    runBot();
  }

  function runBot() {
    var steps = S.info.chatflow.steps;
    while (S.bot.step < steps.length) {
      var st = steps[S.bot.step];
      if (st.type === "message") {
        S.list.push({ direction: "bot", body: st.text });
        S.bot.step++;
        continue;
      }
      if (st.type === "question") {
        if (S.bot.answers[st.field]) { S.bot.step++; continue; }
        S.list.push({ direction: "bot", body: st.text });
        S.bot.waitingFor = st.field;
        render();
        return;
      }
      // send_to_team_member: hand over; the next message goes to the team (R-A4).
      if (st.text) S.list.push({ direction: "bot", body: st.text });
      S.bot.done = true;
      save("bot_done", true);
      break;
    }
    render();
  }

  function botAnswer(text) {
    var field = S.bot.waitingFor;
    S.list.push({ direction: "in", body: text, pending: false, id: "" });
    if (field === "email" && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(text)) {
      S.list.push({ direction: "bot", body: "That does not look like an email address; please try again." });
      render();
      return;
    }
    S.bot.answers[field] = text;
    save("answers", S.bot.answers);
    S.bot.waitingFor = "";
    S.bot.step++;
    runBot();
  }

  // ---- pop-open of the welcome message (R-C1) ----
  var teaserDone = false;
  function maybeTeaser() {
    if (teaserDone || !S.info || !S.info.pop_open || !S.info.welcome_message) return;
    teaserDone = true;
    if (load("teaser_seen", false)) return;
    setTimeout(function () {
      if (S.open || root.hidden) return;
      teaser.textContent = S.info.welcome_message;
      teaser.hidden = false;
      save("teaser_seen", true);
    }, (S.info.pop_open_delay || 0) * 1000);
  }

  function setOpen(on) {
    S.open = on;
    teaser.hidden = true;
    launcher.setAttribute("aria-label", on ? "Close chat" : "Open chat");
    startBot();
    render();
    if (on) input.focus();
  }

  launcher.addEventListener("click", function () { setOpen(!S.open); });
  teaser.addEventListener("click", function () { setOpen(true); });
  closeBtn.addEventListener("click", function () { setOpen(false); });
  composer.addEventListener("submit", function (e) {
    e.preventDefault();
    var t = input.value;
    input.value = "";
    send(t);
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey) {
      e.preventDefault();
      composer.requestSubmit ? composer.requestSubmit() : composer.dispatchEvent(new Event("submit", { cancelable: true }));
    }
  });
  input.addEventListener("input", function () { if (input.value) sendTyping(true); });
  document.addEventListener("visibilitychange", markRead);

  window.SwitchboardChat = { open: function () { setOpen(true); }, close: function () { setOpen(false); }, visitorToken: token };
  connect();
})(/*CSS*/"");
