// GraphOps' lifting of shape arithmetic out of If branches (graphOps.ts): small shape tensors computed from the
// length are built once in the main graph, but nothing that broadcasts two rank-2 shape tensors is: a lifted
// [1, n] > [n, 1] (a causal mask for a branch only short inputs take) was an [n, n] tensor the main graph held
// through every run (64 MiB at 8,192 tokens).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { onnx } from 'onnx-proto';
import { graphOps } from '../../../../src/engine/graph/graphOps';

function emptyModel(): onnx.ModelProto {
  return onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: onnx.GraphProto.create({ name: 'g', node: [], initializer: [] }),
  });
}

test('graphOps: a branch lifts its length arithmetic, but not a mask broadcast from [1, n] and [n, 1]', () => {
  const model = emptyModel();
  const g = graphOps(model, 'pa_test');
  const n = g.node('Shape', ['x']); // the length, as the statistics read it
  let lastIndex = '';
  let mask = '';
  let column = '';
  const [out] = g.ifElse(
    g.node('Greater', [n, g.ints([4])]),
    () => {
      lastIndex = g.node('Sub', [n, g.ints([1])]);
      const positions = g.node('Range', [g.scalar(0), g.node('Gather', [n, g.scalar(0)], { axis: 0 }), g.scalar(1)]);
      column = g.node('Reshape', [positions, g.ints([-1, 1])]);
      mask = g.node('Greater', [g.node('Reshape', [positions, g.ints([1, -1])]), column]);
      return [g.node('Where', [mask, g.float(0), g.float(1)])];
    },
    () => [g.float(1)],
  );
  const main = new Set((model.graph?.node ?? []).flatMap((node) => node.output ?? []));
  assert.ok(out && main.has(out), 'the If is in the main graph');
  assert.ok(main.has(lastIndex), 'n − 1 is lifted into the main graph');
  assert.ok(main.has(column), 'a Reshape of the positions is lifted (it is [n, 1], small)');
  assert.ok(!main.has(mask), 'the [n, n] mask stays in its branch');
  const branch = (model.graph?.node ?? []).find((node) => node.opType === 'If')?.attribute?.[0].g?.node ?? [];
  assert.ok(
    branch.some((node) => node.output?.includes(mask)),
    'the mask is built inside the then branch',
  );
});
