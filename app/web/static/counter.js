// The counter: continuous scanning that keeps working offline. Every scan is written to IndexedDB
// (one transaction) before anything else, then sent in order; what cannot be sent now waits and
// drains by itself. Input: a keyboard-wedge scanner (here) or the camera, which calls
// `window.darutraceCounter.submitCode(text, "camera")`.
(() => {
  "use strict";
  const root = document.getElementById("counter");
  if (!root) return;
  const words = JSON.parse(document.getElementById("counter-words").textContent);
  const lang = root.dataset.lang;
  const user = root.dataset.user;
  const EVENTS = "/console/counter/events";
  const QUEUED = "/console/counter/events/queued";
  const QUEUED_SENT = 50; // the server's MAX_QUEUED_SENT
  const VERIFY = "/console/counter/verify";
  const PRODUCTS = "/console/counter/products";
  const $ = (selector) => document.querySelector(selector);

  const say = (key, values = {}) =>
    (words[key] || key).replace(/\{(\w+)\}/g, (_, name) => number(values[name] ?? ""));
  const number = (value) =>
    lang === "fa" ? String(value).replace(/\d/g, (d) => "۰۱۲۳۴۵۶۷۸۹"[d]) : String(value);
  const day = (iso) => {
    try {
      const calendar = lang === "fa" ? "fa-IR-u-ca-persian" : "en-GB";
      return new Intl.DateTimeFormat(calendar, { dateStyle: "medium", timeZone: "UTC" })
        .format(new Date(`${iso}T00:00:00Z`));
    } catch {
      return iso;
    }
  };

  // ---- The queue: IndexedDB, one record per scan, in scan order (`seq`).
  const STORE = "scans";
  const database = new Promise((resolve, reject) => {
    const opening = indexedDB.open("darutrace-counter", 1);
    opening.onupgradeneeded = () => {
      const scans = opening.result.createObjectStore(STORE, { keyPath: "seq", autoIncrement: true });
      scans.createIndex("state", "state");
    };
    opening.onsuccess = () => resolve(opening.result);
    opening.onerror = () => reject(opening.error);
  });

  async function transaction(mode, work) {
    const db = await database;
    return new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      let value;
      const request = work(tx.objectStore(STORE));
      if (request) request.onsuccess = () => { value = request.result; };
      tx.oncomplete = () => resolve(value);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  }
  const save = (record) => transaction("readwrite", (store) => store.put(record));
  const everything = () => transaction("readonly", (store) => store.getAll());
  const queued = async () =>
    (await transaction("readonly", (store) => store.index("state").getAll("queued")))
      .filter((record) => record.user === user)
      .sort((a, b) => a.seq - b.seq);

  // Scans the server has certainly never seen were captured offline, and say so (as the desktop
  // scanner's outbox does): the server then records a conflict as a warning and an alert.
  // A scan that may have reached it keeps its payload, so that a retry is the same event.
  async function markOffline() {
    const waiting = (await queued()).filter((r) => !r.maybeDelivered && !r.body.offline);
    if (!waiting.length) return;
    await transaction("readwrite", (store) => {
      for (const record of waiting) {
        record.body.offline = true;
        store.put(record);
      }
    });
    for (const record of waiting) paint(record);
  }

  // ---- Product names for rows scanned offline: the register, and every answer.
  const NAMES = "darutrace-counter-products";
  const names = new Map(JSON.parse(localStorage.getItem(NAMES) || "[]").map((p) => [p[0], p]));
  async function loadNames() {
    try {
      const response = await fetch(PRODUCTS, { headers: { accept: "application/json" } });
      if (!response.ok) return;
      const { products } = await response.json();
      for (const product of products) names.set(product[0], product);
      localStorage.setItem(NAMES, JSON.stringify([...names.values()]));
    } catch {
      // Offline: the names saved earlier serve.
    }
  }
  const productName = (gtin) => {
    const product = names.get(gtin);
    if (!product) return null;
    return lang === "fa" && product[2] ? product[2] : product[1];
  };
  const latin = (text) =>
    text.replace(/[۰-۹]/g, (d) => d.charCodeAt(0) - 0x06f0).replace(/[٠-٩]/g, (d) => d.charCodeAt(0) - 0x0660);
  function guessCode(text) {
    const plain = latin(text);
    const sscc = plain.match(/^(?:\][A-Za-z]\d)?\(?00\)?(\d{18})/) || plain.match(/\/00\/(\d{18})/);
    if (sscc) return { sscc: sscc[1] };
    const gtin = plain.match(/^(?:\][A-Za-z]\d)?\(?01\)?(\d{14})/) || plain.match(/\/01\/(\d{14})/);
    return gtin ? { gtin: gtin[1] } : {};
  }

  // ---- Mode, destination, the case being packed.
  const modeButtons = [...document.querySelectorAll("button.mode[data-mode]")];
  let mode = localStorage.getItem("darutrace-counter-mode") || $("#mode-banner").dataset.mode;
  if (!modeButtons.some((b) => b.dataset.mode === mode)) mode = modeButtons[0].dataset.mode;
  let caseSscc = null;
  function setMode(chosen) {
    mode = chosen;
    localStorage.setItem("darutrace-counter-mode", mode);
    const banner = $("#mode-banner");
    banner.dataset.mode = mode;
    banner.textContent = say(`mode.${mode}`);
    for (const button of modeButtons) button.setAttribute("aria-pressed", String(button.dataset.mode === mode));
    $("#destination-field").hidden = !(mode === "ship" || mode === "return");
    caseSscc = null;
    $("#case-field").hidden = mode !== "pack";
    $("#case-sscc").textContent = "–";
  }
  for (const button of modeButtons) button.addEventListener("click", () => { setMode(button.dataset.mode); focusInput(); });
  $("#case-done").addEventListener("click", () => { caseSscc = null; $("#case-sscc").textContent = "–"; focusInput(); });
  $("#destination").addEventListener("change", focusInput);

  // ---- The session's tally and the connection's state.
  const tally = { scanned: 0, ok: 0, warning: 0, refused: 0 };
  let queuedCount = 0;
  let reachable = navigator.onLine;
  let draining = false;
  let loggedOut = false;
  function showTally() {
    for (const [name, value] of Object.entries(tally)) $(`#tally [data-count=${name}]`).textContent = number(value);
    $("#tally [data-count=queued]").textContent = number(queuedCount);
    $("#queued-count").textContent = number(queuedCount);
    const state = loggedOut ? "login" : !navigator.onLine || !reachable ? "offline" : draining && queuedCount ? "syncing" : "online";
    $("#net").dataset.state = state;
    $("#net-text").textContent = say(`net.${state}`);
    $("#login-again").hidden = !loggedOut;
  }
  async function countQueued() {
    queuedCount = (await queued()).length;
    showTally();
  }

  // ---- Feedback: a row per scan, a tone for a warning, two for a refusal.
  let audio = null;
  function tones(count) {
    root.dataset.tones = String(count);
    root.dataset.toneCount = String(Number(root.dataset.toneCount || 0) + count);
    if (!count) return;
    try {
      audio = audio || new AudioContext();
      const start = audio.currentTime;
      for (let i = 0; i < count; i += 1) {
        const oscillator = audio.createOscillator();
        const gain = audio.createGain();
        oscillator.frequency.value = count > 1 ? 330 : 660;
        gain.gain.value = 0.25;
        oscillator.connect(gain).connect(audio.destination);
        oscillator.start(start + i * 0.22);
        oscillator.stop(start + i * 0.22 + 0.14);
      }
    } catch {
      // No audio output: the colours and words still say it.
    }
  }

  const rows = new Map(); // seq → the row's element
  function element(tag, className, text) {
    const made = document.createElement(tag);
    if (className) made.className = className;
    if (text !== undefined) made.textContent = text;
    return made;
  }

  // What a record's answer says: outcome, reason, the pack's or case's details.
  function verdict(record) {
    if (record.state === "queued") {
      return { outcome: record.body.offline || !reachable ? "queued" : "sending", reason: record.retryReason || "" };
    }
    const answer = record.answer || {};
    const result = (answer.results || [])[0];
    if (record.status >= 400 && !result) {
      return { outcome: "refused", reason: say("not recorded", { why: answer.detail_text || answer.detail || record.status }) };
    }
    if (!result) return { outcome: "ok", reason: "" };
    const order = ["ok", "warning", "refused"];
    const outcome = (answer.results || []).reduce((worst, r) => (order.indexOf(r.outcome) > order.indexOf(worst) ? r.outcome : worst), "ok");
    return { outcome, reason: result.reason_text || result.reason || "", result };
  }

  function paint(record) {
    let row = rows.get(record.seq);
    if (!row) {
      row = element("li", "scan");
      rows.set(record.seq, row);
      $("#scans").prepend(row);
    }
    const { outcome, reason, result } = verdict(record);
    const guessed = guessCode(record.text);
    const gtin = (result && result.gtin) || guessed.gtin;
    const sscc = (result && result.sscc) || guessed.sscc;
    row.className = `scan outcome-${outcome}`;
    row.dataset.outcome = outcome;
    row.dataset.event = record.eventId;
    row.replaceChildren();
    row.append(element("span", "outcome", say(`outcome.${outcome}`)));
    row.append(element("span", "mode-tag", say(`mode.${record.mode}`)));
    const what = element("span", "what");
    const named = (result && (lang === "fa" && result.name_fa ? result.name_fa : result.name)) || (gtin && productName(gtin));
    what.append(element("b", "name", sscc ? `${say("case")} ${sscc}` : named || say("unknown product")));
    if (result && result.lot) {
      what.append(element("span", "batch", `${say("batch")} ${result.lot}`));
      what.append(element("span", "expiry", `${say("expiry")} ${day(result.expiry)}`));
    }
    row.append(what);
    const code = element("bdi", "code", record.text);
    code.dir = "ltr";
    row.append(code);
    if (result && result.sscc && result.summary) {
      const counts = result.summary;
      row.append(element("span", "case-counts", say("case packs", { n: result.packs, ok: counts.ok || 0, warning: counts.warning || 0, refused: counts.refused || 0 })));
      if ((result.issues || []).length) {
        const issues = element("ul", "case-issues");
        for (const issue of result.issues) issues.append(element("li", `outcome-${issue.outcome}`, `${issue.code}: ${issue.reason_text || issue.reason}`));
        row.append(issues);
      }
    }
    if (reason) row.append(element("span", "reason", reason));
    holdAside(record, outcome, reason);
    return row;
  }

  // A refusal stays until dismissed, so that the pack is set aside; a late conflict needs
  // someone's attention. Both survive a reload (the flags are in the record).
  function holdAside(record, outcome, reason) {
    const lists = [
      ["#refusals", outcome === "refused" && !record.dismissed],
      ["#attention", record.attention && !record.attentionSeen],
    ];
    for (const [where, wanted] of lists) {
      const section = $(where);
      const list = section.querySelector("ul");
      const existing = list.querySelector(`[data-seq="${record.seq}"]`);
      if (wanted && !existing) {
        const item = element("li", `outcome-${outcome}`);
        item.dataset.seq = String(record.seq);
        const text = element("span", "held");
        const code = element("bdi", "code", record.text);
        code.dir = "ltr";
        text.append(element("b", null, `${say(`mode.${record.mode}`)} · `), code, element("span", "reason", ` ${reason}`));
        const dismiss = element("button", "link", say("dismiss"));
        dismiss.type = "button";
        dismiss.addEventListener("click", async () => {
          if (where === "#refusals") record.dismissed = true;
          else record.attentionSeen = true;
          item.remove();
          section.hidden = !list.children.length;
          focusInput();
          if (record.user) await save(record); // a verification is not kept
        });
        item.append(text, dismiss);
        list.prepend(item);
      } else if (!wanted && existing) {
        existing.remove();
      }
      section.hidden = !list.children.length;
    }
  }

  function feedback(outcome) {
    if (outcome === "ok" || outcome === "warning" || outcome === "refused") tally[outcome] += 1;
    tones(outcome === "refused" ? 2 : outcome === "warning" ? 1 : 0);
    showTally();
  }

  // ---- A scan: stored first, then sent (or queued).
  async function submitCode(text, source = "keyboard") {
    const code = text.replace(/[\r\n]+$/, "");
    if (!code.trim()) return;
    if (mode === "verify") return verify(code, source);
    if (mode === "pack" && !caseSscc) {
      caseSscc = code;
      $("#case-sscc").textContent = code;
      return;
    }
    const body = {
      event_id: crypto.randomUUID(),
      action: mode,
      codes: [code],
      event_time: new Date().toISOString(),
      offline: !navigator.onLine || !reachable,
    };
    if (mode === "ship" || mode === "return") {
      const destination = $("#destination").value;
      if (!destination) return localRefusal(code, say("choose destination"));
      body.destination_gln = destination;
    }
    if (mode === "pack") body.container = caseSscc;
    await record(body, code, source, mode);
  }

  async function record(body, text, source, shownMode) {
    const scan = { eventId: body.event_id, user, body, text, source, mode: shownMode, state: "queued", maybeDelivered: false, scannedAt: body.event_time };
    scan.seq = await save(scan);
    tally.scanned += 1;
    paint(scan);
    await countQueued();
    drain();
  }

  function localRefusal(text, reason) {
    tally.scanned += 1;
    const row = element("li", "scan outcome-refused");
    row.dataset.outcome = "refused";
    row.append(element("span", "outcome", say("outcome.refused")), element("span", "mode-tag", say(`mode.${mode}`)));
    const code = element("bdi", "code", text);
    code.dir = "ltr";
    row.append(code, element("span", "reason", reason));
    $("#scans").prepend(row);
    feedback("refused");
  }

  async function undoLast() {
    const done = (await everything())
      .filter((r) => r.user === user && r.body.action !== "undo" && r.mode !== "verify")
      .sort((a, b) => b.seq - a.seq)
      .find((r) => r.state === "queued" || ["ok", "warning"].includes(verdict(r).outcome));
    if (!done) return localRefusal("–", say("nothing to undo"));
    const body = { event_id: crypto.randomUUID(), action: "undo", codes: done.body.codes, event_time: new Date().toISOString(), offline: !navigator.onLine || !reachable };
    await record(body, done.text, "undo", "undo");
  }
  $("#undo-last").addEventListener("click", () => { undoLast(); focusInput(); });

  // Verifying records nothing, so it is never queued: it needs the server.
  async function verify(text, source) {
    const scan = { seq: `v${Date.now()}${Math.random()}`, eventId: "", text, source, mode: "verify", state: "done", body: {} };
    tally.scanned += 1;
    try {
      const response = await send(VERIFY, { code: text });
      const view = await response.json().catch(() => ({}));
      if (response.status >= 400) {
        scan.status = response.status;
        scan.answer = view;
      } else {
        const bad = view.status !== "active" || (view.overlays || []).length;
        const product = view.product || {};
        scan.status = 200;
        scan.answer = { results: [{ gtin: view.gtin, serial: view.serial, outcome: bad ? "warning" : "ok", reason: view.reason || view.status, lot: view.lot, expiry: view.expiry, name: product.name, name_fa: product.name_fa }] };
      }
    } catch {
      scan.status = 503;
      scan.answer = { detail: say("net.offline") };
    }
    paint(scan);
    feedback(verdict(scan).outcome);
  }

  // ---- Sending, in order; retrying with back-off what the server did not answer.
  function csrfToken() {
    const cookie = document.cookie.match(/(?:^|; )csrftoken=([^;]*)/);
    if (cookie) return decodeURIComponent(cookie[1]);
    return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["x-csrftoken"] || "";
  }
  const send = (url, body) =>
    fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json", "x-csrftoken": csrfToken() },
      body: JSON.stringify(body),
      credentials: "same-origin",
      redirect: "manual",
    });

  let backoff = 0;
  let retryTimer = null;
  function retryLater() {
    backoff = Math.min(backoff ? backoff * 2 : 1000, 30000);
    clearTimeout(retryTimer);
    retryTimer = setTimeout(drain, backoff);
  }

  // One drain at a time; a call that finds one running asks it to look again when it ends (the
  // network may come back while it is deciding that it is gone).
  let drainAgain = false;
  async function drain() {
    if (loggedOut) return;
    if (draining) {
      drainAgain = true;
      return;
    }
    draining = true;
    drainAgain = false;
    showTally();
    try {
      // The queue is read once a pass and sent in order (reading it again before every send
      // made draining a long queue cost the square of its length); scans made meanwhile are
      // found by the next pass. Several queued scans go in one request (QUEUED_SENT at most).
      passes: for (;;) {
        const pending = await queued();
        if (!pending.length) {
          backoff = 0;
          break;
        }
        for (let at = 0; at < pending.length; ) {
          if (!navigator.onLine) {
            reachable = false;
            await markOffline();
            break passes;
          }
          const group = pending.slice(at, at + QUEUED_SENT);
          const sent = group.length > 1 ? await deliverQueued(group) : await deliver(group[0]);
          if (sent === "retry") {
            retryLater();
            break passes;
          }
          if (sent === "login") break passes;
          const done = typeof sent === "number" ? sent : 1;
          at += done;
          queuedCount = Math.max(0, queuedCount - done);
          showTally();
        }
      }
    } finally {
      draining = false;
      await countQueued();
      if (drainAgain && !loggedOut) drain();
    }
  }

  // A send that got no answer: it may have arrived, so a retry must be the same event.
  async function unanswered(scans) {
    reachable = false;
    if (navigator.onLine) {
      for (const scan of scans) scan.maybeDelivered = true;
      await transaction("readwrite", (store) => { for (const scan of scans) store.put(scan); });
    }
    await markOffline(); // those behind them have certainly not been sent
    for (const scan of scans) paint(scan);
    return "retry";
  }

  // The answer for one scan, from the server (status and body): "sent", "retry" or "login".
  async function settle(scan, status, answer, redirected = false) {
    const csrfRefused = status === 403 && /csrf/i.test(answer.detail || "");
    if (status === 401 || csrfRefused || redirected) {
      loggedOut = true; // the session ended: keep every scan and ask for a new login
      return "login";
    }
    reachable = true;
    if (status >= 500 || status === 429) {
      scan.maybeDelivered = true;
      scan.retryReason = say("server error", { status });
      await save(scan);
      paint(scan);
      return "retry";
    }
    scan.state = status < 400 ? "sent" : "failed";
    scan.status = status;
    scan.answer = answer;
    scan.retryReason = "";
    const outcome = verdict(scan).outcome;
    scan.attention = Boolean(scan.body.offline) && outcome !== "ok";
    await save(scan);
    paint(scan);
    feedback(outcome);
    return "sent";
  }

  async function deliver(scan) {
    let response;
    try {
      response = await send(EVENTS, scan.body);
    } catch {
      return unanswered([scan]);
    }
    const answer = await response.json().catch(() => ({}));
    return settle(scan, response.status, answer, response.type === "opaqueredirect");
  }

  // Queued scans in one request; the server records each as `deliver` would, in order. The
  // number of scans settled, or "retry"/"login". A request refused whole (one scan the server
  // cannot even read) is sent again scan by scan, so that only that one is refused.
  async function deliverQueued(scans) {
    let response;
    try {
      response = await send(QUEUED, { events: scans.map((scan) => scan.body) });
    } catch {
      return unanswered(scans);
    }
    const reply = await response.json().catch(() => ({}));
    if (response.status === 200 && Array.isArray(reply.answers)) {
      for (const [index, answer] of reply.answers.entries()) {
        const sent = await settle(scans[index], answer.status, answer.body || {});
        if (sent !== "sent") return index ? index : sent;
      }
      return reply.answers.length;
    }
    if (response.status === 400 || response.status === 422) return deliver(scans[0]);
    if (response.status >= 500 || response.status === 429) {
      // Some may have been recorded before it failed: every retry must be the same event.
      for (const scan of scans.slice(1)) scan.maybeDelivered = true;
      await transaction("readwrite", (store) => { for (const scan of scans.slice(1)) store.put(scan); });
    }
    return settle(scans[0], response.status, reply, response.type === "opaqueredirect").then(
      (sent) => (sent === "sent" ? 1 : sent),
    );
  }

  // ---- Keyboard wedge: a scanner types far faster than a person. A burst ends with Enter (or
  // Tab), or with a pause; a person's typing waits for Enter. The code is sent as typed: the
  // server's reader repairs GS substitutes and Persian-layout characters.
  const input = $("#scan-input");
  const BURST_GAP_MS = 50; // people type at 100 ms a key or slower
  const BURST_MIN_CHARS = 8;
  const BURST_PAUSE_MS = 250;
  let stamps = [];
  let pauseTimer = null;
  const isBurst = () => {
    if (stamps.length < BURST_MIN_CHARS) return false;
    const recent = stamps.slice(-BURST_MIN_CHARS);
    return (recent[recent.length - 1] - recent[0]) / (recent.length - 1) <= BURST_GAP_MS;
  };
  function take(source) {
    const text = input.value;
    input.value = "";
    stamps = [];
    clearTimeout(pauseTimer);
    if (text) submitCode(text, source);
  }
  input.addEventListener("input", () => {
    stamps.push(performance.now());
    clearTimeout(pauseTimer);
    pauseTimer = setTimeout(() => { if (isBurst()) take("wedge"); }, BURST_PAUSE_MS);
  });
  input.addEventListener("keydown", (event) => {
    if ((event.key === "Enter" || event.key === "Tab") && input.value) {
      event.preventDefault();
      take(isBurst() ? "wedge" : "keyboard");
    }
  });
  $("#scan-form").addEventListener("submit", (event) => { event.preventDefault(); take("keyboard"); });
  function focusInput() { input.focus(); }
  // A scan arrives wherever the focus is: bring it to the scan box unless a person is typing
  // into another field.
  document.addEventListener("keydown", (event) => {
    const target = event.target;
    if (target === input || target.closest("input, select, textarea")) return;
    if (event.key.length === 1 || event.key === "Enter") input.focus();
  });

  // Answered scans are kept for the rows of the next visit, not forever; never one still queued,
  // a refusal not yet dismissed or a conflict nobody has looked at.
  const KEEP_ANSWERED = 500;
  async function forgetOldAnswers(records) {
    const answered = records.filter((r) => r.state !== "queued" && !holding(r));
    const old = answered.sort((a, b) => a.seq - b.seq).slice(0, Math.max(0, answered.length - KEEP_ANSWERED));
    if (old.length) await transaction("readwrite", (store) => { for (const r of old) store.delete(r.seq); });
    const gone = new Set(old.map((r) => r.seq));
    return records.filter((r) => !gone.has(r.seq));
  }
  const holding = (r) => (verdict(r).outcome === "refused" && !r.dismissed) || (r.attention && !r.attentionSeen);

  // ---- Start: the mode, the rows kept from before, the queue, the worker.
  async function start() {
    setMode(mode);
    focusInput();
    const records = await forgetOldAnswers(await everything());
    const mine = records.filter((r) => r.user === user).sort((a, b) => a.seq - b.seq);
    const recent = new Set(mine.slice(-200));
    const kept = mine.filter((r) => recent.has(r) || r.state === "queued" || holding(r));
    for (const scan of kept) paint(scan);
    await countQueued();
    loadNames();
    drain();
  }
  window.addEventListener("online", () => { reachable = true; backoff = 0; drain(); });
  window.addEventListener("offline", () => { reachable = false; markOffline().then(countQueued); });
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/console/counter/sw.js", { scope: "/console/counter" }).catch(() => {});
  }
  window.darutraceCounter = { submitCode, drain, setMode };
  start();
})();
