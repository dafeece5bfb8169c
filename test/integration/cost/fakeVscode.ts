// A small hand-written fake of the vscode API surface the cost features use, so the real providers run in
// node:test, on the shared core in test/helpers/fakeVscode.ts. `installFakeVscode()` makes `require('vscode')` return
// it.
import assert from 'node:assert/strict';
import { EventEmitter, fakeCommands, installFakeVscode, Position, positionIn, Range } from '../../helpers/fakeVscode';

export { EventEmitter, installFakeVscode, Position, Range };

export class Diagnostic {
  source?: string;
  code?: string;
  constructor(
    readonly range: Range,
    readonly message: string,
    readonly severity: number,
  ) {}
}

export class CodeLens {
  constructor(
    readonly range: Range,
    readonly command?: { title: string; tooltip?: string; command: string },
  ) {}
}

export class MarkdownString {
  isTrusted = false;
  constructor(
    readonly value: string,
    readonly supportThemeIcons?: boolean,
  ) {}
}

export class ThemeColor {
  constructor(readonly id: string) {}
}

export class FakeDocument {
  isClosed = false;
  version = 1;
  readonly uri: { toString(): string; fsPath: string };
  constructor(
    readonly fileName: string,
    readonly languageId: string,
    private text: string,
  ) {
    this.uri = { toString: () => `file://${fileName}`, fsPath: fileName };
  }
  getText(): string {
    return this.text;
  }
  setText(text: string): void {
    this.text = text;
    this.version++;
  }
  positionAt(offset: number): Position {
    return positionIn(this.text, offset);
  }
}

interface Filter {
  readonly scheme?: string;
  readonly language?: string;
  readonly pattern?: string;
}

function matchFilter(filter: Filter, document: FakeDocument): boolean {
  if (filter.scheme && filter.scheme !== 'file') return false;
  if (filter.language) return filter.language === document.languageId;
  // Enough glob for "**/*.ext" and "**".
  if (filter.pattern) return filter.pattern === '**' || document.fileName.endsWith(filter.pattern.replace('**/*', ''));
  return false;
}

export function createFakeVscode(settings: Record<string, unknown>) {
  const changed = new EventEmitter<{ document: FakeDocument }>();
  const opened = new EventEmitter<FakeDocument>();
  const closed = new EventEmitter<FakeDocument>();
  const configurationChanged = new EventEmitter<{ affectsConfiguration(section: string): boolean }>();
  const activeChanged = new EventEmitter<unknown>();
  const diagnostics = new Map<string, Diagnostic[]>();
  const statusItems: {
    text: string;
    tooltip?: MarkdownString;
    backgroundColor?: ThemeColor;
    visible: boolean;
    command?: string;
  }[] = [];
  const lensProviders: { provideCodeLenses(document: FakeDocument): CodeLens[] }[] = [];
  const commandsApi = fakeCommands();
  const commands = commandsApi.registered;
  const warnings: string[] = [];
  const updates: [string, unknown, number][] = [];
  let quickPickChoice: ((items: { description?: string }[]) => unknown) | undefined;
  let inputBoxAnswer: string | undefined;
  const infos: string[] = [];
  const stored = new Map<string, string>();
  const secrets = {
    get: async (key: string) => stored.get(key),
    store: async (key: string, value: string) => void stored.set(key, value),
    delete: async (key: string) => void stored.delete(key),
  };
  const state = { activeDocument: undefined as FakeDocument | undefined, documents: [] as FakeDocument[] };
  const api = {
    EventEmitter,
    Position,
    Range,
    Diagnostic,
    CodeLens,
    MarkdownString,
    ThemeColor,
    DiagnosticSeverity: { Error: 0, Warning: 1, Information: 2, Hint: 3 },
    StatusBarAlignment: { Left: 1, Right: 2 },
    QuickPickItemKind: { Separator: -1, Default: 0 },
    ConfigurationTarget: { Global: 1, Workspace: 2, WorkspaceFolder: 3 },
    workspace: {
      getConfiguration: (section: string) => ({
        get: (key: string) => settings[`${section}.${key}`],
        inspect: (key: string) => ({ key, workspaceValue: undefined, globalValue: settings[`${section}.${key}`] }),
        update: async (key: string, value: unknown, target: number) => {
          updates.push([`${section}.${key}`, value, target]);
        },
      }),
      onDidChangeTextDocument: changed.event,
      onDidOpenTextDocument: opened.event,
      onDidCloseTextDocument: closed.event,
      onDidChangeConfiguration: configurationChanged.event,
      get textDocuments() {
        return state.documents;
      },
    },
    window: {
      get activeTextEditor() {
        return state.activeDocument ? { document: state.activeDocument } : undefined;
      },
      onDidChangeActiveTextEditor: activeChanged.event,
      createStatusBarItem: () => {
        const item = {
          text: '',
          visible: false,
          show: () => (item.visible = true),
          hide: () => (item.visible = false),
          dispose: () => undefined,
        } as (typeof statusItems)[number] & { show(): void; hide(): void; dispose(): void };
        statusItems.push(item);
        return item;
      },
      showWarningMessage: async (message: string) => {
        warnings.push(message);
        return undefined;
      },
      showQuickPick: async (items: { description?: string }[]) => quickPickChoice?.(items),
      showInputBox: async (options: { password?: boolean }) => {
        assert.equal(options.password, true, 'API keys are typed into a password box');
        return inputBoxAnswer;
      },
      showInformationMessage: async (message: string) => {
        infos.push(message);
        return undefined;
      },
    },
    languages: {
      createDiagnosticCollection: () => ({
        set: (uri: { toString(): string }, items: Diagnostic[]) => diagnostics.set(uri.toString(), items),
        delete: (uri: { toString(): string }) => diagnostics.delete(uri.toString()),
        dispose: () => diagnostics.clear(),
      }),
      registerCodeLensProvider: (_selector: unknown, provider: (typeof lensProviders)[number]) => {
        lensProviders.push(provider);
        return { dispose: () => undefined };
      },
      match: (selector: Filter | Filter[], document: FakeDocument) =>
        (Array.isArray(selector) ? selector : [selector]).some((f) => matchFilter(f, document)) ? 10 : 0,
    },
    commands: commandsApi.api,
  };
  return {
    api,
    diagnostics,
    statusItems,
    lensProviders,
    commands,
    warnings,
    updates,
    setQuickPick: (choose: (items: { description?: string }[]) => unknown) => (quickPickChoice = choose),
    setInputBox: (answer: string | undefined) => (inputBoxAnswer = answer),
    infos,
    secrets,
    stored,
    settings,
    open(document: FakeDocument, active = true) {
      state.documents.push(document);
      if (active) state.activeDocument = document;
      opened.fire(document);
      if (active) activeChanged.fire(undefined);
    },
    edit(document: FakeDocument, text: string) {
      document.setText(text);
      changed.fire({ document });
    },
    close(document: FakeDocument) {
      document.isClosed = true;
      state.documents = state.documents.filter((d) => d !== document);
      if (state.activeDocument === document) state.activeDocument = undefined;
      closed.fire(document);
    },
    changeSettings(values: Record<string, unknown>) {
      Object.assign(settings, values);
      configurationChanged.fire({ affectsConfiguration: (section: string) => section === 'promptAttention.cost' });
    },
  };
}
