// Where the e2e tests find the repository, the VSIX they install and the folder their screenshots go to.
import * as fs from 'node:fs';
import * as path from 'node:path';

export const repoRoot = path.resolve(__dirname, '../../..');
/** Built by `npm run test:e2e` (scripts/package.mjs --if-stale) before the scenarios run; PA_E2E_VSIX overrides. */
export const vsixPath = process.env.PA_E2E_VSIX ?? path.join(repoRoot, 'out/prompt-attention.vsix');
export const outputDir = path.join(repoRoot, 'test-output/e2e');

export function assertVsixBuilt(): string {
  if (!fs.existsSync(vsixPath)) {
    throw new Error(`${vsixPath} is missing; run npm run test:e2e (it packages the extension first)`);
  }
  return vsixPath;
}

/** A file in the output folder for one scenario, e.g. output('inspect', 'panel.png'). */
export function output(scenario: string, file: string): string {
  const dir = path.join(outputDir, scenario);
  fs.mkdirSync(dir, { recursive: true });
  return path.join(dir, file);
}
