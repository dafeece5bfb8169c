// The live context-cost features in the editor: the status-bar item, the Problems-panel diagnostics and the
// per-section CodeLens. Thin glue: the counts, diagnostics and lenses come from the tokenizer worker (the host
// thread never builds a tokenizer), the figures from editorModels.ts; this file tracks documents, debounces
// edits, converts offsets to positions and runs the exact count that a user asks for.
import * as vscode from 'vscode';
import { Disposable } from '../util/disposable';
import { computeCost } from './costModel';
import { costWarnings, type PromptCount } from './costSummary';
import { promptDocumentSelector, readCostSettings, type CostSettings } from './costSettings';
import {
  COUNT_EXACT_COMMAND,
  statusForCount,
  statusForFailure,
  statusForLoading,
  statusForTooLarge,
  type CostDiagnostic,
  type SectionLens,
  type StatusModel,
} from './editorModels';
import { apiKeySecretName, ExactCountDebouncer, requestExactCount } from './exactCount';
import type { CountSnapshot } from './incrementalCounter';
import type { TargetPreset } from './presets';
import { TOKENIZER_LABELS } from './tokenCounters';
import { TokenizerWorkerClient } from './tokenizerWorkerClient';

interface DocumentState {
  snapshot?: CountSnapshot;
  /** The section CodeLens of the snapshot. */
  lenses?: readonly SectionLens[];
  status?: StatusModel;
  /** The provider's count for this exact text and target, when the user asked for one. */
  exact?: { readonly text: string; readonly targetId: string; readonly tokens: number };
  /** One line on the last failed exact count, for that target (cleared by a successful one). */
  exactNote?: { readonly targetId: string; readonly text: string };
}

export interface CostControllerOptions {
  /** The bundled tokenizer worker (dist/tokenizerWorker.js). */
  readonly workerScript: string;
  /** Where the API keys for exact counts live (VS Code's SecretStorage). */
  readonly secrets?: Pick<vscode.SecretStorage, 'get'>;
  /** Tests only: a local server standing in for the providers. */
  readonly countApiBaseUrl?: string;
  readonly exactDebounceMs?: number;
}

const EXACT_DEBOUNCE_MS = 400;

export function loadCostSettings(): CostSettings {
  const config = vscode.workspace.getConfiguration('promptAttention.cost');
  return readCostSettings((key) => config.get(key));
}

export class CostController extends Disposable implements vscode.CodeLensProvider {
  private settings: CostSettings;
  private selector: vscode.DocumentSelector;
  private readonly statusItem: vscode.StatusBarItem;
  private readonly diagnostics: vscode.DiagnosticCollection;
  private readonly lensesChanged = this._register(new vscode.EventEmitter<void>());
  readonly onDidChangeCodeLenses = this.lensesChanged.event;
  private readonly states = new Map<string, DocumentState>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private reportedProblems = '';
  private readonly worker: TokenizerWorkerClient;
  private readonly exactDebouncer: ExactCountDebouncer;
  private summaries = 0;

