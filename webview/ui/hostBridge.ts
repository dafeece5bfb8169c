// The webview's link to its host: VS Code (acquireVsCodeApi) or, in the HTML report, nothing at all.
// Requests (export, rerun) get an id here and wait for the host's reply with that id in `inReplyTo`; the
// pairing is the shared request/reply mechanism's (PendingReplies), over the validated webview messages.
import type { WebviewToHostMessage } from '../../src/shared/protocol';
import { PendingReplies } from '../../src/shared/requestReply';
import type { InspectorPanelState } from '../../src/shared/panelState';

interface VsCodeApi {
  postMessage(message: WebviewToHostMessage): void;
  setState(state: InspectorPanelState): void;
  getState(): unknown;
}

declare function acquireVsCodeApi(): VsCodeApi;

/** A message that expects a reply, before it has its id. */
export type HostRequest = WebviewToHostMessage extends infer M
  ? M extends { requestId: number }
    ? Omit<M, 'requestId'>
    : never
  : never;
type SentRequest = Extract<WebviewToHostMessage, { requestId: number }>;

export interface HostBridge {
  /** 'vscode' inside the editor; 'report' in the standalone HTML file (no editor link, local exports). */
  readonly kind: 'vscode' | 'report';
  post(message: WebviewToHostMessage): void;
  /** Sends a request with a fresh id; returns the id. */
  request(message: HostRequest): number;
  /** The request a reply answers (and forgets it), or undefined for an unknown or repeated reply. */
  settle(inReplyTo: number): SentRequest | undefined;
  saveState(state: InspectorPanelState): void;
}

export function connectHost(): HostBridge {
  const vscodeApi = typeof acquireVsCodeApi === 'function' ? acquireVsCodeApi() : null;
  const post = (m: WebviewToHostMessage): void => vscodeApi?.postMessage(m);
  const pending = new PendingReplies<void, SentRequest>();
  let next = 0;
  return {
    kind: vscodeApi ? 'vscode' : 'report',
    post,
    request: (message) => {
      const sent = { ...message, requestId: ++next } as SentRequest;
      // The app reads the reply itself (settle gives it the request back); nobody awaits the promise.
      pending.open(sent, sent.requestId);
      post(sent);
      return sent.requestId;
    },
    settle: (inReplyTo) => pending.settle(inReplyTo),
    saveState: (s) => vscodeApi?.setState(s),
  };
}
