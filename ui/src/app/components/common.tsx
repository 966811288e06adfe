// Shared pieces: the loading / error / empty states every view shows, and copy buttons.

import { useState } from 'react';
import type { ApiError } from '../api';

export function Loading({ what }: { what: string }) {
  return (
    <div className="state" role="status">
      <div className="spinner" />
      <div>Loading {what}…</div>
    </div>
  );
}

export function Failed({ error, retry }: { error: ApiError; retry: () => void }) {
  return (
    <div className="state error" role="alert">
      <h2>{error.unreachable ? 'Sightline is not answering' : 'That did not work'}</h2>
      <div>{error.message}</div>
      {error.unreachable && <div className="faint small">Retrying every 3 seconds…</div>}
      <button className="btn" onClick={retry}>
        Retry now
      </button>
    </div>
  );
}

export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [done, setDone] = useState(false);
  return (
    <button
      className="btn copy"
      onClick={() => {
        void navigator.clipboard?.writeText(text).then(() => {
          setDone(true);
          setTimeout(() => setDone(false), 1500);
        });
      }}
    >
      {done ? 'Copied' : label}
    </button>
  );
}

export function Snippet({ label, code }: { label: string; code: string }) {
  return (
    <div className="snippet">
      <div className="label">{label}</div>
      <CopyButton text={code} />
      <pre>{code}</pre>
    </div>
  );
}
