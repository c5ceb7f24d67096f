// Syncs: jobs (source → target, detection, merge, watermark, last run, rows,
// rows/s, state) and a job's runs charted by rows and duration.

import { useState } from 'preact/hooks';
import type { SyncRunRow } from '../bindings/SyncRunRow';
import { EmptyState } from '../components/EmptySection';
import { relativeTime } from '../format';
import { SECTIONS } from '../sections';
import { api } from '../transport';
import { useLoad } from '../useLoad';

function rate(run: SyncRunRow): string {
  if (!run.duration_ms) return '—';
  return Math.round((run.rows_loaded / run.duration_ms) * 1000).toLocaleString();
}

/** Rows per run as bars (oldest left), the duration as a line of dots. */
function RunChart({ runs }: { runs: SyncRunRow[] }) {
  const shown = runs.slice(0, 30).reverse();
  if (shown.length === 0) return null;
  const maxRows = Math.max(1, ...shown.map((r) => r.rows_loaded));
  const maxMs = Math.max(1, ...shown.map((r) => r.duration_ms));
  const w = 320;
  const h = 90;
  const bw = w / shown.length;
  return (
    <svg class="chart" viewBox={`0 0 ${w} ${h + 14}`} role="img" aria-label="Rows and duration per run">
      {shown.map((r, i) => {
        const bh = (r.rows_loaded / maxRows) * h;
        return (
          <g key={r.id}>
            <rect x={i * bw + 1} y={h - bh} width={Math.max(1, bw - 2)} height={bh} class={`bar-${r.status}`}>
              <title>
                {r.rows_loaded} rows in {r.duration_ms} ms ({r.status})
              </title>
            </rect>
            <circle cx={i * bw + bw / 2} cy={h - (r.duration_ms / maxMs) * h} r="2" class="dot" />
          </g>
        );
      })}
      <text x="0" y={h + 12} class="chart-label">
        rows (bars) · duration (dots), last {shown.length} runs
      </text>
    </svg>
  );
}

function JobDetail({ name }: { name: string }) {
  const job = useLoad(`Load the sync job ${name}`, `sync-${name}`, () => api.syncShow(name));
  const d = job.data;
  if (!d) return <div class="detail-empty muted">{job.error ?? 'Loading…'}</div>;
  return (
    <div class="detail-body" data-testid="sync-detail">
      <div class="detail-title">
        <h3>{d.job.name}</h3>
      </div>
      <dl class="props">
        <dt>Source</dt>
        <dd class="mono">
          {d.job.source}.{d.job.source_table}
        </dd>
        <dt>Target</dt>
        <dd class="mono">
          {d.job.target}.{d.job.target_table}
        </dd>
        <dt>Detect</dt>
        <dd>
          {d.job.detect}
          {d.job.tracking_column ? ` on ${d.job.tracking_column}` : ''}
        </dd>
        <dt>Merge</dt>
        <dd>
          {d.job.merge} · keys {d.job.key_columns.join(', ') || '—'}
        </dd>
        <dt>Checkpoint</dt>
        <dd class="mono small">{d.checkpoint ? JSON.stringify(d.checkpoint) : <span class="muted">none yet</span>}</dd>
      </dl>
      <RunChart runs={d.runs} />
      <ul class="plain history">
        {d.runs.map((r) => (
          <li key={r.id}>
            <span class={`status status-${r.status}`}>{r.status}</span>
            <span class="small">
              {r.rows_loaded.toLocaleString()} rows · {r.duration_ms} ms
            </span>
            <span class="muted small">{relativeTime(r.started_at)}</span>
            {r.error && <span class="small problem">{r.error}</span>}
          </li>
        ))}
      </ul>
    </div>
  );
}

export function SyncsScreen() {
  const list = useLoad('Load the sync jobs', 'syncs', () => api.syncList());
  const [selected, setSelected] = useState<string | null>(null);
  const jobs = list.data ?? [];
  const current = jobs.find((j) => j.job.name === selected) ?? jobs[0] ?? null;
  const section = SECTIONS.find((s) => s.id === 'syncs')!;
  return (
    <>
      <main class="main" aria-label="Syncs">
        <header class="main-head">
          <h1>Syncs</h1>
        </header>
        {list.data && jobs.length === 0 && <EmptyState section={section} />}
        {jobs.length > 0 && (
          <div class="table-scroll">
            <table class="grid" data-testid="syncs-table">
              <thead>
                <tr>
                  <th>Job</th>
                  <th>Source → target</th>
                  <th>Detect</th>
                  <th>Merge</th>
                  <th>Watermark</th>
                  <th>Last run</th>
                  <th class="num">Rows</th>
                  <th class="num">Rows/s</th>
                  <th>State</th>
                </tr>
              </thead>
              <tbody>
                {jobs.map(({ job, last_run, watermark }) => (
                  <tr key={job.name} class={current?.job.name === job.name ? 'selected' : ''} onClick={() => setSelected(job.name)}>
                    <td class="col-name">{job.name}</td>
                    <td class="mono small">
                      {job.source}.{job.source_table} → {job.target}.{job.target_table}
                    </td>
                    <td>{job.detect}</td>
                    <td>{job.merge}</td>
                    <td class="mono small">{watermark ?? <span class="muted">—</span>}</td>
                    <td class="muted">{last_run ? relativeTime(last_run.started_at) : 'never'}</td>
                    <td class="num">{last_run ? last_run.rows_loaded.toLocaleString() : '—'}</td>
                    <td class="num">{last_run ? rate(last_run) : '—'}</td>
                    <td>{last_run ? <span class={`status status-${last_run.status}`}>{last_run.status}</span> : <span class="muted">idle</span>}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </main>
      <aside class="detail" aria-label="Details">
        {current ? <JobDetail key={current.job.name} name={current.job.name} /> : <div class="detail-empty muted">Nothing selected.</div>}
      </aside>
    </>
  );
}
