// Assembles results.json (the keys the benchmark contract names, plus more) and renders results.md from it.
import type { CostBenchResult } from './costBench';
import type { ColdStartFigures } from './coldStartBench';
import type { EngineBenchResult } from './engineBench';
import type { RealSizeFigures } from './realSizeBench';
import type { MachineInfo } from './machine';
import { round } from './stats';
import type { WebviewBenchResult } from './webviewBench';

export interface BenchMeta {
  readonly date: string;
  readonly command: string;
  readonly tiny: boolean;
  readonly durationS: number;
  readonly sectionSeconds: Readonly<Partial<Record<string, number>>>;
  /** 1-minute load averages when the suite started and ended: how busy the machine was. */
  readonly loadAverage: { readonly start: number; readonly end: number };
  readonly machine: MachineInfo;
  /** Which measured length stands for the "512" and "2048" keys (themselves, except in tiny mode). */
  readonly lengthFor512: number;
  readonly lengthFor2048: number;
  readonly notes: readonly string[];
  readonly errors: readonly string[];
}

export interface BenchSections {
  readonly engine: EngineBenchResult | null;
  readonly coldStart: ColdStartFigures | null;
  readonly webview: WebviewBenchResult | null;
  readonly cost: CostBenchResult | null;
  readonly realsize?: RealSizeFigures | null;
}

export interface Budget {
  readonly key: string;
  readonly label: string;
  readonly limit: number;
  readonly unit: string;
  readonly value: number | null;
  readonly met: boolean | null;
}

type Json = number | string | boolean | null | Json[] | { [key: string]: Json };
type Figures = { [key: string]: Json };

const byLength = <T>(
  items: readonly T[],
  length: (item: T) => number,
  value: (item: T) => number,
  digits = 2,
): Figures => Object.fromEntries(items.map((item) => [String(length(item)), round(value(item), digits)]));

const num = (value: number | undefined | null, digits = 2): number | null =>
  value === undefined || value === null || !Number.isFinite(value) ? null : round(value, digits);

