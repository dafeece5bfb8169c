// Exact attention rows through onnxruntime (the RowKernel that ExactRows takes): a tiny graph per layer shape,
// q [kvHeads, group, d] against the layer's keys [kvHeads, n, d] in one batched FusedMatMul (transB, the scale
// as alpha), then the soft-cap, an additive mask (causal and sliding window), Softmax and the mean over heads.
// MLAS does the 14 × 8,192 × 64 products of a head mean in about a millisecond, where V8's scalar loops took
// tens. Sessions are made once per shape and kept for the process (a handful of small graphs), so a hover
// never pays for one; the worker has `prepare` start making them once a run is done, before the first hover.
// The rollout rows' block product (analysis/rolloutRows.ts) is a sibling graph, rolloutBlockGraph.ts.
import type * as ort from 'onnxruntime-node';
import type { RowKernel, RowKernelShape } from '../analysis/exactRows';
import { ElemType, makeValueInfo } from '../graph/onnxGraph';
import { rolloutBlockGraph } from './rolloutBlockGraph';
import { intAttr, SmallGraph } from './scoreGraph';

const shapeKey = (s: RowKernelShape, halfKeys: boolean): string =>
  `${s.headDim}|${s.scale}|${s.softcap ?? 'none'}|${halfKeys ? 'k16' : 'k32'}`;

/** The row graph of one shape: inputs q [kv, group, d], k [kv, n, d] (float32, or fp16 bits as the inspection
 * keeps them: cast in the graph, about a millisecond less than decoding them in JS for every hover), mask [n];
 * output the mean row [n] of the kv × group heads (one head: kv = group = 1). */
export function rowGraph(s: RowKernelShape, halfKeys = false): Uint8Array {
  const g = new SmallGraph();
  if (halfKeys) g.node('Cast', ['k_half'], 'k', [intAttr('to', ElemType.FLOAT)]);
  g.node('Add', [g.scores(s), 'mask'], 'masked');
  g.node('Softmax', ['masked'], 'probs', [intAttr('axis', -1)]);
  g.node('ReduceMean', ['probs', g.ints('mean_axes', [0, 1])], 'mean', [intAttr('keepdims', 0)]);
  return g.encode(
    'exact_rows',
    'prompt-attention rows',
    [
      makeValueInfo('q', ElemType.FLOAT, ['kv', 'group', s.headDim]),
      halfKeys
        ? makeValueInfo('k_half', ElemType.FLOAT16, ['kv', 'n', s.headDim])
        : makeValueInfo('k', ElemType.FLOAT, ['kv', 'n', s.headDim]),
      makeValueInfo('mask', ElemType.FLOAT, ['n']),
    ],
    [makeValueInfo('mean', ElemType.FLOAT, ['n'])],
  );
}

/** onnxruntime sessions for exact rows, one per layer shape, made on first use (or `warm`) and kept. */
export class OrtRowKernel implements RowKernel {
  private readonly sessions = new Map<string, Promise<ort.InferenceSession>>();
  private readonly rolloutSessions = new Map<string, Promise<ort.InferenceSession>>();
  /** onnxruntime's module once loaded (a dynamic import per row costs more than a head's products). */
  private runtime: typeof ort | null = null;
  /** One thread by default: a head mean at 8,192 tokens is about a millisecond on one, and two were no faster
   * on the 2-core bench machine (the rows then compete with the panel and the host for the same cores). */
  constructor(private readonly threads = 1) {}

  private session(s: RowKernelShape, rollout = false, halfKeys = false): Promise<ort.InferenceSession> {
    const key = shapeKey(s, halfKeys);
    const sessions = rollout ? this.rolloutSessions : this.sessions;
    let made = sessions.get(key);
    if (!made) {
      made = import('onnxruntime-node').then((runtime) => {
        this.runtime = runtime;
        return runtime.InferenceSession.create(rollout ? rolloutBlockGraph(s) : rowGraph(s, halfKeys), {
          graphOptimizationLevel: 'all',
          executionProviders: ['cpu'],
          intraOpNumThreads: this.threads,
          interOpNumThreads: 1,
          // As the inspection's session (executionProviders.ts): a memory pattern per input shape grows the arena
          // with every length inspected.
          enableMemPattern: false,
          logSeverityLevel: 3,
        });
      });
      // A failed creation is not kept: the next row tries again and reports its own error.
      made.catch(() => sessions.delete(key));
      sessions.set(key, made);
    }
    return made;
  }

  /** Starts making the sessions of these shapes (after a run), so the first hover does not wait for one. A
   * failure is not kept: the first row of that shape tries again and its reply carries the error. */
  prepare(shapes: readonly RowKernelShape[], halfKeys = false): void {
    for (const s of shapes) void this.session(s, false, halfKeys); // its rejection is handled in session()
  }

  /** Makes the sessions of these shapes and waits for them (tests, the bench). */
  async warm(shapes: readonly RowKernelShape[], halfKeys = false): Promise<void> {
    await Promise.all(shapes.map((s) => this.session(s, false, halfKeys)));
  }

  async meanRow(
    s: RowKernelShape,
    q: Float32Array,
    heads: readonly [number, number],
    keys: Float32Array | Uint16Array,
    first: number,
    query: number,
  ): Promise<Float32Array> {
    const halfKeys = keys instanceof Uint16Array;
    const session = await this.session(s, false, halfKeys);
    const runtime = this.runtime ?? (await import('onnxruntime-node'));
    const [kv, group] = heads;
    const n = keys.length / (kv * s.headDim);
    // A mask per call: rows asked at once run later (onnxruntime-node runs on setImmediate), each with its own.
    const mask = new Float32Array(n);
    mask.fill(-Infinity, 0, first);
    mask.fill(0, first, query + 1);
    mask.fill(-Infinity, query + 1, n);
    const feeds = {
      q: new runtime.Tensor('float32', q, [kv, group, s.headDim]),
      [halfKeys ? 'k_half' : 'k']: halfKeys
        ? new runtime.Tensor('float16', keys, [kv, n, s.headDim])
        : new runtime.Tensor('float32', keys, [kv, n, s.headDim]),
      mask: new runtime.Tensor('float32', mask, [n]),
    };
    const out = await session.run(feeds);
    return out.mean.data as Float32Array;
  }

  async rolloutBlock(
    s: RowKernelShape,
    q: Float32Array,
    heads: readonly [number, number],
    keys: Float32Array,
    mask: Float32Array,
    v: Float32Array,
  ): Promise<Float32Array> {
    const session = await this.session(s, true);
    const runtime = this.runtime ?? (await import('onnxruntime-node'));
    const [kv, group] = heads;
    const r1 = keys.length / (kv * s.headDim);
    const b = mask.length / r1;
    const feeds = {
      q: new runtime.Tensor('float32', q, [kv, group * b, s.headDim]),
      k: new runtime.Tensor('float32', keys, [kv, r1, s.headDim]),
      mask: new runtime.Tensor('float32', mask, [b, r1]),
      v: new runtime.Tensor('float32', v, [v.length / b, b]),
    };
    const out = await session.run(feeds);
    return out.product.data as Float32Array;
  }
}

let shared: OrtRowKernel | null = null;

/** The process's row kernel (its sessions serve every inspection of the worker). */
export function sharedRowKernel(): OrtRowKernel {
  shared ??= new OrtRowKernel();
  return shared;
}
