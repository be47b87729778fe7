// mnist-digits: images/ink.py ported to the browser, step for step: polarity, paper, Otsu
// threshold, noise, 8-connected components and specks, for preprocess.js (render.py's half).
// Plain script (no module), so it also runs from file://; it defines window.mnistInk. Pillow's
// and numpy's arithmetic is in pillow.js, which must load first. Arrays are Float32Array
// where numpy uses float32, so the ink maps agree to rounding.
"use strict";

(() => {
  const WORK_SIDE = 1024;       // ink.py _WORK_SIDE: larger inputs are box-reduced first
  const MIN_CONTRAST = 0.2;     // ink.py: ink differs from paper by >= 20 %
  const NOISE_CUT = 5.0;        // ... and by >= 5 noise sigmas
  const ALPHA_CUT = 0.5;        // a mostly transparent canvas: half-opaque pixels are ink
  const FLAT_BORDER = 0.1;      // border 5th/95th percentiles within 10 % of the median
  const EXACT = 0.6 / 255;      // ... or half of it at exactly its median
  const POLARITY_MARGIN = 0.1;  // deviations under 10 % do not vote on polarity
  const MIN_EXTENT = 0.03;      // a component under 3 % of the shorter side is a speck ...
  const MIN_AREA = 0.05;        // ... unless it holds >= 5 % of the largest one's pixels
  const SMALL_SIDE = 64, UPSCALE_TO = 84;  // ink.py: small images' ink maps are upscaled
  const FRAME_SHARE = 0.4, BOX_FILL = 0.8;  // frames.py: a box round the digit ...
  const EDGE_SPAN = 0.95, EDGE_LONGER = 1.3, EDGE_GAP = 0.05;  // ... and the page's edge
  const RULE_COVER = 0.5, RULE_SPAN_GAP = 0.05, RULE_THICK = 0.03, RULE_LINES = 3;  // lines.py
  const RULE_EVEN = 0.2, RULE_REACH = 2;
  const PAGE_COVER = 0.2, PAGE_QUAD = 0.04, PAGE_INNER = 0.5, PAGE_MARGIN = 0.03;  // page.py
  const WRITTEN = [0.002, 0.3];
  const f32 = Math.fround;
  const INV255 = f32(1 / 255);
  const { grid, resample, BILINEAR, BICUBIC } = window.mnistPillow;  // pillow.js

  function quantiles(values, qs) {   // nearest rank, as ink._quantiles
    const sorted = Float64Array.from(values).sort();
    return qs.map((q) => sorted[Math.min(sorted.length - 1, Math.trunc(q * sorted.length))]);
  }

  function median(values) {         // np.median: the mean of the middle two for even counts
    const s = Float64Array.from(values).sort();
    const m = s.length >> 1;
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
  }

  // ink._background: block medians, a 3x3 median over the block grid, bilinear upsampling.
  function background(plane) {
    const { h, w } = plane;
    const step = Math.max(1, Math.trunc(Math.max(h, w) / 64));
    const sh = Math.ceil(h / step), sw = Math.ceil(w / step);
    const gh = Math.ceil(sh / 8), gw = Math.ceil(sw / 8);
    const at = (r, c) => plane.d[Math.min(r, sh - 1) * step * w + Math.min(c, sw - 1) * step];
    const blocks = grid(gh, gw);
    const cell = new Float64Array(64);
    for (let gy = 0; gy < gh; gy++) {
      for (let gx = 0; gx < gw; gx++) {
        for (let i = 0; i < 64; i++) cell[i] = at(gy * 8 + (i >> 3), gx * 8 + (i & 7));
        blocks.d[gy * gw + gx] = median(cell);
      }
    }
    const smooth = grid(gh, gw);      // ndimage.median_filter(size=3, mode="nearest")
    const nine = new Float64Array(9);
    for (let gy = 0; gy < gh; gy++) {
      for (let gx = 0; gx < gw; gx++) {
        let i = 0;
        for (let dy = -1; dy <= 1; dy++) {
          for (let dx = -1; dx <= 1; dx++) {
            const r = Math.min(gh - 1, Math.max(0, gy + dy)), c = Math.min(gw - 1, Math.max(0, gx + dx));
            nine[i++] = blocks.d[r * gw + c];
          }
        }
        smooth.d[gy * gw + gx] = median(nine);
      }
    }
    const full = resample(smooth, gw * 8 * step, gh * 8 * step, BILINEAR, null);
    const out = grid(h, w);
    for (let y = 0; y < h; y++) out.d.set(full.d.subarray(y * full.w, y * full.w + w), y * w);
    return out;
  }

  function paper(plane) {           // ink._paper: the border's median, or a smooth map
    const { h, w, d } = plane;
    const depth = Math.max(1, Math.trunc(Math.min(h, w) / 50));
    const ring = [];
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        if (y < depth || y >= h - depth) ring.push(d[y * w + x]);
      }
    }
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < depth; x++) ring.push(d[y * w + x], d[y * w + w - 1 - x]);
    }
    const [p5, p50, p95] = quantiles(ring, [0.05, 0.5, 0.95]);
    if (p95 - p50 < FLAT_BORDER && p50 - p5 < FLAT_BORDER) return p50;
    // Half the border at one level: paper a tight crop's ink reaches (exact, or within 10 %
    // in a small image), not uneven light.
    const tol = f32(Math.max(h, w) < SMALL_SIDE ? FLAT_BORDER : EXACT);
    let level = 0;
    for (const v of ring) if (Math.abs(f32(v - p50)) <= tol) level++;
    if (level * 2 >= ring.length) return p50;
    if (Math.max(h, w) < SMALL_SIDE) {   // ink._border_mode: a third of the border at one level
      const exact = f32(EXACT);
      let best = -1, mode = 0;
      for (const v of ring) {
        let near = 0;
        for (const u of ring) if (Math.abs(f32(u - v)) <= exact) near++;
        if (near > best || (near === best && v < mode)) { best = near; mode = v; }
      }
      if (best * 3 >= ring.length) return mode;
    }
    return background(plane);
  }

  function otsu(ink, step) {        // ink._otsu on every step-th row and column
    const hist = new Float64Array(256);
    let n = 0;
    for (let y = 0; y < ink.h; y += step) {
      for (let x = 0; x < ink.w; x += step) { hist[Math.trunc(f32(ink.d[y * ink.w + x] * 255)) & 255]++; n++; }
    }
    let weight = 0, mean = 0;
    const ws = new Float64Array(256), ms = new Float64Array(256);
    for (let i = 0; i < 256; i++) { weight += hist[i] / n; mean += (hist[i] / n) * i; ws[i] = weight; ms[i] = mean; }
    let best = 0, arg = 0;
    for (let i = 0; i < 256; i++) {
      const spread = ws[i] * (1 - ws[i]);
      const between = spread > 0 ? (mean * ws[i] - ms[i]) ** 2 / spread : 0;
      if (between > best) { best = between; arg = i; }
    }
    return (arg + 1) / 255;
  }

  function noise(raw) {             // ink._noise: median neighbour step (see there)
    const { h, w, d } = raw;
    const steps = [];
    const small = Math.max(h, w) < SMALL_SIDE;  // every row, pairs of paper only
    const mid = small ? quantiles(d, [0.5])[0] : Infinity;
    for (let y = 0; y < h; y += small ? 1 : 8) {
      for (let x = 1; x < w; x++) {
        const a = d[y * w + x], b = d[y * w + x - 1];
        if (a <= mid && b <= mid) steps.push(Math.abs(f32(a - b)));
      }
    }
    for (let y = 1; small && y < h; y++) {  // and down the columns: a thin crop has few across
      for (let x = 0; x < w; x++) {
        const a = d[y * w + x], b = d[(y - 1) * w + x];
        if (a <= mid && b <= mid) steps.push(Math.abs(f32(a - b)));
      }
    }
    return steps.length ? quantiles(steps, [0.5])[0] / 0.954 : 0;
  }

  // ink._paper_ink: contrast to the paper for either polarity, and the polarity vote.
  function paperInk(planes) {
    const { h, w } = planes[0];
    const papers = planes.map(paper);
    const level = (p, i) => (typeof p === "number" ? p : p.d[i]);
    const diffs = planes.map((pl, c) => { const g = grid(h, w); for (let i = 0; i < h * w; i++) g.d[i] = pl.d[i] - level(papers[c], i); return g; });
    let lighter = 0, darker = 0;
    for (let y = 0; y < h; y += 2) {
      for (let x = 0; x < w; x += 2) {
        let g = 0;
        for (const df of diffs) g += df.d[y * w + x];
        g = f32(g * f32(1 / diffs.length));
        lighter += Math.max(0, g - POLARITY_MARGIN);
        darker += Math.max(0, -g - POLARITY_MARGIN);
      }
    }
    const light = lighter > darker;
    const raw = grid(h, w), ink = grid(h, w);
    for (let i = 0; i < h * w; i++) {
      let best = -Infinity;
      diffs.forEach((df, c) => {
        const p = level(papers[c], i);
        best = Math.max(best, light ? df.d[i] / Math.max(1 - p, 0.1) : df.d[i] / -Math.max(p, 0.1));
      });
      raw.d[i] = best;
      ink.d[i] = Math.min(1, Math.max(0, raw.d[i]));
    }
    return { ink, inverted: !light, noise: noise(raw) };
  }

  // Pillow's L conversion of RGB (ITU-R 601-2 luma in 16-bit fixed point).
  function luma(r, g, b) { return (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16; }

  // ink._ink_map for RGBA pixels: a mostly transparent canvas is read by its opacity.
  function inkMap(px) {
    const { w, h, data } = px;
    let clear = 0;
    for (let i = 0; i < w * h; i++) clear += data[4 * i + 3] < 128;
    if (clear * 2 >= w * h) {
      const step = Math.max(1, Math.trunc(Math.max(h, w) / 64));
      let sum = 0, count = 0;
      for (let y = 0; y < h; y += step) {
        for (let x = 0; x < w; x += step) {
          const o = 4 * (y * w + x);
          if (data[o + 3] >= 128) { sum += luma(data[o], data[o + 1], data[o + 2]); count++; }
        }
      }
      const ink = grid(h, w);
      for (let i = 0; i < w * h; i++) ink.d[i] = data[4 * i + 3] * INV255;
      return { ink, cut: ALPHA_CUT, inverted: count > 0 && sum / count < 128 };
    }
    let grey = true;
    for (let i = 0; i < w * h && grey; i++) grey = data[4 * i] === data[4 * i + 1] && data[4 * i + 1] === data[4 * i + 2];
    const planes = (grey ? [0] : [0, 1, 2]).map((c) => {
      const g = grid(h, w);
      for (let i = 0; i < w * h; i++) {
        const a = f32(data[4 * i + 3] * INV255);
        g.d[i] = f32(data[4 * i + c] * INV255) * a + (1 - a);   // composited on white
      }
      return g;
    });
    const { ink, inverted, noise: sigma } = paperInk(planes);
    const cut = Math.max(otsu(ink, ink.d.length > 40000 ? 2 : 1), MIN_CONTRAST, NOISE_CUT * sigma);
    return { ink, cut, inverted };
  }

  // lines.erase_rules: ruled or squared paper's lines set to paper (0), horizontal then
  // vertical, except where a stroke crosses them. Returns the map itself when none is found.
  function eraseRules(ink, cut) {
    let out = ink;
    for (const rows of [true, false]) {
      const R = rows ? ink.h : ink.w, C = rows ? ink.w : ink.h;
      const at = rows ? (r, c) => r * ink.w + c : (r, c) => c * ink.w + r;
      const mask = (r, c) => out.d[at(r, c)] > cut;
      const erase = ruled(mask, R, C);
      if (!erase) continue;
      if (out === ink) out = { h: ink.h, w: ink.w, d: Float32Array.from(ink.d) };
      erase.forEach(([r, c]) => { out.d[at(r, c)] = 0; });
    }
    return out;
  }

  function ruleBands(mask, R, C) {   // lines._bands
    const reach = Math.trunc(RULE_SPAN_GAP * C), bands = [];
    let start = -1;
    for (let r = 0; r <= R; r++) {
      let isRuled = false;
      if (r < R) {
        let count = 0, head = false, tail = false;
        for (let c = 0; c < C; c++) {
          if (!mask(r, c)) continue;
          count++;
          if (c <= reach) head = true;
          if (c >= C - reach - 1) tail = true;
        }
        isRuled = count >= RULE_COVER * C && head && tail;
      }
      if (isRuled && start < 0) start = r;
      if (!isRuled && start >= 0) { bands.push([start, r]); start = -1; }
    }
    return bands.filter(([a, b]) => b - a <= Math.max(2, RULE_THICK * R));
  }

  function ruleEven(bands) {         // lines._even
    if (bands.length < RULE_LINES) return false;
    const centres = bands.map(([a, b]) => (a + b) / 2);
    const gaps = centres.slice(1).map((v, i) => v - centres[i]);
    const step = median(gaps);
    if (step <= 0) return false;
    return gaps.every((g) => Math.abs(g - Math.max(1, roundHalfEven(g / step)) * step) <= RULE_EVEN * step);
  }

  function roundHalfEven(v) {        // np.round
    const f = Math.floor(v), d = v - f;
    return d > 0.5 || (d === 0.5 && f % 2 !== 0) ? f + 1 : f;
  }

  // lines._ruled: [row, column] pairs to erase, or null when the mask is not ruled.
  function ruled(mask, R, C) {
    if (Math.max(R, C) < 64) return null;
    const bands = ruleBands(mask, R, C);
    if (!ruleEven(bands)) return null;
    const near = (r) => {            // ink in row r within RULE_REACH columns of each column
      const out = new Uint8Array(C);
      for (let c = 0; c < C; c++) {
        for (let k = Math.max(0, c - RULE_REACH); k <= Math.min(C - 1, c + RULE_REACH); k++) {
          if (mask(r, k)) { out[c] = 1; break; }
        }
      }
      return out;
    };
    const erase = [];
    for (const [a, b] of bands) {
      const top = Math.max(0, a - 1), bottom = Math.min(R, b + 1);
      const above = top > 0 ? near(top - 1) : new Uint8Array(C);
      const below = bottom < R ? near(bottom) : new Uint8Array(C);
      for (let c = 0; c < C; c++) {
        if (above[c] && below[c]) continue;
        for (let r = top; r < bottom; r++) erase.push([r, c]);
      }
    }
    return erase;
  }

  // ink._upscale: a small image's ink map, bicubic on mode F, clipped to 0..1.
  function upscale(ink, up) {
    const big = resample(ink, ink.w * up, ink.h * up, BICUBIC, null);
    for (let i = 0; i < big.d.length; i++) big.d[i] = Math.min(1, Math.max(0, big.d[i]));
    return big;
  }

  // ink._components: 8-connected labels inside the ink's bounding box, specks marked (a speck
  // spans under 3 input pixels: 3 * up working pixels).
  function components(ink, cut, up) {
    const { h, w } = ink;
    const labels = new Int32Array(h * w);
    const boxes = [];                    // [top, left, bottom, right) per label - 1
    const areas = [];
    const stack = new Int32Array(h * w);
    for (let start = 0; start < h * w; start++) {
      if (labels[start] || !(ink.d[start] > cut)) continue;
      const id = boxes.length + 1;
      const box = [h, w, 0, 0];
      let top = 0, area = 0;
      stack[top++] = start;
      labels[start] = id;
      while (top) {
        const i = stack[--top], y = (i / w) | 0, x = i - y * w;
        area++;
        box[0] = Math.min(box[0], y); box[1] = Math.min(box[1], x);
        box[2] = Math.max(box[2], y + 1); box[3] = Math.max(box[3], x + 1);
        for (let dy = -1; dy <= 1; dy++) {
          for (let dx = -1; dx <= 1; dx++) {
            const yy = y + dy, xx = x + dx, j = yy * w + xx;
            if (yy < 0 || yy >= h || xx < 0 || xx >= w || labels[j] || !(ink.d[j] > cut)) continue;
            labels[j] = id;
            stack[top++] = j;
          }
        }
      }
      boxes.push(box);
      areas.push(area);
    }
    const big = boxes.map((b) => Math.max(b[2] - b[0], b[3] - b[1]) >= Math.max(3.0 * up, MIN_EXTENT * Math.min(h, w)));
    const keep = big.slice();
    if (boxes.length > 1 && big.some(Boolean)) {
      const largest = Math.max(...areas.filter((_, i) => big[i]));
      areas.forEach((a, i) => { if (a >= MIN_AREA * largest) keep[i] = true; });
    }
    return { labels, boxes, areas, keep: dropFrames(labels, h, w, boxes, keep) };
  }

  // frames.py, step for step: kept pieces that frame the ink rather than form it (a box drawn
  // round the digit, the page's edge against a table) are unmarked. Boxes are [t, l, b, r).
  const extent = (b) => Math.max(b[2] - b[0], b[3] - b[1]);
  const inside = (a, b) => b[0] <= a[0] && b[1] <= a[1] && a[2] <= b[2] && a[3] <= b[3];
  const touches = (b, h, w) => b[0] === 0 || b[1] === 0 || b[2] === h || b[3] === w;

  // Enclosed paper of piece id in its box: what a 4-connected flood from the box's rim over
  // other pixels does not reach (ndimage.binary_fill_holes). Returns a Uint8Array, 1 = hole.
  function holesOf(labels, w, box, id) {
    const [t, l, b, r] = box, bw = r - l, bh = b - t;
    const seen = new Uint8Array(bw * bh), stack = [];
    const own = (y, x) => labels[(t + y) * w + l + x] === id;
    const push = (y, x) => {
      if (y >= 0 && y < bh && x >= 0 && x < bw && !seen[y * bw + x] && !own(y, x)) {
        seen[y * bw + x] = 1;
        stack.push(y * bw + x);
      }
    };
    for (let x = 0; x < bw; x++) { push(0, x); push(bh - 1, x); }
    for (let y = 0; y < bh; y++) { push(y, 0); push(y, bw - 1); }
    while (stack.length) {
      const i = stack.pop(), y = (i / bw) | 0, x = i - y * bw;
      push(y - 1, x); push(y + 1, x); push(y, x - 1); push(y, x + 1);
    }
    const holes = new Uint8Array(bw * bh);
    for (let y = 0; y < bh; y++) {
      for (let x = 0; x < bw; x++) holes[y * bw + x] = !seen[y * bw + x] && !own(y, x) ? 1 : 0;
    }
    return holes;
  }

  function isFrame(labels, w, boxes, id, others) {
    const box = boxes[id - 1];
    const within = others.filter((j) => inside(boxes[j - 1], box));
    if (!within.length) return false;
    const holes = holesOf(labels, w, box, id);
    let filled = 0;
    for (let i = 0; i < holes.length; i++) filled += holes[i];
    if (filled < BOX_FILL * holes.length) return false;
    const bw = box[3] - box[1];
    const held = within.filter((j) => {
      const [t, l, b, r] = boxes[j - 1];
      for (let y = t; y < b; y++) {        // its first pixel in row order, as np.argwhere
        for (let x = l; x < r; x++) {
          if (labels[y * w + x] === j) return holes[(y - box[0]) * bw + x - box[1]] === 1;
        }
      }
      return false;
    }).map((j) => boxes[j - 1]);
    if (!held.length) return false;
    const span = Math.max(
      Math.max(...held.map((b) => b[2])) - Math.min(...held.map((b) => b[0])),
      Math.max(...held.map((b) => b[3])) - Math.min(...held.map((b) => b[1])));
    return span >= FRAME_SHARE * extent(box);
  }

  function isEdge(h, w, boxes, id, others) {
    const [t, l, b, r] = boxes[id - 1];
    if (EDGE_LONGER * Math.max(...others.map((j) => extent(boxes[j - 1]))) > extent(boxes[id - 1])) {
      return false;
    }
    const gap = EDGE_GAP * Math.min(h, w);
    const clear = others.map((j) => boxes[j - 1]).filter((o) => !touches(o, h, w));
    const edge = touches(boxes[id - 1], h, w);
    if (b - t >= EDGE_SPAN * h && edge && clear.some((o) => o[1] >= r + gap || o[3] + gap <= l)) {
      return true;
    }
    return r - l >= EDGE_SPAN * w && edge && clear.some((o) => o[0] >= b + gap || o[2] + gap <= t);
  }

  // frames.drop_frames: keep (by label - 1) with frames and page edges unmarked.
  function dropFrames(labels, h, w, boxes, keep) {
    const ids = boxes.map((_, i) => i + 1).filter((id) => keep[id - 1]);
    if (ids.length < 2) return keep;
    const out = keep.slice();
    for (const id of ids) {
      const others = ids.filter((j) => j !== id);
      if (isFrame(labels, w, boxes, id, others) || isEdge(h, w, boxes, id, others)) out[id - 1] = false;
    }
    return out.some(Boolean) ? out : keep;
  }

  // Box-reduce RGBA pixels by an integer factor (inputs over 1024 px a side).
  function reducePixels(px, factor) {
    const w = Math.ceil(px.w / factor), h = Math.ceil(px.h / factor);
    const data = new Uint8ClampedArray(w * h * 4);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const sum = [0, 0, 0, 0];
        let n = 0;
        for (let yy = y * factor; yy < Math.min(px.h, (y + 1) * factor); yy++) {
          for (let xx = x * factor; xx < Math.min(px.w, (x + 1) * factor); xx++) {
            for (let c = 0; c < 4; c++) sum[c] += px.data[4 * (yy * px.w + xx) + c];
            n++;
          }
        }
        for (let c = 0; c < 4; c++) data[4 * (y * w + x) + c] = Math.round(sum[c] / n);
      }
    }
    return { w, h, data };
  }

  // page.page_box: the page of a photo that shows the desk all round it, as a crop box
  // [left, top, right, bottom) in input pixels, or null.
  function pageBox(found) {
    const { ink, labels, boxes, areas, keep, factor } = found;
    const cover = PAGE_COVER * ink.w * ink.h;
    const boxArea = (b) => (b[2] - b[0]) * (b[3] - b[1]);
    if (!boxes.some((b, i) => keep[i] && boxArea(b) >= cover)) return null;
    let page = 0;
    keep.forEach((k, i) => { if (k && (!page || areas[i] > areas[page - 1])) page = i + 1; });
    if (areas[page - 1] < cover) return null;
    const [t, l, b, r] = boxes[page - 1], bw = r - l, bh = b - t;
    const filled = holesOf(labels, ink.w, boxes[page - 1], page);  // holes, then own pixels too
    for (let y = 0; y < bh; y++) {
      for (let x = 0; x < bw; x++) if (labels[(t + y) * ink.w + l + x] === page) filled[y * bw + x] = 1;
    }
    const count = filled.reduce((n, v) => n + v, 0), holes = count - areas[page - 1];
    if (holes < WRITTEN[0] * count || holes > WRITTEN[1] * count) return null;
    const inner = innerBox(filled, bw, bh, count);
    if (!inner) return null;
    const [it, il, ib, ir] = inner;
    const dy = Math.max(1, Math.trunc(PAGE_MARGIN * (ib - it)));
    const dx = Math.max(1, Math.trunc(PAGE_MARGIN * (ir - il)));
    return [(l + il + dx) * factor, (t + it + dy) * factor, (l + ir - dx) * factor, (t + ib - dy) * factor];
  }

  // page._inner_box: the upright box inside a quadrilateral mask's corners, or null.
  function innerBox(filled, w, h, count) {
    let tl, tr, br, bl;  // [x, y]; the first pixel in row order wins a tie, as np.argmin
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        if (!filled[y * w + x]) continue;
        if (!tl || x + y < tl[0] + tl[1]) tl = [x, y];
        if (!br || x + y > br[0] + br[1]) br = [x, y];
        if (!tr || x - y > tr[0] - tr[1]) tr = [x, y];
        if (!bl || x - y < bl[0] - bl[1]) bl = [x, y];
      }
    }
    const corners = [tl, tr, br, bl];
    let twice = 0, mismatch = 0;
    corners.forEach(([x0, y0], i) => { const [x1, y1] = corners[(i + 1) % 4]; twice += x0 * y1 - x1 * y0; });
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let inside = true;
        corners.forEach(([x0, y0], i) => {
          const [x1, y1] = corners[(i + 1) % 4];
          if ((x1 - x0) * (y - y0) - (y1 - y0) * (x - x0) < 0) inside = false;
        });
        if (inside !== (filled[y * w + x] === 1)) mismatch++;
      }
    }
    if (mismatch > PAGE_QUAD * count) return null;
    const top = Math.max(tl[1], tr[1]), left = Math.max(tl[0], bl[0]);
    const bottom = Math.min(bl[1], br[1]) + 1, right = Math.min(tr[0], br[0]) + 1;
    if (bottom <= top || right <= left || (bottom - top) * (right - left) < PAGE_INNER * Math.abs(twice) / 2) {
      return null;
    }
    return [top, left, bottom, right];
  }

  function cropPixels(px, [l, t, r, b]) {
    const w = r - l, h = b - t, data = new Uint8ClampedArray(w * h * 4);
    for (let y = 0; y < h; y++) {
      data.set(px.data.subarray(4 * ((t + y) * px.w + l), 4 * ((t + y) * px.w + r)), 4 * y * w);
    }
    return { w, h, data };
  }

  // ink.extract for RGBA pixels: {ink (0..1 map, upscaled when small), cut, inverted, factor,
  // up, labels, boxes, keep, origin, size}, the 8-connected components of ink above the cut,
  // specks and frames not kept; a photo of a page on a desk is read on the page alone, which
  // starts at origin [x, y] and is size [w, h] input pixels.
  function extract(px) {
    const whole = extractWhole(px);
    const box = whole.up === 1 ? pageBox(whole) : null;
    if (!box) return whole;
    return { ...extractWhole(cropPixels(px, box)), origin: [box[0], box[1]] };
  }

  function extractWhole(px) {
    const size = [px.w, px.h];
    const factor = Math.max(1, Math.ceil(Math.max(px.w, px.h) / WORK_SIDE));
    if (factor > 1) px = reducePixels(px, factor);
    const mapped = inkMap(px);
    const { cut, inverted } = mapped;
    mapped.ink = eraseRules(mapped.ink, cut);  // ruled or squared paper (lines.py)
    const side = Math.max(mapped.ink.w, mapped.ink.h);
    const up = side < SMALL_SIDE ? Math.ceil(UPSCALE_TO / side) : 1;
    const ink = up > 1 ? upscale(mapped.ink, up) : mapped.ink;
    return { ink, cut, inverted, factor, up, size, origin: [0, 0], ...components(ink, cut, up) };
  }

  window.mnistInk = { extract };
})();
