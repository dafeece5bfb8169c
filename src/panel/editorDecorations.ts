// Decorations in the source editor for the panel's focus: attended spans shaded by weight (a few buckets of
// background alpha), the focused token outlined.
import * as vscode from 'vscode';
import type { AttendedToken, TokenInfo } from '../shared/protocol';
import { Disposable } from '../util/disposable';
import { decorationBucket } from './inspectionRecord';

const BUCKETS = 5;

export class EditorDecorations extends Disposable {
  private readonly shades: vscode.TextEditorDecorationType[];
  private readonly focus: vscode.TextEditorDecorationType;
  private decorated: vscode.TextEditor[] = [];

  constructor() {
    super();
    this.shades = Array.from({ length: BUCKETS }, (_, b) =>
      this._register(
        vscode.window.createTextEditorDecorationType({
          // charts.orange at increasing alpha; the same hue the panel shades with.
          backgroundColor: `rgba(209, 134, 22, ${(0.12 + (0.5 * b) / (BUCKETS - 1)).toFixed(2)})`,
          borderRadius: '2px',
          rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
        }),
      ),
    );
    this.focus = this._register(
      vscode.window.createTextEditorDecorationType({
        border: '1px solid',
        borderColor: new vscode.ThemeColor('focusBorder'),
        borderRadius: '2px',
      }),
    );
  }

  /** Shows the focus in every visible editor of the document; returns the focused token's range. */
  show(
    uri: string,
    offset: number,
    tokens: readonly TokenInfo[],
    index: number,
    attended: readonly AttendedToken[],
  ): vscode.Range | undefined {
    this.clear();
    const editors = vscode.window.visibleTextEditors.filter((e) => e.document.uri.toString() === uri);
    let focusRange: vscode.Range | undefined;
    const max = attended.reduce((m, a) => Math.max(m, a.weight), 0);
    for (const editor of editors) {
      const doc = editor.document;
      const rangeOf = (t: TokenInfo): vscode.Range =>
        new vscode.Range(doc.positionAt(offset + t.start), doc.positionAt(offset + t.end));
      const byBucket: vscode.Range[][] = Array.from({ length: BUCKETS }, () => []);
      for (const a of attended) {
        const t = tokens[a.index];
        if (!t || t.special || t.end <= t.start) continue;
        const b = decorationBucket(a.weight, max, BUCKETS);
        if (b > 0) byBucket[b - 1].push(rangeOf(t));
      }
      byBucket.forEach((ranges, b) => editor.setDecorations(this.shades[b], ranges));
      const focused = tokens[index];
      if (focused && !focused.special && focused.end > focused.start) {
        focusRange = rangeOf(focused);
        editor.setDecorations(this.focus, [focusRange]);
      }
      this.decorated.push(editor);
    }
    return focusRange;
  }

  clear(): void {
    for (const editor of this.decorated) {
      for (const d of this.shades) editor.setDecorations(d, []);
      editor.setDecorations(this.focus, []);
    }
    this.decorated = [];
  }
}
