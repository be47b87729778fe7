// mnist-digits: reading a digit in this browser, with no server. Plain script (no module), so
// it also runs from file://; it defines window.mnistLocal, which app.js asks first.
//
// The model is the checkpoint's ONNX export on onnxruntime-web's wasm backend, single-threaded
// (no SharedArrayBuffer, no cross-origin isolation, no worker). Its answer is made as
// predict.Predictor makes it: preprocess.js's port of images.render.to_mnist, the input
// contract's 0..1 pixels (the graph standardises them itself), softmax at the checkpoint's
// temperature, and core.verdict's rule (reject threshold, the low-resolution one for a digit
// under 20 input pixels, unsure when the top two hold 90 %).
//
// Where the files come from:
//  - served by `mnist-digits serve`: /static/vendor/ (scripts/vendor-js.sh) and /local/model.*
//  - a static site over http(s): vendor/ and model.* beside index.html (site.js says so)
//  - a static site from file://, where Chromium refuses fetch() of files and module scripts:
//    plain <script>s that carry the wasm (gzipped), its glue and the model as base64
//    (vendor/ort-wasm.js, model.js), and the glue imported from a data: URL.
"use strict";

(() => {
  const SITE = window.MNIST_SITE || null;
  const FROM_FILE = location.protocol === "file:";
  const PATHS = SITE
    ? { vendor: "vendor/", model: "model.onnx", card: "model.json" }
    : { vendor: "/static/vendor/", model: "/local/model.onnx", card: "/local/model.json" };
  const $ = (id) => document.getElementById(id);

  const state = {
    on: Boolean(SITE),  // a static site always reads here; the served page when switched on
    session: null,
    card: null,
    loading: null,
  };
  // Figures for tests/test_browser_local.py and the README: ms since navigation start when the
  // first answer was shown (cold), and ms per read afterwards (warm), preprocessing included.
  const stats = { loadMs: null, firstAnswerMs: null, reads: [] };

  function script(src) {
    return new Promise((resolve, reject) => {
      const s = document.createElement("script");
      s.src = src;
      s.onload = resolve;
      s.onerror = () => reject(new Error(`${src} did not load`));
      document.head.append(s);
    });
  }

  async function decode64(text) {   // ~10x faster than atob and a loop for the 11 MB wasm
    return new Uint8Array(await (await fetch(`data:application/octet-stream;base64,${text}`)).arrayBuffer());
  }

  async function fetchBytes(url) {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`${url} answered ${response.status}`);
    return new Uint8Array(await response.arrayBuffer());
  }

  async function embedded() {       // file://: everything arrives as plain scripts
    await script(`${PATHS.vendor}ort-wasm.js`);
    await script("model.js");
    const { mjs, wasm_gz: packed } = window.MNIST_ORT_EMBEDDED;
    const inflated = new Blob([await decode64(packed)]).stream().pipeThrough(new DecompressionStream("gzip"));
    // The glue resolves the wasm's name against its own URL, which a data: URL cannot be a
    // base of; a blob: URL of the bytes, handed over as the wasm's path, avoids that.
    const binary = new Blob([await new Response(inflated).arrayBuffer()], { type: "application/wasm" });
    ort.env.wasm.wasmPaths = { mjs: `data:text/javascript;base64,${mjs}`, wasm: URL.createObjectURL(binary) };
    return { card: window.MNIST_MODEL_EMBEDDED.card, model: await decode64(window.MNIST_MODEL_EMBEDDED.onnx) };
  }

  async function fetched() {         // http(s): the files themselves
    ort.env.wasm.wasmPaths = new URL(PATHS.vendor, location.href).href;
    const response = await fetch(PATHS.card);
    if (!response.ok) throw new Error((await response.json()).detail || `${PATHS.card} answered ${response.status}`);
    return { card: await response.json(), model: await fetchBytes(PATHS.model) };
  }

  async function load() {
    const t0 = performance.now();
    if (!window.ort) {
      try {
        await script(`${PATHS.vendor}ort.wasm.min.js`);
      } catch (err) {
        throw new Error("onnxruntime-web is not vendored here; run `make setup` (scripts/vendor-js.sh)");
      }
    }
    ort.env.wasm.numThreads = 1;    // no SharedArrayBuffer needed, so no COOP/COEP headers
    ort.env.wasm.proxy = false;     // no worker
    const { card, model } = FROM_FILE ? await embedded() : await fetched();
    state.session = await ort.InferenceSession.create(model, { executionProviders: ["wasm"] });
    state.card = card;
    stats.loadMs = performance.now() - t0;
    showCard();
  }

  function ready() {
    if (!state.loading) state.loading = load().catch((err) => { state.loading = null; throw err; });
    return state.loading;
  }

  function showCard() {
    const card = state.card;
    const target = $("local-card");
    if (!target || !card) return;
    const acc = typeof card.test_accuracy === "number" ? ` · ${(100 * card.test_accuracy).toFixed(2)}% on the MNIST test set` : "";
    target.textContent = `Reading in this browser: ${card.name}${acc} · onnxruntime-web ${ort.env.versions.web || ""} (wasm)`;
    target.title = `${card.source} · sha256 ${card.sha256.slice(0, 12)}`;
    target.hidden = !state.on;
  }

  // The pixels of a canvas or an image bitmap at their own size (at most 2048 px a side,
  // as images.decode reduces files before reading them).
  function pixelsOf(source) {
    if (!source) throw new Error("this browser cannot decode that image; switch off \u201cRead in this browser\u201d to let the server read it");
    const k = Math.min(1, 2048 / Math.max(source.width, source.height));
    const w = Math.max(1, Math.round(source.width * k)), h = Math.max(1, Math.round(source.height * k));
    const canvas = document.createElement("canvas");
    canvas.width = w;
    canvas.height = h;
    const c = canvas.getContext("2d", { willReadFrequently: true });
    c.drawImage(source, 0, 0, w, h);
    return c.getImageData(0, 0, w, h);
  }

  function softmax(logits, temperature) {   // core.metrics.softmax
    const z = Array.from(logits, (v) => v / temperature);
    const top = Math.max(...z);
    const e = z.map((v) => Math.exp(v - top));
    const sum = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / sum);
  }

  function verdict(probs, threshold, top2) {   // core.verdict.verdict
    if (Math.max(...probs) >= threshold) return "ok";
    const sorted = probs.slice().sort((a, b) => b - a);
    return sorted[0] + sorted[1] >= top2 ? "unsure" : "not_a_digit";
  }

  function rows(image28) {
    return Array.from({ length: 28 }, (_, y) => Array.from(image28.subarray(28 * y, 28 * y + 28)));
  }

  // core.verdict.threshold_for: a digit whose ink box (input pixels) is under low_res_side on
  // its longer side, or whose detail is under low_detail, is judged by the low-resolution
  // threshold.
  function thresholdFor(bbox, detail, card) {
    if (!bbox) return card.reject_threshold;
    const side = Math.max(bbox[2] - bbox[0], bbox[3] - bbox[1]);
    const low = side < card.low_res_side || (detail ?? Infinity) < card.low_detail;
    return low ? card.low_res_threshold : card.reject_threshold;
  }

  // One 28x28 input -> the answer predict.Predictor would give, as the API's JSON has it.
  async function judge(image28, bbox, detail) {
    const card = state.card;
    const pixels = Float32Array.from(image28, (v) => v / card.pixel_scale);
    const feeds = { [card.onnx_input]: new ort.Tensor("float32", pixels, [1, 1, 28, 28]) };
    const out = await state.session.run(feeds);
    const probs = softmax(out[state.session.outputNames[0]].data, card.temperature);
    const best = probs.indexOf(Math.max(...probs));
    const status = verdict(probs, thresholdFor(bbox, detail, card), card.unsure_top2);
    return {
      digit: status === "not_a_digit" ? null : best,
      confidence: probs[best],
      probabilities: probs,
      is_digit: status === "ok",
      status,
      input28: rows(image28),
    };
  }

  async function read(source) {
    const t0 = performance.now();
    await ready();
    const t1 = performance.now();
    const pre = window.mnistPreprocess.toMnist(pixelsOf(source));
    const answer = pre.found
      ? await judge(pre.image28, pre.bbox, pre.detail)
      : { digit: null, confidence: 0, probabilities: new Array(10).fill(0), is_digit: false, status: "no_digit", input28: rows(pre.image28) };
    const now = performance.now();
    if (stats.firstAnswerMs === null) stats.firstAnswerMs = now;
    else stats.reads.push(now - t1);
    answer.elapsed_ms = now - t0;
    return answer;
  }

  function setOn(on) {
    state.on = on;
    const target = $("local-card");
    if (target) target.hidden = !on || !state.card;
    document.documentElement.classList.toggle("reading-locally", on);
    if (on) ready().catch(() => {});   // start loading now; a failure is shown on the next read
    document.dispatchEvent(new CustomEvent("mnist-local-change"));
  }

  function init() {
    const box = $("local-read");
    if (box) {
      box.checked = state.on;
      box.disabled = Boolean(SITE);   // a static site has no server to switch to
      box.addEventListener("change", () => setOn(box.checked));
    }
    if (SITE) setOn(true);
  }

  window.mnistLocal = {
    takes: (mode) => state.on && mode === "digit",  // number mode is the server's
    read,
    ready,
    stats,
    judge28: async (image28) => { await ready(); return judge(Uint8Array.from(image28)); },
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
