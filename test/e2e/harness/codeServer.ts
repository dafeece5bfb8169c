// Starts code-server (installed by test/e2e/setup.sh) on a free local port with its own user-data and
// extensions folders, the packaged VSIX installed, and a workspace folder; stops it with its process group.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoRoot } from './paths';

export const CODE_SERVER_BIN = path.join(repoRoot, '.e2e/code-server/node_modules/.bin/code-server');
export const EXTENSION_ID = 'prompt-attention.prompt-attention';

export interface CodeServerOptions {
  /** The VSIX to install. */
  readonly vsix: string;
  /** Files of the workspace folder, by relative path. */
  readonly workspaceFiles: Readonly<Record<string, string>>;
  /** User settings merged over the harness defaults. */
  readonly userSettings?: Readonly<Record<string, unknown>>;
  /** Where code-server's log goes. */
  readonly logFile: string;
  /** Workspace trust on, the folder left untrusted (restricted mode); off by default. */
  readonly restrictedMode?: boolean;
}

export interface CodeServer {
  readonly url: string;
  readonly workspace: string;
  readonly userSettingsFile: string;
  stop(): Promise<void>;
}

const DEFAULT_SETTINGS = {
  'security.workspace.trust.enabled': false,
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'git.enabled': false,
  'editor.minimap.enabled': false,
  // Selections by line (Shift+Down, Shift+End) must follow logical lines; VS Code wraps markdown by default.
  'editor.wordWrap': 'off',
  '[markdown]': { 'editor.wordWrap': 'off' },
  'workbench.editor.enablePreview': false,
  'window.restoreWindows': 'all',
  'files.hotExit': 'off',
  'chat.commandCenter.enabled': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
};

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

async function waitForHealthy(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`code-server exited with code ${child.exitCode} before it served ${url}`);
    try {
      const response = await fetch(`${url}/healthz`);
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`code-server did not answer ${url}/healthz within ${timeoutMs / 1000} s`);
}

export function assertCodeServerInstalled(): void {
  if (!fs.existsSync(CODE_SERVER_BIN)) {
    throw new Error(
      `code-server is not installed at ${CODE_SERVER_BIN}; run test/e2e/setup.sh (npm run test:e2e does)`,
    );
  }
}

export async function startCodeServer(options: CodeServerOptions): Promise<CodeServer> {
  assertCodeServerInstalled();
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'pa-e2e-'));
  const userDataDir = path.join(base, 'user-data');
  const extensionsDir = path.join(base, 'extensions');
  const workspace = path.join(base, 'workspace');
  const userSettingsFile = path.join(userDataDir, 'User', 'settings.json');
  fs.mkdirSync(path.dirname(userSettingsFile), { recursive: true });
  fs.mkdirSync(extensionsDir, { recursive: true });
  for (const [name, text] of Object.entries(options.workspaceFiles)) {
    fs.mkdirSync(path.dirname(path.join(workspace, name)), { recursive: true });
    fs.writeFileSync(path.join(workspace, name), text);
  }
  fs.mkdirSync(workspace, { recursive: true });
  const writeUserSettings = (settings: Readonly<Record<string, unknown>>): void => {
    fs.writeFileSync(userSettingsFile, JSON.stringify({ ...DEFAULT_SETTINGS, ...settings }, null, 2));
  };
  // Restricted mode: trust on, never asked, so the folder stays untrusted.
  const trust = options.restrictedMode
    ? {
        'security.workspace.trust.enabled': true,
        'security.workspace.trust.startupPrompt': 'never',
        'security.workspace.trust.banner': 'always',
        'security.workspace.trust.untrustedFiles': 'open',
      }
    : {};
  writeUserSettings({ ...trust, ...(options.userSettings ?? {}) });

  fs.mkdirSync(path.dirname(options.logFile), { recursive: true });
  const dirs = ['--user-data-dir', userDataDir, '--extensions-dir', extensionsDir];
  const install = spawnSync(CODE_SERVER_BIN, [...dirs, '--install-extension', options.vsix], { encoding: 'utf8' });
  fs.writeFileSync(
    options.logFile,
    `$ code-server --install-extension ${options.vsix}\n${install.stdout}${install.stderr}\n`,
  );
  if (install.status !== 0 || !/successfully installed/i.test(install.stdout + install.stderr)) {
    throw new Error(
      `code-server --install-extension failed (${install.status}):\n${install.stdout}\n${install.stderr}`,
    );
  }

  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const log = fs.openSync(options.logFile, 'a');
  const child = spawn(
    CODE_SERVER_BIN,
    [
      '--auth',
      'none',
      '--bind-addr',
      `127.0.0.1:${port}`,
      '--disable-telemetry',
      '--disable-update-check',
      ...(options.restrictedMode ? [] : ['--disable-workspace-trust']),
      '--ignore-last-opened',
      ...dirs,
      workspace,
    ],
    { detached: true, stdio: ['ignore', log, log], env: { ...process.env, VSCODE_PROXY_URI: '' } },
  );
  fs.closeSync(log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // Already gone.
      }
      const killTimer = setTimeout(() => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }, 5000);
      await exited;
      clearTimeout(killTimer);
    }
    fs.rmSync(base, { recursive: true, force: true });
  };
  try {
    await waitForHealthy(url, child, 120_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, workspace, userSettingsFile, stop };
}
