// mnist-digits: images/ink.py ported to the browser, step for step: polarity, paper, Otsu
// threshold, noise, 8-connected components and specks, for preprocess.js (render.py's half);
// the rules of images/lines.py, frames.py and page.py are frames.js's.
// Plain script (no module), so it also runs from file://; it defines window.mnistInk. Pillow's
// and numpy's arithmetic is in pillow.js; it and frames.js must load first. Arrays are
// Float32Array where numpy uses float32, so the ink maps agree to rounding.
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
  const f32 = Math.fround;
  const INV255 = f32(1 / 255);
  const { grid, median, resample, BILINEAR, BICUBIC } = window.mnistPillow;  // pillow.js
  const { dropFrames, eraseRules, pageBox, paintOutside } = window.mnistFrames;  // frames.js

  function quantiles(values, qs) {   // nearest rank, as ink._quantiles
    const sorted = Float64Array.from(values).sort();
    return qs.map((q) => sorted[Math.min(sorted.length - 1, Math.trunc(q * sorted.length))]);
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
    const found = whole.up === 1 ? pageBox(whole) : null;
    if (!found) return whole;
    const page = extractWhole(cropPixels(px, found.box), found.corners);
    if (!page.keep.some(Boolean)) return whole;  // nothing written on it: no page
    return { ...page, origin: [found.box[0], found.box[1]] };
  }

  function extractWhole(px, corners = null) {  // corners: a turned page's, in input pixels
    const size = [px.w, px.h];
    const factor = Math.max(1, Math.ceil(Math.max(px.w, px.h) / WORK_SIDE));
    if (factor > 1) px = reducePixels(px, factor);
    if (corners) px = paintOutside(px, corners.map(([x, y]) => [x / factor, y / factor]));
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
