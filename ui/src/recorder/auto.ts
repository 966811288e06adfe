// The one-tag install: `<script src="http://127.0.0.1:4318/sightline.js" data-user-id="…"
// data-privacy="mask-inputs" data-propagate="https://api.example.com"></script>`. Records to the
// Sightline that served the script, and exposes the recorder as `window.Sightline`.

import { start, type Recorder } from './index';

declare global {
  interface Window {
    Sightline?: Recorder;
  }
}

const script = document.currentScript as HTMLScriptElement | null;
if (script && !window.Sightline) {
  const d = script.dataset;
  const privacy = d.privacy === 'mask-all' ? 'mask-all' : 'mask-inputs';
  window.Sightline = start({
    endpoint: new URL(script.src, location.href).origin,
    userId: d.userId,
    userEmail: d.userEmail,
    privacy,
    propagate: (d.propagate ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map((s) => new URL(s).origin),
  });
}
