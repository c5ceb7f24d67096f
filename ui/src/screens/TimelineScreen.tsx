// Timeline section: the list, a comparison of two picked rows, and the
// right-hand panel with a snapshot's details or the changes' detail.

import { useEffect, useMemo, useState } from 'preact/hooks';
import type { Environment } from '../bindings/Environment';
import type { DiffReport } from '../bindings/DiffReport';
import type { Op } from '../bindings/Op';
import type { SnapshotSummary } from '../bindings/SnapshotSummary';
import type { Comparison } from '../bindings/Comparison';
import type { DialectKind } from '../bindings/DialectKind';
import { ChangeDetail, JSON_RENDERER, type ChangeRenderer } from '../components/ChangeDetail';
import { Compare } from '../components/Compare';
import { IconCompare, IconCopy, IconPlus, IconTag } from '../components/Icons';
import { Timeline } from '../components/Timeline';
import { absoluteTime, plural, relativeTime } from '../format';
import { DIALECTS, sqlPerChange } from '../logic/plan';
import { comparePair, type Selection, type SelectionAction, type TimelineRow } from '../logic/timeline';
import { useStore } from '../store';
import { api } from '../transport';
import { useLoad } from '../useLoad';

function opText(op: Op): string {
  const payload = 'payload' in op ? (op.payload as Record<string, unknown>) : null;
  const name = payload && typeof payload.name === 'string' ? ` ${payload.name}` : '';
  return `${op.op}${name}`;
}

function SnapshotInfo({ s }: { s: SnapshotSummary }) {
  const [copied, setCopied] = useState(false);
  return (
    <div class="detail-body" data-testid="snapshot-detail">
      <div class="detail-title">
        <span class="pill pill-version mono">{s.version}</span>
        <h3>{s.name}</h3>
      </div>
      {s.comment && <p class="detail-comment">{s.comment}</p>}
      <dl class="props">
        <dt>Author</dt>
        <dd>{s.created_by}</dd>
        <dt>Created</dt>
        <dd>
          {absoluteTime(s.created_at)} <span class="muted">({relativeTime(s.created_at)})</span>
        </dd>
        <dt>Previous</dt>
        <dd class="mono">{s.previous_version ?? <span class="muted">none (first)</span>}</dd>
        <dt>Ops</dt>
        <dd>{s.ops}</dd>
        <dt>Tables</dt>
        <dd>{s.tables}</dd>
        <dt>Tags</dt>
        <dd>
          {s.tags.length === 0 ? (
            <span class="muted">none</span>
          ) : (
            s.tags.map((t) => (
              <span class="tag" key={t}>
                <IconTag size={11} />
                {t}
              </span>
            ))
          )}
        </dd>
        <dt>SHA-256</dt>
        <dd class="hash-full">
          <code class="mono">{s.hash}</code>
          <button
            type="button"
            class="icon-btn"
            title="Copy the hash"
            aria-label="Copy the hash"
            onClick={() => {
              void navigator.clipboard?.writeText(s.hash).then(() => setCopied(true));
            }}
          >
            <IconCopy size={13} />
          </button>
          {copied && <span class="muted small">copied</span>}
        </dd>
      </dl>
      <p class="muted small">⇧-click another row (or press Space on it) to compare.</p>
    </div>
  );
}

function WorkingInfo({ ops, latest, onCreate }: { ops: Op[]; latest: string | null; onCreate: () => void }) {
  return (
    <div class="detail-body" data-testid="working-detail">
      <div class="detail-title">
        <span class="pill pill-working">working</span>
        <h3>{plural(ops.length, 'uncommitted op')}</h3>
      </div>
      <p class="muted">
        {latest ? `Recorded on top of ${latest}` : 'No snapshot yet'}. A snapshot seals them with a SHA-256 hash.
      </p>
      {ops.length > 0 && (
        <>
          <ol class="op-list">
            {ops.map((op) => (
              <li key={op.id}>
                <span class="mono">{opText(op)}</span>
                <span class="muted mono small"> on {op.target}</span>
              </li>
            ))}
          </ol>
          <button type="button" class="btn btn-primary" onClick={onCreate}>
            <IconPlus size={14} /> Create snapshot…
          </button>
        </>
      )}
    </div>
  );
}

