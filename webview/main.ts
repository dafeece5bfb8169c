// Webview entry: boots the inspector inside VS Code (ready handshake, then host messages) or, in the HTML
// report, from the embedded JSON block with no host at all.
import './styles.css';
import { isHostMessage } from '../src/shared/protocol';
import { decodeInspectionResult } from '../src/shared/resultCodec';
import { InspectorApp } from './ui/app';
import { connectHost } from './ui/hostBridge';
import { el } from './ui/dom';

function boot(): void {
  const root = document.getElementById('app') ?? document.body.appendChild(el('div', { id: 'app' }));
  const data = document.getElementById('prompt-attention-data');
  if (data) {
    // The report: capture the page as shipped (before rendering) for the HTML export.
    const html = `<!DOCTYPE html>\n${document.documentElement.outerHTML}`;
    const app = new InspectorApp(root, connectHost(), html);
    try {
      app.loadResult(decodeInspectionResult(data.textContent ?? ''));
    } catch (error) {
      root.textContent = error instanceof Error ? error.message : String(error);
    }
    return;
  }
  const bridge = connectHost();
  const app = new InspectorApp(root, bridge);
  window.addEventListener('message', (event: MessageEvent<unknown>) => {
    if (isHostMessage(event.data)) app.handle(event.data);
  });
  bridge.post({ type: 'ready' });
}

boot();
