// The status bar: workspace, project, background work, last error.

import type { ProgressEvent } from '../bindings/ProgressEvent';
import { plural } from '../format';
import type { LastError } from '../store';
import { IconAlert, IconClose, IconRefresh } from './Icons';

/** The last two parts of a path, so the file name is always visible. */
export function shortPath(path: string): string {
  const parts = path.split(/[\\/]/).filter(Boolean);
  return parts.length <= 2 ? path : `…/${parts.slice(-2).join('/')}`;
}

function Job({ job }: { job: ProgressEvent }) {
  const pct = job.total ? Math.min(100, Math.round((job.done / job.total) * 100)) : null;
  return (
    <span class={`job${job.finished ? ' done' : ''}${job.error ? ' failed' : ''}`} data-testid="job">
      <span class="job-label">{job.label}</span>
      <span
        class={`bar${pct == null && !job.finished ? ' indeterminate' : ''}`}
        role="progressbar"
        aria-label={job.label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={job.finished ? 100 : (pct ?? undefined)}
      >
        <span class="bar-fill" style={{ width: `${job.finished ? 100 : (pct ?? 35)}%` }} />
      </span>
      {job.total != null && !job.finished && (
        <span class="muted">
          {job.done}/{job.total}
        </span>
      )}
      {job.sync && !job.finished && (
        <span class="muted" data-testid="job-sync">
          {job.sync.rows.toLocaleString()} rows · {plural(job.sync.batches, 'batch', 'batches')}
        </span>
      )}
      {job.finished && <span class="muted">{job.error ? 'failed' : 'done'}</span>}
    </span>
  );
}

export function StatusBar(props: {
  workspace: string | null;
  project: string | null;
  actor: string | null;
  transport: string;
  jobs: ProgressEvent[];
  lastError: LastError | null;
  onDismiss: () => void;
}) {
  const { lastError } = props;
  return (
    <footer class="statusbar" data-testid="statusbar">
      <span class="sb-item mono sb-path" title={props.workspace ?? ''} data-testid="workspace-path">
        {props.workspace ? shortPath(props.workspace) : '…'}
      </span>
      <span class="sb-item">
        <span class="muted">project</span> {props.project ?? <span class="muted">none</span>}
      </span>
      <span class="sb-jobs">
        {props.jobs.map((j) => (
          <Job key={j.job} job={j} />
        ))}
      </span>
      <span class="spacer" />
      {lastError ? (
        <span class="sb-error" role="alert" data-testid="last-error" title={`${lastError.action}: ${lastError.error.message}`}>
          <IconAlert size={13} />
          <span class="sb-error-text">
            <strong>{lastError.action}:</strong> {lastError.error.message}
          </span>
          {lastError.retry && (
            <button type="button" class="sb-btn" onClick={lastError.retry}>
              <IconRefresh size={12} /> Retry
            </button>
          )}
          <button type="button" class="sb-btn" aria-label="Dismiss the error" onClick={props.onDismiss}>
            <IconClose size={12} />
          </button>
        </span>
      ) : (
        <span class="sb-item muted">
          {props.actor ? `${props.actor} · ` : ''}
          {props.transport}
        </span>
      )}
    </footer>
  );
}
