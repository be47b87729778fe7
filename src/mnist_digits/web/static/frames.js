// mnist-digits: the rules for ink that is not the digit's, ported from images/lines.py (the
// ruling of notebook paper), images/frames.py (a box round the digit, the page's edge) and
// images/page.py (a note on a desk), step for step, for ink.js. Plain script (no module), so it
// also runs from file://; it defines window.mnistFrames and needs pillow.js loaded first.
"use strict";

(() => {
  const { median } = window.mnistPillow;  // pillow.js
  const FRAME_SHARE = 0.4, BOX_FILL = 0.8;  // frames.py: a box round the digit ...
  const EDGE_MIN_SIDE = 128, EDGE_SPAN = 0.95, EDGE_LONGER = 1.3, EDGE_GAP = 0.05, EDGE_GAP_ACROSS = 0.02;  // edges
  const DESK_CONTACT = 0.05;  // desk
  const RULE_COVER = 0.5, RULE_SPAN_GAP = 0.05, RULE_THICK = 0.03, RULE_LINES = 3;  // lines.py
  const RULE_EVEN = 0.2, RULE_REACH = 2;
  const PAGE_COVER = 0.2, PAGE_QUAD = 0.04, PAGE_INNER = 0.5, PAGE_MARGIN = 0.03;  // page.py
  const PAGE_HOLES = 0.3;

  // lines.erase_rules: ruled or squared paper's lines set to paper (0), horizontal then
  // vertical, except where a stroke crosses them. Returns the map itself when none is found.
  function eraseRules(ink, cut) {
    if (Math.max(ink.w, ink.h) < 64) return ink;  // lines._SMALL_SIDE
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
    if (Math.max(h, w) < EDGE_MIN_SIDE) return false;
    if (EDGE_LONGER * Math.max(...others.map((j) => extent(boxes[j - 1]))) > extent(boxes[id - 1])) {
      return false;
    }
    const gap = EDGE_GAP * Math.min(h, w), across = EDGE_GAP_ACROSS * Math.min(h, w);
    const clear = others.map((j) => boxes[j - 1]).filter((o) => !touches(o, h, w));
    const edge = touches(boxes[id - 1], h, w);
    if (b - t >= EDGE_SPAN * h && edge && clear.some((o) => o[1] >= r + gap || o[3] + gap <= l)) {
      return true;
    }
    return r - l >= EDGE_SPAN * w && edge && clear.some((o) => o[0] >= b + across || o[2] + across <= t);
  }

  // frames.drop_frames: keep (by label - 1) with frames and page edges unmarked.
  function dropFrames(labels, h, w, boxes, keep) {
    const ids = boxes.map((_, i) => i + 1).filter((id) => keep[id - 1]);
    if (ids.length < 2) return keep;
    const out = keep.slice(), contact = borderContact(labels, h, w, keep.length + 1);
    for (const id of ids) {
      const others = ids.filter((j) => j !== id);
      if (isFrame(labels, w, boxes, id, others) || isEdge(h, w, boxes, id, others) ||
          isDesk(h, w, boxes, others, contact[id])) out[id - 1] = false;
    }
    return out.some(Boolean) ? out : keep;
  }

  // frames._border_contact: pixels on the outermost ring (corners once) of each label that
  // holds a corner pixel of the image; 0 for the others.
  function borderContact(labels, h, w, size) {
    const count = new Int32Array(size), corner = new Uint8Array(size);
    for (let x = 0; x < w; x++) { count[labels[x]]++; count[labels[(h - 1) * w + x]]++; }
    for (let y = 1; y < h - 1; y++) { count[labels[y * w]]++; count[labels[y * w + w - 1]]++; }
    for (const i of [0, w - 1, (h - 1) * w, h * w - 1]) corner[labels[i]] = 1;
    return count.map((c, i) => (corner[i] ? c : 0));
  }

  // frames._is_desk: holds a corner, on the border for >= 5 % of the shorter side, with other
  // ink clear of the border.
  function isDesk(h, w, boxes, others, contact) {
    if (Math.max(h, w) < EDGE_MIN_SIDE || contact < DESK_CONTACT * Math.min(h, w)) return false;
    return others.some((j) => !touches(boxes[j - 1], h, w));
  }

  // page.page_box: the page of a photo that shows the desk all round it, as {box: [left, top,
  // right, bottom) in input pixels, corners: null, or a turned page's [x, y] corners in box
  // pixels}, or null.
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
    if (holes > PAGE_HOLES * count) return null;
    if (holes === 0 && touches(boxes[page - 1], ink.h, ink.w)) return null;  // only a note with desk all round may have no holes
    const corners = cornersOf(filled, bw, bh, count);
    if (!corners) return null;
    const inner = innerBox(corners);
    if (!inner) return turned(corners, l, t, factor);  // turned over ~15 degrees
    const [it, il, ib, ir] = inner;
    const dy = Math.max(1, Math.trunc(PAGE_MARGIN * (ib - it)));
    const dx = Math.max(1, Math.trunc(PAGE_MARGIN * (ir - il)));
    return { box: [(l + il + dx) * factor, (t + it + dy) * factor, (l + ir - dx) * factor, (t + ib - dy) * factor], corners: null };
  }

  // page._corners: a quadrilateral mask's [x, y] corners, clockwise, or null: its extreme
  // points along the diagonals or, when those make no match, along the axes.
  function cornersOf(filled, w, h, count) {
    let tl, tr, br, bl, top, right, bottom, left;  // the first pixel in row order wins a tie
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        if (!filled[y * w + x]) continue;
        if (!tl || x + y < tl[0] + tl[1]) tl = [x, y];
        if (!br || x + y > br[0] + br[1]) br = [x, y];
        if (!tr || x - y > tr[0] - tr[1]) tr = [x, y];
        if (!bl || x - y < bl[0] - bl[1]) bl = [x, y];
        if (!top || y < top[1]) top = [x, y];
        if (!right || x > right[0]) right = [x, y];
        if (!bottom || y > bottom[1]) bottom = [x, y];
        if (!left || x < left[0]) left = [x, y];
      }
    }
    for (const corners of [[tl, tr, br, bl], [top, right, bottom, left]]) {
      let missed = 0;
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) if (insideOf(corners, x, y) !== (filled[y * w + x] === 1)) missed++;
      }
      if (missed <= PAGE_QUAD * count) return corners;
    }
    return null;
  }

  // Right of every edge of the clockwise corners (on an edge counts as inside).
  function insideOf(corners, x, y) {
    for (let i = 0; i < 4; i++) {
      const [x0, y0] = corners[i], [x1, y1] = corners[(i + 1) % 4];
      if ((x1 - x0) * (y - y0) - (y1 - y0) * (x - x0) < 0) return false;
    }
    return true;
  }

  // page._inner_box: the upright box inside the corners, or null when it keeps under half.
  function innerBox(corners) {
    const [tl, tr, br, bl] = corners;
    let twice = 0;
    corners.forEach(([x0, y0], i) => { const [x1, y1] = corners[(i + 1) % 4]; twice += x0 * y1 - x1 * y0; });
    const top = Math.max(tl[1], tr[1]), left = Math.max(tl[0], bl[0]);
    const bottom = Math.min(bl[1], br[1]) + 1, right = Math.min(tr[0], br[0]) + 1;
    if (bottom <= top || right <= left || (bottom - top) * (right - left) < PAGE_INNER * Math.abs(twice) / 2) {
      return null;
    }
    return [top, left, bottom, right];
  }

  // page._turned: the box round a turned page's corners, pulled 2 margins towards the centre.
  function turned(corners, left, top, factor) {
    const cx = corners.reduce((s, [x]) => s + x, 0) / 4, cy = corners.reduce((s, [, y]) => s + y, 0) / 4;
    const pulled = corners.map(([x, y]) => [x + 2 * PAGE_MARGIN * (cx - x), y + 2 * PAGE_MARGIN * (cy - y)]);
    const xs = pulled.map(([x]) => (left + x) * factor), ys = pulled.map(([, y]) => (top + y) * factor);
    const box = [Math.floor(Math.min(...xs)), Math.floor(Math.min(...ys)), Math.ceil(Math.max(...xs)), Math.ceil(Math.max(...ys))];
    return { box, corners: xs.map((x, i) => [x - box[0], ys[i] - box[1]]) };
  }

  // page.paint_outside: RGBA pixels with everything outside the corners set to the page's
  // paper, the per-channel median (nearest rank) of every 4th row and column inside.
  function paintOutside(px, corners) {
    const { w, h } = px, inside = new Uint8Array(w * h), sample = [[], [], [], []];
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        if (!insideOf(corners, x + 0.5, y + 0.5)) continue;
        inside[y * w + x] = 1;
        if (y % 4 === 0 && x % 4 === 0) for (let c = 0; c < 4; c++) sample[c].push(px.data[4 * (y * w + x) + c]);
      }
    }
    const n = sample[0].length;
    if (n === 0) return px;
    const paper = sample.map((v) => v.sort((a, b) => a - b)[n >> 1]);
    const data = new Uint8ClampedArray(px.data);
    for (let i = 0; i < w * h; i++) if (!inside[i]) for (let c = 0; c < 4; c++) data[4 * i + c] = paper[c];
    return { w, h, data };
  }

  window.mnistFrames = { dropFrames, eraseRules, pageBox, paintOutside };
})();
