// Runs inspections for the panel: reads the text and settings, drives the engine worker, forwards its
// events to the webview (adding source and cost events of its own), links the panel's focus to the source
// editor, and answers export and re-run requests.
import * as vscode from 'vscode';
import * as path from 'node:path';
import type { InspectHandle } from '../shared/inspectContract';
import type { CostSummary, HostMessage, InspectionEvent, PanelCommand, WebviewToHostMessage } from '../shared/protocol';
import { type AttentionRowReply, rowUnavailable } from '../shared/attentionRowRequest';
import { rolloutUnavailable } from '../shared/rolloutRowsRequest';
import { RequestFailed } from '../shared/requestReply';
import { firstLine } from '../shared/errorText';
import type { ExplainModelChoice } from '../shared/explainReport';
import type { Log } from '../shared/log';
import { InspectorWorker } from '../worker/inspectorWorker';
import { AnswerStripHost } from './answerStripHost';
import { Disposable } from '../util/disposable';
import { DownloadProgress } from './downloadProgress';
import { EditorDecorations } from './editorDecorations';
import { exportInspection } from './exportInspection';
import { InspectionRecord, tokenAtOffset } from './inspectionRecord';
import { CHOOSE_MODEL_COMMAND } from './chooseModel';
import { ANSWER_FROM_FILE_COMMAND } from './answerFromFile';
import { InspectorPanel } from './inspectorPanel';
import { storedHubToken } from './hubToken';
import { readInspectorSettings, type InspectorSettings } from './inspectorSettings';
import { applyWorkspaceTrust, restrictedInSettingsFile, type RestrictedKey } from './workspaceTrust';
import { isInspectorPanelState } from '../shared/panelState';

/** The cost summary of an inspected text (the cost features lend it, counted in their tokenizer worker).
 * Rejects when the target's counts cannot be made; the controller logs it and the panel omits the cost section. */
export type PanelCostSource = (text: string) => Promise<CostSummary>;

