// Our own small encoders for the payment code, so that nothing comes from a CDN:
// a QR code (ISO/IEC 18004: versions 1 to 3, error correction level M, numeric or
// byte mode — an 18-digit payment code fits version 1) and a Code 128 barcode
// (code set C: digit pairs). Both return SVG elements drawn with plain rects.

import { svg } from './dom.js';

// ---- QR code ----

const VERSIONS = [ // data and error-correction codewords at level M, one block each
  null,
  { data: 16, ec: 10, align: [] },
  { data: 28, ec: 16, align: [18] },
  { data: 44, ec: 26, align: [22] },
];

function gfMul(x, y) {
  let z = 0;
  for (let i = 7; i >= 0; i--) {
    z = (z << 1) ^ ((z >>> 7) * 0x11d);
    z ^= ((y >>> i) & 1) * x;
  }
  return z & 0xff;
}

function rsDivisor(degree) {
  const result = new Array(degree).fill(0);
  result[degree - 1] = 1;
  let root = 1;
  for (let i = 0; i < degree; i++) {
    for (let j = 0; j < result.length; j++) {
      result[j] = gfMul(result[j], root);
      if (j + 1 < result.length) result[j] ^= result[j + 1];
    }
    root = gfMul(root, 0x02);
  }
  return result;
}

function rsRemainder(data, divisor) {
  const result = divisor.map(() => 0);
  for (const b of data) {
    const factor = b ^ result.shift();
    result.push(0);
    divisor.forEach((coef, i) => { result[i] ^= gfMul(coef, factor); });
  }
  return result;
}

// segmentBits returns the mode, count and data bits of text.
function segmentBits(text) {
  const bits = [];
  const put = (val, len) => { for (let i = len - 1; i >= 0; i--) bits.push((val >>> i) & 1); };
  if (/^\d+$/.test(text)) {
    put(0b0001, 4);
    put(text.length, 10);
    for (let i = 0; i < text.length; i += 3) {
      const chunk = text.slice(i, i + 3);
      put(Number(chunk), chunk.length * 3 + 1);
    }
  } else {
    const bytes = new TextEncoder().encode(text);
    put(0b0100, 4);
    put(bytes.length, 8);
    for (const b of bytes) put(b, 8);
  }
  return bits;
}

// qrMatrix returns the modules of text's QR code: rows of booleans (true is dark).
export function qrMatrix(text) {
  const seg = segmentBits(text);
  let version = 1;
  while (version < VERSIONS.length && seg.length > VERSIONS[version].data * 8) version++;
  if (version >= VERSIONS.length) throw new Error('text too long for this QR encoder');
  const { data: dataLen, ec: ecLen, align } = VERSIONS[version];
  const bits = seg.slice();
  const cap = dataLen * 8;
  for (let i = 0; i < 4 && bits.length < cap; i++) bits.push(0);
  while (bits.length % 8) bits.push(0);
  const data = [];
  for (let i = 0; i < bits.length; i += 8) data.push(bits.slice(i, i + 8).reduce((a, b) => (a << 1) | b, 0));
  for (let pad = 0xec; data.length < dataLen; pad ^= 0xec ^ 0x11) data.push(pad);
  const codewords = data.concat(rsRemainder(data, rsDivisor(ecLen)));

  const size = version * 4 + 17;
  const mod = Array.from({ length: size }, () => new Array(size).fill(false));
  const fn = Array.from({ length: size }, () => new Array(size).fill(false));
  const set = (x, y, dark) => { mod[y][x] = dark; fn[y][x] = true; };

  for (let i = 0; i < size; i++) { set(6, i, i % 2 === 0); set(i, 6, i % 2 === 0); }
  for (const [cx, cy] of [[3, 3], [size - 4, 3], [3, size - 4]]) {
    for (let dy = -4; dy <= 4; dy++) {
      for (let dx = -4; dx <= 4; dx++) {
        const x = cx + dx, y = cy + dy;
        if (x < 0 || y < 0 || x >= size || y >= size) continue;
        const d = Math.max(Math.abs(dx), Math.abs(dy));
        set(x, y, d !== 2 && d !== 4);
      }
    }
  }
  for (const c of align) {
    for (let dy = -2; dy <= 2; dy++) {
      for (let dx = -2; dx <= 2; dx++) set(c + dx, c + dy, Math.max(Math.abs(dx), Math.abs(dy)) !== 1);
    }
  }
  const drawFormat = (mask) => {
    const d = (0 << 3) | mask; // level M is 00
    let rem = d;
    for (let i = 0; i < 10; i++) rem = (rem << 1) ^ ((rem >>> 9) * 0x537);
    const f = ((d << 10) | rem) ^ 0x5412;
    const bit = (i) => ((f >>> i) & 1) === 1;
    for (let i = 0; i <= 5; i++) set(8, i, bit(i));
    set(8, 7, bit(6));
    set(8, 8, bit(7));
    set(7, 8, bit(8));
    for (let i = 9; i < 15; i++) set(14 - i, 8, bit(i));
    for (let i = 0; i < 8; i++) set(size - 1 - i, 8, bit(i));
    for (let i = 8; i < 15; i++) set(8, size - 15 + i, bit(i));
    set(8, size - 8, true);
  };
  drawFormat(0); // reserves the format areas

  let i = 0;
  for (let right = size - 1; right >= 1; right -= 2) {
    if (right === 6) right = 5;
    for (let vert = 0; vert < size; vert++) {
      for (let j = 0; j < 2; j++) {
        const x = right - j;
        const upward = ((right + 1) & 2) === 0;
        const y = upward ? size - 1 - vert : vert;
        if (!fn[y][x] && i < codewords.length * 8) {
          mod[y][x] = ((codewords[i >>> 3] >>> (7 - (i & 7))) & 1) === 1;
          i++;
        }
      }
    }
  }

  const masks = [
    (x, y) => (x + y) % 2 === 0,
    (x, y) => y % 2 === 0,
    (x) => x % 3 === 0,
    (x, y) => (x + y) % 3 === 0,
    (x, y) => (Math.floor(x / 3) + Math.floor(y / 2)) % 2 === 0,
    (x, y) => ((x * y) % 2) + ((x * y) % 3) === 0,
    (x, y) => (((x * y) % 2) + ((x * y) % 3)) % 2 === 0,
    (x, y) => (((x + y) % 2) + ((x * y) % 3)) % 2 === 0,
  ];
  const apply = (m) => {
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) if (!fn[y][x] && masks[m](x, y)) mod[y][x] = !mod[y][x];
  };
  let best = 0, bestScore = Infinity;
  for (let m = 0; m < 8; m++) {
    apply(m);
    drawFormat(m);
    const s = penalty(mod);
    if (s < bestScore) { best = m; bestScore = s; }
    apply(m); // undo
  }
  apply(best);
  drawFormat(best);
  return mod;
}

