// The shared core of the tests' fake `vscode` module: events, positions and ranges, and the hook that makes
// `require('vscode')` return a fake. The cost fake (test/integration/cost) and the panel fake (test/integration/panel)
// build their API surfaces on it.
import Module from 'node:module';

type Listener<T> = (value: T) => unknown;

export class EventEmitter<T> {
  private listeners: Listener<T>[] = [];
  readonly event = (listener: Listener<T>): { dispose(): void } => {
    this.listeners.push(listener);
    return { dispose: () => (this.listeners = this.listeners.filter((l) => l !== listener)) };
  };
  fire(value: T): void {
    for (const listener of [...this.listeners]) listener(value);
  }
  dispose(): void {
    this.listeners = [];
  }
}

export class Position {
  constructor(
    readonly line: number,
    readonly character: number,
  ) {}
}

export class Range {
  constructor(
    readonly start: Position,
    readonly end: Position,
  ) {}
  get isEmpty(): boolean {
    return this.start.line === this.end.line && this.start.character === this.end.character;
  }
}

/** Line and character of a UTF-16 offset in `text` (clamped to the text). */
export function positionIn(text: string, offset: number): Position {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const line = before.split('\n').length - 1;
  return new Position(line, before.length - (before.lastIndexOf('\n') + 1));
}

type ModuleLoad = (request: string, parent: unknown, isMain: boolean) => unknown;

/** Routes `require('vscode')` to `api` until the returned function is called. */
export function installFakeVscode(api: unknown): () => void {
  const loader = Module as unknown as { _load: ModuleLoad };
  const original = loader._load;
  loader._load = (request, parent, isMain) => (request === 'vscode' ? api : original(request, parent, isMain));
  return () => {
    loader._load = original;
  };
}

/** `vscode.commands` that records what is registered, by id, and what is executed (running it when registered). */
export function fakeCommands(): {
  readonly registered: Map<string, (...args: unknown[]) => unknown>;
  readonly executed: { readonly id: string; readonly args: readonly unknown[] }[];
  readonly api: {
    registerCommand(id: string, run: (...args: unknown[]) => unknown): { dispose(): void };
    executeCommand(id: string, ...args: unknown[]): Promise<unknown>;
  };
} {
  const registered = new Map<string, (...args: unknown[]) => unknown>();
  const executed: { id: string; args: unknown[] }[] = [];
  return {
    registered,
    executed,
    api: {
      registerCommand: (id, run) => {
        registered.set(id, run);
        return { dispose: () => registered.delete(id) };
      },
      executeCommand: async (id, ...args) => {
        executed.push({ id, args });
        return registered.get(id)?.(...args);
      },
    },
  };
}
