import { runRealSizeVariant } from './bench/realSizeBench';
runRealSizeVariant({ root: process.cwd(), tokens: 2048, rounds: 3, loads: 1, log: (l) => console.log(l) }, 'q4').then(
  (f) => console.log(JSON.stringify({ rawMs: f.rawMs, fullMs: f.fullMs, ratio: f.fullMs / f.rawMs, rawPeak: f.rawPeakRssBytes / 2 ** 20, inspectPeak: f.inspectPeakRssBytes / 2 ** 20, tokens: f.tokensInspected })),
  (e) => console.error(e),
);
