// The layer rules hold: in a temporary copy of src/ and webview/ with the repository's eslint config, the
// copy as it is lints clean, a planted import cycle fails import-x/no-cycle, and planted upward imports
// (the engine or shared/ importing the panel, the panel importing the engine) fail no-restricted-imports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const ESLINT = path.join(ROOT, 'node_modules', 'eslint', 'bin', 'eslint.js');

interface LintFile {
  readonly filePath: string;
  readonly messages: readonly { readonly ruleId: string | null; readonly message: string }[];
}

function copyTree(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pa-layers-'));
  for (const entry of ['src', 'webview', 'eslint.config.mjs', 'eslint.layers.mjs', 'package.json', 'tsconfig.json'])
    cpSync(path.join(ROOT, entry), path.join(dir, entry), { recursive: true });
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  return dir;
}

/** eslint's JSON report over `targets` in `dir`, and its exit code. */
function lint(dir: string, targets: readonly string[]): Promise<{ code: number; files: LintFile[]; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [ESLINT, '--format', 'json', '--no-warn-ignored', ...targets],
      { cwd: dir, maxBuffer: 1 << 24 },
      (error, stdout, stderr) => {
        const code = error ? ((error as { code?: number }).code ?? 1) : 0;
        resolve({ code, files: stdout ? (JSON.parse(stdout) as LintFile[]) : [], stderr });
      },
    );
  });
}

/** The rule ids reported for one file of the copy. */
function rulesFor(dir: string, files: readonly LintFile[], file: string): string[] {
  const found = files.find((f) => f.filePath === path.join(dir, file));
  return (found?.messages ?? []).map((m) => m.ruleId ?? 'fatal');
}

test(
  'the layer rules: a clean copy passes, a planted cycle and upward imports fail',
  { timeout: 300_000 },
  async () => {
    const dir = copyTree();
    try {
      const clean = await lint(dir, ['src', 'webview']);
      const problems = clean.files.flatMap((f) => f.messages.map((m) => `${f.filePath}: ${m.ruleId} ${m.message}`));
      assert.equal(clean.code, 0, `the unplanted copy lints clean:\n${problems.join('\n')}${clean.stderr}`);

      // A cycle inside one layer, which no import restriction sees: format.ts ⇄ errorText.ts.
      appendFileSync(
        path.join(dir, 'src/shared/format.ts'),
        "\nimport { firstLine } from './errorText';\nexport const plantedA = firstLine;\n",
      );
      appendFileSync(
        path.join(dir, 'src/shared/errorText.ts'),
        "\nimport { formatCount } from './format';\nexport const plantedB = formatCount;\n",
      );
      const cycle = await lint(dir, ['src/shared/format.ts', 'src/shared/errorText.ts']);
      assert.equal(cycle.code, 1, cycle.stderr);
      assert.ok(rulesFor(dir, cycle.files, 'src/shared/format.ts').includes('import-x/no-cycle'));
      assert.ok(rulesFor(dir, cycle.files, 'src/shared/errorText.ts').includes('import-x/no-cycle'));

      // Upward imports: the engine and shared/ importing the panel, the panel importing the engine.
      const planted: Record<string, string> = {
        'src/engine/inspection.ts': "import { readInspectorSettings } from '../panel/inspectorSettings';",
        'src/shared/progressText.ts': "import { readInspectorSettings } from '../panel/inspectorSettings';",
        'src/panel/attributionHints.ts': "import { splitAnswer as readInspectorSettings } from '../engine/inspectApi';",
      };
      for (const [file, line] of Object.entries(planted))
        appendFileSync(path.join(dir, file), `\n${line}\nexport const plantedUpward = readInspectorSettings;\n`);
      const upward = await lint(dir, Object.keys(planted));
      assert.equal(upward.code, 1, upward.stderr);
      for (const file of Object.keys(planted))
        assert.deepEqual(rulesFor(dir, upward.files, file), ['no-restricted-imports'], file);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
