// Reads the theme's colours from CSS variables (VS Code sets --vscode-*; the HTML report sets fallbacks)
// and watches for theme switches.
import { heatmapLut, parseCssColor, shadePalette, type Rgb } from '../model/colorScale';
import type { MatrixColors } from './matrixView';
import { cssVar } from './dom';

export interface ThemeColors {
  readonly palette: string[];
  readonly lut: Uint8ClampedArray;
  readonly matrix: MatrixColors;
}

const fallbackBackground: Rgb = { r: 30, g: 30, b: 30 };
const fallbackShade: Rgb = { r: 209, g: 134, b: 22 };

export function readTheme(root: Element): ThemeColors {
  const background = parseCssColor(cssVar(root, '--pa-background')) ?? fallbackBackground;
  const shade = parseCssColor(cssVar(root, '--pa-shade')) ?? fallbackShade;
  const heat = parseCssColor(cssVar(root, '--pa-heat')) ?? shade;
  const lut = heatmapLut(background, heat);
  const family = cssVar(root, '--pa-mono-font') || 'monospace';
  return {
    palette: shadePalette(shade),
    lut,
    matrix: {
      lut,
      text: cssVar(root, '--pa-foreground') || '#ccc',
      muted: cssVar(root, '--pa-muted') || '#999',
      focus: cssVar(root, '--pa-focus') || '#007fd4',
      background: `rgb(${background.r}, ${background.g}, ${background.b})`,
      font: `10px ${family}`,
    },
  };
}

/** Calls back when VS Code switches theme (body class) or updates its variables (html style). */
export function watchTheme(onChange: () => void): void {
  const observer = new MutationObserver(() => onChange());
  observer.observe(document.body, { attributes: true, attributeFilter: ['class', 'data-vscode-theme-kind'] });
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ['style', 'class'] });
  window.matchMedia?.('(prefers-color-scheme: dark)').addEventListener?.('change', () => onChange());
}
