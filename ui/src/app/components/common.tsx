// Shared pieces: the loading / error / empty states every view shows, and copy buttons.

import { Component, type ReactNode, useState } from 'react';
import type { ApiError, Status } from '../api';
import { mcpSnippets } from '../setup';

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

/** Setup for coding agents (Claude Code, Cursor, VS Code) over MCP, as the README gives it. */
export function AgentSetup({ status }: { status: Status | null }) {
  return (
    <section aria-labelledby="agent-setup">
      <h2 id="agent-setup">Coding agents (MCP)</h2>
      <p className="hint">
        Sightline is an MCP server: an agent can list sessions, read a session's story, follow a failing request into its
        trace and search logs and SQL. Over stdio it runs this engine's own executable; over HTTP it is <code>{status?.mcp.url ?? '/mcp'}</code>.
        Cursor reads <code>~/.cursor/mcp.json</code> (or <code>.cursor/mcp.json</code> in a project), VS Code{' '}
        <code>.vscode/mcp.json</code>. For an engine started with <code>--token</code>, add <code>--token TOKEN</code> (stdio) or the
        header <code>Authorization: Bearer TOKEN</code> (HTTP).
      </p>
      {mcpSnippets(status).map((sn) => (
        <Snippet key={sn.label} label={sn.label} code={sn.code} />
      ))}
    </section>
  );
}

/**
 * What a view that threw shows instead of a blank page: the error, and a way back. Keyed by the
 * address, so moving to another page tries again.
 */
export class Crashed extends Component<{ children: ReactNode }, { error: Error | null; at: string }> {
  override state = { error: null as Error | null, at: '' };
  static getDerivedStateFromError(error: Error) {
    return { error, at: location.hash };
  }
  override componentDidMount() {
    window.addEventListener('hashchange', this.reset);
  }
  override componentWillUnmount() {
    window.removeEventListener('hashchange', this.reset);
  }
  reset = () => {
    if (this.state.error && location.hash !== this.state.at) this.setState({ error: null, at: '' });
  };
  override render() {
    if (!this.state.error) return this.props.children;
    return (
      <div className="state error" role="alert">
        <h2>This page broke</h2>
        <pre style={{ whiteSpace: 'pre-wrap', maxWidth: 800 }}>{String(this.state.error.stack ?? this.state.error)}</pre>
        <div>
          <a className="btn" href="#/sessions">
            Sessions
          </a>{' '}
          <button className="btn" onClick={() => location.reload()}>
            Reload
          </button>
        </div>
      </div>
    );
  }
}
