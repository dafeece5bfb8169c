// The product of two lower-triangular matrices (causal attention, rollout) as ONNX nodes, by blocks:
//   [A11  0 ] [R11  0 ]   [A11·R11            0     ]
//   [A21 A22] [R21 R22] = [A21·R11 + A22·R21  A22·R22]
// The diagonal blocks recurse. One level halves the FLOPs of a dense MatMul, two levels leave 3/8, three
// leave 5/16: at 2,048 tokens this keeps the rollout from costing more than the model itself.
// The split point comes from the runtime size n (n // 2, at least 1 so no block is ever empty), passed in
// so every layer's product shares one set of block bounds (graphOps.ts builds identical nodes once); the
// upper-right block is A's own (zero) block times 0, so shapes always line up, odd n included.

import type { GraphOps } from './graphOps';

const END = 2 ** 62;

/** A·B for lower-triangular [.., n, n] matrices; `n` is their size as an int64 [1] tensor. */
export function lowerTriangularProduct(ops: GraphOps, a: string, b: string, n: string, depth: number): string {
  if (depth <= 0) return ops.node('MatMul', [a, b]);
  const axes = ops.ints([-2, -1]);
  const h = ops.node('Max', [ops.node('Div', [n, ops.ints([2])]), ops.ints([1])]);
  const pair = (x: string, y: string): string => ops.node('Concat', [x, y], { axis: 0 });
  const zero = ops.ints([0]);
  const end = ops.ints([END]);
  const block = (m: string, starts: string, ends: string): string => ops.node('Slice', [m, starts, ends, axes]);
  const topLeft = (m: string): string => block(m, pair(zero, zero), pair(h, h));
  const topRight = (m: string): string => block(m, pair(zero, h), pair(h, end));
  const bottomLeft = (m: string): string => block(m, pair(h, zero), pair(end, h));
  const bottomRight = (m: string): string => block(m, pair(h, h), pair(end, end));
  const r11 = topLeft(b);
  const a22 = bottomRight(a);
  const c11 = lowerTriangularProduct(ops, topLeft(a), r11, h, depth - 1);
  const c21 = ops.node('Add', [ops.node('MatMul', [bottomLeft(a), r11]), ops.node('MatMul', [a22, bottomLeft(b)])]);
  const c22 = lowerTriangularProduct(ops, a22, bottomRight(b), ops.node('Sub', [n, h]), depth - 1);
  const c12 = ops.node('Mul', [topRight(a), ops.float(0)]);
  return ops.node(
    'Concat',
    [ops.node('Concat', [c11, c12], { axis: -1 }), ops.node('Concat', [c21, c22], { axis: -1 })],
    { axis: -2 },
  );
}
