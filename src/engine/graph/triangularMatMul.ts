// The product of two lower-triangular matrices (causal attention, rollout) as ONNX nodes, by blocks:
//   [A11  0 ] [R11  0 ]   [A11·R11            0     ]
//   [A21 A22] [R21 R22] = [A21·R11 + A22·R21  A22·R22]
// The diagonal blocks recurse. One level halves the FLOPs of a dense MatMul, two levels leave 3/8, three
// leave 5/16: at 2,048 tokens this keeps the rollout from costing more than the model itself.
// The split point comes from the runtime size n (n // 2, at least 1 so no block of a non-empty one is ever
// empty), passed in so every layer's product shares one set of block bounds (graphOps.ts builds identical
// nodes once).
// Every block a MatMul reads is sliced once, straight from A or B (a diagonal block is only recursed into,
// never copied), and the zero upper-right block is a Pad of the top rows: at 512 tokens the product's
// Slices and Concats, not its MatMuls, were most of the rollout's cost. The MatMuls and Adds are the same
// as a recursion over sliced quadrants, so the product is too, to the last bit.

import type { GraphOps } from './graphOps';

/** A·B for lower-triangular [1, n, n] matrices; `n` is their size as an int64 [1] tensor. */
export function lowerTriangularProduct(ops: GraphOps, a: string, b: string, n: string, depth: number): string {
  const axes = ops.ints([-2, -1]);
  const pair = (x: string, y: string): string => ops.node('Concat', [x, y], { axis: 0 });
  const plus = (x: string, y: string): string => ops.node('Add', [x, y]);
  /** Rows [row, row + rows) and columns [col, col + cols) of m. */
  const block = (m: string, row: string, col: string, rows: string, cols: string): string =>
    ops.node('Slice', [m, pair(row, col), pair(plus(row, rows), plus(col, cols)), axes]);
  /** The product's diagonal block of size `size` at `at` (A and B read at the same rows and columns). */
  const diagonal = (at: string, size: string, level: number): string => {
    if (level <= 0) return ops.node('MatMul', [block(a, at, at, size, size), block(b, at, at, size, size)]);
    // At most `size`: an empty block (the recursion below a 1-row one) splits into empty blocks.
    const h = ops.node('Min', [ops.node('Max', [ops.node('Div', [size, ops.ints([2])]), ops.ints([1])]), size]);
    const rest = ops.node('Sub', [size, h]);
    const mid = plus(at, h);
    const c11 = diagonal(at, h, level - 1);
    const c21 = plus(
      ops.node('MatMul', [block(a, mid, at, rest, h), block(b, at, at, h, h)]),
      ops.node('MatMul', [block(a, mid, mid, rest, rest), block(b, mid, at, rest, h)]),
    );
    const c22 = diagonal(mid, rest, level - 1);
    const top = ops.node('Pad', [c11, ops.node('Concat', [ops.ints([0, 0, 0, 0, 0]), rest], { axis: 0 })]);
    return ops.node('Concat', [top, ops.node('Concat', [c21, c22], { axis: -1 })], { axis: -2 });
  };
  return depth <= 0 ? ops.node('MatMul', [a, b]) : diagonal(ops.ints([0]), n, depth);
}
