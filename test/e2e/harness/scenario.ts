// One e2e scenario's life: code-server with the VSIX and a workspace, Chromium on the workbench, a
// screenshot when a test fails, and everything stopped afterwards.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, afterEach, before, type SuiteContext, type TestContext } from 'node:test';
import { startCodeServer, type CodeServer } from './codeServer';
import { assertVsixBuilt, output, outputDir } from './paths';
import { openWorkbench, screenshot, type Workbench } from './workbench';

export interface Scenario {
  readonly server: CodeServer;
  readonly workbench: Workbench;
}

export interface ScenarioOptions {
  readonly workspaceFiles: Readonly<Record<string, string>>;
  readonly userSettings?: Readonly<Record<string, unknown>>;
  /** Workspace trust on and the folder untrusted. */
  readonly restrictedMode?: boolean;
}

/**
 * Registers before/after hooks for a test file and returns a getter for the running scenario.
 * `name` names the output folder: test-output/e2e/<name>/ (screenshots, code-server.log, browser console).
 */
export function useScenario(name: string, options: ScenarioOptions): () => Scenario {
  let scenario: Scenario | undefined;
  let server: CodeServer | undefined;
  before(
    async () => {
      // Only this run's pictures and logs in the scenario's folder.
      fs.rmSync(path.join(outputDir, name), { recursive: true, force: true });
      server = await startCodeServer({
        vsix: assertVsixBuilt(),
        workspaceFiles: options.workspaceFiles,
        userSettings: options.userSettings,
        ...(options.restrictedMode ? { restrictedMode: true } : {}),
        logFile: output(name, 'code-server.log'),
      });
      const workbench = await openWorkbench(server, name);
      scenario = { server, workbench };
    },
    { timeout: 420_000 },
  );
  afterEach(async (context: TestContext | SuiteContext) => {
    // A failing test leaves a picture of the workbench behind.
    const failed = 'passed' in context && context.passed === false;
    if (failed && scenario)
      await screenshot(scenario.workbench.page, name, `failure-${slug(context.name)}`).catch(() => undefined);
  });
  after(async () => {
    await scenario?.workbench.close().catch(() => undefined);
    await server?.stop();
  });
  return () => {
    if (!scenario) throw new Error(`scenario ${name} did not start`);
    return scenario;
  };
}

function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 60);
}
