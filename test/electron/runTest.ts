// Runs the integration suite in a real VS Code desktop build with @vscode/test-electron (the VS Code
// team's standard harness). It downloads VS Code, so it runs where that is possible — a developer machine
// or CI with network access — through `npm run test:electron`; it is not part of `npm test`.
import * as path from 'node:path';
import { runTests } from '@vscode/test-electron';

async function main(): Promise<void> {
  const repoRoot = path.resolve(__dirname, '../..');
  try {
    await runTests({
      version: process.env.VSCODE_TEST_VERSION ?? 'stable',
      extensionDevelopmentPath: repoRoot,
      extensionTestsPath: path.join(__dirname, 'suite', 'index.js'),
      launchArgs: [
        '--disable-extensions',
        '--disable-workspace-trust',
        '--skip-welcome',
        '--skip-release-notes',
        path.join(repoRoot, 'examples'),
      ],
    });
  } catch (error) {
    console.error('test:electron failed:', error instanceof Error ? error.message : error);
    process.exit(1);
  }
}

void main();
