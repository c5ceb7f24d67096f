// Scans: metadata scan runs per connection and the incremental diffs between
// them — a summary table (asset type × added / removed / modified) with
// drill-down to each change's before and after.

import { useState } from 'preact/hooks';
import type { ChangeCounts } from '../bindings/ChangeCounts';
import type { DiffChange } from '../bindings/DiffChange';
import { EmptyState } from '../components/EmptySection';
import { relativeTime } from '../format';
import { SECTIONS } from '../sections';
import { api } from '../transport';
import { useLoad } from '../useLoad';

const ASSETS = ['schema', 'table', 'column'] as const;
const KINDS = ['added', 'removed', 'modified'] as const;

function CountsTable({ counts }: { counts: ChangeCounts }) {
  return (
    <table class="grid counts" data-testid="diff-counts">
      <thead>
        <tr>
          <th>Asset</th>
          {KINDS.map((k) => (
            <th key={k} class="num">
              {k}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {ASSETS.map((a) => (
          <tr key={a}>
            <td>{a}s</td>
            {KINDS.map((k) => (
              <td key={k} class={`num${counts[a][k] > 0 ? ` change-${k}` : ' muted'}`}>
                {counts[a][k]}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function changeName(c: DiffChange): string {
  return [c.schema_name, c.table_name, c.column_name].filter(Boolean).join('.');
}

function DiffDetailPanel({ id }: { id: string }) {
  const detail = useLoad('Load the diff', `diff-${id}`, () => api.diffShow(id));
  const [open, setOpen] = useState<number | null>(null);
  const d = detail.data;
  if (!d) return <div class="detail-empty muted">{detail.error ?? 'Loading…'}</div>;
  return (
    <div class="detail-body" data-testid="diff-detail">
      <h3 class="panel-title">Changes between the last two scans</h3>
      <CountsTable counts={d.counts} />
      <ul class="plain change-list">
        {d.changes.map((c, i) => (
          <li key={i} class="scan-change" onClick={() => setOpen(open === i ? null : i)}>
            <span class={`change-kind change-${c.change_type}`}>{c.change_type}</span>
            <span class="muted small">{c.asset_type}</span>
            <span class="mono small">{changeName(c)}</span>
            {open === i && (
              <div class="before-after">
                <div>
                  <div class="muted small">before</div>
                  <pre class="code">{JSON.stringify(c.sync_run_1_data, null, 2)}</pre>
                </div>
                <div>
                  <div class="muted small">after</div>
                  <pre class="code">{JSON.stringify(c.sync_run_2_data, null, 2)}</pre>
                </div>
              </div>
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}

export function ScansScreen() {
  const conns = useLoad('Load the connections', 'connections', () => api.connectionList());
  const [picked, setPicked] = useState<string | null>(null);
  const connection = picked ?? conns.data?.[0]?.name ?? null;
  const runs = useLoad('Load the scan runs', connection ? `scans-${connection}` : null, () => api.scanList(connection!));
  const diffs = useLoad('Load the incremental diffs', connection ? `diffs-${connection}` : null, () => api.diffList(connection!));
  const [diff, setDiff] = useState<string | null>(null);
  const section = SECTIONS.find((s) => s.id === 'scans')!;
  const nothing = runs.data && runs.data.length === 0;
  return (
    <>
      <main class="main" aria-label="Scans">
        <header class="main-head">
          <h1>Scans</h1>
          {conns.data && conns.data.length > 0 && (
            <select value={connection ?? ''} onChange={(e) => setPicked(e.currentTarget.value)} aria-label="Connection">
              {conns.data.map((c) => (
                <option key={c.name} value={c.name}>
                  {c.name}
                </option>
              ))}
            </select>
          )}
        </header>
        {(conns.data?.length === 0 || nothing) && <EmptyState section={section} />}
        {runs.data && runs.data.length > 0 && (
          <div class="table-scroll">
            <h4 class="section-label pad-x">Runs</h4>
            <table class="grid" data-testid="scans-table">
              <thead>
                <tr>
                  <th>Started</th>
                  <th>Status</th>
                  <th>Target</th>
                  <th class="num">Schemas</th>
                  <th class="num">Tables</th>
                  <th class="num">Columns</th>
                </tr>
              </thead>
              <tbody>
                {runs.data.map((r) => (
                  <tr key={r.id}>
                    <td>{relativeTime(r.started_at)}</td>
                    <td>
                      <span class={`status status-${r.status}`}>{r.status}</span>
                    </td>
                    <td class="mono small">{r.target}</td>
                    <td class="num">{r.schema_count}</td>
                    <td class="num">{r.table_count}</td>
                    <td class="num">{r.column_count}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <h4 class="section-label pad-x">Incremental diffs</h4>
            {diffs.data?.length === 0 && (
              <p class="muted pad">
                No diffs yet: <code>tidemark incremental-diff --connection-id {connection}</code> compares the last two runs.
              </p>
            )}
            {diffs.data && diffs.data.length > 0 && (
              <table class="grid" data-testid="diffs-table">
                <thead>
                  <tr>
                    <th>Created</th>
                    <th>Status</th>
                    {KINDS.map((k) => (
                      <th key={k} class="num">
                        {k}
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {diffs.data.map((d) => {
                    const total = (k: (typeof KINDS)[number]) =>
                      d.counts ? ASSETS.reduce((n, a) => n + d.counts![a][k], 0) : null;
                    return (
                      <tr key={d.diff_sync_id} class={diff === d.diff_sync_id ? 'selected' : ''} onClick={() => setDiff(d.diff_sync_id)}>
                        <td>{relativeTime(d.created_at)}</td>
                        <td>
                          <span class={`status status-${d.status}`}>{d.status}</span>
                        </td>
                        {KINDS.map((k) => (
                          <td key={k} class="num">
                            {total(k) ?? '—'}
                          </td>
                        ))}
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            )}
          </div>
        )}
      </main>
      <aside class="detail" aria-label="Details">
        {diff ? <DiffDetailPanel key={diff} id={diff} /> : <div class="detail-empty muted">Pick a diff to see its changes.</div>}
      </aside>
    </>
  );
}
