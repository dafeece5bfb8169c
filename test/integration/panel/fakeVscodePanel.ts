// A hand-written fake of the vscode API surface the inspector host uses (webview panels, editors,
// decorations, documents, settings, dialogs), so the real controller runs in node:test against the real
// engine worker, on the shared core in test/helpers/fakeVscode.ts. installFakeVscode() makes `require('vscode')` return
// it.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { EventEmitter, fakeCommands, installFakeVscode, Position, positionIn, Range } from '../../helpers/fakeVscode';

export { EventEmitter, installFakeVscode, Position, Range };

export class Uri {
  private constructor(
    readonly scheme: string,
    readonly path: string,
  ) {}
  static file(p: string): Uri {
    return new Uri('file', p);
  }
  static parse(text: string): Uri {
    return new Uri('file', text.replace(/^file:\/\//, ''));
  }
  static joinPath(base: Uri, ...parts: string[]): Uri {
    return new Uri(base.scheme, path.join(base.path, ...parts));
  }
  get fsPath(): string {
    return this.path;
  }
  toString(): string {
    return `${this.scheme}://${this.path}`;
  }
}

export class FakeDocument {
  constructor(
    readonly uri: Uri,
    public text: string,
  ) {}
  getText(range?: Range): string {
    return range ? this.text.slice(this.offsetAt(range.start), this.offsetAt(range.end)) : this.text;
  }
  offsetAt(p: Position): number {
    const lines = this.text.split('\n');
    let offset = 0;
    for (let l = 0; l < p.line && l < lines.length; l++) offset += lines[l].length + 1;
    return Math.min(this.text.length, offset + p.character);
  }
  positionAt(offset: number): Position {
    return positionIn(this.text, offset);
  }
}

export class FakeEditor {
  readonly decorations = new Map<unknown, Range[]>();
  readonly revealed: Range[] = [];
  constructor(
    readonly document: FakeDocument,
    public selection: Range & { active: Position },
  ) {}
  setDecorations(type: unknown, ranges: Range[]): void {
    this.decorations.set(type, ranges);
  }
  revealRange(range: Range): void {
    this.revealed.push(range);
  }
  /** Offsets of every decorated range, over all decoration types. */
  decoratedOffsets(): [number, number][] {
    return [...this.decorations.values()]
      .flat()
      .map((r) => [this.document.offsetAt(r.start), this.document.offsetAt(r.end)]);
  }
}

export class FakeWebviewPanel {
  readonly posted: unknown[] = [];
  readonly receive = new EventEmitter<unknown>();
  readonly disposed = new EventEmitter<void>();
  title = '';
  iconPath: unknown;
  viewColumn = 2;
  revealCount = 0;
  readonly webview = {
    cspSource: 'vscode-webview://fake',
    html: '',
    options: {} as unknown,
    asWebviewUri: (uri: Uri) => `vscode-webview://fake${uri.path}`,
    postMessage: async (message: unknown) => {
      this.posted.push(message);
      return true;
    },
    onDidReceiveMessage: this.receive.event,
  };
  readonly onDidDispose = this.disposed.event;
  reveal(): void {
    this.revealCount++;
  }
  dispose(): void {
    this.disposed.fire();
  }
}

export function createFakeVscode(storage: string) {
  const settings: Record<string, unknown> = {};
  const errors: string[] = [];
  const saved: { path: string; bytes: Uint8Array }[] = [];
  const panels: FakeWebviewPanel[] = [];
  const progress: { title: string; reports: unknown[]; closed: boolean }[] = [];
  const commandsApi = fakeCommands();
  const commands = commandsApi.registered;
  const docChange = new EventEmitter<unknown>();
  const selectionChange = new EventEmitter<unknown>();
  let saveTarget: Uri | undefined;
  let openTarget: Uri | undefined;
  const informed: string[] = [];
  const serializers = new Map<string, { deserializeWebviewPanel(panel: unknown, state: unknown): Promise<void> }>();
  const window = {
    activeTextEditor: undefined as FakeEditor | undefined,
    visibleTextEditors: [] as FakeEditor[],
    createWebviewPanel: () => {
      const panel = new FakeWebviewPanel();
      panels.push(panel);
      return panel;
    },
    createTextEditorDecorationType: (options: unknown) => ({ options, dispose: () => undefined }),
    showErrorMessage: async (message: string) => void errors.push(message),
    showSaveDialog: async () => saveTarget,
    showOpenDialog: async () => (openTarget ? [openTarget] : undefined),
    showInformationMessage: async (message: string) => void informed.push(message),
    withProgress: async (options: { title?: string }, task: (p: { report(v: unknown): void }) => Promise<void>) => {
      const entry = { title: options.title ?? '', reports: [] as unknown[], closed: false };
      progress.push(entry);
      await task({ report: (v) => entry.reports.push(v) });
      entry.closed = true;
    },
    onDidChangeTextEditorSelection: selectionChange.event,
    registerWebviewPanelSerializer: (
      viewType: string,
      serializer: { deserializeWebviewPanel(panel: unknown, state: unknown): Promise<void> },
    ) => {
      serializers.set(viewType, serializer);
      return { dispose: () => serializers.delete(viewType) };
    },
  };
  const workspace = {
    getConfiguration: (section: string) => ({
      get: (key: string) => settings[`${section}.${key}`],
      // The fake's settings are all user settings.
      inspect: (key: string) => ({ key: `${section}.${key}`, globalValue: settings[`${section}.${key}`] }),
    }),
    isTrusted: true,
    onDidChangeTextDocument: docChange.event,
    openTextDocument: async (uri: Uri) =>
      window.visibleTextEditors.find((e) => e.document.uri.toString() === uri.toString())?.document,
    asRelativePath: (uri: Uri | string) => path.basename(typeof uri === 'string' ? uri : uri.path),
    workspaceFolders: undefined,
    fs: {
      createDirectory: async (uri: Uri) => void mkdirSync(uri.fsPath, { recursive: true }),
      readFile: async (uri: Uri) => new Uint8Array(readFileSync(uri.fsPath)),
      writeFile: async (uri: Uri, bytes: Uint8Array) => {
        writeFileSync(uri.fsPath, bytes);
        saved.push({ path: uri.fsPath, bytes });
      },
    },
  };
  const api = {
    EventEmitter,
    Position,
    Range,
    Uri,
    ThemeColor: class {
      constructor(readonly id: string) {}
    },
    ViewColumn: { Beside: -2 },
    DecorationRangeBehavior: { ClosedClosed: 1 },
    TextEditorRevealType: { InCenterIfOutsideViewport: 2 },
    ProgressLocation: { Notification: 15 },
    TextEditorSelectionChangeKind: { Keyboard: 1, Mouse: 2 },
    window,
    workspace,
    languages: {
      registerCodeLensProvider: () => ({ dispose: () => undefined }),
    },
    commands: commandsApi.api,
  };
  return {
    api,
    settings,
    errors,
    saved,
    panels,
    commands,
    executed: commandsApi.executed,
    serializers,
    progress,
    context: (root: string) => ({
      extensionPath: root,
      extensionUri: Uri.file(root),
      globalStorageUri: Uri.file(storage),
      subscriptions: [] as { dispose(): void }[],
      secrets: fakeSecrets(),
    }),
    setSaveTarget: (p: string | undefined) => (saveTarget = p ? Uri.file(p) : undefined),
    setOpenTarget: (p: string | undefined) => (openTarget = p ? Uri.file(p) : undefined),
    informed,
    openEditor: (file: string, text: string, selection: [number, number]): FakeEditor => {
      mkdirSync(path.dirname(file), { recursive: true });
      const doc = new FakeDocument(Uri.file(file), text);
      const range = new Range(doc.positionAt(selection[0]), doc.positionAt(selection[1]));
      const editor = new FakeEditor(doc, Object.assign(range, { active: range.end }));
      window.activeTextEditor = editor;
      window.visibleTextEditors = [editor];
      return editor;
    },
    moveCursor: (editor: FakeEditor, offset: number) => {
      const p = editor.document.positionAt(offset);
      selectionChange.fire({ textEditor: editor, selections: [{ active: p }], kind: 1 });
    },
    edit: (editor: FakeEditor, offset: number, removed: number, inserted: string) => {
      const doc = editor.document;
      doc.text = doc.text.slice(0, offset) + inserted + doc.text.slice(offset + removed);
      docChange.fire({
        document: doc,
        contentChanges: [{ rangeOffset: offset, rangeLength: removed, text: inserted }],
      });
    },
  };
}

/** An in-memory SecretStorage. */
export function fakeSecrets(initial: Record<string, string> = {}): {
  get(key: string): Promise<string | undefined>;
  store(key: string, value: string): Promise<void>;
  delete(key: string): Promise<void>;
} {
  const values = new Map(Object.entries(initial));
  return {
    get: async (key) => values.get(key),
    store: async (key, value) => void values.set(key, value),
    delete: async (key) => void values.delete(key),
  };
}

/** Polls `probe` until it returns a value (an event the host posted, say), or fails after 90 s. */
export { waitFor } from '../../helpers/waitFor';

/**
 * Installs `fake` as `vscode` and registers the inspector on it with these settings (quiet log, no cost
 * summary), as the panel's integration tests start; `dispose` undoes both.
 */
export async function registerFakeInspector(
  fake: ReturnType<typeof createFakeVscode>,
  root: string,
  settings: Readonly<Record<string, unknown>>,
): Promise<{ readonly dispose: () => void }> {
  const uninstall = installFakeVscode(fake.api);
  const { registerInspector } = await import('../../../src/panel/registerInspector');
  const context = fake.context(root);
  Object.assign(fake.settings, settings);
  const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
  registerInspector(context as never, quiet, () => Promise.reject(new Error('no cost summary in this test')));
  return {
    dispose: () => {
      for (const d of context.subscriptions) d.dispose();
      uninstall();
    },
  };
}
