// A plain rrweb integration, as a site's own glue script would be and as rrweb documents it:
// rrweb's record() with its default options plus maskAllInputs, and rrweb's console plugin
// (@rrweb/rrweb-plugin-console-record, default options), which records console output and
// uncaught errors and unhandled rejections as plugin events (type 6, plugin "rrweb/console@1").
// Events are buffered in the page and POSTed to /v1/replay every 2 s as
// { sessionId, batch, events } (batch counting from 0). No meta, no custom events.
// Bundled for the browser by corpus-record.mjs (esbuild, IIFE).
import { record } from 'rrweb';
import { getRecordConsolePlugin } from '@rrweb/rrweb-plugin-console-record';

const script = document.currentScript;
const endpoint = (script && script.dataset.endpoint) || location.origin;
const sessionId = crypto.randomUUID();
let buffer = [];
let batch = 0;
let chain = Promise.resolve();

function send() {
  if (buffer.length === 0) return chain;
  const body = JSON.stringify({ sessionId, batch: batch++, events: buffer });
  buffer = [];
  // One request at a time, in order.
  chain = chain.then(() =>
    fetch(`${endpoint}/v1/replay`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body })
      .then(() => undefined, () => undefined),
  );
  return chain;
}

record({
  emit(event) {
    buffer.push(event);
  },
  maskAllInputs: true,
  plugins: [getRecordConsolePlugin()],
});
setInterval(send, 2000);

window.corpusRrweb = { sessionId, flush: send };
