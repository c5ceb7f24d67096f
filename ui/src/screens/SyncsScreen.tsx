// Syncs: jobs (source → target, detection, merge, watermark, last run, rows,
// rows/s, state), a Run button per job and for all of them with live
// progress (rows, batches, rows/s) from the backend's progress events, the
// result of each run, and a job's runs charted by rows and duration.

import { useCallback, useEffect, useState } from 'preact/hooks';
import type { SyncJobRow } from '../bindings/SyncJobRow';
import type { SyncProgress } from '../bindings/SyncProgress';
import type { SyncRunResult } from '../bindings/SyncRunResult';
import type { SyncRunRow } from '../bindings/SyncRunRow';
import { EmptyState } from '../components/EmptySection';
import { plural, relativeTime } from '../format';
import { SECTIONS } from '../sections';
import { useStore } from '../store';
import { api, transport } from '../transport';
import { useLoad } from '../useLoad';

/** Where a job's rows travel: source → (Iceberg table →) target. */
export const route = (job: SyncJobRow): string =>
  [`${job.source}.${job.source_table}`, job.via, `${job.target}.${job.target_table}`].filter(Boolean).join(' → ');

const ended = (p: SyncProgress) => p.phase === 'finished' || p.phase === 'failed';

/** How a run this session ended: the recorded run, or the call's error. */
type Outcome = { job: string; result: SyncRunResult | null; error: string | null };

/** Rows so far, batches, rows/s: the live line of a running job. */
function LiveProgress({ job, p, queued }: { job: string; p: SyncProgress | undefined; queued: boolean }) {
  const label = `Sync ${job}`;
  return (
    <span class="sync-live" data-testid="sync-progress" data-job={job} data-rows={p?.rows ?? 0} data-batches={p?.batches ?? 0}>
      <span class="bar indeterminate" role="progressbar" aria-label={label} aria-valuetext={`${p?.rows ?? 0} rows`}>
        <span class="bar-fill" style={{ width: '35%' }} />
      </span>
      <span class="small">
        {queued && !p
          ? 'queued'
          : p
            ? `${p.rows.toLocaleString()} rows · ${plural(p.batches, 'batch', 'batches')} · ${Math.round(p.rows_per_sec).toLocaleString()} rows/s`
            : 'starting…'}
      </span>
    </span>
  );
}

/** What a finished run did, or why it failed. */
function RunResult({ outcome }: { outcome: Outcome }) {
  const run = outcome.result?.run;
  const failed = !!outcome.error || !!run?.error || (run && run.status !== 'succeeded');
  return (
    <div class={`notice ${failed ? 'notice-error' : 'notice-ok'} banner sync-result`} role="status" data-testid="sync-result" data-job={outcome.job}>
      <strong>{outcome.job}</strong>{' '}
      {run ? (
        <>
          <span class={`status status-${run.status}`}>{run.status}</span>
          {run.full_sync ? <span class="muted"> (full)</span> : null}
          <span>
            {' '}
            {run.rows_extracted.toLocaleString()} extracted · {run.rows_loaded.toLocaleString()} loaded ·{' '}
            {run.rows_inserted.toLocaleString()} inserted · {run.rows_updated.toLocaleString()} updated
            {run.rows_deleted > 0 ? ` · ${run.rows_deleted.toLocaleString()} deleted` : ''} · {plural(run.batches, 'batch', 'batches')} in{' '}
            {run.duration_ms.toLocaleString()} ms
          </span>
          {run.watermark && (
            <div class="small">
              watermark <span class="mono">{run.watermark}</span>
            </div>
          )}
          {run.error && <div class="small problem">{run.error}</div>}
        </>
      ) : (
        <span class="problem">{outcome.error}</span>
      )}
    </div>
  );
}

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

