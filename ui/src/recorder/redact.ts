// Redaction before anything leaves the browser: credential headers and sensitive fields of
// JSON and form bodies become `[REDACTED]`. The lists are the engine's own
// (src-tauri/crates/store/src/redaction.json), and the rules mirror its redact.rs: a field is
// sensitive when a whole word of its name is on the list (`cardNumber`, `card_number`), so
// `discard` or `output_tokens` stay readable.

import lists from '../../../src-tauri/crates/store/src/redaction.json';

export const REDACTED = '[REDACTED]';

const DENIED = new Set(lists.deniedHeaders);
const WORDS = new Set(lists.sensitiveWords);

/** The words of a field name: split on `.`, `_`, `-`, spaces, brackets and camelCase humps. */
function words(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[._\-\s[\]]+/)
    .filter(Boolean)
    .map((w) => w.toLowerCase());
}

/** Whether a header or field named `key` holds a secret. */
export function sensitive(key: string): boolean {
  const lower = key.toLowerCase();
  const last = lower.split('.').pop() ?? lower;
  if (DENIED.has(lower) || DENIED.has(last)) return true;
  const ws = words(key);
  return ws.some((w, i) => WORDS.has(w) || (w === 'key' && ws[i - 1] === 'api'));
}

/** Headers as a plain object, credentials redacted. */
export function redactHeaders(headers: Iterable<[string, string]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of headers) out[k.toLowerCase()] = sensitive(k) ? REDACTED : v;
  return out;
}

function redactValue(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(redactValue);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = sensitive(k) && x !== null ? REDACTED : redactValue(x);
    return out;
  }
  return v;
}

// A JSON member `"key": value` with a scalar value, for documents that do not parse (cut off,
// or not quite JSON): their sensitive members are redacted in place.
const MEMBER = /"((?:[^"\\]|\\.){1,200})"(\s*:\s*)("(?:[^"\\]|\\.)*"|-?\d[\d.eE+-]*|true|false)/g;

/** A body's text with its sensitive fields redacted: JSON, a form, or JSON-like text. */
export function redactBody(text: string): string {
  const t = text.trimStart();
  if (t.startsWith('{') || t.startsWith('[')) {
    try {
      return JSON.stringify(redactValue(JSON.parse(text)));
    } catch {
      return text.replace(MEMBER, (all, key: string, sep: string) => (sensitive(key) ? `"${key}"${sep}"${REDACTED}"` : all));
    }
  }
  // A form: every `&` part a `key=value` pair with a plain key, as the engine decides.
  if (!/\s/.test(text) && text.includes('=')) {
    const pairs = text.split('&').map((p) => {
      const i = p.indexOf('=');
      return i > 0 ? ([p.slice(0, i), p.slice(i + 1)] as const) : undefined;
    });
    if (pairs.every((p) => p && /^[A-Za-z0-9_.\-[\]%]+$/.test(p[0]))) {
      return pairs.map((p) => (p && sensitive(decodeURIComponent(p[0])) && p[1] ? `${p[0]}=${REDACTED}` : `${p?.[0]}=${p?.[1]}`)).join('&');
    }
  }
  return text;
}
