// Drift: each environment's live database against the snapshot it should
// hold. A red dot with a count when it drifted, a quiet grey check when not.

import { useState } from 'preact/hooks';
import type { DriftReport } from '../bindings/DriftReport';
import type { EnvStatus } from '../bindings/EnvStatus';
import { DriftMark, EnvBadge } from '../components/EnvBadge';
import { EmptyState } from '../components/EmptySection';
import { IconRefresh } from '../components/Icons';
import { relativeTime } from '../format';
import { SECTIONS } from '../sections';
import { useStore } from '../store';
import { api } from '../transport';
import { useLoad } from '../useLoad';

function DriftItems({ report }: { report: DriftReport }) {
  if (!report.drifted && report.items.length === 0 && !report.marker_problem) {
    return <div class="notice notice-ok">No drift: {report.environment} matches {report.expected_version ?? 'its snapshot'}.</div>;
  }
  return (
    <div class="drift-report" data-testid="drift-report">
      {report.marker_problem && <div class="notice notice-warn">{report.marker_problem}</div>}
      {(['missing', 'modified', 'extra'] as const).map((kind) => {
        const items = report.items.filter((i) => i.kind === kind);
        if (items.length === 0) return null;
        return (
          <div key={kind}>
            <h4>
              <span class={`drift-kind drift-${kind}`}>{kind}</span> {items.length}
            </h4>
            <ul class="plain">
              {items.map((d, i) => (
                <li key={i}>
                  <span class="muted">{d.object_type}</span> <span class="mono">{d.object_name}</span>
                  {d.detail && <span class="muted small"> — {d.detail}</span>}
                </li>
              ))}
            </ul>
          </div>
        );
      })}
    </div>
  );
}

/** The right-hand panel for one environment: settings, a drift check, history. */
export function EnvDetail({ status }: { status: EnvStatus }) {
  const { attempt } = useStore();
  const env = status.environment;
  const [report, setReport] = useState<DriftReport | null>(null);
  const [checking, setChecking] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const history = useLoad(`Load the history of ${env.name}`, `history-${env.name}`, () => api.history(env.name));

  const check = async () => {
    setChecking(true);
    setError(null);
    try {
      setReport(await attempt(`Check drift in ${env.name}`, () => api.drift(env.name)));
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setChecking(false);
    }
  };

  return (
    <div class="detail-body" data-testid="env-detail">
      <div class="detail-title">
        <EnvBadge env={env} />
        <span class="muted mono small">{env.connection}</span>
      </div>
      <dl class="props">
        <dt>Runs</dt>
        <dd class="mono">{status.version ?? <span class="muted">nothing</span>}</dd>
        <dt>Drift</dt>
        <dd>
          <DriftMark drift={status.drift} items={status.drift_items} problem={status.problem} />
        </dd>
        <dt>Rules</dt>
        <dd class="small">
          {[env.protected && 'protected', env.require_snapshot && 'snapshots only', env.allow_drift && 'deploys despite drift']
            .filter(Boolean)
            .join(' · ') || <span class="muted">none</span>}
        </dd>
      </dl>
      <div class="form-actions">
        <button type="button" class="btn" onClick={() => void check()} disabled={checking} data-testid="check-drift">
          <IconRefresh size={14} /> {checking ? 'Checking…' : 'Check drift now'}
        </button>
      </div>
      {error && (
        <div class="notice notice-error" role="alert">
          {error}
        </div>
      )}
      {report && <DriftItems report={report} />}
      <h4 class="section-label">History</h4>
      {history.data && history.data.length === 0 && <p class="muted small">No deployments yet.</p>}
      <ul class="plain history">
        {history.data?.slice(0, 20).map((d) => (
          <li key={d.id}>
            <span class={`status status-${d.status}`}>{d.status}</span>
            <span class="small">
              {d.action} <span class="mono">{d.from_version ?? '∅'}</span> → <span class="mono">{d.to_version}</span>
            </span>
            <span class="muted small">
              {relativeTime(d.started_at)} · {d.deployed_by}
            </span>
            {d.error && <span class="small problem">{d.error}</span>}
          </li>
        ))}
      </ul>
    </div>
  );
}

export function DriftScreen() {
  const status = useLoad('Load the environments', 'env-status', () => api.envStatus());
  const [selected, setSelected] = useState<string | null>(null);
  const envs = status.data?.environments ?? [];
  const current = envs.find((e) => e.environment.name === selected) ?? envs[0] ?? null;
  const section = SECTIONS.find((s) => s.id === 'drift')!;
  return (
    <>
      <main class="main" aria-label="Drift">
        <header class="main-head">
          <h1>Drift</h1>
          <span class="muted">live databases against the snapshots they should hold</span>
          <span class="spacer" />
          <button type="button" class="btn" onClick={status.reload} disabled={status.loading}>
            <IconRefresh size={14} /> {status.loading ? 'Checking…' : 'Check all'}
          </button>
        </header>
        {status.data && envs.length === 0 && <EmptyState section={section} />}
        {envs.length > 0 && (
          <table class="grid" data-testid="drift-table">
            <thead>
              <tr>
                <th>Environment</th>
                <th>Expected</th>
                <th>Drift</th>
                <th>Connection</th>
              </tr>
            </thead>
            <tbody>
              {envs.map((s) => (
                <tr
                  key={s.environment.name}
                  class={current?.environment.name === s.environment.name ? 'selected' : ''}
                  onClick={() => setSelected(s.environment.name)}
                  data-env={s.environment.name}
                >
                  <td>
                    <EnvBadge env={s.environment} />
                  </td>
                  <td class="mono">{s.version ?? <span class="muted">nothing deployed</span>}</td>
                  <td>
                    <DriftMark drift={s.drift} items={s.drift_items} problem={s.problem} />
                  </td>
                  <td class="mono muted">{s.environment.connection}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </main>
      <aside class="detail" aria-label="Details">
        {current ? <EnvDetail key={current.environment.name} status={current} /> : <div class="detail-empty muted">Nothing selected.</div>}
      </aside>
    </>
  );
}
