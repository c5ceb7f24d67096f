// Environments board: one column per environment in promotion order, with
// what each runs, its drift, how far it is behind; "Promote →" between them;
// "Deploy…" and "Rollback…" on each card.

import { Fragment } from 'preact';
import { useState } from 'preact/hooks';
import type { EnvStatus } from '../bindings/EnvStatus';
import { DriftMark, EnvBadge, envColorClass } from '../components/EnvBadge';
import { EmptyState } from '../components/EmptySection';
import { IconRefresh } from '../components/Icons';
import { DeployDialog, type DeployRoute, PromoteDialog } from '../components/PromoteDialog';
import { absoluteTime, plural, relativeTime } from '../format';
import { SECTIONS } from '../sections';
import { useStore } from '../store';
import { api } from '../transport';
import { useLoad } from '../useLoad';
import { EnvDetail } from './DriftScreen';

function EnvCard(props: {
  s: EnvStatus;
  left: EnvStatus | null;
  selected: boolean;
  onSelect: () => void;
  /** Versions oldest first. */
  versions: string[];
  onDeploy: () => void;
  onRollback: () => void;
}) {
  const { s, left, selected, onSelect } = props;
  const behind = s.behind_previous;
  const behindLatest = s.behind_latest;
  const at = s.version ? props.versions.indexOf(s.version) : -1;
  const canRollback = at > 0;
  return (
    <div
      class={`env-column ${envColorClass(s.environment.color)}${selected ? ' selected' : ''}`}
      data-testid="env-column"
      data-env={s.environment.name}
      onClick={onSelect}
    >
      <div class="env-head">
        <EnvBadge env={s.environment} />
        <span class="muted mono small">{s.environment.connection}</span>
      </div>
      <div class="env-card">
        {s.version ? (
          <>
            <div class="env-version">
              <span class="pill pill-version mono">{s.version}</span>
              {behindLatest === 0 && <span class="muted small">latest</span>}
            </div>
            <div class="muted small">
              deployed{' '}
              <time title={s.deployed_at ? absoluteTime(s.deployed_at) : ''}>{s.deployed_at ? relativeTime(s.deployed_at) : ''}</time>
              {s.deployed_by ? ` by ${s.deployed_by}` : ''}
            </div>
          </>
        ) : (
          <div class="muted">Nothing deployed yet</div>
        )}
        <DriftMark drift={s.drift} items={s.drift_items} problem={s.problem} />
        {left && behind != null && (
          <div class="small" data-testid="env-behind">
            {behind === 0 ? (
              <span class="muted">same as {left.environment.name}</span>
            ) : (
              <span>
                {plural(behind, 'version')} behind {left.environment.name}
              </span>
            )}
          </div>
        )}
        {s.problem && <div class="small problem">{s.problem}</div>}
        <div class="env-actions">
          <button
            type="button"
            class="btn btn-small"
            disabled={props.versions.length === 0}
            title={props.versions.length === 0 ? 'The project has no snapshots yet' : `Choose a snapshot to deploy to ${s.environment.name}`}
            onClick={(e) => {
              e.stopPropagation();
              props.onDeploy();
            }}
            data-testid={`deploy-${s.environment.name}`}
          >
            Deploy…
          </button>
          <button
            type="button"
            class="btn btn-small"
            disabled={!canRollback}
            title={canRollback ? `Deploy an earlier snapshot to ${s.environment.name}` : `${s.environment.name} runs no snapshot with an earlier one`}
            onClick={(e) => {
              e.stopPropagation();
              props.onRollback();
            }}
            data-testid={`rollback-${s.environment.name}`}
          >
            Rollback…
          </button>
        </div>
      </div>
    </div>
  );
}

export function EnvironmentsScreen() {
  const status = useLoad('Load the environments', 'env-status', () => api.envStatus());
  const [selected, setSelected] = useState<string | null>(null);
  const [promote, setPromote] = useState<[EnvStatus, EnvStatus] | null>(null);
  const [deploy, setDeploy] = useState<{ env: EnvStatus; route: DeployRoute } | null>(null);
  const { data } = useStore();
  const versions = data.snapshots.map((v) => v.version);
  const [message, setMessage] = useState<string | null>(null);
  const envs = status.data?.environments ?? [];
  const current = envs.find((e) => e.environment.name === selected) ?? envs[0] ?? null;
  const section = SECTIONS.find((s) => s.id === 'environments')!;

  return (
    <>
      <main class="main" aria-label="Environments">
        <header class="main-head">
          <h1>Environments</h1>
          {status.data && (
            <span class="muted">
              {status.data.project} · latest <span class="mono">{status.data.latest_version ?? '—'}</span>
            </span>
          )}
          <span class="spacer" />
          <button type="button" class="btn" onClick={status.reload} disabled={status.loading}>
            <IconRefresh size={14} /> {status.loading ? 'Checking…' : 'Refresh'}
          </button>
        </header>
        {message && (
          <div class="notice notice-ok banner" role="status">
            {message}
          </div>
        )}
        {status.error && !status.data && (
          <div class="notice notice-error banner" role="alert">
            {status.error}
          </div>
        )}
        {status.data && envs.length === 0 && <EmptyState section={section} />}
        {envs.length > 0 && (
          <div class="board" data-testid="env-board">
            {envs.map((s, i) => {
              const left = i > 0 ? envs[i - 1]! : null;
              return (
                <Fragment key={s.environment.name}>
                  {left && (
                    <div class="promote-gap">
                      <button
                        type="button"
                        class="btn promote-btn"
                        disabled={!left.version || left.version === s.version}
                        title={
                          !left.version
                            ? `${left.environment.name} has nothing deployed`
                            : left.version === s.version
                              ? `${s.environment.name} already runs ${left.version}`
                              : `Deploy ${left.version} from ${left.environment.name} to ${s.environment.name}`
                        }
                        onClick={() => setPromote([left, s])}
                        data-testid={`promote-${left.environment.name}-${s.environment.name}`}
                      >
                        Promote →
                      </button>
                    </div>
                  )}
                  <EnvCard
                    s={s}
                    left={left}
                    selected={current?.environment.name === s.environment.name}
                    onSelect={() => setSelected(s.environment.name)}
                    versions={versions}
                    onDeploy={() => {
                      // Newest first, the deployed version last.
                      const others = versions.filter((v) => v !== s.version).reverse();
                      const choices = s.version ? [...others, s.version] : others;
                      setDeploy({ env: s, route: { kind: 'deploy', choices, current: s.version } });
                    }}
                    onRollback={() => {
                      const at = s.version ? versions.indexOf(s.version) : -1;
                      const earlier = versions.slice(0, Math.max(0, at)).reverse();
                      setDeploy({ env: s, route: { kind: 'rollback', choices: earlier, current: s.version } });
                    }}
                  />
                </Fragment>
              );
            })}
          </div>
        )}
      </main>
      <aside class="detail" aria-label="Details">
        {current ? <EnvDetail key={current.environment.name} status={current} /> : <div class="detail-empty muted">Nothing selected.</div>}
      </aside>
      {deploy && (
        <DeployDialog
          route={deploy.route}
          to={deploy.env.environment}
          onClose={() => setDeploy(null)}
          onDone={(m) => {
            setMessage(m);
            status.reload();
          }}
        />
      )}
      {promote && (
        <PromoteDialog
          from={promote[0].environment}
          to={promote[1].environment}
          onClose={() => setPromote(null)}
          onDone={(m) => {
            setMessage(m);
            status.reload();
          }}
        />
      )}
    </>
  );
}
