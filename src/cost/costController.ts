// The live context-cost features in the editor: the status-bar item, the Problems-panel diagnostics and the
// per-section CodeLens. Thin glue: the figures come from editorModels.ts; this file tracks documents,
// debounces edits and converts offsets to positions.
import * as vscode from 'vscode';
import { Disposable } from '../util/disposable';
import { splitSections } from './chunks';
import { computeCost } from './costModel';
import { costWarnings } from './costSummary';
import { promptDocumentSelector, readCostSettings, type CostSettings } from './costSettings';
import { computeCostDiagnostics, computeSectionLenses, statusForCount, statusForFailure, statusForLoading, statusForTooLarge, type StatusModel } from './editorModels';
import { IncrementalCounter, type CountSnapshot } from './incrementalCounter';
import type { TokenizerId } from './presets';
import { loadTokenCounter, TOKENIZER_LABELS, type TokenCounter } from './tokenCounters';

interface DocumentState {
  tokenizer?: TokenizerId;
  counter?: IncrementalCounter;
  snapshot?: CountSnapshot;
  status?: StatusModel;
}

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

  constructor(private readonly assetsDir: string) {
    super();
    this.settings = loadCostSettings();
    this.selector = promptDocumentSelector(this.settings);
    this.statusItem = this._register(vscode.window.createStatusBarItem('promptAttention.cost', vscode.StatusBarAlignment.Right, 100));
    this.statusItem.name = 'Prompt Attention: context cost';
    this.statusItem.command = 'promptAttention.pickTarget';
    this.diagnostics = this._register(vscode.languages.createDiagnosticCollection('promptAttention.cost'));
    this._register(vscode.languages.registerCodeLensProvider({ pattern: '**' }, this));
    this._register(vscode.workspace.onDidChangeTextDocument((event) => this.schedule(event.document)));
    this._register(vscode.workspace.onDidOpenTextDocument((document) => this.schedule(document, 0)));
    this._register(vscode.workspace.onDidCloseTextDocument((document) => this.forget(document)));
    this._register(vscode.window.onDidChangeActiveTextEditor(() => this.refreshStatus()));
    this._register(vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration('promptAttention.cost')) this.reloadSettings();
    }));
    this._register({ dispose: () => this.timers.forEach((timer) => clearTimeout(timer)) });
    this.reportProblems();
    vscode.workspace.textDocuments.forEach((document) => this.schedule(document, 0));
    this.refreshStatus();
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
    this.timers.set(key, setTimeout(() => {
      this.timers.delete(key);
      void this.analyze(document);
    }, delay));
  }

  private forget(document: vscode.TextDocument): void {
    const key = document.uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
    this.states.delete(key);
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
      state.status = statusForTooLarge(bytes, maxFileBytes);
      this.diagnostics.delete(document.uri);
      return this.publish();
    }
    let counter: TokenCounter;
    try {
      const pending = loadTokenCounter(target.tokenizer, { assetsDir: this.assetsDir });
      if (state.tokenizer !== target.tokenizer) {
        state.status = statusForLoading(TOKENIZER_LABELS[target.tokenizer]);
        this.refreshStatus();
      }
      counter = await pending;
    } catch (error) {
      state.status = statusForFailure((error as Error).message);
      return this.publish();
    }
    // The settings or the text may have changed while the tokenizer loaded: the next run handles that.
    if (this.isDisposed || document.isClosed || this.settings.target !== target || document.getText() !== text) return;
    if (!state.counter || state.tokenizer !== target.tokenizer) {
      state.counter = new IncrementalCounter(counter);
      state.tokenizer = target.tokenizer;
    }
    const snapshot = state.counter.update(text);
    state.snapshot = snapshot;
    const figures = computeCost(target, snapshot.total, options.kvDtype);
    state.status = statusForCount(target, figures, options, costWarnings(target, figures, options));
    this.diagnostics.set(document.uri, computeCostDiagnostics(snapshot, counter, target, options).map((item) => {
      const range = new vscode.Range(document.positionAt(item.start), document.positionAt(item.end));
      const severity = item.severity === 'error' ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Warning;
      const diagnostic = new vscode.Diagnostic(range, item.message, severity);
      diagnostic.source = 'Prompt Attention';
      diagnostic.code = item.code;
      return diagnostic;
    }));
    this.publish();
  }

  private publish(): void {
    this.lensesChanged.fire();
    this.refreshStatus();
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const snapshot = this.states.get(document.uri.toString())?.snapshot;
    if (!this.settings.codeLens || !snapshot) return [];
    // Between an edit and the debounced update the lenses of the last count stay, at their old offsets.
    const sections = splitSections(snapshot.text, document.languageId === 'markdown' ? 'markdown' : 'blocks');
    return computeSectionLenses(snapshot, sections).map((lens) => {
      const position = document.positionAt(Math.min(lens.anchor, document.getText().length));
      // No command: the lens is a label (its tooltip explains the share).
      return new vscode.CodeLens(new vscode.Range(position, position), { title: lens.title, tooltip: lens.tooltip, command: '' });
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
    markdown.isTrusted = false;
    this.statusItem.tooltip = markdown;
    this.statusItem.backgroundColor = level === 'ok' ? undefined : new vscode.ThemeColor(level === 'error' ? 'statusBarItem.errorBackground' : 'statusBarItem.warningBackground');
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
      void vscode.window.showWarningMessage(`Prompt Attention: ${this.settings.problems[0]}${this.settings.problems.length > 1 ? ` (and ${this.settings.problems.length - 1} more)` : ''}`);
    }
    this.reportedProblems = problems;
  }
}
