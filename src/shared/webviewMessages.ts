// Full validation of what the webview posts to the host: the type and every field, nothing more. A webview
// runs untrusted text (the prompt) through the DOM, so the host accepts only well-formed messages and
// logs the rest. No `vscode` import.
import { parseAttentionRowRequest } from './attentionRowRequest';
import { parseRolloutRowsRequest } from './rolloutRowsRequest';
import {
  PANEL_COMMANDS,
  WEBVIEW_MESSAGE_TYPES,
  type AttendedToken,
  type ExportKind,
  type PanelCommand,
  type WebviewToHostMessage,
} from './protocol';

const EXPORT_KINDS: readonly ExportKind[] = ['png', 'json', 'html'];
/** Far above any real prompt's tokens; a larger index is not one of ours. */
const MAX_INDEX = 10_000_000;
/** The webview sends at most a few dozen attended tokens. */
const MAX_ATTENDED = 4096;
/** A PNG of the matrix canvas is a few MB; this bounds what the host will decode. */
const MAX_PNG_URL = 64 * 1024 * 1024;

type Fields = Readonly<Record<string, unknown>>;

const isRecord = (v: unknown): v is Fields => typeof v === 'object' && v !== null && !Array.isArray(v);
const isIndex = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= MAX_INDEX;
const isRequestId = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/** The keys a message may have, by type ('type' itself included). */
const allowedKeys: Readonly<Record<WebviewToHostMessage['type'], readonly string[]>> = {
  ready: ['type'],
  cancel: ['type'],
  rerun: ['type', 'requestId'],
  focus: ['type', 'index', 'attended', 'reveal'],
  export: ['type', 'requestId', 'kind', 'pngDataUrl'],
  generate: ['type', 'maxTokens', 'temperature', 'seed'],
  'stop-generation': ['type'],
  'read-answer': ['type'],
  'attribute-span': ['type', 'start', 'end'],
  command: ['type', 'command'],
  'attention-row': ['type', 'requestId', 'inspection', 'layer', 'head', 'query'],
  'rollout-rows': ['type', 'requestId', 'inspection', 'layer', 'queries'],
};

/** The answer strip asks for at most this many tokens. */
const MAX_GENERATE = 4096;

function isAttended(v: unknown): v is AttendedToken {
  if (!isRecord(v) || Object.keys(v).some((k) => k !== 'index' && k !== 'weight')) return false;
  return isIndex(v.index) && typeof v.weight === 'number' && Number.isFinite(v.weight) && v.weight >= 0;
}

/** The message when it is well-formed, else the reason it is not (for the log). */
export function parseWebviewMessage(value: unknown): WebviewToHostMessage | string {
  if (!isRecord(value)) return 'not an object';
  const type = value.type;
  if (typeof type !== 'string' || !(WEBVIEW_MESSAGE_TYPES as readonly string[]).includes(type))
    return `unknown type ${JSON.stringify(type)?.slice(0, 40)}`;
  const t = type as WebviewToHostMessage['type'];
  const extra = Object.keys(value).filter((k) => !allowedKeys[t].includes(k));
  if (extra.length) return `${t}: unexpected field ${extra[0].slice(0, 40)}`;
  switch (t) {
    case 'ready':
    case 'cancel':
    case 'stop-generation':
    case 'read-answer':
      return { type: t };
    case 'attribute-span': {
      const { start, end } = value;
      if (!isIndex(start) || !isIndex(end) || end <= start)
        return 'attribute-span: start and end must be 0 ≤ start < end';
      return { type: t, start, end };
    }
    case 'generate': {
      const { maxTokens, temperature, seed } = value;
      if (!Number.isInteger(maxTokens) || (maxTokens as number) < 1 || (maxTokens as number) > MAX_GENERATE)
        return `generate: maxTokens must be an integer from 1 to ${MAX_GENERATE}`;
      if (typeof temperature !== 'number' || !(temperature >= 0 && temperature <= 10))
        return 'generate: temperature must be a number from 0 to 10';
      if (!isRequestId(seed)) return 'generate: seed must be a non-negative integer';
      return { type: t, maxTokens: maxTokens as number, temperature, seed };
    }
    case 'rerun':
      return isRequestId(value.requestId)
        ? { type: t, requestId: value.requestId }
        : 'rerun: requestId must be a non-negative integer';
    case 'focus': {
      const { index, attended, reveal } = value;
      if (index !== null && !isIndex(index)) return 'focus: index must be null or a token index';
      if (!Array.isArray(attended) || attended.length > MAX_ATTENDED || !attended.every(isAttended))
        return 'focus: attended must be a list of {index, weight ≥ 0}';
      if (reveal !== undefined && typeof reveal !== 'boolean') return 'focus: reveal must be a boolean';
      return { type: t, index, attended, ...(reveal !== undefined ? { reveal } : {}) };
    }
    case 'export': {
      const { requestId, kind, pngDataUrl } = value;
      if (!isRequestId(requestId)) return 'export: requestId must be a non-negative integer';
      if (!EXPORT_KINDS.includes(kind as ExportKind)) return 'export: kind must be png, json or html';
      if (pngDataUrl !== undefined && (typeof pngDataUrl !== 'string' || pngDataUrl.length > MAX_PNG_URL))
        return 'export: pngDataUrl must be a string';
      return { type: t, requestId, kind: kind as ExportKind, ...(pngDataUrl !== undefined ? { pngDataUrl } : {}) };
    }
    case 'command':
      return (PANEL_COMMANDS as readonly unknown[]).includes(value.command)
        ? { type: t, command: value.command as PanelCommand }
        : `command: must be one of ${PANEL_COMMANDS.join(', ')}`;
    case 'attention-row':
      return parseAttentionRowRequest(value);
    case 'rollout-rows':
      return parseRolloutRowsRequest(value);
  }
}
