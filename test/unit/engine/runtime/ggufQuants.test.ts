// The engine's GGML decoders (ggufQuants.ts) against the test encoders (test/helpers/ggufEncoders.ts), which
// compute what their blocks decode to from their own parameters: every type decodes to those values exactly,
// and a type the engine does not read is refused in one line that names it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seededRandom } from '../../../../src/shared/seededRandom';
import { dequantize, quantType } from '../../../../src/engine/runtime/ggufQuants';
import { encodeTensor, GgmlType } from '../../../helpers/ggufEncoders';
import type { GgmlTypeName } from '../../../helpers/ggufEncoders';

const TYPES = Object.keys(GgmlType) as GgmlTypeName[];

for (const name of TYPES) {
  test(`${name} decodes to the encoder's values`, () => {
    const random = seededRandom(3);
    const x = Float32Array.from({ length: 512 * 3 }, () => (random() - 0.3) * 2);
    const encoded = encodeTensor(name, x, 512);
    const values = dequantize(quantType(GgmlType[name], 't'), encoded.bytes, x.length);
    let worst = 0;
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(values[i] - encoded.values[i]));
    assert.equal(worst, 0);
    let error = 0;
    for (let i = 0; i < x.length; i++) error = Math.max(error, Math.abs(values[i] - x[i]));
    assert.ok(error < 0.5, `${name} is close to the input (max error ${error})`);
  });
}

test('IQ and unknown types are refused in one line naming the type', () => {
  assert.throws(() => quantType(19, 'blk.0.ffn_up.weight'), /blk\.0\.ffn_up\.weight is IQ1_S, a weight type/);
  assert.throws(() => quantType(99, 'x'), /unknown type 99/);
});
