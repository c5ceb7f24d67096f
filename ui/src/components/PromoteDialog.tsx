// Promote the snapshot of one environment to the next, deploy a chosen
// snapshot to an environment, or roll it back to an earlier one: the plan
// first (a dry run), breaking statements with their reasons on top, the full
// SQL, the drift check; the confirm button waits for the name of a protected
// environment to be typed.

import { useEffect, useState } from 'preact/hooks';
import type { DeployOutcome } from '../bindings/DeployOutcome';
import type { Environment } from '../bindings/Environment';
import { plural } from '../format';
import { severityCounts } from '../logic/compare';
import { useStore } from '../store';
import { api } from '../transport';
import { SEVERITIES } from '../types';
import { Dialog } from './Dialog';
import { DriftMark, EnvBadge } from './EnvBadge';
import { SeverityBadge } from './SeverityBadge';

/** What the dialog does: promote from the left neighbour, deploy a chosen
 * snapshot, or roll back to an earlier one. */
export type DeployRoute =
  | { kind: 'promote'; from: Environment }
  | { kind: 'deploy' | 'rollback'; choices: string[]; current: string | null };

type Args = { allow_breaking: boolean; confirm: string | null; dry_run: boolean };

export function PromoteDialog(props: { from: Environment; to: Environment; onClose: () => void; onDone: (message: string) => void }) {
  return <DeployDialog route={{ kind: 'promote', from: props.from }} to={props.to} onClose={props.onClose} onDone={props.onDone} />;
}

