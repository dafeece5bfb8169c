// The weights shown for one focused token: its row ("attends to") or its column ("attended by")
// of the current matrix, with the threshold applied. O(n) per focus, no allocation on the hover path.
import type { AttendedToken } from '../../src/shared/protocol';

export type Direction = 'to' | 'by';

export function focusVector(
  matrix: Float32Array,
  n: number,
  index: number,
  direction: Direction,
  threshold: number,
  out: Float32Array,
): void {
  if (direction === 'to') {
    const base = index * n;
    for (let key = 0; key < n; key++) {
      const w = matrix[base + key];
      out[key] = w >= threshold ? w : 0;
    }
  } else {
    for (let q = 0; q < n; q++) {
      const w = matrix[q * n + index];
      out[q] = w >= threshold ? w : 0;
    }
  }
}

/** The `count` largest non-zero entries, strongest first. O(n · count) with count small. */
export function topEntries(vector: Float32Array, count: number): AttendedToken[] {
  const top: AttendedToken[] = [];
  for (let i = 0; i < vector.length; i++) {
    const w = vector[i];
    if (w <= 0) continue;
    if (top.length === count && w <= top[top.length - 1].weight) continue;
    let at = top.length;
    while (at > 0 && top[at - 1].weight < w) at--;
    top.splice(at, 0, { index: i, weight: w });
    if (top.length > count) top.pop();
  }
  return top;
}

export function maxOf(vector: Float32Array): number {
  let max = 0;
  for (let i = 0; i < vector.length; i++) if (vector[i] > max) max = vector[i];
  return max;
}
