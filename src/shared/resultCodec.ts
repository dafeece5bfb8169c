// InspectionResult ⇄ JSON text. Typed arrays become {"$typed": "<ArrayType>", "base64": "..."} (little-endian
// bytes), so a 2,048-token result stays compact and decodes without per-number parsing. No `vscode` import;
// runs in Node (CLI, host) and in the browser (the HTML report boots from it).
import type { InspectionResult } from '../shared/protocol';

type TypedArrayName = 'Uint8Array' | 'Uint16Array' | 'Float32Array' | 'Int32Array' | 'Uint32Array';
type TypedArray = Uint8Array | Uint16Array | Float32Array | Int32Array | Uint32Array;

interface EncodedTypedArray {
  readonly $typed: TypedArrayName;
  readonly base64: string;
}

const constructors: Record<TypedArrayName, new (buffer: ArrayBuffer) => TypedArray> = {
  Uint8Array,
  Uint16Array,
  Float32Array,
  Int32Array,
  Uint32Array,
};

interface NodeBuffer {
  from(data: Uint8Array | string, encoding?: string): Uint8Array & { toString(encoding: string): string };
}
const nodeBuffer = (globalThis as { Buffer?: NodeBuffer }).Buffer;

export function bytesToBase64(bytes: Uint8Array): string {
  if (nodeBuffer) return nodeBuffer.from(bytes).toString('base64');
  let binary = '';
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    binary += String.fromCharCode(...bytes.subarray(i, i + chunk));
  }
  return btoa(binary);
}

export function base64ToBytes(base64: string): Uint8Array {
  if (nodeBuffer) {
    const b = nodeBuffer.from(base64, 'base64');
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  }
  const binary = atob(base64);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

function typedName(value: ArrayBufferView): TypedArrayName | null {
  for (const name of Object.keys(constructors) as TypedArrayName[]) {
    if (value instanceof constructors[name]) return name;
  }
  return null;
}

export function encodeInspectionResult(result: InspectionResult): string {
  return JSON.stringify(result, (_key, value: unknown) => {
    if (ArrayBuffer.isView(value)) {
      const name = typedName(value);
      if (!name) throw new Error(`Cannot encode ${value.constructor.name} in an inspection result`);
      const bytes = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
      const encoded: EncodedTypedArray = { $typed: name, base64: bytesToBase64(bytes) };
      return encoded;
    }
    return value;
  });
}

function isEncodedTypedArray(value: unknown): value is EncodedTypedArray {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { $typed?: unknown }).$typed === 'string' &&
    typeof (value as { base64?: unknown }).base64 === 'string'
  );
}

export function decodeInspectionResult(text: string): InspectionResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text, (_key, value: unknown) => {
      if (!isEncodedTypedArray(value)) return value;
      const ctor = constructors[value.$typed];
      if (!ctor) throw new Error(`unknown typed array ${value.$typed}`);
      const bytes = base64ToBytes(value.base64);
      // Copy into a fresh, aligned buffer: the view's element size must divide its offset.
      const copy = new Uint8Array(bytes.byteLength);
      copy.set(bytes);
      return new ctor(copy.buffer);
    });
  } catch (error) {
    throw new Error(`Not a valid inspection result: ${error instanceof Error ? error.message : String(error)}`);
  }
  assertInspectionResult(parsed);
  return parsed;
}

function assertInspectionResult(value: unknown): asserts value is InspectionResult {
  const v = value as Partial<Record<keyof InspectionResult, unknown>> | null;
  if (typeof v !== 'object' || v === null) throw new Error('Not a valid inspection result: expected an object');
  for (const key of ['model', 'tokens', 'layers', 'summary', 'text'] as const) {
    if (v[key] === undefined) throw new Error(`Not a valid inspection result: missing "${key}"`);
  }
  if (!Array.isArray(v.tokens) || !Array.isArray(v.layers))
    throw new Error('Not a valid inspection result: tokens and layers must be arrays');
}