export function DeployDialog(props: { route: DeployRoute; to: Environment; onClose: () => void; onDone: (message: string) => void }) {
  const { attempt, refresh } = useStore();
  const { route, to } = props;
  const from = route.kind === 'promote' ? route.from : null;
  const choices = route.kind === 'promote' ? [] : route.choices;
  const [version, setVersion] = useState<string | null>(choices[0] ?? null);
  const [preview, setPreview] = useState<DeployOutcome | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [allowBreaking, setAllowBreaking] = useState(false);
  const [typed, setTyped] = useState('');
  const [busy, setBusy] = useState(false);

  const what =
    route.kind === 'promote'
      ? `the promotion ${from!.name} → ${to.name}`
      : route.kind === 'deploy'
        ? `the deployment of ${version ?? '?'} to ${to.name}`
        : `the rollback of ${to.name} to ${version ?? '?'}`;
  const run = (args: Args) =>
    route.kind === 'promote'
      ? api.promote({ from: from!.name, to: to.name, ...args })
      : route.kind === 'deploy'
        ? api.deploy({ env: to.name, snapshot: version, ...args })
        : api.rollback({ env: to.name, to: version ?? '', ...args });

  useEffect(() => {
    setPreview(null);
    setError(null);
    setAllowBreaking(false);
    if (route.kind !== 'promote' && !version) {
      setError(route.kind === 'rollback' ? `${to.name} has no earlier snapshot to roll back to` : 'no snapshot to deploy');
      return;
    }
    let live = true;
    attempt(`Plan ${what}`, () => run({ allow_breaking: false, confirm: null, dry_run: true }))
      .then((p) => live && setPreview(p))
      .catch((e: Error) => live && setError(e.message));
    return () => {
      live = false;
    };
    // `run` and `what` follow from these.
  }, [from?.name, to.name, route.kind, version, attempt]);

  const plan = preview?.plan;
  const counts = plan ? severityCounts(plan.statements) : null;
  const breaking = plan?.statements.filter((s) => s.severity === 'breaking') ?? [];
  const upToDate = preview?.result === 'up_to_date' || (plan && plan.statements.length === 0);
  const needsName = to.protected;
  const canConfirm =
    !!plan && !upToDate && !busy && (breaking.length === 0 || allowBreaking) && (!needsName || typed === to.name);

  const confirm = async () => {
    setBusy(true);
    setError(null);
    try {
      const action =
        route.kind === 'promote' ? `Promote ${from!.name} → ${to.name}` : route.kind === 'deploy' ? `Deploy ${version} to ${to.name}` : `Roll ${to.name} back to ${version}`;
      const outcome = await attempt(action, () =>
        run({
          allow_breaking: allowBreaking,
          confirm: needsName ? typed : null,
          dry_run: false,
        }),
      );
      await refresh();
      props.onDone(`${outcome.plan.to_version} is now deployed to ${to.name}`);
      props.onClose();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog
      title={
        route.kind === 'promote' ? `Promote ${from!.name} → ${to.name}` : route.kind === 'deploy' ? `Deploy to ${to.name}` : `Roll back ${to.name}`
      }
      onClose={props.onClose}
      wide
      testId={`${route.kind}-dialog`}
      footer={
        <>
          {needsName && plan && !upToDate && (
            <label class="confirm-name">
              Type <strong class="mono">{to.name}</strong> to confirm
              <input
                class="mono narrow"
                value={typed}
                aria-label={`Type ${to.name} to confirm`}
                onInput={(e) => setTyped(e.currentTarget.value)}
              />
            </label>
          )}
          <span class="spacer" />
          <button type="button" class="btn" onClick={props.onClose}>
            {upToDate ? 'Close' : 'Cancel'}
          </button>
          {!upToDate && (
            <button
              type="button"
              class={`btn ${breaking.length > 0 ? 'btn-danger' : 'btn-primary'}`}
              disabled={!canConfirm}
              onClick={() => void confirm()}
              data-testid="promote-confirm"
            >
              {busy
                ? 'Deploying…'
                : route.kind === 'rollback'
                  ? `Roll ${to.name} back to ${plan?.to_version ?? ''}`
                  : `Deploy ${plan?.to_version ?? ''} to ${to.name}`}
            </button>
          )}
        </>
      }
    >
      <div class="promote">
        {route.kind !== 'promote' && choices.length > 0 && (
          <label class="deploy-choice">
            {route.kind === 'deploy' ? 'Snapshot to deploy' : 'Roll back to'}
            <select
              class="mono"
              value={version ?? ''}
              onChange={(e) => setVersion(e.currentTarget.value)}
              data-testid="deploy-snapshot"
              aria-label={route.kind === 'deploy' ? 'Snapshot to deploy' : 'Snapshot to roll back to'}
            >
              {choices.map((v) => (
                <option key={v} value={v}>
                  {v}
                  {v === route.current ? ' (deployed)' : ''}
                </option>
              ))}
            </select>
            {route.current && <span class="muted small">{to.name} runs {route.current}</span>}
          </label>
        )}
        <div class="promote-route">
          {from ? (
            <>
              <EnvBadge env={from} />
              <span class="arrow">→</span>
            </>
          ) : (
            <span class="pill pill-version mono">{version ?? '—'}</span>
          )}
          {!from && <span class="arrow">→</span>}
          <EnvBadge env={to} />
          {plan && (
            <span class="muted">
              <span class="mono">{plan.from_version ?? 'empty'}</span> → <span class="mono">{plan.to_version}</span> · {plan.dialect}
            </span>
          )}
        </div>
        {error && (
          <div class="notice notice-error" role="alert" data-testid="promote-error">
            {error}
          </div>
        )}
        {!plan && !error && <p class="muted">Planning (dry run: nothing is changed)…</p>}
        {plan && upToDate && <div class="notice notice-ok">{to.name} already runs {plan.to_version}: nothing to deploy.</div>}
        {plan && !upToDate && counts && (
          <>
            <div class="promote-summary" data-testid="promote-summary">
              <span>{plural(plan.statements.length, 'statement')}</span>
              <span class="muted">for {plural(plan.changes, 'change')}</span>
              {SEVERITIES.slice()
                .reverse()
                .filter((s) => counts[s] > 0)
                .map((s) => (
                  <SeverityBadge key={s} severity={s} count={counts[s]} />
                ))}
            </div>
            {breaking.length > 0 && (
              <section class="promote-section">
                <h4>Breaking statements first</h4>
                {breaking.map((s, i) => (
                  <div class="stmt" key={i}>
                    <div class="stmt-head">
                      <SeverityBadge severity="breaking" />
                      <span>{s.reason}</span>
                    </div>
                    <pre class="code">{s.sql}</pre>
                  </div>
                ))}
                <label class="check">
                  <input type="checkbox" checked={allowBreaking} onChange={(e) => setAllowBreaking(e.currentTarget.checked)} />
                  Run the breaking statements too (they lose data or break readers)
                </label>
              </section>
            )}
            <section class="promote-section">
              <h4>
                Drift in {to.name}{' '}
                <DriftMark drift={plan.drift.drifted ? 'drifted' : 'clean'} items={plan.drift.items.length} />
              </h4>
              {plan.drift.items.length > 0 && (
                <ul class="plain small">
                  {plan.drift.items.map((d, i) => (
                    <li key={i}>
                      <span class={`drift-kind drift-${d.kind}`}>{d.kind}</span> {d.object_type}{' '}
                      <span class="mono">{d.object_name}</span> <span class="muted">{d.detail}</span>
                    </li>
                  ))}
                </ul>
              )}
            </section>
            {(plan.notes.length > 0 || plan.down_lossy.length > 0) && (
              <section class="promote-section">
                <h4>Notes</h4>
                <ul class="plain small">
                  {[...plan.notes, ...plan.down_lossy].map((n, i) => (
                    <li key={i}>{n}</li>
                  ))}
                </ul>
              </section>
            )}
            <section class="promote-section">
              <h4>Full SQL</h4>
              <pre class="code script" data-testid="promote-script">
                {plan.script}
              </pre>
            </section>
          </>
        )}
      </div>
    </Dialog>
  );
}