  constructor(
    assetsDir: string,
    private readonly options: CostControllerOptions,
  ) {
    super();
    this.worker = new TokenizerWorkerClient(options.workerScript, { assetsDir });
    this._register({ dispose: () => this.worker.dispose() });
    this.exactDebouncer = new ExactCountDebouncer(options.exactDebounceMs ?? EXACT_DEBOUNCE_MS);
    this._register({ dispose: () => this.exactDebouncer.dispose() });
    this.settings = loadCostSettings();
    this.selector = promptDocumentSelector(this.settings);
    this.statusItem = this._register(
      vscode.window.createStatusBarItem('promptAttention.cost', vscode.StatusBarAlignment.Right, 100),
    );
    this.statusItem.name = 'Prompt Attention: context cost';
    this.statusItem.command = 'promptAttention.pickTarget';
    this.diagnostics = this._register(vscode.languages.createDiagnosticCollection('promptAttention.cost'));
    this._register(vscode.languages.registerCodeLensProvider({ pattern: '**' }, this));
    this._register(vscode.workspace.onDidChangeTextDocument((event) => this.schedule(event.document)));
    this._register(vscode.workspace.onDidOpenTextDocument((document) => this.schedule(document, 0)));
    this._register(vscode.workspace.onDidCloseTextDocument((document) => this.forget(document)));
    this._register(vscode.window.onDidChangeActiveTextEditor(() => this.refreshStatus()));
    this._register(
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (event.affectsConfiguration('promptAttention.cost')) this.reloadSettings();
      }),
    );
    this._register({ dispose: () => this.timers.forEach((timer) => clearTimeout(timer)) });
    this.reportProblems();
    vscode.workspace.textDocuments.forEach((document) => this.schedule(document, 0));
    this.refreshStatus();
  }

  /** A whole prompt counted in the tokenizer worker, for the panel's cost summary. */
  async countPrompt(text: string, preset: TargetPreset): Promise<PromptCount> {
    const document = `summary:${++this.summaries}`;
    try {
      const counted = await this.worker.count(document, text, preset, this.settings.options);
      return { tokens: counted.snapshot.total, chatOverhead: counted.chatOverhead, snapshot: counted.snapshot };
    } finally {
      this.worker.forget(document);
    }
  }

  get currentSettings(): CostSettings {
    return this.settings;
  }

  private matches(document: vscode.TextDocument): boolean {
    return vscode.languages.match(this.selector, document) > 0;
  }

  private schedule(document: vscode.TextDocument, delay = this.settings.debounceMs): void {
    const key = document.uri.toString();
    if (!this.matches(document)) {
      if (this.states.has(key)) this.forget(document);
      return;
    }
    clearTimeout(this.timers.get(key));
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        void this.analyze(document);
      }, delay),
    );
  }

  private forget(document: vscode.TextDocument): void {
    const key = document.uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
    this.states.delete(key);
    this.worker.forget(key);
    this.diagnostics.delete(document.uri);
    this.lensesChanged.fire();
    this.refreshStatus();
  }

  private async analyze(document: vscode.TextDocument): Promise<void> {
    if (this.isDisposed || document.isClosed) return;
    const key = document.uri.toString();
    const state = this.states.get(key) ?? {};
    this.states.set(key, state);
    const { target, options, maxFileBytes } = this.settings;
    const text = document.getText();
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > maxFileBytes) {
      state.snapshot = undefined;
      state.lenses = undefined;
      state.status = statusForTooLarge(bytes, maxFileBytes);
      this.diagnostics.delete(document.uri);
      return this.publish();
    }
    if (!this.worker.isReady(target.tokenizer)) {
      state.status = statusForLoading(TOKENIZER_LABELS[target.tokenizer]);
      this.refreshStatus();
    }
    let counted: Awaited<ReturnType<TokenizerWorkerClient['count']>>;
    try {
      counted = await this.worker.count(key, text, target, options, true);
    } catch (error) {
      state.status = statusForFailure((error as Error).message);
      return this.publish();
    }
    // The settings or the text may have changed while the worker counted: the next run handles that.
    if (this.isDisposed || document.isClosed || this.settings.target !== target || document.getText() !== text) return;
    state.snapshot = counted.snapshot;
    state.lenses = counted.lenses;
    state.status = this.statusFor(state, target, counted.snapshot.total, counted.chatOverhead);
    this.diagnostics.set(
      document.uri,
      counted.diagnostics.map((item) => this.toDiagnostic(document, item)),
    );
    this.publish();
  }

  private statusFor(state: DocumentState, target: TargetPreset, tokens: number, chatOverhead: number): StatusModel {
    const { options } = this.settings;
    const exact =
      state.exact && state.exact.targetId === target.id && state.exact.text === state.snapshot?.text
        ? state.exact
        : undefined;
    // The provider's count already includes its own message framing.
    const figures = exact
      ? computeCost(target, exact.tokens, options.kvDtype)
      : computeCost(target, tokens, options.kvDtype, chatOverhead);
    const note = state.exactNote?.targetId === target.id ? state.exactNote.text : undefined;
    return statusForCount(target, figures, options, costWarnings(target, figures, options), {
      exact: exact !== undefined,
      ...(note ? { note } : {}),
    });
  }

  private toDiagnostic(document: vscode.TextDocument, item: CostDiagnostic): vscode.Diagnostic {
    const range = new vscode.Range(document.positionAt(item.start), document.positionAt(item.end));
    const severity = item.severity === 'error' ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Warning;
    const diagnostic = new vscode.Diagnostic(range, item.message, severity);
    diagnostic.source = 'Prompt Attention';
    diagnostic.code = item.code;
    return diagnostic;
  }

  /**
   * The "Count Tokens Exactly" command: asks the target's provider for the active prompt's count (debounced, so
   * repeated clicks make one request). A failure keeps the estimate and says why in one line.
   */
  async countExact(): Promise<void> {
    const document = vscode.window.activeTextEditor?.document;
    const target = this.settings.target;
    const api = target.countApi;
    if (!document || !this.matches(document)) {
      void vscode.window.showInformationMessage('Prompt Attention: open a prompt file to count its tokens.');
      return;
    }
    if (!api) {
      void vscode.window.showInformationMessage(
        `Prompt Attention: ${target.name}'s count is already exact (its tokenizer is public).`,
      );
      return;
    }
    const key = document.uri.toString();
    const text = document.getText();
    let tokens: number;
    try {
      const apiKey = (await this.options.secrets?.get(apiKeySecretName(api.provider))) ?? '';
      tokens = await this.exactDebouncer.request(() =>
        requestExactCount({
          api,
          text,
          apiKey,
          ...(this.options.countApiBaseUrl ? { baseUrl: this.options.countApiBaseUrl } : {}),
        }),
      );
    } catch (error) {
      const state = this.states.get(key);
      const note = `Exact count failed (${(error as Error).message}); showing the estimate.`;
      if (state) {
        state.exactNote = { targetId: target.id, text: note };
        if (state.snapshot && state.status) this.schedule(document, 0);
      }
      void vscode.window.showWarningMessage(`Prompt Attention: ${note}`);
      return;
    }
    const state = this.states.get(key) ?? {};
    this.states.set(key, state);
    state.exact = { text, targetId: target.id, tokens };
    state.exactNote = undefined;
    this.schedule(document, 0);
  }

  private publish(): void {
    this.lensesChanged.fire();
    this.refreshStatus();
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const state = this.states.get(document.uri.toString());
    if (!this.settings.codeLens || !state?.snapshot || !state.lenses) return [];
    // Between an edit and the debounced update the lenses of the last count stay, at their old offsets.
    return state.lenses.map((lens) => {
      const position = document.positionAt(Math.min(lens.anchor, document.getText().length));
      // No command: the lens is a label (its tooltip explains the share).
      return new vscode.CodeLens(new vscode.Range(position, position), {
        title: lens.title,
        tooltip: lens.tooltip,
        command: '',
      });
    });
  }

  private refreshStatus(): void {
    const document = vscode.window.activeTextEditor?.document;
    const state = document && this.matches(document) ? this.states.get(document.uri.toString()) : undefined;
    if (!state?.status) {
      this.statusItem.hide();
      return;
    }
    const { text, tooltip, level } = state.status;
    this.statusItem.text = text;
    const markdown = new vscode.MarkdownString(tooltip, true);
    // Only the exact-count link may run a command from the tooltip.
    markdown.isTrusted = { enabledCommands: [COUNT_EXACT_COMMAND] };
    this.statusItem.tooltip = markdown;
    this.statusItem.backgroundColor =
      level === 'ok'
        ? undefined
        : new vscode.ThemeColor(
            level === 'error' ? 'statusBarItem.errorBackground' : 'statusBarItem.warningBackground',
          );
    this.statusItem.show();
  }

  private reloadSettings(): void {
    this.settings = loadCostSettings();
    this.selector = promptDocumentSelector(this.settings);
    this.reportProblems();
    for (const document of vscode.workspace.textDocuments) {
      if (this.matches(document)) this.schedule(document, 0);
      else if (this.states.has(document.uri.toString())) this.forget(document);
    }
    this.lensesChanged.fire();
  }

  private reportProblems(): void {
    const problems = this.settings.problems.join('\n');
    if (problems !== '' && problems !== this.reportedProblems) {
      void vscode.window.showWarningMessage(
        `Prompt Attention: ${this.settings.problems[0]}${this.settings.problems.length > 1 ? ` (and ${this.settings.problems.length - 1} more)` : ''}`,
      );
    }
    this.reportedProblems = problems;
  }
}
