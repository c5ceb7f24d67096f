// The timeline: snapshots newest on top, uncommitted ops first; pick one row
// for its details or two to compare them.

import type { TargetedKeyboardEvent, TargetedMouseEvent } from 'preact';
import { useLayoutEffect } from 'preact/hooks';
import { relativeTime, shortHash } from '../format';
import { type RowRef, type Selection, type SelectionAction, type TimelineRow } from '../logic/timeline';
import { MARK_TIMELINE_DATA } from '../store';
import type { Environment } from '../bindings/Environment';
import { EnvBadge } from './EnvBadge';
import { IconTag } from './Icons';
import { VirtualList } from './VirtualList';

export const TIMELINE_ROW_HEIGHT = 52;

export const MARK_TIMELINE_RENDERED = 'tm:timeline-rendered';
export const MEASURE_TIMELINE = 'tm:timeline-render';

function TimelineRowView(props: {
  row: TimelineRow;
  index: number;
  pickedAs: 'from' | 'to' | 'one' | null;
  cursor: boolean;
  last: boolean;
  latest: string | null;
  now: number;
  envs: Environment[];
  dispatch: (a: SelectionAction) => void;
}) {
  const { row, index, pickedAs, dispatch } = props;
  const onClick = (e: TargetedMouseEvent<HTMLDivElement>) => {
    if (e.shiftKey || e.metaKey || e.ctrlKey) dispatch({ type: 'toggle', index, ref: row.ref });
    else dispatch({ type: 'click', index, ref: row.ref });
  };
  const toggle = (e: TargetedMouseEvent<HTMLButtonElement>) => {
    e.stopPropagation();
    dispatch({ type: 'toggle', index, ref: row.ref });
  };
  const cls = [
    'tl-row',
    row.kind === 'working' ? 'tl-working' : '',
    pickedAs ? 'picked' : '',
    props.cursor ? 'cursor' : '',
    props.last ? 'tl-last' : '',
  ]
    .filter(Boolean)
    .join(' ');
  const id = `tl-${row.ref}`;
  return (
    <div
      id={id}
      class={cls}
      role="option"
      aria-selected={pickedAs ? 'true' : 'false'}
      data-ref={row.ref}
      data-testid="timeline-row"
      onClick={onClick}
    >
      <div class="tl-graph">
        <button
          type="button"
          class="tl-dot"
          tabIndex={-1}
          title={pickedAs ? 'Remove from the comparison' : 'Add to the comparison'}
          aria-label={pickedAs ? `Unpick ${row.ref}` : `Pick ${row.ref} to compare`}
          onClick={toggle}
        />
      </div>
      {row.kind === 'working' ? (
        <div class="tl-main">
          <div class="tl-line1">
            <span class="pill pill-working">working</span>
            <span class="tl-name">Uncommitted ops ({row.ops})</span>
          </div>
          <div class="tl-line2 muted">
            {row.ops === 0
              ? props.latest
                ? `Nothing changed since ${props.latest}`
                : 'Nothing recorded yet'
              : `Not in a snapshot yet${props.latest ? ` · on top of ${props.latest}` : ''}`}
          </div>
        </div>
      ) : (
        <div class="tl-main">
          <div class="tl-line1">
            <span class="pill pill-version mono">{row.snapshot.version}</span>
            <span class="tl-name" title={row.snapshot.name}>
              {row.snapshot.name}
            </span>
            {props.envs.map((e) => (
              <EnvBadge key={e.name} env={e} />
            ))}
            {row.snapshot.tags.map((t) => (
              <span class="tag" key={t}>
                <IconTag size={11} />
                {t}
              </span>
            ))}
          </div>
          <div class="tl-line2 muted">
            <span>{row.snapshot.created_by}</span>
            <span class="dot-sep">·</span>
            <time dateTime={row.snapshot.created_at} title={new Date(row.snapshot.created_at).toLocaleString()}>
              {relativeTime(row.snapshot.created_at, props.now)}
            </time>
            <span class="dot-sep">·</span>
            <span class="mono hash" title={row.snapshot.hash}>
              {shortHash(row.snapshot.hash)}
            </span>
          </div>
        </div>
      )}
      {pickedAs && pickedAs !== 'one' && <span class={`pick-mark pick-${pickedAs}`}>{pickedAs}</span>}
    </div>
  );
}

export function Timeline(props: {
  rows: TimelineRow[];
  selection: Selection;
  dispatch: (a: SelectionAction) => void;
  pair: { from: RowRef; to: RowRef } | null;
  /** Environments by the version they run, for the badges. */
  deployed?: Map<string, Environment[]>;
}) {
  const { rows, selection, dispatch, pair } = props;
  const latest = rows.find((r) => r.kind === 'snapshot')?.ref ?? null;
  const now = Date.now();

  useLayoutEffect(() => {
    // Render time of the list once the data is in (read by the browser tests).
    if (performance.getEntriesByName(MARK_TIMELINE_DATA).length === 0) return;
    performance.mark(MARK_TIMELINE_RENDERED);
    performance.measure(MEASURE_TIMELINE, MARK_TIMELINE_DATA, MARK_TIMELINE_RENDERED);
  }, [rows]);

  const pickedAs = (ref: RowRef): 'from' | 'to' | 'one' | null => {
    if (!selection.picked.includes(ref)) return null;
    if (!pair) return 'one';
    return ref === pair.from ? 'from' : 'to';
  };

  const onKeyDown = (e: TargetedKeyboardEvent<HTMLDivElement>) => {
    const move = (by: number) => {
      e.preventDefault();
      dispatch({ type: 'move', by, rows, extend: e.shiftKey });
    };
    switch (e.key) {
      case 'ArrowDown':
        return move(1);
      case 'ArrowUp':
        return move(-1);
      case 'PageDown':
        return move(10);
      case 'PageUp':
        return move(-10);
      case 'Home':
        return move(-rows.length);
      case 'End':
        return move(rows.length);
      case ' ': {
        e.preventDefault();
        const row = rows[selection.cursor];
        if (row) dispatch({ type: 'toggle', index: selection.cursor, ref: row.ref });
        return;
      }
    }
  };

  return (
    <VirtualList
      items={rows}
      rowHeight={TIMELINE_ROW_HEIGHT}
      getKey={(r) => r.ref}
      activeIndex={selection.cursor}
      label="Snapshot timeline"
      class="timeline-list"
      testId="timeline"
      onKeyDown={onKeyDown}
      renderRow={(row, index) => (
        <TimelineRowView
          row={row}
          index={index}
          pickedAs={pickedAs(row.ref)}
          cursor={index === selection.cursor}
          last={index === rows.length - 1}
          latest={latest}
          now={now}
          envs={props.deployed?.get(row.ref) ?? []}
          dispatch={dispatch}
        />
      )}
    />
  );
}
