// A browser agent that reports what the user does as OpenTelemetry log records, in the
// semantic-event scheme of the OpenTelemetry session-replay browser agent
// (github.com/davidgeorgehope/sessionreplay): bodies user.click, user.navigation, user.error and
// user.frustration.{rage_click,dead_click,thrashing}, attributes session.id, session.sequence,
// user.id, user.email, event.category, target.semantic_name, target.element, page.url,
// frustration.*, error.*. Written for this corpus from the scheme's description (not its code),
// on the official OpenTelemetry JS logs SDK, exporting OTLP/HTTP JSON to {endpoint}/v1/logs.
//
// Its own frustration rules follow the scheme: a rage click is 3+ clicks on one element within
// 1 s (reported once, then counting restarts); a dead click is a click on an element with no
// interactive element (button, input, select, textarea, summary, a[href], an interactive role,
// tabindex, on* attribute) in its ancestry, reported at once; thrashing is 3+ scroll-direction
// changes within 2 s (reported once, then counting restarts).
import { SeverityNumber } from '@opentelemetry/api-logs';
import { LoggerProvider, BatchLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';

const script = document.currentScript;
const data = (script && script.dataset) || {};
const endpoint = data.endpoint || location.origin;

const provider = new LoggerProvider({
  resource: resourceFromAttributes({ 'service.name': data.service || 'corpus-web' }),
  processors: [
    // This SDK takes the exporter among the options (older ones took it first).
    new BatchLogRecordProcessor({ exporter: new OTLPLogExporter({ url: `${endpoint}/v1/logs` }), scheduledDelayMillis: 1000 }),
  ],
});
const logger = provider.getLogger('session-replay', '0.0.1');

// One session per tab (sessionStorage), with a sequence number that orders its events.
const KEY = 'corpus.otel.session';
let session;
try {
  session = JSON.parse(sessionStorage.getItem(KEY) || 'null');
} catch {
  session = null;
}
if (!session || typeof session.id !== 'string') session = { id: crypto.randomUUID(), sequence: 0, startedAt: Date.now() };
const save = () => {
  try {
    sessionStorage.setItem(KEY, JSON.stringify(session));
  } catch {
    // best effort
  }
};
save();

function emit(body, attributes, severity = SeverityNumber.INFO) {
  const attrs = {
    'session.id': session.id,
    'session.sequence': session.sequence++,
    'session.duration_ms': Date.now() - session.startedAt,
    'page.url': location.href,
    'page.title': document.title,
  };
  if (data.userId) attrs['user.id'] = data.userId;
  if (data.userEmail) attrs['user.email'] = data.userEmail;
  for (const [k, v] of Object.entries(attributes)) if (v !== undefined && v !== null) attrs[k] = v;
  save();
  logger.emit({
    body,
    severityNumber: severity,
    severityText: severity >= SeverityNumber.ERROR ? 'ERROR' : 'INFO',
    attributes: attrs,
  });
}

/** What a person would call the element: aria-label, its text, title, alt, placeholder. */
function semanticName(el) {
  const cut = (s) => (s.length > 50 ? `${s.slice(0, 50)}...` : s);
  const aria = el.getAttribute('aria-label');
  if (aria) return cut(aria.trim());
  const text = (el.innerText || el.textContent || '').replace(/\s+/g, ' ').trim();
  if (text) return cut(text);
  for (const a of ['title', 'alt', 'placeholder']) {
    const v = el.getAttribute(a);
    if (v) return cut(v.trim());
  }
  // A field by its label (the scheme stops at placeholder; a person names a field by its label).
  if (el.labels && el.labels[0]) return cut(el.labels[0].textContent.replace(/\s+/g, ' ').trim());
  if (el.getAttribute('name')) return cut(el.getAttribute('name'));
  return `<${el.tagName.toLowerCase()}>`;
}

const INTERACTIVE_TAGS = new Set(['BUTTON', 'INPUT', 'SELECT', 'TEXTAREA', 'SUMMARY', 'DETAILS']);
const INTERACTIVE_ROLES = new Set(['button', 'link', 'menuitem', 'tab', 'checkbox', 'radio', 'switch', 'slider', 'spinbutton', 'combobox', 'listbox', 'option', 'textbox']);
function interactive(el) {
  if (el.hasAttribute('disabled')) return false;
  if (INTERACTIVE_TAGS.has(el.tagName)) return true;
  if (el.tagName === 'A') return el.hasAttribute('href');
  const role = el.getAttribute('role');
  if (role && INTERACTIVE_ROLES.has(role.toLowerCase())) return true;
  return el.hasAttribute('tabindex') || el.hasAttribute('onclick') || el.hasAttribute('onmousedown') || el.hasAttribute('onmouseup');
}

// ── Clicks, rage clicks, dead clicks ───────────────────────────────────────────────────────
const clicksByElement = new Map();
const elementKey = (el) => el.id || `${el.tagName.toLowerCase()}${typeof el.className === 'string' && el.className ? `.${el.className.trim().split(/\s+/).join('.')}` : ''}`;
let lastClick;
document.addEventListener('click', (event) => {
  const el = event.target;
  if (!(el instanceof Element)) return;
  const name = semanticName(el);
  const tag = el.tagName.toLowerCase();
  lastClick = name;
  emit('user.click', {
    'event.category': 'user.interaction',
    'event.action': 'click',
    'target.semantic_name': name,
    'target.element': tag,
    'target.id': el.id || undefined,
    'event.x': event.clientX,
    'event.y': event.clientY,
  });

  const now = Date.now();
  const key = elementKey(el);
  const clicks = (clicksByElement.get(key) || []).filter((t) => now - t <= 1000);
  clicks.push(now);
  if (clicks.length >= 3) {
    const duration = clicks[clicks.length - 1] - clicks[0];
    const perSecond = duration > 0 ? (clicks.length / duration) * 1000 : 10;
    const score = Math.round(Math.min(1, Math.min(clicks.length / 10, 1) * 0.4 + Math.min(perSecond / 10, 1) * 0.6) * 100) / 100;
    emit('user.frustration.rage_click', {
      'event.category': 'user.frustration',
      'event.action': 'rage_click',
      'frustration.type': 'rage_click',
      'frustration.score': score,
      'frustration.click_count': clicks.length,
      'frustration.duration_ms': duration,
      'target.semantic_name': name,
      'target.element': tag,
      'target.id': el.id || undefined,
    });
    clicksByElement.set(key, []);
  } else {
    clicksByElement.set(key, clicks);
  }

  let node = el;
  while (node && !interactive(node)) node = node.parentElement;
  if (!node) {
    const looksClickable = getComputedStyle(el).cursor === 'pointer';
    emit('user.frustration.dead_click', {
      'event.category': 'user.frustration',
      'event.action': 'dead_click',
      'frustration.type': 'dead_click',
      'frustration.score': looksClickable ? 0.7 : 0.3,
      'frustration.reason': 'non_interactive',
      'frustration.looks_clickable': looksClickable || undefined,
      'target.semantic_name': name,
      'target.element': tag,
      'target.id': el.id || undefined,
    });
  }
}, { capture: true });

// ── Navigation ─────────────────────────────────────────────────────────────────────────────
const navigation = (action) =>
  emit('user.navigation', { 'event.category': 'user.navigation', 'event.action': action, 'navigation.url': location.href });
const originalPush = history.pushState.bind(history);
history.pushState = (...args) => {
  originalPush(...args);
  navigation('pushstate');
};
addEventListener('popstate', () => navigation('popstate'));
addEventListener('hashchange', () => navigation('hashchange'));

// ── Errors ─────────────────────────────────────────────────────────────────────────────────
const error = (type, message, extra = {}) =>
  emit('user.error', { 'event.category': 'user.error', 'error.type': type, 'error.message': message, 'error.context.last_click': lastClick, ...extra }, SeverityNumber.ERROR);
addEventListener('error', (e) =>
  error('uncaught_exception', (e.error && e.error.message) || e.message, {
    'error.stack': e.error && e.error.stack ? String(e.error.stack).slice(0, 4000) : undefined,
    'error.filename': e.filename || undefined,
    'error.lineno': e.lineno || undefined,
    'error.colno': e.colno || undefined,
  }));
addEventListener('unhandledrejection', (e) => error('unhandled_rejection', String((e.reason && e.reason.message) || e.reason)));

// ── Scroll thrashing ───────────────────────────────────────────────────────────────────────
let lastY = scrollY;
let lastDirection = null;
let changes = [];
let distance = 0;
addEventListener('scroll', () => {
  const y = scrollY;
  const delta = y - lastY;
  if (delta === 0) return;
  const now = Date.now();
  const direction = delta < 0 ? 'up' : 'down';
  distance += Math.abs(delta);
  changes = changes.filter((t) => now - t < 2000);
  if (lastDirection !== null && direction !== lastDirection) {
    changes.push(now);
    if (changes.length >= 3) {
      const scrollable = document.documentElement.scrollHeight - document.documentElement.clientHeight;
      emit('user.frustration.thrashing', {
        'event.category': 'user.frustration',
        'event.action': 'thrashing',
        'frustration.type': 'thrashing',
        'frustration.score': Math.min(1, changes.length / 6),
        'frustration.direction_changes': changes.length,
        'frustration.duration_ms': now - changes[0],
        'frustration.scroll_distance': distance,
        'frustration.scroll_depth_percent': scrollable > 0 ? Math.round(Math.min(100, (y / scrollable) * 100)) : 100,
      });
      changes = [];
      distance = 0;
      lastDirection = null;
      lastY = y;
      return;
    }
  }
  lastY = y;
  lastDirection = direction;
}, { passive: true });

// The page view, once the page has its title.
if (document.readyState === 'loading') addEventListener('DOMContentLoaded', () => navigation('pageview'));
else navigation('pageview');
addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'hidden') void provider.forceFlush();
});

window.corpusOtel = { sessionId: session.id, flush: () => provider.forceFlush() };
