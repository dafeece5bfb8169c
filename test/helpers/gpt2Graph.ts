// A GPT-2-style causal LM as an ONNX graph, shaped like torch's export of HF GPT-2: learned positions
// (computed in the graph, no position_ids input), LayerNorm, Conv1D as Reshape+Gemm, fused QKV split in
// three, Kᵀ by Transpose, QKᵀ/√d, Where(causal, w, min), padding mask, Softmax → Cast → MatMul with V.
import { DataType, GraphBuilder, randomWeights, seededRandom } from './onnxBuilder';

export interface Gpt2GraphConfig {
  readonly vocabSize: number;
  readonly hidden: number;
  readonly layers: number;
  readonly heads: number;
  readonly maxPositions: number;
  readonly seed?: number;
  /** Also output each layer's Q ([b,h,n,d]) as `q.L` and Kᵀ ([b,h,d,n]) as `kT.L`. */
  readonly exposeQK?: boolean;
  /** Also output the attention probabilities as `attentions.L` (a graph that already outputs them). */
  readonly outputAttentions?: boolean;
}

export const GPT2_MASK_VALUE = -3.4028234663852886e38;

export function buildGpt2Graph(cfg: Gpt2GraphConfig): Uint8Array {
  const g = new GraphBuilder();
  const random = seededRandom(cfg.seed ?? 11);
  const D = cfg.hidden;
  const H = cfg.heads;
  const hd = D / H;
  const inputIds = g.input('input_ids', DataType.INT64, ['batch_size', 'sequence_length']);
  const attentionMask = g.input('attention_mask', DataType.INT64, ['batch_size', 'sequence_length']);

  const wte = g.floats([cfg.vocabSize, D], randomWeights(random, cfg.vocabSize * D, 1));
  const wpe = g.floats([cfg.maxPositions, D], randomWeights(random, cfg.maxPositions * D, 0.5));
  const n = g.node('Gather', [g.node('Shape', [inputIds]), g.intScalar(1)], { attrs: { axis: 0 } });
  const positions = g.node('Range', [g.intScalar(0), n, g.intScalar(1)]);
  let x = g.node('Add', [g.node('Gather', [wte, inputIds]), g.node('Gather', [wpe, positions])]);

  const allowed = g.node('Not', [
    g.node('Greater', [g.node('Unsqueeze', [positions, g.ints([0])]), g.node('Unsqueeze', [positions, g.ints([1])])]),
  ]);
  const maskF = g.node('Cast', [attentionMask], { attrs: { to: DataType.FLOAT } });
  const padding = g.node('Unsqueeze', [
    g.node('Mul', [g.node('Sub', [g.scalar(1), maskF]), g.scalar(-1e9)]),
    g.ints([1, 2]),
  ]);

  const layerNorm = (t: string): string =>
    g.node('LayerNormalization', [t, g.floats([D], new Float32Array(D).fill(1)), g.floats([D], new Float32Array(D))], {
      attrs: { axis: -1, epsilon: { float: 1e-5 } },
    });
  const conv1d = (t: string, inDim: number, outDim: number, std: number): string => {
    const flat = g.node('Reshape', [t, g.ints([-1, inDim])]);
    const gemm = g.node('Gemm', [
      flat,
      g.floats([inDim, outDim], randomWeights(random, inDim * outDim, std)),
      g.floats([outDim], new Float32Array(outDim)),
    ]);
    return g.node('Reshape', [gemm, g.ints([1, -1, outDim])]);
  };

  for (let l = 0; l < cfg.layers; l++) {
    const p = `/transformer/h.${l}/attn`;
    const qkv = conv1d(layerNorm(x), D, 3 * D, 2 / Math.sqrt(D));
    const [q0, k0, v0] = g.nodeN('Split', [qkv, g.ints([D, D, D])], {
      outputs: 3,
      attrs: { axis: 2 },
      name: `${p}/Split`,
    });
    const split = (t: string, perm: number[]): string =>
      g.node('Transpose', [g.node('Reshape', [t, g.ints([1, -1, H, hd])])], { attrs: { perm } });
    const q = split(q0, [0, 2, 1, 3]);
    const kT = split(k0, [0, 2, 3, 1]);
    const v = split(v0, [0, 2, 1, 3]);
    const scaled = g.node('Div', [g.node('MatMul', [q, kT]), g.scalar(Math.sqrt(hd))]);
    const masked = g.node('Add', [g.node('Where', [allowed, scaled, g.scalar(GPT2_MASK_VALUE)]), padding]);
    const probs = g.node('Softmax', [masked], { name: `${p}/Softmax`, attrs: { axis: -1 } });
    const cast = g.node('Cast', [probs], { name: `${p}/Cast`, attrs: { to: DataType.FLOAT } });
    const attended = g.node('MatMul', [cast, v], { name: `${p}/MatMul_1` });
    if (cfg.exposeQK) {
      g.output(q, `q.${l}`);
      g.output(kT, `kT.${l}`);
    }
    if (cfg.outputAttentions)
      g.output(probs, `attentions.${l}`, DataType.FLOAT, ['batch_size', H, 'sequence_length', 'sequence_length']);
    const merged = g.node('Reshape', [
      g.node('Transpose', [attended], { attrs: { perm: [0, 2, 1, 3] } }),
      g.ints([1, -1, D]),
    ]);
    x = g.node('Add', [x, conv1d(merged, D, D, 1 / Math.sqrt(D))]);
    const hidden = conv1d(layerNorm(x), D, 4 * D, 1 / Math.sqrt(D));
    const act = g.node('Mul', [hidden, g.node('Sigmoid', [g.node('Mul', [hidden, g.scalar(1.702)])])]);
    x = g.node('Add', [x, conv1d(act, 4 * D, D, 1 / Math.sqrt(4 * D))]);
  }
  const logits = g.node('MatMul', [layerNorm(x), g.node('Transpose', [wte], { attrs: { perm: [1, 0] } })]);
  g.output(logits, 'logits', DataType.FLOAT, ['batch_size', 'sequence_length', cfg.vocabSize]);
  return g.build();
}
