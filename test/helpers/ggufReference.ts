// The float64 forward pass of a GGUF fixture (ggufFixtures.ts) on the weights its file holds, written
// independently of the engine from llama.cpp's semantics: RMSNorm, q/k/v biases (qwen2), per-head q/k
// RMSNorm (qwen3, gemma3), rotary on adjacent pairs (llama) or halves (others) with rope_freqs factors,
// GQA head h → KV head ⌊h/(H/KV)⌋, sliding windows (gemma3: keys with i − j ≥ window masked), gemma3's
// √hidden embedding scale, post-norms and tanh-GELU, SiLU gating elsewhere. It extends referenceDecoder.ts
// (whose Llama pass uses HF's layout) to these architectures.
import type { FixtureLayer, GgufFixture } from './ggufFixtures';
import { rmsNorm } from './referenceDecoder';

export interface GgufReferenceRun {
  /** Per layer, [heads, n, n]. */
  readonly probs: Float64Array[];
  /** [n, vocab]. */
  readonly logits: Float64Array;
}

/** y [n, out] = x [n, in] · Wᵀ, W [out][in] (GGUF orientation). */
function linear(x: Float64Array, n: number, w: Float32Array, inDim: number, bias?: Float32Array): Float64Array {
  const outDim = w.length / inDim;
  const y = new Float64Array(n * outDim);
  for (let t = 0; t < n; t++)
    for (let o = 0; o < outDim; o++) {
      let sum = bias ? bias[o] : 0;
      for (let k = 0; k < inDim; k++) sum += x[t * inDim + k] * w[o * inDim + k];
      y[t * outDim + o] = sum;
    }
  return y;
}

function rotate(fx: GgufFixture, x: Float64Array, n: number, heads: number, base: number, halves: boolean): void {
  const d = fx.headDim;
  const half = d / 2;
  for (let t = 0; t < n; t++)
    for (let h = 0; h < heads; h++)
      for (let i = 0; i < half; i++) {
        const angle = (t * base ** ((-2 * i) / d)) / (fx.ropeFreqs?.[i] ?? 1);
        const at = t * heads * d + h * d;
        const [a, b] = halves ? [at + i, at + i + half] : [at + 2 * i, at + 2 * i + 1];
        const x1 = x[a];
        const x2 = x[b];
        x[a] = x1 * Math.cos(angle) - x2 * Math.sin(angle);
        x[b] = x2 * Math.cos(angle) + x1 * Math.sin(angle);
      }
}

function attention(fx: GgufFixture, l: number, layer: FixtureLayer, hIn: Float64Array, n: number) {
  const { hidden: D, heads: H, kvHeads: KV } = fx.shape;
  const d = fx.headDim;
  const arch = fx.options.arch;
  const q = linear(hIn, n, layer.wq, D, layer.bq);
  const k = linear(hIn, n, layer.wk, D, layer.bk);
  const v = linear(hIn, n, layer.wv, D, layer.bv);
  const qn = layer.qNorm ? rmsNorm(q, n * H, d, layer.qNorm, fx.epsilon) : q;
  const kn = layer.kNorm ? rmsNorm(k, n * KV, d, layer.kNorm, fx.epsilon) : k;
  const window = fx.windows[l];
  const base = window !== null ? fx.ropeBaseSwa : fx.ropeBase;
  rotate(fx, qn, n, H, base, arch !== 'llama');
  rotate(fx, kn, n, KV, base, arch !== 'llama');
  const scale = 1 / Math.sqrt(d);
  const probs = new Float64Array(H * n * n);
  const out = new Float64Array(n * H * d);
  for (let h = 0; h < H; h++) {
    const g = Math.floor(h / (H / KV));
    for (let i = 0; i < n; i++) {
      const visible = (j: number): boolean => j <= i && (window === null || i - j < window);
      let max = -Infinity;
      const row = new Float64Array(n);
      for (let j = 0; j < n; j++) {
        if (!visible(j)) continue;
        let dot = 0;
        for (let c = 0; c < d; c++) dot += qn[i * H * d + h * d + c] * kn[j * KV * d + g * d + c];
        row[j] = dot * scale;
        max = Math.max(max, row[j]);
      }
      let sum = 0;
      for (let j = 0; j < n; j++) if (visible(j)) sum += row[j] = Math.exp(row[j] - max);
      for (let j = 0; j < n; j++) {
        if (!visible(j)) continue;
        const p = row[j] / sum;
        probs[h * n * n + i * n + j] = p;
        for (let c = 0; c < d; c++) out[i * H * d + h * d + c] += p * v[j * KV * d + g * d + c];
      }
    }
  }
  return { probs, out: linear(out, n, layer.wo, H * d) };
}

const gelu = (x: number): number => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
const silu = (x: number): number => x / (1 + Math.exp(-x));

export function ggufReferenceForward(fx: GgufFixture, ids: readonly number[]): GgufReferenceRun {
  const { hidden: D, intermediate: I, vocab: V } = fx.shape;
  const n = ids.length;
  const gemma = fx.options.arch === 'gemma3';
  const scale = gemma ? Math.fround(Math.sqrt(D)) : 1;
  const x = new Float64Array(n * D);
  ids.forEach((id, t) => {
    for (let c = 0; c < D; c++) x[t * D + c] = fx.embed[id * D + c] * scale;
  });
  const probs: Float64Array[] = [];
  fx.layers.forEach((layer, l) => {
    const a = attention(fx, l, layer, rmsNorm(x, n, D, layer.attnNorm, fx.epsilon), n);
    probs.push(a.probs);
    const attnOut = layer.postAttnNorm ? rmsNorm(a.out, n, D, layer.postAttnNorm, fx.epsilon) : a.out;
    for (let i = 0; i < x.length; i++) x[i] += attnOut[i];
    const h2 = rmsNorm(x, n, D, layer.ffnNorm, fx.epsilon);
    const gate = linear(h2, n, layer.gate, D);
    const up = linear(h2, n, layer.up, D);
    for (let i = 0; i < gate.length; i++) gate[i] = (gemma ? gelu(gate[i]) : silu(gate[i])) * up[i];
    const down = linear(gate, n, layer.down, I);
    const ffn = layer.postFfnNorm ? rmsNorm(down, n, D, layer.postFfnNorm, fx.epsilon) : down;
    for (let i = 0; i < x.length; i++) x[i] += ffn[i];
  });
  const logits = linear(rmsNorm(x, n, D, fx.outputNorm, fx.epsilon), n, fx.output, D);
  if (logits.length !== n * V) throw new Error('logits shape');
  return { probs, logits };
}

/** softmax of one row of logits, float64. */
export function softmaxRow(logits: ArrayLike<number>, row: number, vocab: number): Float64Array {
  const out = new Float64Array(vocab);
  let max = -Infinity;
  for (let i = 0; i < vocab; i++) max = Math.max(max, logits[row * vocab + i]);
  let sum = 0;
  for (let i = 0; i < vocab; i++) sum += out[i] = Math.exp(logits[row * vocab + i] - max);
  for (let i = 0; i < vocab; i++) out[i] /= sum;
  return out;
}

/** KL(p ‖ q) in nats. */
export function klDivergence(p: ArrayLike<number>, q: ArrayLike<number>): number {
  let kl = 0;
  for (let i = 0; i < p.length; i++) if (p[i] > 0) kl += p[i] * Math.log(p[i] / Math.max(q[i], 1e-300));
  return kl;
}