function JobDetail({ name, runs }: { name: string; runs: number }) {
  const job = useLoad(`Load the sync job ${name}`, `sync-${name}-${runs}`, () => api.syncShow(name));
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
        {d.job.via && (
          <>
            <dt>Through</dt>
            <dd data-testid="sync-via">
              <span class="mono">{d.job.via}</span>{' '}
              <span class="muted small">
                in {d.job.iceberg_catalog ? `the REST catalog at ${d.job.iceberg_catalog.url}` : 'the workspace’s Iceberg catalog'}: one
                snapshot per run, then merged into the target
              </span>
            </dd>
          </>
        )}
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
        <dd class="small">
          {d.checkpoint ? (
            <>
              <span class="mono">{d.checkpoint.watermark ?? '—'}</span>{' '}
              {d.checkpoint.updated_at && <span class="muted">· {relativeTime(d.checkpoint.updated_at)}</span>}
            </>
          ) : (
            <span class="muted">none yet</span>
          )}
        </dd>
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
  const { attempt } = useStore();
  const list = useLoad('Load the sync jobs', 'syncs', () => api.syncList());
  const [selected, setSelected] = useState<string | null>(null);
  // Jobs waiting for or in a run started here, the latest progress per job
  // (from any run the backend reports), and the outcomes of this session's runs.
  const [pending, setPending] = useState<Set<string>>(new Set());
  const [live, setLive] = useState<Record<string, SyncProgress>>({});
  const [outcomes, setOutcomes] = useState<Outcome[]>([]);
  const [runs, setRuns] = useState(0);
  const [active, setActive] = useState<string | null>(null);
  const jobs = list.data ?? [];
  const current = jobs.find((j) => j.job.name === selected) ?? jobs[0] ?? null;
  const section = SECTIONS.find((s) => s.id === 'syncs')!;
  const reload = list.reload;

  useEffect(
    () =>
      transport().onProgress((event) => {
        const p = event.sync;
        if (!p) return;
        // The last event stays until the run's call returns (a run started
        // elsewhere: until the list reloads), so the row never flashes back.
        setLive((l) => ({ ...l, [p.job]: p }));
        if (ended(p)) reload();
      }),
    [reload],
  );

  const runJobs = useCallback(
    async (names: string[]) => {
      setPending((s) => new Set([...s, ...names]));
      for (const name of names) {
        let outcome: Outcome;
        setActive(name);
        try {
          const result = await attempt(`Run the sync job ${name}`, () => api.syncRun(name));
          outcome = { job: name, result, error: null };
        } catch (e) {
          outcome = { job: name, result: null, error: e instanceof Error ? e.message : String(e) };
        }
        setOutcomes((o) => [outcome, ...o.filter((x) => x.job !== name)]);
        setLive((l) => {
          const next = { ...l };
          delete next[name];
          return next;
        });
        setPending((s) => {
          const next = new Set(s);
          next.delete(name);
          return next;
        });
        setRuns((r) => r + 1);
        reload();
      }
      setActive(null);
    },
    [attempt, reload],
  );

  const running = (name: string) => pending.has(name) || (!!live[name] && !ended(live[name]!));
  const anyRunning = pending.size > 0;

  return (
    <>
      <main class="main" aria-label="Syncs">
        <header class="main-head">
          <h1>Syncs</h1>
          <span class="spacer" />
          {jobs.length > 0 && (
            <button
              type="button"
              class="btn btn-primary"
              disabled={anyRunning}
              onClick={() => void runJobs(jobs.map((j) => j.job.name))}
              data-testid="sync-run-all"
            >
              {anyRunning ? 'Running…' : 'Run all'}
            </button>
          )}
        </header>
        {outcomes.length > 0 && (
          <div class="sync-results">
            {outcomes.map((o) => (
              <RunResult key={o.job} outcome={o} />
            ))}
          </div>
        )}
        {list.data && jobs.length === 0 && <EmptyState section={section} />}
        {jobs.length > 0 && (
          <div class="table-scroll">
            <table class="grid" data-testid="syncs-table">
              <thead>
                <tr>
                  <th>
                    <span class="sr-only">Run</span>
                  </th>
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
                {jobs.map(({ job, last_run, watermark }) => {
                  const busy = running(job.name);
                  const p = running(job.name) ? live[job.name] : undefined;
                  return (
                    <tr
                      key={job.name}
                      class={current?.job.name === job.name ? 'selected' : ''}
                      onClick={() => setSelected(job.name)}
                      data-testid="sync-row"
                      data-job={job.name}
                    >
                      <td class="col-run">
                        <button
                          type="button"
                          class="btn btn-small"
                          disabled={busy}
                          onClick={(e) => {
                            e.stopPropagation();
                            setSelected(job.name);
                            void runJobs([job.name]);
                          }}
                          data-testid="sync-run"
                          data-job={job.name}
                          aria-label={`Run the sync job ${job.name}`}
                        >
                          {busy ? 'Running…' : 'Run'}
                        </button>
                      </td>
                      <td class="col-name">{job.name}</td>
                      <td class="mono small clip" title={route(job)}>
                        {route(job)}
                      </td>
                      <td>{job.detect}</td>
                      <td>{job.merge}</td>
                      <td class="mono small clip" title={p?.watermark ?? watermark ?? ''}>
                        {(p?.watermark ?? watermark) || <span class="muted">—</span>}
                      </td>
                      <td class="muted">{last_run ? relativeTime(last_run.started_at) : 'never'}</td>
                      <td class="num">{p ? p.rows.toLocaleString() : last_run ? last_run.rows_loaded.toLocaleString() : '—'}</td>
                      <td class="num">{p ? Math.round(p.rows_per_sec).toLocaleString() : last_run ? rate(last_run) : '—'}</td>
                      <td>
                        {busy ? (
                          <LiveProgress job={job.name} p={p} queued={pending.has(job.name) && active !== job.name} />
                        ) : last_run ? (
                          <span class={`status status-${last_run.status}`}>{last_run.status}</span>
                        ) : (
                          <span class="muted">idle</span>
                        )}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </main>
      <aside class="detail" aria-label="Details">
        {current ? (
          <JobDetail key={current.job.name} name={current.job.name} runs={runs} />
        ) : (
          <div class="detail-empty muted">Nothing selected.</div>
        )}
      </aside>
    </>
  );
}