export class InspectorController extends Disposable {
  private panel: InspectorPanel | undefined;
  private worker: InspectorWorker | undefined;
  private workerKey = '';
  private record: InspectionRecord | undefined;
  private handle: InspectHandle | undefined;
  /** The panel's rollout rows request being computed (a newer one cancels it). */
  private rollout: { cancel(): void } | undefined;
  private requestCounter = 0;
  /** The restricted-mode line last shown, so a run of inspections shows it once. */
  private trustNoticeShown: string | undefined;
  private readonly decorations = this._register(new EditorDecorations());
  private readonly download = new DownloadProgress(() => void this.onWebviewMessage({ type: 'cancel' }));
  /** The answer strip's host side: generate, stop, attribute a span. */
  private readonly answerStrip: AnswerStripHost = new AnswerStripHost(
    {
      current: () => {
        const record = this.record;
        const header = record?.header;
        return record && header ? { requestId: record.requestId, header } : null;
      },
      explainTarget: () => this.explainTarget(),
      post: (message) => this.post(message),
    },
    { info: (m) => this.log.info(m), warn: (m) => this.log.warn(m), error: (m, e) => this.log.error(m, e) },
  );
  /** Whether the last run was "Inspect as Chat", so a re-run keeps it. */
  private lastChat = false;
  /** The cursor offset of the last Inspect Around the Cursor (a re-run keeps its window). */
  private lastAround: number | undefined;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly log: Log,
    private readonly costFor: PanelCostSource,
  ) {
    super();
    this._register(vscode.workspace.onDidChangeTextDocument((e) => this.onEdit(e)));
    this._register(vscode.window.onDidChangeTextEditorSelection((e) => this.onCursor(e)));
    this._register({ dispose: () => this.disposeWorker() });
    this._register({ dispose: () => this.answerStrip.dispose() });
  }

  /** The command: the selection, or the whole document when the selection is empty; `chat` for Inspect as Chat. */
  async inspectActiveEditor(chat = false): Promise<void> {
    const editor = this.targetEditor();
    if (!editor) {
      void vscode.window.showErrorMessage(
        'Prompt Attention: open a prompt in an editor first (or select the text to inspect).',
      );
      return;
    }
    const doc = editor.document;
    const sel = editor.selection;
    const range = sel.isEmpty ? new vscode.Range(doc.positionAt(0), doc.positionAt(doc.getText().length)) : sel;
    this.ensurePanel().reveal();
    await this.run(doc, doc.offsetAt(range.start), doc.offsetAt(range.end) - doc.offsetAt(range.start), chat);
  }

  /**
   * The worker and the model choice for Attribute Answer and Diff Sections: the inspector's own warm worker,
   * under the same settings (hubEndpoint included), workspace-trust filter and log.
   */
  async explainTarget(): Promise<{ readonly worker: InspectorWorker; readonly choice: ExplainModelChoice }> {
    const settings = await this.settings();
    const hubToken = await storedHubToken(this.context.secrets);
    await vscode.workspace.fs
      .createDirectory(this.context.globalStorageUri)
      .then(undefined, (error: unknown) =>
        this.log.warn(`Cannot create ${this.context.globalStorageUri.fsPath}: ${firstLine(error)}`),
      );
    return {
      worker: this.ensureWorker(settings, hubToken),
      choice: { model: settings.model, provider: settings.provider, dtype: settings.modelDtype },
    };
  }

  /** A line in the open panel's answer strip (Attribute Answer's progress from the editor); none without a panel. */
  showExplainProgress(message: string): void {
    const record = this.record;
    if (record) this.post({ kind: 'answer', requestId: record.requestId, event: 'attributing', message });
  }

  /**
   * Inspect Around the Cursor: the whole document, and when it is longer than the model's context, the window
   * of tokens centred on the selection's middle (or the cursor) instead of its start.
   */
  async inspectAroundCursor(): Promise<void> {
    const editor = this.targetEditor();
    if (!editor) {
      void vscode.window.showErrorMessage('Prompt Attention: open a prompt in an editor and put the cursor in it.');
      return;
    }
    const doc = editor.document;
    const sel = editor.selection;
    const around = Math.floor((doc.offsetAt(sel.start) + doc.offsetAt(sel.end)) / 2);
    this.ensurePanel().reveal();
    await this.run(doc, 0, doc.getText().length, false, around);
  }

  /** With the panel focused there is no active text editor: the one visible editor, if that is unambiguous. */
  private targetEditor(): vscode.TextEditor | undefined {
    const visible = vscode.window.visibleTextEditors;
    return vscode.window.activeTextEditor ?? (visible.length === 1 ? visible[0] : undefined);
  }

  /** The serializer: takes over a panel restored after a window reload and re-runs its inspection. */
  async restore(webviewPanel: vscode.WebviewPanel, state: unknown): Promise<void> {
    this.panel?.dispose();
    this.adoptPanel(new InspectorPanel(webviewPanel, this.context.extensionUri, this.log));
    if (!isInspectorPanelState(state) || !state.uri) return;
    try {
      const doc = await vscode.workspace.openTextDocument(vscode.Uri.parse(state.uri));
      const offset = Math.min(state.offset, doc.getText().length);
      await this.run(doc, offset, Math.min(state.length, doc.getText().length - offset));
      // The strip's answer comes back too, once the inspection has: generated again (greedy or seeded, so the
      // same tokens) or the text's own answer read again.
      const answer = state.answer;
      const record = this.record;
      if (answer && record) {
        await this.handle?.finished;
        if (this.record !== record || !record.summary) return;
        if ('given' in answer && answer.file !== undefined)
          await vscode.commands.executeCommand(ANSWER_FROM_FILE_COMMAND, vscode.Uri.parse(answer.file));
        else if ('given' in answer) await this.answerStrip.readGiven();
        else await this.answerStrip.generate({ type: 'generate', ...answer });
      }
    } catch (error) {
      const message = `Could not reopen ${state.label}: ${firstLine(error)}`;
      this.log.error(message, error);
      this.post({ kind: 'error', requestId: ++this.requestCounter, message });
    }
  }

  private ensurePanel(): InspectorPanel {
    return this.panel ?? this.adoptPanel(InspectorPanel.create(this.context.extensionUri, this.log));
  }

  private adoptPanel(panel: InspectorPanel): InspectorPanel {
    this.panel = panel;
    panel.onMessage((m) => void this.onWebviewMessage(m));
    panel.onDidDispose(() => {
      if (this.panel !== panel) return;
      this.panel = undefined;
      this.handle?.cancel();
      this.rollout?.cancel();
      this.record = undefined;
      this.decorations.clear();
      this.download.end();
    });
    return panel;
  }

  private post(message: HostMessage | AttentionRowReply): void {
    this.panel?.post(message);
  }

  private async settings(): Promise<InspectorSettings> {
    const config = vscode.workspace.getConfiguration('promptAttention');
    // Untrusted, VS Code hides the workspace's restricted values even from inspect(): read its files to say so.
    const files = vscode.workspace.isTrusted ? {} : await workspaceRestrictedValues();
    const trust = applyWorkspaceTrust(
      vscode.workspace.isTrusted,
      (key) => config.get(key),
      (key) => {
        const scopes = config.inspect(key);
        return {
          globalValue: scopes?.globalValue,
          workspaceValue: scopes?.workspaceValue ?? files[key as RestrictedKey],
          workspaceFolderValue: scopes?.workspaceFolderValue,
        };
      },
    );
    if (trust.notice && trust.notice !== this.trustNoticeShown)
      void vscode.window.showWarningMessage(`Prompt Attention: ${trust.notice}`);
    this.trustNoticeShown = trust.notice;
    return readInspectorSettings(trust.get);
  }

  /** A new token or endpoint starts a new worker (the token travels in its workerData). */
  private ensureWorker(settings: InspectorSettings, hubToken: string | undefined): InspectorWorker {
    const key = `${settings.idleTimeoutMs}|${settings.hubEndpoint ?? ''}|${hubToken ?? ''}`;
    if (this.worker && this.workerKey === key) return this.worker;
    this.disposeWorker();
    const ext = this.context.extensionPath;
    this.worker = new InspectorWorker({
      workerScript: path.join(ext, 'dist', 'worker.js'),
      modelsDir: path.join(ext, 'models'),
      cacheDir: this.context.globalStorageUri.fsPath,
      idleTimeoutMs: settings.idleTimeoutMs,
      ...(settings.hubEndpoint ? { hubEndpoint: settings.hubEndpoint } : {}),
      ...(hubToken ? { hubToken } : {}),
      log: this.log,
    });
    this.workerKey = key;
    return this.worker;
  }

  private disposeWorker(): void {
    this.handle?.cancel();
    this.worker?.dispose();
    this.worker = undefined;
  }

  private async run(
    doc: vscode.TextDocument,
    offset: number,
    length: number,
    chat = false,
    around?: number,
  ): Promise<void> {
    this.lastChat = chat;
    this.lastAround = around;
    const userMessage = vscode.workspace.getConfiguration('promptAttention').get<string>('chat.userMessage') ?? '';
    const panel = this.ensurePanel();
    this.handle?.cancel();
    this.download.end();
    this.decorations.clear();
    panel.clearQueue();
    const settings = await this.settings();
    const hubToken = await storedHubToken(this.context.secrets);
    const requestId = ++this.requestCounter;
    const text = doc.getText(new vscode.Range(doc.positionAt(offset), doc.positionAt(offset + length)));
    const record = new InspectionRecord(requestId, doc.uri.toString(), offset, length);
    this.record = record;
    const label = sourceLabel(doc, offset, length);
    panel.setTitle(path.basename(doc.uri.path) || label);
    const current = (): boolean => this.record === record;
    const emit = (event: InspectionEvent): void => {
      if (!current()) return;
      record.add(event);
      this.post(event);
    };
    emit({ kind: 'source', requestId, source: { label, uri: doc.uri.toString(), offset } });
    emit({ kind: 'progress', requestId, stage: 'load' });
    this.costFor(text).then(
      (cost) => emit({ kind: 'cost', requestId, cost }),
      (error: unknown) => this.log.error('The panel has no cost section: the cost summary failed', error),
    );
    // The worker reports a cache folder it cannot write as an inspection error of its own.
    await vscode.workspace.fs
      .createDirectory(this.context.globalStorageUri)
      .then(undefined, (error: unknown) =>
        this.log.warn(`Cannot create ${this.context.globalStorageUri.fsPath}: ${firstLine(error)}`),
      );
    const handle = this.ensureWorker(settings, hubToken).inspect(
      {
        requestId,
        text,
        model: settings.model,
        provider: settings.provider,
        maxCharacters: settings.maxCharacters,
        maxTokens: settings.maxTokens,
        window: settings.window,
        ...(around !== undefined ? { around } : {}),
        ...(chat ? { chat: { userMessage: String(userMessage) } } : {}),
        dtype: settings.modelDtype,
        // The webview draws thumbnails and the matrix overview from the tiles and asks for the rows it shows:
        // no per-head top-k rows computed in advance (above 512 tokens, where Q and K are kept).
        rowsOnDemand: true,
      },
      (event) => {
        if (!current()) return;
        if (event.kind === 'progress') this.download.update(event);
        else this.download.end();
        emit(event);
        if (event.kind === 'error') {
          this.log.error(event.detail ? `${event.message}\n${event.detail}` : event.message);
          void vscode.window.showErrorMessage(`Prompt Attention: ${event.message}`);
        }
      },
    );
    this.handle = handle;
    void handle.finished.then(() => {
      if (this.handle === handle) this.handle = undefined;
    });
  }

  private async onWebviewMessage(message: WebviewToHostMessage): Promise<void> {
    const record = this.record;
    switch (message.type) {
      case 'ready':
        // A webview that reloaded (not the first handshake, which flushes the queue) gets the result again.
        if (record && this.panel?.reloaded)
          for (const m of [...record.replay(), ...this.answerStrip.replay(record.requestId)]) this.post(m);
        return;
      case 'cancel':
        if (!record) return;
        this.handle?.cancel();
        this.handle = undefined;
        this.download.end();
        record.add({ kind: 'error', requestId: record.requestId, message: 'Inspection cancelled.' });
        this.post({ kind: 'error', requestId: record.requestId, message: 'Inspection cancelled.' });
        return;
      case 'rerun':
        try {
          if (record?.uri) {
            const doc = await vscode.workspace.openTextDocument(vscode.Uri.parse(record.uri));
            await this.run(doc, record.offset, record.length, this.lastChat, this.lastAround);
          } else {
            await this.inspectActiveEditor(this.lastChat);
          }
          this.post({ kind: 'reply', inReplyTo: message.requestId, outcome: 'done' });
        } catch (error) {
          this.log.error('Re-run failed', error);
          this.post({ kind: 'reply', inReplyTo: message.requestId, outcome: 'failed', message: firstLine(error) });
        }
        return;
      case 'focus':
        this.onPanelFocus(message.index, message.attended, message.reveal === true);
        return;
      case 'generate':
        void this.answerStrip.generate(message);
        return;
      case 'read-answer':
        void this.answerStrip.readGiven();
        return;
      case 'stop-generation':
        this.answerStrip.stop();
        return;
      case 'attribute-span':
        void this.answerStrip.attributeSpan(message);
        return;
      case 'command':
        await this.runPanelCommand(message.command);
        return;
      case 'attention-row': {
        this.post(this.worker ? await this.worker.attentionRow(message) : rowUnavailable(message));
        return;
      }
      case 'rollout-rows': {
        // A newer request from the panel supersedes the unfinished one: it is cancelled and sends nothing more.
        this.rollout?.cancel();
        if (!this.worker) {
          this.post(rolloutUnavailable(message));
          return;
        }
        const call = this.worker.rolloutRows(message, (progress) => this.post(progress));
        this.rollout = call;
        try {
          this.post(await call.reply);
        } catch (error) {
          // Cancelled (superseded by a newer request, or the panel went away): nothing to show. The worker's own
          // failures come as a reply, so anything else is a bug: logged, the panel keeps its estimate.
          if (!(error instanceof RequestFailed && error.cancelled)) this.log.error('Rollout rows failed', error);
        } finally {
          if (this.rollout === call) this.rollout = undefined;
        }
        return;
      }
      case 'export': {
        const outcome = await exportInspection(this.context, message, record?.result() ?? null, this.log);
        this.post({
          kind: 'reply',
          inReplyTo: message.requestId,
          outcome: outcome ? (outcome.ok ? 'done' : 'failed') : 'dismissed',
          ...(outcome ? { message: outcome.message } : {}),
        });
        return;
      }
    }
  }

  /** Whether the panel shows an inspection whose answer strip can read an answer. */
  hasInspection(): boolean {
    return this.record?.header !== undefined;
  }

  /** Reads `answer` (the text of the file `file`, a URI) into the answer strip, after the inspected text. */
  async readAnswerFile(file: string, answer: string): Promise<void> {
    await this.answerStrip.readGiven({ file, answer });
  }

  /** A panel button: the model picker (registered by the model picker), the settings, or a window at the cursor. */
  private async runPanelCommand(command: PanelCommand): Promise<void> {
    try {
      if (command === 'choose-model') await vscode.commands.executeCommand(CHOOSE_MODEL_COMMAND);
      else if (command === 'open-settings')
        await vscode.commands.executeCommand('workbench.action.openSettings', 'promptAttention');
      else if (command === 'answer-from-file') await vscode.commands.executeCommand(ANSWER_FROM_FILE_COMMAND);
      else await this.inspectAroundCursor();
    } catch (error) {
      this.log.error(`The panel's ${command} action failed`, error);
      void vscode.window.showErrorMessage(`Prompt Attention: ${firstLine(error)}`);
    }
  }

  private onPanelFocus(
    index: number | null,
    attended: Extract<WebviewToHostMessage, { type: 'focus' }>['attended'],
    reveal: boolean,
  ): void {
    const record = this.record;
    const tokens = record?.header?.tokens;
    if (index === null || !record?.uri || !tokens || record.stale) {
      this.decorations.clear();
      return;
    }
    const range = this.decorations.show(record.uri, record.offset, tokens, index, attended);
    if (range && reveal) {
      const editor = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === record.uri);
      editor?.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    }
  }

  private onCursor(e: vscode.TextEditorSelectionChangeEvent): void {
    const record = this.record;
    const tokens = record?.header?.tokens;
    if (!record || !tokens || record.stale || e.textEditor.document.uri.toString() !== record.uri) return;
    if (e.kind === undefined) return; // programmatic moves (our own reveal) do not steer the panel
    const at = e.textEditor.document.offsetAt(e.selections[0].active) - record.offset;
    if (at < 0 || at > record.length) return;
    const index = tokenAtOffset(tokens, Math.min(at, Math.max(0, record.length - 1)));
    if (index === null) return;
    this.post({ kind: 'focus-token', index });
  }

  private onEdit(e: vscode.TextDocumentChangeEvent): void {
    const record = this.record;
    if (!record || e.document.uri.toString() !== record.uri || e.contentChanges.length === 0) return;
    let touched = false;
    // Changes are reported against the document before the edit; apply from the end so offsets stay valid.
    const changes = [...e.contentChanges].sort((a, b) => b.rangeOffset - a.rangeOffset);
    for (const c of changes) touched = record.applyEdit(c.rangeOffset, c.rangeLength, c.text.length) || touched;
    if (touched && !record.stale) {
      record.stale = true;
      this.decorations.clear();
      this.post({ kind: 'stale', stale: true });
    }
  }
}

/** Restricted values set in the workspace's settings files (each folder's .vscode/settings.json, the
 * .code-workspace). */
async function workspaceRestrictedValues(): Promise<Partial<Record<RestrictedKey, unknown>>> {
  const folders = (vscode.workspace.workspaceFolders ?? []).map((f) =>
    vscode.Uri.joinPath(f.uri, '.vscode', 'settings.json'),
  );
  const out: Partial<Record<RestrictedKey, unknown>> = {};
  for (const uri of [...folders, ...(vscode.workspace.workspaceFile ? [vscode.workspace.workspaceFile] : [])]) {
    try {
      Object.assign(out, restrictedInSettingsFile(new TextDecoder().decode(await vscode.workspace.fs.readFile(uri))));
    } catch {
      // No such file (or an untitled workspace): nothing set there.
    }
  }
  return out;
}

function sourceLabel(doc: vscode.TextDocument, offset: number, length: number): string {
  const name = vscode.workspace.asRelativePath(doc.uri, false);
  if (offset === 0 && length === doc.getText().length) return name;
  const first = doc.positionAt(offset).line + 1;
  const last = doc.positionAt(offset + length).line + 1;
  return first === last ? `${name}:${first}` : `${name}:${first}–${last}`;
}
