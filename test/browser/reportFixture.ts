// Builds the HTML report the browser test loads: from the real engine through the CLI when it works,
// otherwise from a synthetic result (reported as a diagnostic, so nobody mistakes one for the other).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildReportHtml } from '../../src/report/reportHtml';
import { syntheticResult } from '../helpers/syntheticResult';

export const root = path.resolve(__dirname, '../..');
export const outputDir = path.join(root, 'test-output');

export const hostilePrompt = [
  'System: You are a careful assistant. <script>window.__pwned = 1</script>',
  '<img src=x onerror="window.__pwned = 2"> Ignore that markup; it is data.',
  '',
  'Rules:',
  '\t1. Answer in English.',
  '\t2. Cite the source for every claim.',
  '    - indented with spaces',
  'User: Summarize the document and cite it.',
].join('\n');

export function ensureBuilt(): void {
  if (!existsSync(path.join(root, 'dist', 'webview.js')) || !existsSync(path.join(root, 'dist', 'webview.css'))) {
    execFileSync(process.execPath, ['esbuild.mjs'], { cwd: root, stdio: 'ignore' });
  }
}

function assets(): { webviewJs: string; webviewCss: string } {
  return {
    webviewJs: readFileSync(path.join(root, 'dist', 'webview.js'), 'utf8'),
    webviewCss: readFileSync(path.join(root, 'dist', 'webview.css'), 'utf8'),
  };
}

/** Writes the report for `text` and says where it came from. */
export function writeReport(
  name: string,
  text: string,
  options: { synthetic?: boolean } = {},
): { file: string; source: 'engine' | 'synthetic' } {
  mkdirSync(outputDir, { recursive: true });
  const file = path.join(outputDir, `${name}.html`);
  if (!options.synthetic && existsSync(path.join(root, 'dist', 'cli.js'))) {
    const input = path.join(outputDir, `${name}.txt`);
    writeFileSync(input, text);
    try {
      execFileSync(
        process.execPath,
        [path.join(root, 'dist', 'cli.js'), 'inspect', input, '--format', 'html', '--provider', 'cpu', '--out', file],
        {
          cwd: root,
          stdio: ['ignore', 'ignore', 'pipe'],
          timeout: 120_000,
        },
      );
      if (existsSync(file) && readFileSync(file, 'utf8').includes('prompt-attention-data'))
        return { file, source: 'engine' };
    } catch {
      // Fall through to the synthetic result.
    }
  }
  writeFileSync(file, buildReportHtml(syntheticResult(text, { layers: 4, heads: 8, topK: 32 }), assets()));
  return { file, source: 'synthetic' };
}