// penalty scores a matrix by the standard's rules 1, 2 and 4 (runs, blocks, balance).
function penalty(m) {
  const n = m.length;
  let score = 0, dark = 0;
  for (let a = 0; a < n; a++) {
    let runH = 1, runV = 1;
    for (let b = 1; b < n; b++) {
      if (m[a][b] === m[a][b - 1]) runH++; else { if (runH >= 5) score += runH - 2; runH = 1; }
      if (m[b][a] === m[b - 1][a]) runV++; else { if (runV >= 5) score += runV - 2; runV = 1; }
    }
    if (runH >= 5) score += runH - 2;
    if (runV >= 5) score += runV - 2;
  }
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      if (m[y][x]) dark++;
      if (x < n - 1 && y < n - 1 && m[y][x] === m[y][x + 1] && m[y][x] === m[y + 1][x] && m[y][x] === m[y + 1][x + 1]) score += 3;
    }
  }
  score += Math.floor(Math.abs(dark * 20 - n * n * 10) / (n * n)) * 10;
  return score;
}

// qrSVG draws text's QR code with a quiet zone of 4 modules.
export function qrSVG(text, label) {
  const m = qrMatrix(text);
  const n = m.length + 8;
  const el = svg('svg', { viewBox: `0 0 ${n} ${n}`, class: 'qr', role: 'img', 'aria-label': label || text, 'shape-rendering': 'crispEdges' });
  el.appendChild(svg('rect', { width: n, height: n, fill: '#fff' }));
  let d = '';
  m.forEach((row, y) => row.forEach((dark, x) => { if (dark) d += `M${x + 4} ${y + 4}h1v1h-1z`; }));
  el.appendChild(svg('path', { d, fill: '#000' }));
  return el;
}

// ---- Code 128 ----

const C128 = ('212222 222122 222221 121223 121322 131222 122213 122312 132212 221213 221312 231212 112232 ' +
  '122132 122231 113222 123122 123221 223211 221132 221231 213212 223112 312131 311222 321122 321221 312212 ' +
  '322112 322211 212123 212321 232121 111323 131123 131321 112313 132113 132311 211313 231113 231311 112133 ' +
  '112331 132131 113123 113321 133121 313121 211331 231131 213113 213311 213131 311123 311321 331121 312113 ' +
  '312311 332111 314111 221411 431111 111224 111422 121124 121421 141122 141221 112214 112412 122114 122411 ' +
  '142112 142211 241211 221114 413111 241112 134111 111242 121142 121241 114212 124112 124211 411212 421112 ' +
  '421211 212141 214121 412121 111143 111341 131141 114113 114311 411113 411311 113141 114131 311141 411131 ' +
  '211412 211214 211232 2331112').split(' ');

// code128SVG draws an even-length string of digits as a Code 128 (set C) barcode.
export function code128SVG(digits, label) {
  if (!/^(\d\d)+$/.test(digits)) throw new Error('code128SVG needs an even number of digits');
  const values = [105];
  for (let i = 0; i < digits.length; i += 2) values.push(Number(digits.slice(i, i + 2)));
  let sum = values[0];
  for (let i = 1; i < values.length; i++) sum += values[i] * i;
  values.push(sum % 103, 106);
  const quiet = 10;
  let x = quiet, d = '';
  for (const v of values) {
    const widths = C128[v];
    for (let i = 0; i < widths.length; i++) {
      const w = Number(widths[i]);
      if (i % 2 === 0) d += `M${x} 0h${w}v60h-${w}z`;
      x += w;
    }
  }
  const width = x + quiet;
  const el = svg('svg', { viewBox: `0 0 ${width} 60`, class: 'barcode', role: 'img', 'aria-label': label || digits, preserveAspectRatio: 'none', 'shape-rendering': 'crispEdges' });
  el.appendChild(svg('rect', { width, height: 60, fill: '#fff' }));
  el.appendChild(svg('path', { d, fill: '#000' }));
  return el;
}
