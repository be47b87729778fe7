// mnist-digits: images.render.to_mnist ported to the browser, step for step, so that a drawing
// read in this browser gives the model the same 28x28 input as the server makes of it.
// Plain script (no module), so it also runs from file://; it defines window.mnistPreprocess.
//
// images/ink.py's half (finding the ink) is ink.js; this file is images/render.py's (soft ink,
// stroke width, thickening, LANCZOS fit into 20x20 as Pillow does it, centre of mass at
// (14, 14) of 28x28). Pillow's and numpy's arithmetic is in pillow.js; pillow.js and ink.js
// must load first.
// Input: an ImageData (RGBA, non-premultiplied), which is what a canvas gives and what the
// server decodes from the canvas's PNG. Arrays are Float32Array where numpy uses float32, so
// the grey levels agree to rounding (tests/test_browser_local.py measures how closely).
"use strict";

(() => {
  const SIDE = 28, BOX = 20, CENTRE = 14.0;  // render.py: MNIST's canvas, box and centre
  const THIN = 2.0, TARGET_WIDTH = 2.5, POOL_SIDE = 40;  // render.py stroke thickening
  const AS_IS_COM = 1.5, AS_IS_PEAK = 128;  // render.py: an input already in MNIST's format
  const f32 = Math.fround;
  const { grid, pyRound, lanczos, sum32 } = window.mnistPillow;  // pillow.js

  // ---------------------------------------------------------------------------------------
  // images/render.py

  function strokeWidth(own, h, w) {   // 2 * area / perimeter
    let area = 0, edges = 0;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const v = own[y * w + x];
        area += v;
        if (y > 0) edges += v !== own[(y - 1) * w + x];
        if (x > 0) edges += v !== own[y * w + x - 1];
      }
    }
    for (const y of [0, h - 1]) for (let x = 0; x < w; x++) edges += own[y * w + x];
    for (const x of [0, w - 1]) for (let y = 0; y < h; y++) edges += own[y * w + x];
    return (2.0 * area) / Math.max(edges, 1);
  }

  function maxPool(src, pool) {
    const out = grid(Math.ceil(src.h / pool), Math.ceil(src.w / pool));
    for (let y = 0; y < src.h; y++) {
      for (let x = 0; x < src.w; x++) {
        const o = ((y / pool) | 0) * out.w + ((x / pool) | 0);
        out.d[o] = Math.max(out.d[o], src.d[y * src.w + x]);
      }
    }
    return out;
  }

  // render._thicken: grey dilation with a disk so thin strokes are ~2.5 px at 20 px.
  function thicken(soft, width) {
    const pool = Math.max(1, Math.trunc(Math.max(soft.h, soft.w) / POOL_SIDE));
    if (pool > 1) soft = maxPool(soft, pool);
    const pooledWidth = width / pool + (pool - 1) / pool;
    const ratio = TARGET_WIDTH / BOX;
    const grow = (ratio * Math.max(soft.h, soft.w) - pooledWidth) / (1 - ratio);
    const diameter = pyRound(grow) + 1;
    if (diameter < 2) return soft;
    const margin = (diameter >> 1) + 1;
    const radius = (diameter - 1) / 2;
    const disk = [];
    for (let dy = 0; dy < diameter; dy++) {
      for (let dx = 0; dx < diameter; dx++) {
        if ((dy - radius) ** 2 + (dx - radius) ** 2 <= (radius + 0.5) ** 2) disk.push([dy - (diameter >> 1), dx - (diameter >> 1)]);
      }
    }
    const ph = soft.h + 2 * margin, pw = soft.w + 2 * margin;
    const thick = grid(ph, pw);
    let top = ph, left = pw, bottom = 0, right = 0;
    for (let y = 0; y < ph; y++) {
      for (let x = 0; x < pw; x++) {
        let m = 0;
        for (const [dy, dx] of disk) {
          const sy = y + dy - margin, sx = x + dx - margin;
          if (sy >= 0 && sy < soft.h && sx >= 0 && sx < soft.w) m = Math.max(m, soft.d[sy * soft.w + sx]);
        }
        thick.d[y * pw + x] = m;
        if (m) { top = Math.min(top, y); left = Math.min(left, x); bottom = Math.max(bottom, y + 1); right = Math.max(right, x + 1); }
      }
    }
    return crop(thick, top, left, bottom, right);
  }

  function crop(src, top, left, bottom, right) {
    const out = grid(bottom - top, right - left);
    for (let y = top; y < bottom; y++) out.d.set(src.d.subarray(y * src.w + left, y * src.w + right), (y - top) * out.w);
    return out;
  }

  function fit20(soft, own, width) {   // render._fit20: longer side to 20 px, peak 1
    if ((width * BOX) / Math.max(soft.h, soft.w) < THIN) {
      const masked = grid(soft.h, soft.w);
      for (let i = 0; i < masked.d.length; i++) masked.d[i] = own[i] ? soft.d[i] : 0;
      soft = thicken(masked, width);
    }
    const scale = BOX / Math.max(soft.h, soft.w);
    const small = lanczos(soft, Math.max(1, pyRound(soft.w * scale)), Math.max(1, pyRound(soft.h * scale)));
    let peak = 0;
    for (let i = 0; i < small.d.length; i++) { small.d[i] = Math.min(1, Math.max(0, small.d[i])); peak = Math.max(peak, small.d[i]); }
    if (peak > 0) for (let i = 0; i < small.d.length; i++) small.d[i] = small.d[i] / peak;
    return small;
  }

  function place28(fit) {              // render._place28: centre of mass at (14, 14)
    const total = sum32(fit.d, 0, fit.h * fit.w);
    let sy = 0, sx = 0;
    const cols = new Float32Array(fit.w);  // fit.sum(axis=0): rows added one after another
    for (let y = 0; y < fit.h; y++) {
      sy += sum32(fit.d, y * fit.w, fit.w) * y;   // fit.sum(axis=1) @ arange, in float64
      for (let x = 0; x < fit.w; x++) cols[x] = y ? cols[x] + fit.d[y * fit.w + x] : fit.d[x];
    }
    for (let x = 0; x < fit.w; x++) sx += cols[x] * x;
    const cy = total > 0 ? sy / total : (fit.h - 1) / 2, cx = total > 0 ? sx / total : (fit.w - 1) / 2;
    const top = Math.min(Math.max(pyRound(CENTRE - cy), 0), SIDE - fit.h);
    const left = Math.min(Math.max(pyRound(CENTRE - cx), 0), SIDE - fit.w);
    const out = new Uint8Array(SIDE * SIDE);
    for (let y = 0; y < fit.h; y++) {
      for (let x = 0; x < fit.w; x++) out[(top + y) * SIDE + left + x] = Math.trunc(f32(f32(fit.d[y * fit.w + x] * 255) + 0.5));
    }
    return out;
  }

  // render.mnist_format: the 784 grey levels of an input already in MNIST's format (28x28,
  // opaque grey, nonzero pixels inside 20x20, centre of mass within 1.5 px of (14, 14), peak
  // >= 128), else null. Sums are integers, so the centre of mass is numpy's to the last bit.
  function mnistFormat(px) {
    if (px.w !== SIDE || px.h !== SIDE) return null;
    const grey = new Uint8Array(SIDE * SIDE);
    let peak = 0;
    for (let i = 0; i < SIDE * SIDE; i++) {
      const r = px.data[4 * i];
      if (px.data[4 * i + 3] !== 255 || px.data[4 * i + 1] !== r || px.data[4 * i + 2] !== r) return null;
      grey[i] = r;
      peak = Math.max(peak, r);
    }
    if (peak < AS_IS_PEAK) return null;
    let top = SIDE, bottom = -1, left = SIDE, right = -1, total = 0, sy = 0, sx = 0;
    for (let y = 0; y < SIDE; y++) {
      for (let x = 0; x < SIDE; x++) {
        const v = grey[y * SIDE + x];
        if (v) { top = Math.min(top, y); bottom = Math.max(bottom, y); left = Math.min(left, x); right = Math.max(right, x); }
        total += v; sy += v * y; sx += v * x;
      }
    }
    if (Math.max(bottom - top, right - left) + 1 > BOX) return null;
    if (Math.max(Math.abs(sy / total - CENTRE), Math.abs(sx / total - CENTRE)) > AS_IS_COM) return null;
    return { grey, bbox: [left, top, right + 1, bottom + 1] };
  }

  // render.to_mnist for an ImageData: {image28 (784 uint8), found, inkFraction, inverted,
  // bbox ([left, top, right, bottom) of the ink in input pixels, null when none), detail
  // (render.detail; absent, so infinite, for an image taken as it is)}.
  function toMnist(imageData) {
    let px = { w: imageData.width, h: imageData.height, data: imageData.data };
    const asIs = mnistFormat(px);
    if (asIs) {
      const inked = asIs.grey.reduce((n, v) => n + (v > 127 ? 1 : 0), 0);
      return { image28: asIs.grey, found: true, inkFraction: inked / (SIDE * SIDE), inverted: false, bbox: asIs.bbox };
    }
    const { ink, cut, inverted, labels, boxes, keep, factor, up, origin, size } = window.mnistInk.extract(px);  // ink.js
    const ids = new Set(boxes.map((_, i) => i + 1).filter((id) => keep[id - 1]));
    if (!ids.size) return { image28: new Uint8Array(SIDE * SIDE), found: false, inkFraction: 0, inverted, bbox: null };
    const kept = [...ids].map((id) => boxes[id - 1]);
    const [top, left] = [Math.min(...kept.map((b) => b[0])), Math.min(...kept.map((b) => b[1]))];
    const [bottom, right] = [Math.max(...kept.map((b) => b[2])), Math.max(...kept.map((b) => b[3]))];
    const h = bottom - top, w = right - left;
    const own = new Uint8Array(h * w), soft = grid(h, w);
    let hiSum = 0, count = 0;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const i = (top + y) * ink.w + left + x;
        own[y * w + x] = ids.has(labels[i]) ? 1 : 0;
        if (own[y * w + x]) { hiSum += ink.d[i]; count++; }
      }
    }
    const lo = cut / 2, hi = hiSum / count;   // render_piece: stroke strength maps to white
    const gain = f32(1 / Math.max(hi - lo, 1e-3));
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const i = (top + y) * ink.w + left + x;
        const other = labels[i] > 0 && !own[y * w + x];  // specks, other digits: blanked
        soft.d[y * w + x] = other ? 0 : Math.min(1, Math.max(0, f32(f32(ink.d[i] - lo) * gain)));
      }
    }
    const image28 = place28(fit20(soft, own, strokeWidth(own, h, w)));
    // render_piece's bbox: working pixels to input pixels (input = working * factor / up),
    // offset to where the page read starts (a photo of a desk: ink.extract).
    const [x0, y0] = origin;
    const bbox = [x0 + Math.floor(left * factor / up), y0 + Math.floor(top * factor / up),
      x0 + Math.min(Math.ceil(right * factor / up), size[0]), y0 + Math.min(Math.ceil(bottom * factor / up), size[1])];
    return { image28, found: true, inkFraction: count / (ink.w * ink.h), inverted, bbox, detail: detail(soft) };
  }

  // render.detail: the longer side over the width of the edges (pixels between 10% and 90% of
  // full ink per unit of summed steps). Sums in float64 where numpy's are float32: the two
  // differ by ~1e-6 of the value, which moves a verdict only at LOW_DETAIL itself.
  function detail(soft) {
    const { h, w, d } = soft;
    const [low, high] = [f32(0.1), f32(0.9)];
    let ramp = 0, rise = 0;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const v = d[y * w + x];
        if (v > low && v < high) ramp++;
        if (x > 0) rise += Math.abs(f32(v - d[y * w + x - 1]));
        if (y > 0) rise += Math.abs(f32(v - d[(y - 1) * w + x]));
      }
    }
    return Math.max(h, w) * rise / Math.max(ramp, 1);
  }

  window.mnistPreprocess = { toMnist };
})();
