// The webview's link to its host: VS Code (acquireVsCodeApi) or, in the HTML report, nothing at all.
import type { WebviewToHostMessage } from '../../src/shared/protocol';
import type { InspectorPanelState } from '../../src/panel/panelState';

interface VsCodeApi {
  postMessage(message: WebviewToHostMessage): void;
  setState(state: InspectorPanelState): void;
  getState(): unknown;
}

declare function acquireVsCodeApi(): VsCodeApi;

export interface HostBridge {
  /** 'vscode' inside the editor; 'report' in the standalone HTML file (no editor link, local exports). */
  readonly kind: 'vscode' | 'report';
  post(message: WebviewToHostMessage): void;
  saveState(state: InspectorPanelState): void;
}

export function connectHost(): HostBridge {
  if (typeof acquireVsCodeApi === 'function') {
    const api = acquireVsCodeApi();
    return { kind: 'vscode', post: (m) => api.postMessage(m), saveState: (s) => api.setState(s) };
  }
  return { kind: 'report', post: () => undefined, saveState: () => undefined };
}
