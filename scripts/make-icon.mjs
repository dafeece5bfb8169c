// Draws media/icon.png (128×128): a row of tokens with attention arcs from the last token to the
// earlier ones, thicker where the weight is higher. Rendered with signed distances and 4×4
// supersampling, written as an RGBA PNG with zlib, so it needs no image library.
// Usage: node scripts/make-icon.mjs [out.png]
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const SIZE = 128;
const SAMPLES = 4;

const clamp = (value, low, high) => Math.min(high, Math.max(low, value));
const mix = (a, b, t) => a.map((channel, index) => channel + (b[index] - channel) * t);
const hex = (code) => [1, 3, 5].map((offset) => parseInt(code.slice(offset, offset + 2), 16) / 255);

function roundedBox(x, y, cx, cy, halfWidth, halfHeight, radius) {
  const qx = Math.abs(x - cx) - halfWidth + radius;
  const qy = Math.abs(y - cy) - halfHeight + radius;
  return Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - radius;
}

// Upper half of a circle, stroked with the given width.
function upperArc(x, y, cx, cy, radius, width) {
  if (y <= cy) return Math.abs(Math.hypot(x - cx, y - cy) - radius) - width / 2;
  const toLeft = Math.hypot(x - (cx - radius), y - cy);
  const toRight = Math.hypot(x - (cx + radius), y - cy);
  return Math.min(toLeft, toRight) - width / 2;
}

const baseline = 88;
const tokenY = 98;
const tokens = [20, 42, 64, 86, 108];
const query = tokens.length - 1;
const weights = [0.95, 0.25, 0.6, 0.35];
const warm = hex('#ffb347');
const hot = hex('#ff5fa2');

/** Layers painted back to front: each returns [distance, rgb, alpha] for a point. */
const layers = [
  (x, y) => [roundedBox(x, y, 64, 64, 64, 64, 26), mix(hex('#2e3192'), hex('#12132e'), y / SIZE), 1],
  ...weights.map((weight, index) => (x, y) => {
    const cx = (tokens[index] + tokens[query]) / 2;
    const radius = (tokens[query] - tokens[index]) / 2;
    const along = clamp((x - tokens[index]) / (tokens[query] - tokens[index]), 0, 1);
    return [upperArc(x, y, cx, baseline, radius, 1.5 + 5.5 * weight), mix(hot, warm, along), 0.35 + 0.65 * weight];
  }),
  ...tokens.map((tx, index) => (x, y) => [
    roundedBox(x, y, tx, tokenY, 8, 7, 3.5),
    index === query ? warm : mix(hex('#c9cdf5'), hex('#ffffff'), weights[index] ?? 0),
    1,
  ]),
];

const rgba = Buffer.alloc(SIZE * SIZE * 4);
for (let py = 0; py < SIZE; py++) {
  for (let px = 0; px < SIZE; px++) {
    let sum = [0, 0, 0, 0];
    for (let sy = 0; sy < SAMPLES; sy++) {
      for (let sx = 0; sx < SAMPLES; sx++) {
        const x = px + (sx + 0.5) / SAMPLES;
        const y = py + (sy + 0.5) / SAMPLES;
        // Premultiplied "over" compositing.
        let premultiplied = [0, 0, 0];
        let alpha = 0;
        for (const layer of layers) {
          const [distance, rgb, opacity] = layer(x, y);
          const coverage = clamp(0.5 - distance, 0, 1) * opacity;
          if (coverage === 0) continue;
          premultiplied = premultiplied.map((channel, index) => rgb[index] * coverage + channel * (1 - coverage));
          alpha = coverage + alpha * (1 - coverage);
        }
        sum = [sum[0] + premultiplied[0], sum[1] + premultiplied[1], sum[2] + premultiplied[2], sum[3] + alpha];
      }
    }
    const offset = (py * SIZE + px) * 4;
    const totalAlpha = sum[3] / (SAMPLES * SAMPLES);
    for (let channel = 0; channel < 3; channel++) {
      rgba[offset + channel] = totalAlpha === 0 ? 0 : Math.round(clamp(sum[channel] / sum[3], 0, 1) * 255);
    }
    rgba[offset + 3] = Math.round(totalAlpha * 255);
  }
}

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buffer) {
  let crc = 0xffffffff;
  for (const byte of buffer) crc = crcTable[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

const header = Buffer.alloc(13);
header.writeUInt32BE(SIZE, 0);
header.writeUInt32BE(SIZE, 4);
header.set([8, 6, 0, 0, 0], 8); // 8-bit RGBA, no interlace
const rows = Buffer.alloc(SIZE * (SIZE * 4 + 1));
for (let row = 0; row < SIZE; row++) {
  rgba.copy(rows, row * (SIZE * 4 + 1) + 1, row * SIZE * 4, (row + 1) * SIZE * 4);
}
const png = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  chunk('IHDR', header),
  chunk('IDAT', deflateSync(rows, { level: 9 })),
  chunk('IEND', Buffer.alloc(0)),
]);
writeFileSync(process.argv[2] ?? 'media/icon.png', png);