export function buildResults(meta: BenchMeta, s: BenchSections): { json: Figures; budgets: Budget[] } {
  const e = s.engine;
  const at = (n: number) => e?.lengths.find((l) => l.tokens === n);
  /** One figure per measured length, keyed by its token count (none without the engine section). */
  const perLength = (value: (l: NonNullable<typeof e>['lengths'][number]) => number, digits = 2): Figures =>
    e ? byLength(e.lengths, (l) => l.tokens, value, digits) : {};
  const e512 = at(meta.lengthFor512);
  const e2048 = at(meta.lengthFor2048);
  const w = (n: number) => s.webview?.lengths.find((l) => l.tokens === n);
  const w512 = w(meta.lengthFor512);
  const w2048 = w(meta.lengthFor2048);
  const ratio512 = e512 ? e512.fullMs / e512.rawMs : null;
  const ratio2048 = e2048 ? e2048.fullMs / e2048.rawMs : null;
  const r = s.realsize ?? null;
  const realRatio = r ? r.fullMs / r.rawMs : null;
  const realPeak = r ? (r.inspectPeakRssBytes - r.rawPeakRssBytes) / 2 ** 20 : null;
  const realCold = r ? r.engineReadyMs / r.rawReadyMs : null;

  const engine: Figures = e
    ? {
        model: { id: e.modelId, layers: e.layers, heads: e.heads, maxTokens: e.maxTokens, provider: e.provider },
        ratioFullToRaw512: num(ratio512, 3),
        ratioFullToRaw2048: num(ratio2048, 3),
        rawMs: perLength((l) => l.rawMs),
        tappedMs: perLength((l) => l.tappedMs),
        fullMs: perLength((l) => l.fullMs),
        ratioTappedToRaw: perLength((l) => l.tappedMs / l.rawMs, 3),
        ratioFullToRaw: perLength((l) => l.fullMs / l.rawMs, 3),
        ratioFullToTapped: perLength((l) => l.fullMs / l.tappedMs, 3),
        stagesMs: Object.fromEntries(
          e.lengths.map((l) => [
            String(l.tokens),
            { tokenize: round(l.stagesMs.tokenize), run: round(l.stagesMs.run), stats: round(l.stagesMs.stats) },
          ]),
        ),
        attentionEncoding: Object.fromEntries(e.lengths.map((l) => [String(l.tokens), l.encoding])),
      }
    : { ratioFullToRaw512: null, ratioFullToRaw2048: null, rawMs: {}, tappedMs: {}, fullMs: {} };

  const realsizeFigures = (r: RealSizeFigures): Figures => ({
    model: { ...r.shape, bytes: r.modelBytes, dtype: r.dtype },
    tokens: r.tokens,
    ratioFullToRaw2048: num(r.fullMs / r.rawMs, 3),
    tokensInspected2048: r.tokensInspected,
    peakRssOverRawMiB: num((r.inspectPeakRssBytes - r.rawPeakRssBytes) / 2 ** 20, 0),
    coldLoadOverRaw: num(r.engineReadyMs / r.rawReadyMs, 3),
    rawMs: round(r.rawMs),
    fullMs: round(r.fullMs),
    stagesMs: { run: round(r.stagesMs.run), stats: round(r.stagesMs.stats) },
    rawReadyMs: round(r.rawReadyMs),
    engineReadyMs: round(r.engineReadyMs),
    prepareOnceMs: num(r.prepareMs, 0),
    rawPeakRssBytes: r.rawPeakRssBytes,
    inspectPeakRssBytes: r.inspectPeakRssBytes,
    notes: [...r.notes],
  });
  const realsize: Figures = r
    ? { ...realsizeFigures(r), q4: r.q4 ? realsizeFigures(r.q4) : null }
    : { ratioFullToRaw2048: null, tokensInspected2048: null, peakRssOverRawMiB: null, coldLoadOverRaw: null };

  const c = s.coldStart;
  const payload: Figures = {
    bytes2048: e2048 ? e2048.payload.totalBytes : null,
    jsonBytes2048: e2048 ? e2048.denseJsonBytes : null,
    bytes512: e512 ? e512.payload.totalBytes : null,
    jsonBytes512: e512 ? e512.denseJsonBytes : null,
    bytes: perLength((l) => l.payload.totalBytes, 0),
    binaryBytes: perLength((l) => l.payload.binaryBytes, 0),
    messageJsonBytes: perLength((l) => l.payload.jsonBytes, 0),
    jsonBytes: perLength((l) => l.denseJsonBytes, 0),
    denseFloat32Bytes: perLength((l) => l.denseFloat32Bytes, 0),
    jsonToPayloadRatio: perLength((l) => l.denseJsonBytes / l.payload.totalBytes, 1),
  };

  const webview: Figures = {
    firstPaintMs2048: num(w2048?.firstPaintMs),
    firstPaintMs512: num(w512?.firstPaintMs),
    readyMs2048: num(w2048?.readyMs),
    readyMs512: num(w512?.readyMs),
    hoverP50Ms512: num(w512?.hoverP50Ms, 3),
    hoverP95Ms512: num(w512?.hoverP95Ms, 3),
    hoverP50Ms2048: num(w2048?.hoverP50Ms, 3),
    hoverP95Ms2048: num(w2048?.hoverP95Ms, 3),
    hoverMaxMs2048: num(w2048?.hoverMaxMs, 3),
    hovers: w2048?.hovers ?? null,
    browser: s.webview?.browser ?? null,
  };

  const k = s.cost;
  const cost: Figures = {
    keystrokeP95Ms100KB: num(k?.worstP95Ms, 3),
    keystrokeP95Ms100KBDefaultTarget: num(k?.defaultTargetP95Ms, 3),
    hostBlockP95Ms100KB: num(k?.worstHostBlockP95Ms, 3),
    tokenizerMBps: k ? Object.fromEntries(k.tokenizers.map((t) => [t.tokenizer, round(t.mbPerSecond, 2)])) : {},
    keystrokeP95MsByTokenizer: k
      ? Object.fromEntries(k.tokenizers.map((t) => [t.tokenizer, round(t.keystrokeP95Ms, 3)]))
      : {},
    keystrokeP50MsByTokenizer: k
      ? Object.fromEntries(k.tokenizers.map((t) => [t.tokenizer, round(t.keystrokeP50Ms, 3)]))
      : {},
    hostBlockP95MsByTokenizer: k
      ? Object.fromEntries(k.tokenizers.map((t) => [t.tokenizer, round(t.hostBlockP95Ms, 3)]))
      : {},
    hostBlockP50MsByTokenizer: k
      ? Object.fromEntries(k.tokenizers.map((t) => [t.tokenizer, round(t.hostBlockP50Ms, 3)]))
      : {},
    keystrokeTargets: k ? Object.fromEntries(k.tokenizers.map((t) => [t.tokenizer, t.target])) : {},
    tokenizerLoadMs: k ? Object.fromEntries(k.tokenizers.map((t) => [t.tokenizer, round(t.loadMs, 0)])) : {},
    corpusBytes: k?.corpusBytes ?? null,
    promptBytes: k?.promptBytes ?? null,
    keystrokes: k?.keystrokes ?? null,
  };

  const budget = (key: string, label: string, limit: number, unit: string, value: number | null): Budget => ({
    key,
    label,
    limit,
    unit,
    value: value === null ? null : round(value, 3),
    met: value === null ? null : value <= limit,
  });
  const budgets = [
    budget('engine.ratioFullToRaw512', `full inspection / raw run at ${meta.lengthFor512} tokens`, 1.3, '×', ratio512),
    budget(
      'engine.ratioFullToRaw2048',
      `full inspection / raw run at ${meta.lengthFor2048} tokens`,
      1.3,
      '×',
      ratio2048,
    ),
    budget(
      'realsize.ratioFullToRaw2048',
      'real-size (0.5B shape) full inspection / raw run at 2,048 tokens',
      1.5,
      '×',
      realRatio,
    ),
    {
      key: 'realsize.tokensInspected2048',
      label: 'real-size tokens inspected when 2,048 are asked for (must equal 2,048)',
      limit: 2048,
      unit: ' tokens',
      value: r ? r.tokensInspected : null,
      met: r ? r.tokensInspected === 2048 : null,
    },
    budget('realsize.peakRssOverRawMiB', "real-size inspection peak RSS over the raw run's", 1024, 'MiB', realPeak),
    budget(
      'realsize.coldLoadOverRaw',
      'real-size ready time (cached tapped graph) / plain session creation',
      1.5,
      '×',
      realCold,
    ),
    budget(
      'payload.bytes2048',
      `payload at ${meta.lengthFor2048} tokens`,
      64 * 2 ** 20,
      'bytes',
      e2048 ? e2048.payload.totalBytes : null,
    ),
    budget(
      'webview.hoverP95Ms2048',
      `hover p95 at ${meta.lengthFor2048} tokens`,
      16,
      'ms',
      w2048 ? w2048.hoverP95Ms : null,
    ),
    budget(
      'cost.keystrokeP95Ms100KB',
      'keystroke → updated figures p95 on a 100 KB prompt, worker round trip included (worst tokenizer)',
      5,
      'ms',
      k ? k.worstP95Ms : null,
    ),
  ];

  const json: Figures = {
    meta: {
      date: meta.date,
      command: meta.command,
      tiny: meta.tiny,
      durationS: round(meta.durationS, 1),
      loadAverage: { start: round(meta.loadAverage.start), end: round(meta.loadAverage.end) },
      sectionSeconds: Object.fromEntries(
        Object.entries(meta.sectionSeconds).map(([name, seconds]) => [name, round(seconds ?? 0, 1)]),
      ),
      machine: { ...meta.machine },
      lengthFor512: meta.lengthFor512,
      lengthFor2048: meta.lengthFor2048,
      notes: [...meta.notes],
      errors: [...meta.errors],
    },
    budgets: Object.fromEntries(budgets.map((b) => [b.key, { limit: b.limit, value: b.value, met: b.met }])),
    engine,
    realsize,
    coldStartMs: num(c?.cold.startMs),
    coldStart: c
      ? {
          tokens: c.tokens,
          samples: c.samples,
          firstTokensMs: round(c.cold.startMs),
          firstLayerMs: round(c.cold.firstLayerMs),
          doneMs: round(c.cold.doneMs),
          warmFirstTokensMs: round(c.warm.startMs),
          warmFirstLayerMs: round(c.warm.firstLayerMs),
          warmDoneMs: round(c.warm.doneMs),
          emptyTapCacheFirstTokensMs: round(c.firstEver.startMs),
          emptyTapCacheFirstLayerMs: round(c.firstEver.firstLayerMs),
        }
      : null,
    workerPeakBytes: c?.workerPeakBytes ?? null,
    memory: c
      ? { peakTokens: c.peakTokens, processPeakRssBytes: c.peakRssBytes, hostBaselineRssBytes: c.baselineRssBytes }
      : null,
    payload,
    webview,
    cost,
  };
  return { json, budgets };
}

