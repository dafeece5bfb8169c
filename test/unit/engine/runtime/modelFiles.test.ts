// Which file runs: dtype → transformers.js file names, the auto choice by memory and provider, the legacy
// merged and genai_config layouts, external data in its naming forms, and the files a Hub download needs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseModelFile, externalDataFor, filesForDtype } from '../../../../src/engine/runtime/modelFiles';
import type { ListedFile } from '../../../../src/engine/runtime/modelFiles';

const GIB = 1024 ** 3;
const QWEN: ListedFile[] = [
  { path: 'config.json', size: 700 },
  { path: 'onnx/model.onnx', size: 1_000_000 },
  { path: 'onnx/model.onnx_data', size: 2 * GIB },
  { path: 'onnx/model_fp16.onnx', size: 1 * GIB },
  { path: 'onnx/model_quantized.onnx', size: 0.5 * GIB },
  { path: 'onnx/model_q4.onnx', size: 0.4 * GIB },
  { path: 'onnx/model_q4f16.onnx', size: 0.3 * GIB },
];

test('each dtype maps to its transformers.js file name', () => {
  const names = {
    fp32: 'model.onnx',
    fp16: 'model_fp16.onnx',
    q8: 'model_quantized.onnx',
    int8: 'model_int8.onnx',
    uint8: 'model_uint8.onnx',
    q4: 'model_q4.onnx',
    q4f16: 'model_q4f16.onnx',
    bnb4: 'model_bnb4.onnx',
  } as const;
  const listing = Object.values(names).map((n) => ({ path: `onnx/${n}`, size: 10 }));
  for (const [dtype, name] of Object.entries(names)) {
    const picked = chooseModelFile(listing, dtype as keyof typeof names);
    assert.equal(picked.graph, `onnx/${name}`);
    assert.equal(picked.dtype, dtype);
  }
});

test('auto: fp32 when it fits comfortably, else a quantized file for the provider, with a reason', () => {
  assert.equal(chooseModelFile(QWEN, 'auto', { memoryBytes: 64 * GIB }).graph, 'onnx/model.onnx');
  const small = chooseModelFile(QWEN, 'auto', { memoryBytes: 4 * GIB });
  assert.equal(small.graph, 'onnx/model_quantized.onnx');
  assert.match(small.reason ?? '', /does not fit comfortably in 4\.0 GiB/);
  assert.equal(chooseModelFile(QWEN, 'auto', { memoryBytes: 4 * GIB, gpu: true }).graph, 'onnx/model_q4f16.onnx');
  // No fp32 at all: the first quantized file, whatever the memory.
  assert.equal(
    chooseModelFile([{ path: 'onnx/model_q4.onnx', size: 5 }], 'auto', { memoryBytes: 64 * GIB }).graph,
    'onnx/model_q4.onnx',
  );
});

test('legacy merged decoder and genai layouts are found', () => {
  const merged = chooseModelFile(
    [
      { path: 'onnx/decoder_model_merged.onnx', size: 5 },
      { path: 'onnx/decoder_model_merged_quantized.onnx', size: 2 },
    ],
    'auto',
  );
  assert.deepEqual([merged.graph, merged.layout, merged.dtype], ['onnx/decoder_model_merged.onnx', 'merged', 'fp32']);
  assert.equal(
    chooseModelFile([{ path: 'onnx/decoder_model_merged_quantized.onnx' }], 'q8').graph,
    'onnx/decoder_model_merged_quantized.onnx',
  );
  const genaiListing = [
    { path: 'cpu-int4-rtn-block-32/genai_config.json' },
    { path: 'cpu-int4-rtn-block-32/model.onnx' },
    { path: 'cpu-int4-rtn-block-32/model.onnx.data' },
  ];
  const genai = chooseModelFile(genaiListing, 'auto', {
    genaiGraph: 'model.onnx',
    genaiConfig: 'cpu-int4-rtn-block-32/genai_config.json',
  });
  assert.deepEqual([genai.graph, genai.layout, genai.dtype], ['cpu-int4-rtn-block-32/model.onnx', 'genai', 'q4']);
  assert.deepEqual(
    filesForDtype(genaiListing, 'auto', {
      genaiGraph: 'model.onnx',
      genaiConfig: 'cpu-int4-rtn-block-32/genai_config.json',
    }),
    [
      'cpu-int4-rtn-block-32/model.onnx',
      'cpu-int4-rtn-block-32/model.onnx.data',
      'cpu-int4-rtn-block-32/genai_config.json',
    ],
  );
});

test('external data in both naming forms and in chunks; only the chosen dtype is downloaded', () => {
  const listing = [
    'onnx/model.onnx',
    'onnx/model.onnx_data',
    'onnx/model.onnx_data_2',
    'onnx/model.onnx_data_1',
    'onnx/model_fp16.onnx',
    'onnx/model_fp16.onnx_data',
    'm.onnx',
    'm.onnx.data',
  ].map((p) => ({ path: p }));
  assert.deepEqual(externalDataFor(listing, 'onnx/model.onnx'), [
    'onnx/model.onnx_data',
    'onnx/model.onnx_data_1',
    'onnx/model.onnx_data_2',
  ]);
  assert.deepEqual(externalDataFor(listing, 'm.onnx'), ['m.onnx.data']);
  assert.deepEqual(filesForDtype(listing, 'fp16'), ['onnx/model_fp16.onnx', 'onnx/model_fp16.onnx_data']);
});

test('a dtype that the folder lacks is one line naming what was looked for and what is there', () => {
  assert.throws(
    () => chooseModelFile([{ path: 'onnx/model.onnx' }], 'q4', {}, '/m'),
    (e: Error) =>
      /^No q4 model file in \/m: looked for onnx\/model_q4\.onnx and onnx\/decoder_model_merged_q4\.onnx \(found onnx\/model\.onnx\)\.$/.test(
        e.message,
      ),
  );
  assert.throws(() => chooseModelFile([{ path: 'config.json' }], 'auto'), /No ONNX model in the model folder/);
});

test('a builder folder: genai_config.json names the graph, even when it is called model.onnx', () => {
  const listing = [{ path: 'genai_config.json' }, { path: 'model.onnx' }, { path: 'model.onnx.data' }];
  const picked = chooseModelFile(listing, 'auto', { genaiGraph: 'model.onnx' });
  assert.deepEqual(
    [picked.graph, picked.layout, picked.dtype, picked.externalData],
    ['model.onnx', 'genai', 'unknown', ['model.onnx.data']],
  );
});
