// A Llama-style causal LM as an ONNX graph, built the way torch exports HF Llama: RMSNorm, rotary
// embeddings, grouped-query attention with repeat_kv (Unsqueeze/Expand/Reshape), QKᵀ/√d + causal mask,
// Softmax → Cast → MatMul with V, SwiGLU MLP, tied LM head. Random weights.
import { DataType, GraphBuilder, randomWeights, seededRandom } from './onnxBuilder';
import type { DecoderShape } from './referenceDecoder';

export interface LlamaGraphConfig extends DecoderShape {
  readonly seed?: number;
  /** Also output each layer's rotated Q ([b,h,n,d]) and expanded K ([b,h,n,d]) as `q.L` / `k.L`. */
  readonly exposeQK?: boolean;
  /** Use a fused com.microsoft.Attention node instead, one that cannot give its probabilities (for the error test). */
  readonly fused?: boolean;
  /** Take past_key_values.L.key/value inputs ([b, kv, past, d], concatenated before K/V) and a
   * use_cache_branch input, like optimum's decoder exports with a KV cache. */
  readonly withPast?: boolean;
}

export const LLAMA_MASK_VALUE = -1e9;

export function buildLlamaGraph(cfg: LlamaGraphConfig): Uint8Array {
  const g = new GraphBuilder();
  const random = seededRandom(cfg.seed ?? 7);
  const D = cfg.hidden;
  const H = cfg.heads;
  const KV = cfg.kvHeads;
  const hd = D / H;
  const inputIds = g.input('input_ids', DataType.INT64, ['batch_size', 'sequence_length']);
  const attentionMask = g.input('attention_mask', DataType.INT64, ['batch_size', 'sequence_length']);
  const positionIds = g.input('position_ids', DataType.INT64, ['batch_size', 'sequence_length']);
  if (cfg.withPast) g.input('use_cache_branch', DataType.BOOL, [1]);

  const embed = g.floats([cfg.vocabSize, D], randomWeights(random, cfg.vocabSize * D, 1));
  let x = g.node('Gather', [embed, inputIds], { name: '/model/embed_tokens/Gather' });

  // Causal + padding mask, built once at model level: [b, 1, n, n].
  const n = g.node('Gather', [g.node('Shape', [inputIds]), g.intScalar(1)], { attrs: { axis: 0 } });
  const range = g.node('Range', [g.intScalar(0), n, g.intScalar(1)]);
  const future = g.node('Greater', [
    g.node('Unsqueeze', [range, g.ints([0])]),
    g.node('Unsqueeze', [range, g.ints([1])]),
  ]);
  const causal = g.node('Where', [future, g.scalar(LLAMA_MASK_VALUE), g.scalar(0)]);
  const maskF = g.node('Cast', [attentionMask], { attrs: { to: DataType.FLOAT } });
  const padding = g.node('Mul', [g.node('Sub', [g.scalar(1), maskF]), g.scalar(LLAMA_MASK_VALUE)]);
  const mask = g.node('Add', [causal, g.node('Unsqueeze', [padding, g.ints([1, 2])])]);

  // Rotary tables indexed by position_ids: [b, 1, n, hd].
  const cosTable = new Float32Array(cfg.maxPositions * hd);
  const sinTable = new Float32Array(cfg.maxPositions * hd);
  for (let p = 0; p < cfg.maxPositions; p++) {
    for (let i = 0; i < hd / 2; i++) {
      const angle = p / Math.pow(10000, (2 * i) / hd);
      cosTable[p * hd + i] = cosTable[p * hd + i + hd / 2] = Math.cos(angle);
      sinTable[p * hd + i] = sinTable[p * hd + i + hd / 2] = Math.sin(angle);
    }
  }
  const cos = g.node('Unsqueeze', [
    g.node('Gather', [g.floats([cfg.maxPositions, hd], cosTable), positionIds]),
    g.ints([1]),
  ]);
  const sin = g.node('Unsqueeze', [
    g.node('Gather', [g.floats([cfg.maxPositions, hd], sinTable), positionIds]),
    g.ints([1]),
  ]);
  const rotate = (t: string): string => {
    const x1 = g.node('Slice', [t, g.ints([0]), g.ints([hd / 2]), g.ints([3])]);
    const x2 = g.node('Slice', [t, g.ints([hd / 2]), g.ints([hd]), g.ints([3])]);
    const rotated = g.node('Concat', [g.node('Neg', [x2]), x1], { attrs: { axis: 3 } });
    return g.node('Add', [g.node('Mul', [t, cos]), g.node('Mul', [rotated, sin])]);
  };
  const rmsNorm = (t: string, prefix: string): string => {
    const variance = g.node('ReduceMean', [g.node('Pow', [t, g.scalar(2)])], { attrs: { axes: [-1], keepdims: 1 } });
    const normed = g.node('Div', [t, g.node('Sqrt', [g.node('Add', [variance, g.scalar(1e-5)])])]);
    return g.node('Mul', [normed, g.floats([D], new Float32Array(D).fill(1))], { name: `${prefix}/Mul_1` });
  };
  const linear = (t: string, inDim: number, outDim: number, std: number): string =>
    g.node('MatMul', [t, g.floats([inDim, outDim], randomWeights(random, inDim * outDim, std))]);
  const heads = (t: string, count: number): string =>
    g.node('Transpose', [g.node('Reshape', [t, g.ints([0, 0, count, hd])])], { attrs: { perm: [0, 2, 1, 3] } });
  const repeatKv = (t: string): string => {
    const expanded = g.node('Expand', [g.node('Unsqueeze', [t, g.ints([2])]), g.ints([1, 1, H / KV, 1, 1])]);
    return g.node('Reshape', [expanded, g.ints([0, H, -1, hd])]);
  };

  for (let l = 0; l < cfg.layers; l++) {
    const p = `/model/layers.${l}/self_attn`;
    const h = rmsNorm(x, `/model/layers.${l}/input_layernorm`);
    const q = rotate(heads(linear(h, D, H * hd, 2 / Math.sqrt(D)), H));
    let kNew = rotate(heads(linear(h, D, KV * hd, 2 / Math.sqrt(D)), KV));
    let vNew = heads(linear(h, D, KV * hd, 1 / Math.sqrt(D)), KV);
    if (cfg.withPast) {
      const shape = ['batch_size', KV, 'past_sequence_length', hd];
      kNew = g.node('Concat', [g.input(`past_key_values.${l}.key`, DataType.FLOAT, shape), kNew], {
        attrs: { axis: 2 },
      });
      vNew = g.node('Concat', [g.input(`past_key_values.${l}.value`, DataType.FLOAT, shape), vNew], {
        attrs: { axis: 2 },
      });
      g.output(kNew, `present.${l}.key`, DataType.FLOAT, ['batch_size', KV, 'total_sequence_length', hd]);
      g.output(vNew, `present.${l}.value`, DataType.FLOAT, ['batch_size', KV, 'total_sequence_length', hd]);
    }
    const k = repeatKv(kNew);
    const v = repeatKv(vNew);
    let attended: string;
    if (cfg.fused) {
      attended = g.node('Attention', [q, k, v], {
        name: `${p}/Attention`,
        domain: 'com.microsoft',
        attrs: { num_heads: H },
      });
    } else {
      const kT = g.node('Transpose', [k], { attrs: { perm: [0, 1, 3, 2] } });
      const scores = g.node('Add', [g.node('Div', [g.node('MatMul', [q, kT]), g.scalar(Math.sqrt(hd))]), mask]);
      const probs = g.node('Softmax', [scores], { name: `${p}/Softmax`, attrs: { axis: -1 } });
      const cast = g.node('Cast', [probs], { name: `${p}/Cast`, attrs: { to: DataType.FLOAT } });
      attended = g.node('MatMul', [cast, v], { name: `${p}/MatMul_1` });
      if (cfg.exposeQK) {
        g.output(q, `q.${l}`);
        g.output(k, `k.${l}`);
      }
    }
    const merged = g.node('Reshape', [
      g.node('Transpose', [attended], { attrs: { perm: [0, 2, 1, 3] } }),
      g.ints([0, 0, D]),
    ]);
    x = g.node('Add', [x, linear(merged, D, D, 1 / Math.sqrt(D))]);
    const h2 = rmsNorm(x, `/model/layers.${l}/post_attention_layernorm`);
    const gate = linear(h2, D, cfg.intermediate, 1 / Math.sqrt(D));
    const up = linear(h2, D, cfg.intermediate, 1 / Math.sqrt(D));
    const act = g.node('Mul', [g.node('Mul', [gate, g.node('Sigmoid', [gate])]), up]);
    x = g.node('Add', [x, linear(act, cfg.intermediate, D, 1 / Math.sqrt(cfg.intermediate))]);
  }
  const final = rmsNorm(x, '/model/norm');
  const logits = g.node('MatMul', [final, g.node('Transpose', [embed], { attrs: { perm: [1, 0] } })]);
  g.output(logits, 'logits', DataType.FLOAT, ['batch_size', 'sequence_length', cfg.vocabSize]);
  return g.build();
}