export function TimelineScreen(props: {
  rows: TimelineRow[];
  selection: Selection;
  dispatch: (a: SelectionAction) => void;
  onCreate: () => void;
}) {
  const { data, attempt } = useStore();
  const { rows, selection, dispatch } = props;
  const pair = comparePair(rows, selection.picked);
  const [report, setReport] = useState<DiffReport | null>(null);
  const [loading, setLoading] = useState(false);
  const [active, setActive] = useState(0);
  const [renderer, setRenderer] = useState<string>(() => sessionStorage.getItem('tidemark.renderer') ?? 'json');
  const [plans, setPlans] = useState<Record<string, { comparison?: Comparison; sql?: string[]; error?: string }>>({});

  const fromRef = pair?.from ?? null;
  const toRef = pair?.to ?? null;
  useEffect(() => {
    setReport(null);
    setActive(0);
    if (!fromRef || !toRef) return;
    let live = true;
    setLoading(true);
    attempt(`Compare ${fromRef} with ${toRef}`, () => api.diff(fromRef, toRef))
      .then((r) => {
        if (live) setReport(r);
      })
      .catch(() => undefined)
      .finally(() => {
        if (live) setLoading(false);
      });
    return () => {
      live = false;
    };
  }, [fromRef, toRef, data.revision, attempt]);

  // The SQL of the chosen dialect, fetched when first shown for this pair.
  const planKey = fromRef && toRef ? `${fromRef}|${toRef}|${renderer}|${data.revision}` : null;
  useEffect(() => {
    sessionStorage.setItem('tidemark.renderer', renderer);
    if (!planKey || !fromRef || !toRef || !report || renderer === 'json' || plans[planKey]) return;
    const dialect = renderer as DialectKind;
    setPlans((p) => ({ ...p, [planKey]: {} }));
    attempt(`Plan ${fromRef} → ${toRef} for ${dialect}`, () => api.compare(fromRef, toRef, dialect))
      .then((comparison) =>
        setPlans((p) => ({ ...p, [planKey]: { comparison, sql: sqlPerChange(comparison.diff.changes, comparison) } })),
      )
      .catch((e: Error) => setPlans((p) => ({ ...p, [planKey]: { error: e.message } })));
  }, [planKey, renderer, report, attempt]);

  const renderers: ChangeRenderer[] = [
    JSON_RENDERER,
    ...DIALECTS.map((d): ChangeRenderer => {
      const entry = d.id === renderer && planKey ? plans[planKey] : undefined;
      return {
        id: d.id,
        label: d.label,
        render: (_row, i) => entry?.sql?.[i] ?? null,
        script: d.id === renderer ? (entry?.comparison?.script ?? null) : null,
        error: entry?.error ?? null,
      };
    }),
  ];

  // Environment badges on the versions they run (loaded in the background).
  const envs = useLoad('Load the environments', 'env-status', () => api.envStatus());
  const deployed = useMemo(() => {
    const map = new Map<string, Environment[]>();
    for (const e of envs.data?.environments ?? []) {
      if (e.version) map.set(e.version, [...(map.get(e.version) ?? []), e.environment]);
    }
    return map;
  }, [envs.data]);

  const one = selection.picked.length === 1 ? rows.find((r) => r.ref === selection.picked[0]) : undefined;
  const latest = data.snapshots.at(-1)?.version ?? null;

  return (
    <>
      <main class={`main timeline-screen${pair ? ' comparing' : ''}`} aria-label="Timeline">
        <header class="main-head">
          <h1>Timeline</h1>
          <span class="muted">
            {data.info?.project ?? ''} · {plural(data.snapshots.length, 'snapshot')}
          </span>
          <span class="spacer" />
          <span class="muted small hint">
            <IconCompare size={13} /> ⇧-click two rows to compare
          </span>
          <button type="button" class="btn btn-primary" onClick={props.onCreate} data-testid="open-create-snapshot">
            <IconPlus size={14} /> Create snapshot
          </button>
        </header>
        <div class="timeline-body">
          <Timeline rows={rows} selection={selection} dispatch={dispatch} pair={pair} deployed={deployed} />
          {pair && (
            <Compare
              from={pair.from}
              to={pair.to}
              report={report}
              loading={loading}
              active={active}
              onActivate={setActive}
            />
          )}
        </div>
      </main>
      <aside class="detail" aria-label="Details">
        {pair && report && report.changes.length > 0 ? (
          <ChangeDetail
            report={report}
            active={active}
            renderers={renderers}
            renderer={renderer}
            onRenderer={setRenderer}
          />
        ) : one?.kind === 'snapshot' ? (
          <SnapshotInfo s={one.snapshot} />
        ) : one?.kind === 'working' ? (
          <WorkingInfo ops={data.uncommitted} latest={latest} onCreate={props.onCreate} />
        ) : (
          <div class="detail-empty muted">
            {pair ? 'Pick a change to see it in full.' : 'Select a snapshot to see its details; pick two to compare them.'}
          </div>
        )}
      </aside>
    </>
  );
}
