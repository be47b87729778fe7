// mnist-digits: the arithmetic of Pillow and numpy that images.render.to_mnist relies on, in
// JavaScript for preprocess.js: Pillow's resampling of mode F images (libImaging/Resample.c
// and Reduce.c: LANCZOS with reducing_gap, BILINEAR, BICUBIC), numpy's float32 pairwise sum and
// Python's round(). Each follows its original's order of operations, because the 28x28 input
// must come out as the server makes it (tests/test_browser_local.py: 0.000 grey levels apart).
// Plain script (no module), so it also runs from file://; it defines window.mnistPillow.
"use strict";

(() => {
  const f32 = Math.fround;

  // Python's round(): halves go to the even neighbour.
  function pyRound(x) {
    const r = Math.round(x);
    return Math.abs(x - Math.trunc(x)) === 0.5 ? 2 * Math.round(x / 2) : r;
  }

  // A (h, w) float32 map.
  function grid(h, w) { return { h, w, d: new Float32Array(h * w) }; }

  // ---------------------------------------------------------------------------------------
  // Pillow's resampling (libImaging/Resample.c, Reduce.c) for mode F images

  function sinc(x) {
    if (x === 0.0) return 1.0;
    x *= Math.PI;
    return Math.sin(x) / x;
  }
  const LANCZOS = { support: 3.0, f: (x) => (-3.0 <= x && x < 3.0 ? sinc(x) * sinc(x / 3) : 0.0) };
  const BILINEAR = { support: 1.0, f: (x) => { x = Math.abs(x); return x < 1.0 ? 1.0 - x : 0.0; } };
  // Resample.c bicubic_filter, a = -0.5.
  const BICUBIC = {
    support: 2.0,
    f: (x) => {
      const a = -0.5;
      x = Math.abs(x);
      if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
      if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
      return 0.0;
    },
  };

  // Resample.c precompute_coeffs: per output pixel, its first input pixel and weights.
  function coeffs(inSize, in0, in1, outSize, filter) {
    const scale = (f32(in1) - f32(in0)) / outSize;
    const filterscale = Math.max(scale, 1.0);
    const support = filter.support * filterscale;
    const out = [];
    for (let xx = 0; xx < outSize; xx++) {
      const center = in0 + (xx + 0.5) * scale;
      const ss = 1.0 / filterscale;
      const xmin = Math.max(0, Math.trunc(center - support + 0.5));
      const xmax = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
      const k = new Float64Array(Math.max(0, xmax));
      let ww = 0.0;
      for (let x = 0; x < xmax; x++) { k[x] = filter.f((x + xmin - center + 0.5) * ss); ww += k[x]; }
      if (ww !== 0.0) for (let x = 0; x < xmax; x++) k[x] /= ww;
      out.push({ xmin, k });
    }
    return out;
  }

  // Image.resize(size, filter, box) for mode F: horizontal pass, then vertical (float32
  // in between), each pass only when that axis changes, as ImagingResampleInner does.
  function resample(src, outW, outH, filter, box) {
    const [x0, y0, x1, y1] = box || [0, 0, src.w, src.h];
    let img = src;
    if (outW !== src.w || x0 !== 0 || x1 !== src.w) {
      const cs = coeffs(src.w, x0, x1, outW, filter);
      const tmp = grid(src.h, outW);
      for (let y = 0; y < src.h; y++) {
        for (let xx = 0; xx < outW; xx++) {
          const { xmin, k } = cs[xx];
          let s = 0.0;
          for (let x = 0; x < k.length; x++) s += src.d[y * src.w + xmin + x] * k[x];
          tmp.d[y * outW + xx] = s;
        }
      }
      img = tmp;
    }
    if (outH !== src.h || y0 !== 0 || y1 !== src.h) {
      const cs = coeffs(src.h, y0, y1, outH, filter);
      const tmp = grid(outH, img.w);
      for (let yy = 0; yy < outH; yy++) {
        const { xmin, k } = cs[yy];
        for (let x = 0; x < img.w; x++) {
          let s = 0.0;
          for (let y = 0; y < k.length; y++) s += img.d[(xmin + y) * img.w + x] * k[y];
          tmp.d[yy * img.w + x] = s;
        }
      }
      img = tmp;
    }
    return img;
  }

  // Image.reduce((fx, fy)) for mode F: block means; edge blocks average what they hold.
  function reduceF(src, fx, fy) {
    const w = Math.ceil(src.w / fx), h = Math.ceil(src.h / fy);
    const out = grid(h, w);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let s = 0.0, n = 0;
        for (let yy = y * fy; yy < Math.min(src.h, (y + 1) * fy); yy++) {
          for (let xx = x * fx; xx < Math.min(src.w, (x + 1) * fx); xx++) { s += src.d[yy * src.w + xx]; n++; }
        }
        out.d[y * w + x] = s / n;
      }
    }
    return out;
  }

  // Image.resize(size, LANCZOS, reducing_gap=3.0): box-reduce big shrinks first.
  function lanczos(src, outW, outH) {
    const fx = Math.trunc(src.w / outW / 3.0) || 1, fy = Math.trunc(src.h / outH / 3.0) || 1;
    if (fx > 1 || fy > 1) {
      return resample(reduceF(src, fx, fy), outW, outH, LANCZOS, [0, 0, src.w / fx, src.h / fy]);
    }
    return resample(src, outW, outH, LANCZOS, null);
  }

  // numpy's float32 sum of a contiguous run (pairwise, 8 accumulators, blocks of 128): a
  // symmetric digit's centre of mass lies on a half pixel, where the rounding of the sums
  // decides which way it goes, so they are summed as numpy sums them.
  function sum32(d, start, n) {
    if (n < 8) {
      let res = -0.0;
      for (let i = 0; i < n; i++) res = f32(res + d[start + i]);
      return res;
    }
    if (n <= 128) {
      const r = Array.from(d.subarray(start, start + 8));
      let i = 8;
      for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j++) r[j] = f32(r[j] + d[start + i + j]);
      let res = f32(f32(f32(r[0] + r[1]) + f32(r[2] + r[3])) + f32(f32(r[4] + r[5]) + f32(r[6] + r[7])));
      for (; i < n; i++) res = f32(res + d[start + i]);
      return res;
    }
    let n2 = Math.trunc(n / 2);
    n2 -= n2 % 8;
    return f32(sum32(d, start, n2) + sum32(d, start + n2, n - n2));
  }

  function median(values) {         // np.median: the mean of the middle two for even counts
    const s = Float64Array.from(values).sort();
    const m = s.length >> 1;
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
  }

  window.mnistPillow = { grid, median, pyRound, resample, lanczos, BILINEAR, BICUBIC, sum32 };
})();
