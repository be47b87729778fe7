// mnist-digits: draw a digit, see it read live. Plain browser JavaScript, no build step.
//
// Strokes are kept as points in "logical" pixels: a 280 x 280 canvas (560 x 280 in number
// mode), the size that is sent to the server. The screen canvas redraws them at its own
// resolution (CSS size x devicePixelRatio), so ink stays sharp on phones, and the PNG sent
// is always the same small size (~2 ms to preprocess on the server).
"use strict";

(() => {
  const SIDE = 280;              // logical canvas height (and width in digit mode), px
  const BRUSH = 18;              // logical brush width: 6.4% of the side, close to MNIST's
                                 // ~13% of a 20 px digit for a digit drawn 2/3 of the side
  const DEBOUNCE_MS = 120;       // live updates while drawing: at most one every 120 ms
  const MIN_STEP = 1.5;          // drop points closer than 1.5 logical px: no visible change
  const KEY_STEP = 10;           // arrow keys move the keyboard pen 10 px (Shift: 2 px)
  const INK = "#141826";
  const STATUS_TEXT = { not_a_digit: "not a digit", unsure: "not sure" };

  const $ = (id) => document.getElementById(id);
  const canvas = $("draw-canvas");
  const ctx = canvas.getContext("2d");
  const exportCanvas = document.createElement("canvas");
  const exportCtx = exportCanvas.getContext("2d");
  const modelCanvas = $("model-input");
  const modelCtx = modelCanvas.getContext("2d");

  const state = {
    mode: "digit",
    strokes: [],        // finished and current strokes: {points: [{x, y, w}]}
    current: null,      // the stroke being drawn, also the last item of strokes
    pointerId: null,
    photo: null,        // {file, bitmap}: an uploaded image replaces the drawing
    scale: 1,           // screen pixels per logical pixel
    seq: 0,             // last request sent
    applied: 0,         // last answer shown (older answers arriving late are dropped)
    timer: 0,
    upAt: 0,            // when the pen went up, for the settle time shown in data-latency
    upSeq: 0,
    keyPen: { x: SIDE / 2, y: SIDE / 2, down: false },
  };

  // ---------------------------------------------------------------------------------------
  // Geometry and drawing

  function logicalSize() {
    return { w: state.mode === "number" ? 2 * SIDE : SIDE, h: SIDE };
  }

  function resize() {
    const rect = canvas.getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    canvas.width = Math.max(1, Math.round(rect.width * dpr));
    canvas.height = Math.max(1, Math.round(rect.height * dpr));
    state.scale = canvas.width / logicalSize().w;
    redraw();
    placeCursor();
  }

  function mid(a, b) {
    return { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 };
  }

  // Smooth strokes: quadratic curves through the midpoints of successive points, so corners
  // of the sampled polyline become curves. Piece k ends at mid(p[k-1], p[k]).
  function drawPiece(c, pts, k, s) {
    const a = k === 1 ? pts[0] : mid(pts[k - 2], pts[k - 1]);
    const b = mid(pts[k - 1], pts[k]);
    c.lineWidth = pts[k - 1].w * s;
    c.beginPath();
    c.moveTo(a.x * s, a.y * s);
    c.quadraticCurveTo(pts[k - 1].x * s, pts[k - 1].y * s, b.x * s, b.y * s);
    c.stroke();
  }

  function drawTail(c, pts, s) {
    const last = pts[pts.length - 1];
    if (pts.length === 1) {
      c.beginPath();
      c.arc(last.x * s, last.y * s, (last.w * s) / 2, 0, 2 * Math.PI);
      c.fill();
      return;
    }
    const a = mid(pts[pts.length - 2], last);
    c.lineWidth = last.w * s;
    c.beginPath();
    c.moveTo(a.x * s, a.y * s);
    c.lineTo(last.x * s, last.y * s);
    c.stroke();
  }

  function drawStroke(c, stroke, s) {
    const pts = stroke.points;
    for (let k = 1; k < pts.length; k++) drawPiece(c, pts, k, s);
    drawTail(c, pts, s);
  }

  function prepare(c) {
    c.lineCap = "round";
    c.lineJoin = "round";
    c.strokeStyle = INK;
    c.fillStyle = INK;
  }

  function drawPhoto(c, width, height) {
    const { bitmap } = state.photo;
    const k = Math.min(width / bitmap.width, height / bitmap.height);
    const w = bitmap.width * k;
    const h = bitmap.height * k;
    c.drawImage(bitmap, (width - w) / 2, (height - h) / 2, w, h);
  }

  function redraw() {
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    if (state.photo && state.photo.bitmap) drawPhoto(ctx, canvas.width, canvas.height);
    prepare(ctx);
    for (const stroke of state.strokes) drawStroke(ctx, stroke, state.scale);
    $("paper").classList.toggle("inked", hasContent());
    $("undo").disabled = !hasContent();
    $("clear").disabled = !hasContent();
  }

  function hasContent() {
    return state.strokes.length > 0 || state.photo !== null;
  }

  // The drawing as the server reads it: transparent background, dark ink, logical size.
  function exportDrawing() {
    const { w, h } = logicalSize();
    exportCanvas.width = w;
    exportCanvas.height = h;
    exportCtx.clearRect(0, 0, w, h);
    prepare(exportCtx);
    for (const stroke of state.strokes) drawStroke(exportCtx, stroke, 1);
    return exportCanvas;
  }

  function exportPNG() {
    return exportDrawing().toDataURL("image/png");
  }

  // ---------------------------------------------------------------------------------------
  // Strokes from pointers (mouse, touch, pen) and from the keyboard

  function brushWidth(e) {
    // A pen's pressure (0..1, 0.5 when unknown) swells or thins the line by up to 40%.
    return e.pointerType === "pen" && e.pressure > 0 ? BRUSH * (0.6 + 0.8 * e.pressure) : BRUSH;
  }

  function toLogical(e) {
    const rect = canvas.getBoundingClientRect();
    const { w, h } = logicalSize();
    return {
      x: ((e.clientX - rect.left) / rect.width) * w,
      y: ((e.clientY - rect.top) / rect.height) * h,
      w: brushWidth(e),
    };
  }

  function beginStroke(point) {
    if (state.photo) {                     // drawing after an upload starts a new picture
      state.photo = null;
      redraw();
    }
    state.current = { points: [point] };
    state.strokes.push(state.current);
    $("paper").classList.add("inked");
    $("undo").disabled = false;
    $("clear").disabled = false;
  }

  function extendStroke(point) {
    const pts = state.current.points;
    const last = pts[pts.length - 1];
    if (Math.hypot(point.x - last.x, point.y - last.y) < MIN_STEP) return;
    pts.push(point);
    prepare(ctx);
    drawPiece(ctx, pts, pts.length - 1, state.scale);
  }

  function endStroke() {
    if (!state.current) return;
    prepare(ctx);
    drawTail(ctx, state.current.points, state.scale);
    state.current = null;
    state.upAt = performance.now();
    predictNow();
    state.upSeq = state.seq;
  }

  function onPointerDown(e) {
    if (state.pointerId !== null || (e.pointerType === "mouse" && e.button !== 0)) return;
    e.preventDefault();
    state.pointerId = e.pointerId;
    canvas.setPointerCapture(e.pointerId);
    beginStroke(toLogical(e));
    schedule();
  }

  function onPointerMove(e) {
    if (e.pointerId !== state.pointerId) return;
    e.preventDefault();
    const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [];
    for (const ev of events.length ? events : [e]) extendStroke(toLogical(ev));
    schedule();
  }

  function onPointerUp(e) {
    if (e.pointerId !== state.pointerId) return;
    e.preventDefault();
    state.pointerId = null;
    endStroke();
  }

  function placeCursor() {
    const cursor = $("cursor");
    const { w, h } = logicalSize();
    cursor.style.left = `${(state.keyPen.x / w) * 100}%`;
    cursor.style.top = `${(state.keyPen.y / h) * 100}%`;
    cursor.classList.toggle("down", state.keyPen.down);
  }

  function onCanvasKey(e) {
    const pen = state.keyPen;
    const step = e.shiftKey ? 2 : KEY_STEP;
    const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    if (e.key === " " || e.key === "Enter") {
      e.preventDefault();
      pen.down = !pen.down;
      if (pen.down) beginStroke({ x: pen.x, y: pen.y, w: BRUSH });
      else endStroke();
    } else if (moves[e.key]) {
      e.preventDefault();
      const { w, h } = logicalSize();
      pen.x = Math.min(w, Math.max(0, pen.x + moves[e.key][0]));
      pen.y = Math.min(h, Math.max(0, pen.y + moves[e.key][1]));
      if (pen.down && state.current) {
        extendStroke({ x: pen.x, y: pen.y, w: BRUSH });
        schedule();
      }
    }
    placeCursor();
  }

  // ---------------------------------------------------------------------------------------
  // Talking to the server

  function endpoint() {
    return state.mode === "number" ? "/api/predict/number" : "/api/predict";
  }

  function schedule() {
    if (!state.timer) state.timer = setTimeout(() => { state.timer = 0; send(); }, DEBOUNCE_MS);
  }

  function predictNow() {
    clearTimeout(state.timer);
    state.timer = 0;
    send();
  }

  function request() {
    if (state.photo) {
      const form = new FormData();
      form.append("file", state.photo.file);
      return { method: "POST", body: form };
    }
    return {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ image: exportPNG() }),
    };
  }

  async function send() {
    const seq = ++state.seq;
    if (!hasContent()) {
      show(seq, null);
      return;
    }
    $("answer").dataset.state = "busy";
    if (window.mnistLocal && window.mnistLocal.takes(state.mode)) {
      readLocally(seq);                      // local.js: in this browser, no server
      return;
    }
    try {
      const response = await fetch(endpoint(), request());
      const data = await response.json();
      if (response.ok) show(seq, data);
      else showError(seq, data.detail || `The server answered ${response.status}.`);
    } catch (err) {
      showError(seq, "Cannot reach the server; is `mnist-digits serve` still running?");
    }
  }

  async function readLocally(seq) {
    try {
      show(seq, await window.mnistLocal.read(state.photo ? state.photo.bitmap : exportDrawing()));
    } catch (err) {
      showError(seq, err.message);
    }
  }

  function accept(seq) {
    if (seq < state.applied) return false;   // an older request answered late
    state.applied = seq;
    const answer = $("answer");
    answer.dataset.state = seq === state.seq ? "idle" : "busy";
    if (seq >= state.upSeq && state.upAt) {
      answer.dataset.latency = String(Math.round(performance.now() - state.upAt));
      state.upAt = 0;
    }
    return true;
  }

  // ---------------------------------------------------------------------------------------
  // Showing the answer

  function percent(p) {
    if (p >= 0.9995) return ">99.9%";         // a rounded "100%" would claim certainty
    return `${(100 * p).toFixed(p < 0.1 ? 0 : 1)}%`;
  }

  function show(seq, data) {
    if (!accept(seq)) return;
    // samples.js offers "Wrong? It's a ..." for the answer shown now.
    document.dispatchEvent(new CustomEvent("mnist-answer", { detail: { data, mode: state.mode } }));
    const answer = $("answer");
    const status = data ? data.status : "no_digit";
    answer.classList.toggle("unsure", status === "unsure");
    $("status").textContent = STATUS_TEXT[status] || "";
    if (state.mode === "number") showNumber(data);
    else showDigit(data);
    if (status === "no_digit") {
      $("hint").textContent = state.mode === "number"
        ? "Write a number, digits side by side." : "Draw a digit from 0 to 9.";
    } else if (status === "not_a_digit") {
      $("hint").textContent = state.mode === "number"
        ? "Write each digit on its own, side by side." : "Try a single, bigger digit.";
    } else if (status === "unsure") {
      $("hint").textContent = "This is the best guess.";
    } else {
      $("hint").textContent = "";
    }
  }

  // What the model would have said of something it judged not a digit: its top guess.
  function otherwise(item) {
    const probs = item.probabilities;
    const best = probs.indexOf(Math.max(...probs));
    return `${best} (${percent(probs[best])})`;
  }

  function showDigit(data) {
    const empty = !data || data.digit === null;
    $("prediction").textContent = empty ? "" : String(data.digit);
    if (data && data.status === "not_a_digit") {
      $("confidence").textContent = `otherwise it would say ${otherwise(data)}`;
    } else {
      $("confidence").textContent = empty ? "" : `${percent(data.confidence)} sure`;
    }
    const probs = data ? data.probabilities : new Array(10).fill(0);
    const best = data && data.status !== "no_digit" ? probs.indexOf(Math.max(...probs)) : -1;
    const rows = $("bars").children;
    probs.forEach((p, d) => {
      rows[d].classList.toggle("top", d === best);
      rows[d].querySelector(".fill").style.width = `${(100 * p).toFixed(1)}%`;
      rows[d].querySelector(".pct").textContent = data && data.status !== "no_digit" ? `${Math.round(100 * p)}%` : "";
      rows[d].setAttribute("aria-label", `${d}: ${percent(p)}`);
    });
    drawModelInput(data ? [data.input28] : []);
  }

  function showNumber(data) {
    const digits = data ? data.digits : [];
    $("prediction").textContent = data ? data.number : "";
    const rejected = digits.filter((d) => d.status === "not_a_digit").length;
    if (rejected) {
      $("confidence").textContent = rejected === digits.length
        ? "not digits" : `${rejected} of ${digits.length} pieces are not digits`;
    } else {
      $("confidence").textContent = digits.length ? `${percent(data.confidence)} sure` : "";
    }
    const list = $("digits");
    list.replaceChildren(...digits.map((d) => {
      const item = document.createElement("li");
      item.classList.toggle("unsure", d.status !== "ok");
      const big = document.createElement("span");
      big.className = "d";
      big.textContent = d.digit === null ? "?" : String(d.digit);
      const small = document.createElement("span");
      small.className = "c";
      small.textContent = d.status === "not_a_digit"
        ? `not a digit, else ${otherwise(d)}` : STATUS_TEXT[d.status] || percent(d.confidence);
      item.append(big, small);
      return item;
    }));
    drawModelInput(digits.map((d) => d.input28));
  }

  // The 28x28 images the model saw, side by side (one per digit in number mode).
  function drawModelInput(images) {
    const n = Math.max(1, images.length);
    const gap = 4;
    modelCanvas.width = n * 28 + (n - 1) * gap;
    modelCanvas.height = 28;
    modelCanvas.style.width = n === 1 ? "" : `${Math.min(6, 1200 / modelCanvas.width) * modelCanvas.width}px`;
    modelCtx.fillStyle = "#000";
    modelCtx.fillRect(0, 0, modelCanvas.width, 28);
    images.forEach((rows, i) => {
      const img = modelCtx.createImageData(28, 28);
      rows.forEach((row, y) => row.forEach((v, x) => {
        const o = 4 * (28 * y + x);
        img.data[o] = img.data[o + 1] = img.data[o + 2] = v;
        img.data[o + 3] = 255;
      }));
      modelCtx.putImageData(img, i * (28 + gap), 0);
    });
    if (n > 1) {
      modelCtx.fillStyle = "#2b3150";
      for (let i = 1; i < n; i++) modelCtx.fillRect(i * (28 + gap) - gap, 0, gap, 28);
    }
  }

  function showError(seq, message) {
    if (!accept(seq)) return;
    $("status").textContent = "";
    $("hint").textContent = message;
  }

  // ---------------------------------------------------------------------------------------
  // Controls

  function clearAll() {
    state.strokes = [];
    state.current = null;
    state.pointerId = null;
    state.photo = null;
    state.keyPen.down = false;
    placeCursor();
    redraw();
    predictNow();
  }

  function undo() {
    if (state.current) return;               // finish the stroke first
    if (state.strokes.length) state.strokes.pop();
    else state.photo = null;
    redraw();
    predictNow();
  }

  async function useFile(input) {
    const file = input.files && input.files[0];
    input.value = "";                        // choosing the same file again still fires
    if (!file) return;
    let bitmap = null;
    try {
      bitmap = await createImageBitmap(file);
    } catch (err) {
      bitmap = null;                         // e.g. HEIC: the server still reads it, or says why
    }
    state.strokes = [];
    state.current = null;
    state.photo = { file, bitmap };
    redraw();
    predictNow();
  }

  function setMode(mode) {
    state.mode = mode;
    $("layout").classList.toggle("number", mode === "number");
    $("draw-title").textContent = mode === "number" ? "Write a number" : "Draw a digit";
    $("bars").hidden = mode === "number";
    $("digits").hidden = mode !== "number";
    state.keyPen = { x: logicalSize().w / 2, y: SIDE / 2, down: false };
    state.strokes = [];
    state.current = null;
    state.photo = null;
    resize();
    predictNow();
  }

  function onGlobalKey(e) {
    if ((e.ctrlKey || e.metaKey) && !e.shiftKey && e.key.toLowerCase() === "z") {
      e.preventDefault();
      undo();
    } else if (e.key === "Escape") {
      clearAll();
    }
  }

  function buildBars() {
    const rows = [];
    for (let d = 0; d < 10; d++) {
      const li = document.createElement("li");
      li.innerHTML = `<span class="label">${d}</span><span class="track"><span class="fill"></span></span><span class="pct"></span>`;
      rows.push(li);
    }
    $("bars").replaceChildren(...rows);
  }

  async function showModelCard() {
    if (window.MNIST_SITE) return;           // a static site has no server to ask
    try {
      const info = await (await fetch("/api/model")).json();
      const acc = info.metrics && info.metrics.test_accuracy;
      const score = typeof acc === "number" ? ` · ${(100 * acc).toFixed(2)}% on the MNIST test set` : "";
      // A fine-tuned model says so, and on how many of someone's own samples (its recipe).
      const tuned = info.recipe && info.recipe.finetune;
      const origin = tuned ? `, fine-tuned on ${tuned.samples} samples` : "";
      $("model-card").textContent = `Model ${info.name}${origin}${score} · mnist-digits ${info.version}`;
    } catch (err) {
      $("model-card").textContent = "Model information is unavailable.";
    }
  }

  function init() {
    buildBars();
    // What samples.js sends as a correction: the drawing's PNG, or the uploaded photo's file.
    window.mnistDrawing = () => (state.photo ? state.photo.file : exportPNG());
    canvas.addEventListener("pointerdown", onPointerDown);
    canvas.addEventListener("pointermove", onPointerMove);
    canvas.addEventListener("pointerup", onPointerUp);
    canvas.addEventListener("pointercancel", onPointerUp);
    canvas.addEventListener("contextmenu", (e) => e.preventDefault());
    canvas.addEventListener("keydown", onCanvasKey);
    canvas.addEventListener("focus", () => { $("cursor").hidden = false; placeCursor(); });
    canvas.addEventListener("blur", () => { $("cursor").hidden = true; });
    $("clear").addEventListener("click", clearAll);
    $("undo").addEventListener("click", undo);
    $("upload").addEventListener("change", (e) => useFile(e.target));
    $("camera").addEventListener("change", (e) => useFile(e.target));
    document.querySelectorAll('input[name="mode"]').forEach((radio) => {
      radio.addEventListener("change", () => setMode(radio.value));
    });
    document.addEventListener("keydown", onGlobalKey);
    document.addEventListener("mnist-local-change", predictNow);  // local.js's switch
    new ResizeObserver(resize).observe(canvas);
    resize();
    show(0, null);
    showModelCard();
  }

  init();
})();
