// Connections: named databases (passwords never leave the keychain or the
// environment variable), with a connection test.

import { useState } from 'preact/hooks';
import type { Connection } from '../bindings/Connection';
import type { ConnectionCheck } from '../bindings/ConnectionCheck';
import { EmptyState } from '../components/EmptySection';
import { IconConnections } from '../components/Icons';
import { relativeTime } from '../format';
import { SECTIONS } from '../sections';
import { useStore } from '../store';
import { api } from '../transport';
import { useLoad } from '../useLoad';

function passwordText(c: Connection): string {
  switch (c.password.source) {
    case 'none':
      return 'none';
    case 'env':
      return `$${c.password.name}`;
    case 'keychain':
      return 'OS keychain';
  }
}

function ConnectionDetail({ c }: { c: Connection }) {
  const { attempt } = useStore();
  const [check, setCheck] = useState<ConnectionCheck | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const test = async () => {
    setBusy(true);
    setError(null);
    setCheck(null);
    try {
      setCheck(await attempt(`Test the connection ${c.name}`, () => api.connectionTest(c.name)));
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="detail-body" data-testid="connection-detail">
      <div class="detail-title">
        <IconConnections size={16} />
        <h3>{c.name}</h3>
      </div>
      <dl class="props">
        <dt>Kind</dt>
        <dd>{c.kind}</dd>
        <dt>URL</dt>
        <dd class="mono">{c.url}</dd>
        <dt>Password</dt>
        <dd>{passwordText(c)}</dd>
        <dt>Added</dt>
        <dd>{relativeTime(c.created_at)}</dd>
      </dl>
      <div class="form-actions">
        <button type="button" class="btn" onClick={() => void test()} disabled={busy} data-testid="test-connection">
          {busy ? 'Connecting…' : 'Test connection'}
        </button>
      </div>
      {check && (
        <div class={`notice ${check.ok ? 'notice-ok' : 'notice-error'}`} role="status">
          {check.ok ? 'Connected' : 'Not reachable'} in {check.millis} ms
          {check.tables != null ? ` · ${check.tables} tables` : ''}
        </div>
      )}
      {error && (
        <div class="notice notice-error" role="alert">
          {error}
        </div>
      )}
    </div>
  );
}

export function ConnectionsScreen() {
  const list = useLoad('Load the connections', 'connections', () => api.connectionList());
  const [selected, setSelected] = useState<string | null>(null);
  const conns = list.data ?? [];
  const current = conns.find((c) => c.name === selected) ?? conns[0] ?? null;
  const section = SECTIONS.find((s) => s.id === 'connections')!;
  return (
    <>
      <main class="main" aria-label="Connections">
        <header class="main-head">
          <h1>Connections</h1>
          <span class="muted">{conns.length || ''}</span>
        </header>
        {list.data && conns.length === 0 && <EmptyState section={section} />}
        {conns.length > 0 && (
          <table class="grid" data-testid="connections-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Kind</th>
                <th>URL</th>
                <th>Password</th>
              </tr>
            </thead>
            <tbody>
              {conns.map((c) => (
                <tr key={c.name} class={current?.name === c.name ? 'selected' : ''} onClick={() => setSelected(c.name)} data-connection={c.name}>
                  <td class="col-name">{c.name}</td>
                  <td>{c.kind}</td>
                  <td class="mono muted">{c.url}</td>
                  <td class="muted">{passwordText(c)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </main>
      <aside class="detail" aria-label="Details">
        {current ? <ConnectionDetail key={current.name} c={current} /> : <div class="detail-empty muted">Nothing selected.</div>}
      </aside>
    </>
  );
}