/** A markdown table: the header row, the separator, one row per entry. */
const table = (head: readonly string[], rows: readonly (readonly string[])[]): string[] => [
  `| ${head.join(' | ')} |`,
  `|${'---|'.repeat(head.length)}`,
  ...rows.map((cells) => `| ${cells.join(' | ')} |`),
];

const mib = (bytes: number | null): string => (bytes === null ? 'n/a' : `${(bytes / 2 ** 20).toFixed(2)} MiB`);
const ms = (value: number | null | undefined, digits = 1): string =>
  value === null || value === undefined ? 'n/a' : `${value.toFixed(digits)} ms`;

export function renderMarkdown(meta: BenchMeta, s: BenchSections, budgets: readonly Budget[]): string {
  const m = meta.machine;
  const lines: string[] = [];
  lines.push(`# Benchmark results${meta.tiny ? ' (tiny mode: smoke sizes, not figures)' : ''}`, '');
  lines.push(`- Machine: ${m.cpu}, ${m.cores} cores, ${(m.ramBytes / 2 ** 30).toFixed(1)} GiB RAM, ${m.os}`);
  lines.push(
    `- Date: ${meta.date}; Node ${m.node}; commit ${m.commit ?? 'unknown'}; ${meta.durationS.toFixed(0)} s in all`,
  );
  if (s.engine)
    lines.push(
      `- Model: ${s.engine.modelId} (${s.engine.layers} layers × ${s.engine.heads} heads, context ${s.engine.maxTokens}), execution provider ${s.engine.provider}`,
    );
  if (s.webview) lines.push(`- Browser: ${s.webview.browser}, headless`);
  // The end value includes the suite's own load; the start value says whether something else was running.
  const busy = meta.loadAverage.start > m.cores ? ' (busy before the suite started: figures are noisy)' : '';
  lines.push(
    `- Load average (1 min) at start / end: ${meta.loadAverage.start.toFixed(2)} / ${meta.loadAverage.end.toFixed(2)}${busy}`,
  );
  lines.push(`- Rerun: \`${meta.command}\``, '');

  lines.push('## Budgets', '', '| Budget | Value | Limit | Met |', '|---|---|---|---|');
  for (const b of budgets) {
    const value =
      b.value === null
        ? 'n/a'
        : b.unit === 'bytes'
          ? mib(b.value)
          : b.unit === 'ms'
            ? ms(b.value, 2)
            : `${b.value.toFixed(2)}${b.unit}`;
    const limit = b.unit === 'bytes' ? mib(b.limit) : b.unit === 'ms' ? ms(b.limit, 0) : `${b.limit}${b.unit}`;
    lines.push(`| ${b.label} | ${value} | ≤ ${limit} | ${b.met === null ? 'n/a' : b.met ? 'yes' : '**no**'} |`);
  }
  lines.push('');

  if (s.engine) {
    lines.push('## Engine (median of runs after warm-up, one process)', '');
    lines.push(
      ...table(
        [
          'Tokens',
          'Raw run',
          'Tapped run',
          'Full inspection',
          'Full / raw',
          'Tapped / raw',
          'Payload',
          'Attention as JSON',
          'Encoding',
        ],
        s.engine.lengths.map((l) => [
          String(l.tokens),
          ms(l.rawMs),
          ms(l.tappedMs),
          ms(l.fullMs),
          `${(l.fullMs / l.rawMs).toFixed(2)}×`,
          `${(l.tappedMs / l.rawMs).toFixed(2)}×`,
          mib(l.payload.totalBytes),
          `${mib(l.denseJsonBytes)} (${(l.denseJsonBytes / l.payload.totalBytes).toFixed(0)}×)`,
          l.encoding,
        ]),
      ),
      '',
    );
  }
  for (const r of s.realsize ? [s.realsize, ...(s.realsize.q4 ? [s.realsize.q4] : [])] : []) {
    const mibOf = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
    lines.push(
      `## Real-size model (${r.shape.layers} layers, ${r.shape.heads} heads, ${r.shape.kvHeads} KV heads, hidden ${r.shape.hidden}, ${r.dtype}, ${(r.modelBytes / 2 ** 30).toFixed(2)} GiB; ${r.tokens} tokens)`,
      '',
    );
    lines.push('| | Raw | Inspection | Inspection / raw |', '|---|---|---|---|');
    lines.push(
      `| Run (median) | ${ms(r.rawMs, 0)} | ${ms(r.fullMs, 0)} (run ${ms(r.stagesMs.run, 0)}, statistics ${ms(r.stagesMs.stats, 0)}) | ${(r.fullMs / r.rawMs).toFixed(2)}× |`,
    );
    lines.push(
      `| Ready (session / engine load, cached tapped graph) | ${ms(r.rawReadyMs, 0)} | ${ms(r.engineReadyMs, 0)} | ${(r.engineReadyMs / r.rawReadyMs).toFixed(2)}× |`,
    );
    lines.push(
      `| Process peak RSS | ${mibOf(r.rawPeakRssBytes)} | ${mibOf(r.inspectPeakRssBytes)} | +${mibOf(r.inspectPeakRssBytes - r.rawPeakRssBytes)} |`,
    );
    lines.push(
      '',
      `Tokens inspected: ${r.tokensInspected} of ${r.tokens}.${r.prepareMs !== null ? ` Tapped graph built once in ${ms(r.prepareMs, 0)}.` : ''}`,
      '',
    );
  }
  if (s.coldStart) {
    const c = s.coldStart;
    lines.push(`## Cold start (fresh process and worker, ${c.tokens} tokens, median of ${c.samples})`, '');
    lines.push('| | First tokens (header) | First layer | Done |', '|---|---|---|---|');
    lines.push(
      `| Cold worker, tapped graph cached | ${ms(c.cold.startMs, 0)} | ${ms(c.cold.firstLayerMs, 0)} | ${ms(c.cold.doneMs, 0)} |`,
    );
    lines.push(
      `| Cold worker, empty tap cache (first use ever) | ${ms(c.firstEver.startMs, 0)} | ${ms(c.firstEver.firstLayerMs, 0)} | ${ms(c.firstEver.doneMs, 0)} |`,
    );
    lines.push(`| Warm worker | ${ms(c.warm.startMs, 0)} | ${ms(c.warm.firstLayerMs, 0)} | ${ms(c.warm.doneMs, 0)} |`);
    lines.push(
      '',
      `Worker peak memory: ${mib(c.workerPeakBytes)} (process peak RSS ${mib(c.peakRssBytes)} minus the host's ${mib(c.baselineRssBytes)} before the worker started; peak over inspections up to ${c.peakTokens} tokens).`,
      '',
    );
  }
  if (s.webview) {
    lines.push('## Webview (Chromium, real inspection, measured in the page)', '');
    lines.push(
      ...table(
        ['Tokens', 'Data → first paint', 'Data → all layers drawn', 'Hover p50', 'Hover p95', 'Hover max', 'Hovers'],
        s.webview.lengths.map((l) => [
          String(l.tokens),
          ms(l.firstPaintMs),
          ms(l.readyMs),
          ms(l.hoverP50Ms, 2),
          ms(l.hoverP95Ms, 2),
          ms(l.hoverMaxMs, 2),
          String(l.hovers),
        ]),
      ),
      '',
    );
  }
  if (s.cost) {
    const k = s.cost;
    lines.push(
      `## Live cost (${(k.corpusBytes / 1e6).toFixed(2)} MB corpus; ${k.keystrokes} keystrokes on a ${(k.promptBytes / 1000).toFixed(0)} KB prompt)`,
      '',
    );
    lines.push(
      ...table(
        ['Tokenizer', 'Throughput', 'Load', 'Update p50', 'Update p95', 'Host block p50', 'Host block p95', 'Target'],
        k.tokenizers.map((t) => [
          t.tokenizer,
          `${t.mbPerSecond.toFixed(2)} MB/s`,
          ms(t.loadMs, 0),
          ms(t.keystrokeP50Ms, 2),
          ms(t.keystrokeP95Ms, 2),
          ms(t.hostBlockP50Ms, 2),
          ms(t.hostBlockP95Ms, 2),
          t.target,
        ]),
      ),
      '',
    );
  }
  if (meta.notes.length > 0) lines.push('## How it is measured', '', ...meta.notes.map((n) => `- ${n}`), '');
  if (meta.errors.length > 0) lines.push('## Errors', '', ...meta.errors.map((n) => `- ${n}`), '');
  return lines.join('\n');
}
