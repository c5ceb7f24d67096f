// The change list of a comparison, grouped by table, with severity marks.

import type { TargetedKeyboardEvent } from 'preact';
import { useMemo } from 'preact/hooks';
import type { DiffReport } from '../bindings/DiffReport';
import { plural } from '../format';
import { groupChanges, severityCounts } from '../logic/compare';
import { SEVERITIES } from '../types';
import { IconFolder, IconTable } from './Icons';
import { SeverityBadge } from './SeverityBadge';

export function refLabel(ref: string): string {
  return ref === 'working' ? 'working state' : ref;
}

export function CompareSummary({ report }: { report: DiffReport }) {
  const counts = severityCounts(report.changes);
  return (
    <div class="compare-summary" data-testid="compare-summary">
      <span class="muted">{plural(report.changes.length, 'change')}</span>
      {SEVERITIES.slice()
        .reverse()
        .filter((s) => counts[s] > 0)
        .map((s) => (
          <SeverityBadge key={s} severity={s} count={counts[s]} />
        ))}
    </div>
  );
}

export function Compare(props: {
  from: string;
  to: string;
  report: DiffReport | null;
  loading: boolean;
  active: number;
  onActivate: (index: number) => void;
}) {
  const { report } = props;
  const groups = useMemo(() => (report ? groupChanges(report.changes) : []), [report]);

  const onKeyDown = (e: TargetedKeyboardEvent<HTMLDivElement>) => {
    if (!report || report.changes.length === 0) return;
    const n = report.changes.length;
    // Navigate in display order (grouped), not in diff order.
    const order = groups.flatMap((g) => g.changes.map((c) => c.index));
    const pos = Math.max(0, order.indexOf(props.active));
    if (e.key === 'ArrowDown') {
      e.preventDefault();
      props.onActivate(order[Math.min(n - 1, pos + 1)]!);
    } else if (e.key === 'ArrowUp') {
      e.preventDefault();
      props.onActivate(order[Math.max(0, pos - 1)]!);
    }
  };

  return (
    <section class="compare" aria-label="Comparison" data-testid="compare">
      <header class="pane-head">
        <div class="pane-title">
          <span class="pill pill-version mono">{refLabel(props.from)}</span>
          <span class="arrow">→</span>
          <span class="pill pill-version mono">{refLabel(props.to)}</span>
        </div>
        {report && <CompareSummary report={report} />}
      </header>
      {props.loading && !report && <div class="pane-note muted">Comparing…</div>}
      {report && report.changes.length === 0 && (
        <div class="pane-note">
          <strong>No differences.</strong>
          <span class="muted"> The two states are the same.</span>
        </div>
      )}
      {report && report.changes.length > 0 && (
        <div class="change-groups" role="listbox" aria-label="Changes" tabIndex={0} onKeyDown={onKeyDown}>
          {groups.map((g) => (
            <div class="change-group" key={g.key} data-testid="change-group" data-group={g.key}>
              <div class="group-head">
                {g.kind === 'table' ? <IconTable size={14} /> : <IconFolder size={14} />}
                <span class="mono group-name">{g.key}</span>
                <span class="group-kind muted">{g.kind}</span>
                <span class="spacer" />
                <SeverityBadge severity={g.worst} quiet />
              </div>
              {g.changes.map(({ row, index }) => (
                <div
                  key={index}
                  class={`change-row sev-row-${row.severity}${index === props.active ? ' active' : ''}`}
                  role="option"
                  aria-selected={index === props.active}
                  data-testid="change-row"
                  data-severity={row.severity}
                  data-change={row.change}
                  onClick={() => props.onActivate(index)}
                >
                  <SeverityBadge severity={row.severity} />
                  <div class="change-text">
                    <div class="change-summary">{row.summary}</div>
                    <div class="change-reason muted">{row.reason}</div>
                  </div>
                </div>
              ))}
            </div>
          ))}
        </div>
      )}
    </section>
  );
}
