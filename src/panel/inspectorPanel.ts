// The inspector webview panel: created beside the editor (or revived after a reload), strict CSP, and a
// message queue that holds host messages until the webview says it is ready. Every webview message is
// validated field by field; a malformed one is dropped with a log entry.
import * as vscode from 'vscode';
import type { Log } from '../shared/log';
import type { HostMessage, WebviewToHostMessage } from '../shared/protocol';
import type { AttentionRowReply } from '../shared/attentionRowRequest';
import { parseWebviewMessage } from '../shared/webviewMessages';
import { Disposable } from '../util/disposable';
import { buildPanelHtml, makeNonce } from './panelHtml';

export class InspectorPanel extends Disposable {
  static readonly viewType = 'promptAttention.inspector';

  private ready = false;
  private readyCount = 0;
  private queue: (HostMessage | AttentionRowReply)[] = [];
  private readonly messageEmitter = this._register(new vscode.EventEmitter<WebviewToHostMessage>());
  private readonly disposeEmitter = this._register(new vscode.EventEmitter<void>());
  /** Every message from the webview, 'ready' included (it may come again if the webview reloads). */
  readonly onMessage = this.messageEmitter.event;
  readonly onDidDispose = this.disposeEmitter.event;

  static create(extensionUri: vscode.Uri, log: Log): InspectorPanel {
    const panel = vscode.window.createWebviewPanel(
      InspectorPanel.viewType,
      'Attention',
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      InspectorPanel.options(extensionUri),
    );
    return new InspectorPanel(panel, extensionUri, log);
  }

  static options(extensionUri: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    return {
      enableScripts: true,
      retainContextWhenHidden: true,
      localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media')],
    };
  }

  constructor(
    readonly panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    private readonly log: Log,
  ) {
    super();
    const webview = panel.webview;
    webview.options = InspectorPanel.options(extensionUri);
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'icon.png');
    webview.html = buildPanelHtml({
      cspSource: webview.cspSource,
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview.css')).toString(),
      nonce: makeNonce(),
    });
    this._register(
      webview.onDidReceiveMessage((value: unknown) => {
        const message = parseWebviewMessage(value);
        if (typeof message === 'string') {
          this.log.warn(`Dropped a malformed message from the panel: ${message}`);
          return;
        }
        if (message.type === 'ready') this.flush();
        this.messageEmitter.fire(message);
      }),
    );
    this._register(panel.onDidDispose(() => this.dispose()));
  }

  /** True once the webview has said 'ready' more than once, i.e. it reloaded and lost its state. */
  get reloaded(): boolean {
    return this.readyCount > 1;
  }

  post(message: HostMessage | AttentionRowReply): void {
    if (this.isDisposed) return;
    if (!this.ready) {
      this.queue.push(message);
      return;
    }
    this.send(message);
  }

  /** Drops queued messages (a new inspection supersedes them). */
  clearQueue(): void {
    this.queue = [];
  }

  /** Shows the panel where it is (created beside the editor), keeping the focus in the editor. */
  reveal(): void {
    this.panel.reveal(this.panel.viewColumn, true);
  }

  setTitle(label: string): void {
    this.panel.title = `Attention: ${label}`;
  }

  private flush(): void {
    this.ready = true;
    this.readyCount++;
    const queued = this.queue;
    this.queue = [];
    for (const message of queued) this.send(message);
  }

  private send(message: HostMessage | AttentionRowReply): void {
    this.panel.webview.postMessage(message).then(
      (delivered) => {
        if (!delivered) this.log.warn(`The panel did not take a ${message.kind} message (it is closing or hidden).`);
      },
      (error: unknown) => this.log.error(`Posting a ${message.kind} message to the panel failed`, error),
    );
  }

  override dispose(): void {
    if (this.isDisposed) return;
    this.disposeEmitter.fire();
    super.dispose();
    this.panel.dispose();
  }
}
