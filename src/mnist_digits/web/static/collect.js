// mnist-digits collect mode: a writer writes the digits asked for, each saved to the server
// as a "collect" sample with the writer's id. Plain browser JavaScript, no build step.
//
// The prompts are balanced and shuffled: for ?n=100 (the default) each digit 0-9 ten times,
// in an order drawn with crypto.getRandomValues. The drawing is sent as the main page sends
// it (a 280 x 280 PNG, dark ink on transparent, 18 px brush), so collected samples go
// through the same preprocessing as everything the server reads.
"use strict";

(() => {
  const SIDE = 280;                // logical canvas size, px (what is sent)
  const BRUSH = 18;                // the main page's brush
  const INK = "#141826";
  const DEFAULT_N = 100;
  const MAX_N = 1000;
  const WRITER_KEY = "mnist-digits-writer";

  const $ = (id) => document.getElementById(id);
  const canvas = $("collect-canvas");
  const ctx = canvas.getContext("2d");
  const exportCanvas = document.createElement("canvas");
  const state = {
    writer: "", plan: [], index: 0, saved: [], skipped: 0,
    strokes: [], pointerId: null, scale: 1, busy: false,
  };

  // ---------------------------------------------------------------------------------------
  // The plan: n prompts, each digit as often (within one), shuffled

  function count() {
    const asked = parseInt(new URLSearchParams(location.search).get("n"), 10);
    return Number.isFinite(asked) ? Math.min(MAX_N, Math.max(1, asked)) : DEFAULT_N;
  }

  function randomBelow(n) {
    const word = new Uint32Array(1);
    crypto.getRandomValues(word);
    return word[0] % n;              // bias under 1e-7 for n <= 1000: irrelevant here
  }

  function makePlan(n) {
    const plan = Array.from({ length: n }, (_, i) => i % 10);
    for (let i = n - 1; i > 0; i--) {  // Fisher-Yates
      const j = randomBelow(i + 1);
      [plan[i], plan[j]] = [plan[j], plan[i]];
    }
    return plan;
  }

  function newWriter() {
    const bytes = new Uint8Array(3);
    crypto.getRandomValues(bytes);
    return "w-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // ---------------------------------------------------------------------------------------
  // Drawing

  function resize() {
    const rect = canvas.getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    canvas.width = Math.max(1, Math.round(rect.width * dpr));
    canvas.height = Math.max(1, Math.round(rect.height * dpr));
    state.scale = canvas.width / SIDE;
    redraw();
  }

  function paint(c, scale) {
    c.lineCap = "round";
    c.lineJoin = "round";
    c.strokeStyle = INK;
    c.fillStyle = INK;
    c.lineWidth = BRUSH * scale;
    for (const points of state.strokes) {
      if (points.length === 1) {
        c.beginPath();
        c.arc(points[0].x * scale, points[0].y * scale, (BRUSH * scale) / 2, 0, 2 * Math.PI);
        c.fill();
        continue;
      }
      c.beginPath();
      c.moveTo(points[0].x * scale, points[0].y * scale);
      for (const p of points.slice(1)) c.lineTo(p.x * scale, p.y * scale);
      c.stroke();
    }
  }

  function redraw() {
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    paint(ctx, state.scale);
    $("paper").classList.toggle("inked", state.strokes.length > 0);
    $("save").disabled = state.busy || state.strokes.length === 0;
  }

  function exportPNG() {
    exportCanvas.width = SIDE;
    exportCanvas.height = SIDE;
    const c = exportCanvas.getContext("2d");
    c.clearRect(0, 0, SIDE, SIDE);
    paint(c, 1);
    return exportCanvas.toDataURL("image/png");
  }

  function point(e) {
    const rect = canvas.getBoundingClientRect();
    return { x: ((e.clientX - rect.left) / rect.width) * SIDE, y: ((e.clientY - rect.top) / rect.height) * SIDE };
  }

  function onDown(e) {
    if (state.pointerId !== null || state.busy) return;
    e.preventDefault();
    canvas.setPointerCapture(e.pointerId);
    state.pointerId = e.pointerId;
    state.strokes.push([point(e)]);
    redraw();
  }

  function onMove(e) {
    if (e.pointerId !== state.pointerId) return;
    state.strokes[state.strokes.length - 1].push(point(e));
    redraw();
  }

  function onUp(e) {
    if (e.pointerId === state.pointerId) state.pointerId = null;
  }

  // ---------------------------------------------------------------------------------------
  // The session

  function note(text, failed = false) {
    $("note").textContent = text;
    $("note").classList.toggle("failed", failed);
  }

  function showPrompt() {
    const n = state.plan.length;
    $("progress").max = n;
    $("progress").value = state.index;
    $("progress-text").textContent = `${state.index} of ${n}`;
    $("back").disabled = state.busy || state.saved.length === 0;
    $("session").dataset.saved = String(state.saved.length);
    if (state.index >= n) return finish();
    $("prompt-digit").textContent = String(state.plan[state.index]);
    $("session").dataset.digit = String(state.plan[state.index]);
    state.strokes = [];
    redraw();
  }

  function finish() {
    $("session").hidden = true;
    $("done").hidden = false;
    const skipped = state.skipped ? ` (${state.skipped} skipped)` : "";
    $("done-text").textContent =
      `You wrote ${state.saved.length} of ${state.plan.length} digits${skipped} as writer “${state.writer}”.`;
  }

  async function send(method, url, body) {
    const options = { method };
    if (body) {
      options.headers = { "Content-Type": "application/json" };
      options.body = JSON.stringify(body);
    }
    let response = await fetch(url, options);
    if (response.status === 429) {   // over the rate limit: wait as told, then once more
      const wait = Number(response.headers.get("Retry-After")) || 1;
      note(`Slow down a little: trying again in ${wait} s…`);
      await new Promise((resolve) => setTimeout(resolve, wait * 1000));
      response = await fetch(url, options);
    }
    if (response.status === 204) return null;
    const data = await response.json();
    if (!response.ok) throw new Error(data.detail || `The server answered ${response.status}.`);
    return data;
  }

  async function busy(job) {
    if (state.busy) return;
    state.busy = true;
    redraw();
    $("back").disabled = true;
    try {
      await job();
    } catch (err) {
      note(err.message || "Cannot reach the server.", true);
    }
    state.busy = false;
    redraw();
    $("back").disabled = state.saved.length === 0;
  }

  function save() {
    if (!state.strokes.length) return;
    busy(async () => {
      const label = state.plan[state.index];
      const body = { image: exportPNG(), label, kind: "collect", writer: state.writer };
      const sample = await send("POST", "/api/samples", body);
      state.saved.push({ id: sample.id, index: state.index });
      state.index += 1;
      note(`Saved a ${label}.`);
      showPrompt();
    });
  }

  function skip() {
    if (state.busy) return;
    state.index += 1;
    state.skipped += 1;
    note("Skipped.");
    showPrompt();
  }

  function back() {
    busy(async () => {
      const last = state.saved[state.saved.length - 1];
      if (!last) return;
      await send("DELETE", `/api/samples/${last.id}`);
      state.saved.pop();
      state.index = last.index;
      note("The last one was deleted: write it again.");
      showPrompt();
    });
  }

  function redo() {
    state.strokes = [];
    redraw();
  }

  function start() {
    const writer = $("writer").value.trim();
    if (!writer || writer.length > 64 || /[\u0000-\u001f\u007f]/.test(writer)) {
      $("setup-note").textContent = "A writer id is 1 to 64 printable characters.";
      return;
    }
    state.writer = writer;
    try { localStorage.setItem(WRITER_KEY, writer); } catch (err) { /* private mode */ }
    state.plan = makePlan(count());
    $("setup").hidden = true;
    $("session").hidden = false;
    resize();
    showPrompt();
  }

  async function init() {
    let stored = null;
    try { stored = localStorage.getItem(WRITER_KEY); } catch (err) { stored = null; }
    $("writer").value = stored || newWriter();
    $("setup-count").textContent = String(count());
    $("start").addEventListener("click", start);
    $("writer").addEventListener("keydown", (e) => { if (e.key === "Enter") start(); });
    canvas.addEventListener("pointerdown", onDown);
    canvas.addEventListener("pointermove", onMove);
    canvas.addEventListener("pointerup", onUp);
    canvas.addEventListener("pointercancel", onUp);
    $("save").addEventListener("click", save);
    $("skip").addEventListener("click", skip);
    $("redo").addEventListener("click", redo);
    $("back").addEventListener("click", back);
    document.addEventListener("keydown", (e) => {
      if ($("session").hidden) return;
      if (e.key === "Enter") { e.preventDefault(); save(); }
      else if (e.key === "Escape") redo();
    });
    new ResizeObserver(resize).observe(canvas);
    try {
      const config = await (await fetch("/api/samples/config")).json();
      if (!config.collect) {
        $("start").disabled = true;
        $("setup-note").textContent = "This server does not collect samples.";
      }
    } catch (err) {
      $("setup-note").textContent = "Cannot reach the server.";
    }
  }

  init();
})();
