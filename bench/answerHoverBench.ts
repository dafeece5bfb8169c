// Hovering an answer token in the answer strip: the real webview bundle in Chromium (the webview bench's
// page), a real 2,048-token inspection of the embedded model delivered as the host's messages, then 128
// answer tokens streamed in with their rows (per layer, heads × keys), then random answer tokens hovered;
// each sample is the handler plus the main-thread work of the frame that shows it (webviewHarness.ts).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CHROMIUM, launchChromium } from '../test/browser/browserLaunch';
import type { InspectionResult } from '../src/shared/protocol';
import type { BenchBundles } from './bundles';
import { buildWebviewHarness } from './bundles';
import { quantile } from './stats';
import { harnessPage } from './webviewBench';
import { runInspection } from '../src/engine/inspectApi';
import { LoadedModel, ModelTokenizer } from '../src/engine/benchInternals';
import { ResultCollector } from '../src/shared/resultFold';
import { textOfTokens } from './engineBench';

/** One inspection of `tokens` tokens of the bench corpus on the embedded model, as the panel receives it. */
export async function inspectionOf(root: string, modelFolder: string, cacheDir: string, tokens: number) {
  const text = textOfTokens(await ModelTokenizer.load(modelFolder), root, tokens);
  const model = await LoadedModel.load(modelFolder, { id: 'pa-mini-llama', cacheDir, provider: 'cpu', embedded: true });
  try {
    const collected = new ResultCollector();
    await runInspection(
      model,
      {
        requestId: 1,
        text,
        model: modelFolder,
        provider: 'cpu',
        maxCharacters: 10_000_000,
        maxTokens: 0,
        window: 'start',
      },
      { emit: collected.sink },
      () => false,
    );
    const result = collected.result({ label: 'bench.md', offset: 0 });
    if (!result) throw new Error('the inspection ended without a result');
    return result;
  } finally {
    await model.dispose();
  }
}

export interface AnswerHoverBenchResult {
  readonly promptTokens: number;
  readonly answerTokens: number;
  readonly hovers: number;
  readonly hoverP50Ms: number;
  /** answer.hoverP95Ms (budget ≤ 16). */
  readonly hoverP95Ms: number;
}

export async function runAnswerHoverBench(options: {
  readonly root: string;
  readonly bundles: BenchBundles;
  readonly result: InspectionResult;
  readonly answerTokens: number;
  readonly hovers: number;
  readonly log: (line: string) => void;
}): Promise<AnswerHoverBenchResult> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is not installed (apt-get install chromium)`);
  const dir = path.join(options.root, '.cache', 'bench-answer-hover');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'panel.html');
  writeFileSync(file, harnessPage(options.result, options.bundles, await buildWebviewHarness(options.root)));
  const browser = await launchChromium();
  try {
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(pathToFileURL(file).href);
    await page.evaluate(() => window.__benchDeliver());
    const hover = await page.evaluate(([answer, count]) => window.__benchAnswerHover(answer, count, 20, 7), [
      options.answerTokens,
      options.hovers,
    ] as const);
    if (errors.length > 0) throw new Error(`the webview reported an error: ${errors[0]}`);
    if (hover.missed > 0) throw new Error(`${hover.missed} answer-token hovers did not show in the next frame`);
    const result: AnswerHoverBenchResult = {
      promptTokens: options.result.tokens.length,
      answerTokens: options.answerTokens,
      hovers: hover.samples.length,
      hoverP50Ms: Number(quantile(hover.samples, 0.5).toFixed(2)),
      hoverP95Ms: Number(quantile(hover.samples, 0.95).toFixed(2)),
    };
    options.log(
      `answer hover: ${result.promptTokens} prompt + ${result.answerTokens} answer tokens: p50 ${result.hoverP50Ms} ms, p95 ${result.hoverP95Ms} ms (${result.hovers} hovers)`,
    );
    return result;
  } finally {
    await browser.close();
  }
}
