// Import from the UI: the whole window takes dropped `.sightline` files (an overlay says so
// while a file is dragged over it), an "Import…" button picks them, and a report says what
// each file became, with links to its sessions.

import { useEffect, useRef, useState } from 'react';
import { carriesFiles, clearImports, importFiles, useImports } from '../imports';
import { plural } from '../format';
import { href } from '../router';

export function DropImport() {
  const [over, setOver] = useState(false);
  const depth = useRef(0);
  useEffect(() => {
    const enter = (e: DragEvent) => {
      if (!carriesFiles(e)) return;
      e.preventDefault();
      depth.current += 1;
      setOver(true);
    };
    const leave = () => {
      depth.current = Math.max(0, depth.current - 1);
      if (depth.current === 0) setOver(false);
    };
    const overFn = (e: DragEvent) => {
      if (carriesFiles(e)) e.preventDefault();
    };
    const drop = (e: DragEvent) => {
      if (!carriesFiles(e)) return;
      e.preventDefault();
      depth.current = 0;
      setOver(false);
      const files = Array.from(e.dataTransfer?.files ?? []);
      if (files.length) void importFiles(files);
    };
    window.addEventListener('dragenter', enter);
    window.addEventListener('dragleave', leave);
    window.addEventListener('dragover', overFn);
    window.addEventListener('drop', drop);
    return () => {
      window.removeEventListener('dragenter', enter);
      window.removeEventListener('dragleave', leave);
      window.removeEventListener('dragover', overFn);
      window.removeEventListener('drop', drop);
    };
  }, []);
  return (
    <>
      {over && (
        <div className="drop-overlay" aria-live="polite">
          <div>
            <b>Drop to import</b>
            <span>.sightline session bundles</span>
          </div>
        </div>
      )}
      <ImportReport />
    </>
  );
}

export function ImportButton() {
  const input = useRef<HTMLInputElement>(null);
  return (
    <>
      <button className="btn" onClick={() => input.current?.click()} title="Import .sightline bundles (or drop them on the window)">
        Import…
      </button>
      <input
        ref={input}
        type="file"
        accept=".sightline"
        multiple
        hidden
        aria-label="Bundles to import"
        onChange={(e) => {
          const files = Array.from(e.target.files ?? []);
          e.target.value = '';
          if (files.length) void importFiles(files);
        }}
      />
    </>
  );
}

function ImportReport() {
  const [results, busy] = useImports();
  if (!results.length && !busy) return null;
  return (
    <div className="import-report" role="status" aria-label="Import">
      <div className="head">
        <b>{busy ? 'Importing…' : 'Import finished'}</b>
        <div className="grow" />
        {!busy && (
          <button className="btn icon" aria-label="Close" onClick={clearImports}>
            ✕
          </button>
        )}
      </div>
      {results.map((r, i) => (
        <div key={i} className={`line ${r.ok ? '' : 'bad'}`}>
          <span className="mono ellipsis" title={r.file}>
            {r.file}
          </span>
          {!r.ok ? (
            <span className="why">{r.message}</span>
          ) : (
            <span>
              {r.imported ? `imported ${plural(r.sessions?.length ?? 0, 'session')}, ${plural(r.spans ?? 0, 'span')}, ${plural(r.logs ?? 0, 'log')}` : 'already imported'}
              {(r.sessions ?? []).slice(0, 3).map((s) => (
                <a key={s} href={href(['sessions', s])}>
                  {' '}
                  open
                </a>
              ))}
            </span>
          )}
        </div>
      ))}
    </div>
  );
}
