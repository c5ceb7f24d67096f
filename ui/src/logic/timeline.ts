// The timeline's rows and its selection rules, apart from any rendering.

import type { SnapshotSummary } from '../bindings/SnapshotSummary';

/** `working` for the uncommitted row, else a snapshot version. */
export type RowRef = string;

export const WORKING: RowRef = 'working';

export type TimelineRow =
  | { kind: 'working'; ref: RowRef; ops: number }
  | { kind: 'snapshot'; ref: RowRef; snapshot: SnapshotSummary };

/** Newest on top, with the uncommitted ops first. `snapshots` comes oldest first. */
export function timelineRows(snapshots: SnapshotSummary[], uncommitted: number): TimelineRow[] {
  const rows: TimelineRow[] = new Array(snapshots.length + 1);
  rows[0] = { kind: 'working', ref: WORKING, ops: uncommitted };
  for (let i = 0; i < snapshots.length; i++) {
    const s = snapshots[snapshots.length - 1 - i]!;
    rows[i + 1] = { kind: 'snapshot', ref: s.version, snapshot: s };
  }
  return rows;
}

export interface Selection {
  /** Picked rows, at most two, in the order they were picked. */
  picked: RowRef[];
  /** The keyboard cursor (an index into the rows). */
  cursor: number;
}

export const EMPTY_SELECTION: Selection = { picked: [], cursor: 0 };

export type SelectionAction =
  | { type: 'click'; index: number; ref: RowRef }
  | { type: 'toggle'; index: number; ref: RowRef }
  | { type: 'move'; by: number; rows: TimelineRow[]; extend?: boolean }
  | { type: 'set'; picked: RowRef[]; cursor: number }
  | { type: 'prune'; rows: TimelineRow[] };

function clamp(n: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, n));
}

/** Adds `ref` to the picks, dropping the earliest when there would be three. */
function addPick(picked: RowRef[], ref: RowRef): RowRef[] {
  if (picked.includes(ref)) return picked.filter((r) => r !== ref);
  const next = [...picked, ref];
  return next.length > 2 ? next.slice(next.length - 2) : next;
}

/**
 * - click: select only this row.
 * - toggle (⇧/⌘/Ctrl-click, Space): add or remove this row from the pair.
 * - move (arrows): move the cursor and select that row alone, or with
 *   `extend` (⇧-arrow) keep the first pick and pair it with the new row.
 */
export function selectionReducer(state: Selection, action: SelectionAction): Selection {
  switch (action.type) {
    case 'click':
      return { picked: [action.ref], cursor: action.index };
    case 'toggle':
      return { picked: addPick(state.picked, action.ref), cursor: action.index };
    case 'move': {
      if (action.rows.length === 0) return state;
      const cursor = clamp(state.cursor + action.by, 0, action.rows.length - 1);
      const ref = action.rows[cursor]!.ref;
      if (action.extend) {
        const anchor = state.picked[0] ?? action.rows[state.cursor]?.ref;
        const picked = anchor && anchor !== ref ? [anchor, ref] : [ref];
        return { picked, cursor };
      }
      return { picked: [ref], cursor };
    }
    case 'set':
      return { picked: action.picked.slice(-2), cursor: action.cursor };
    case 'prune': {
      const known = new Set(action.rows.map((r) => r.ref));
      const picked = state.picked.filter((r) => known.has(r));
      const cursor = clamp(state.cursor, 0, Math.max(0, action.rows.length - 1));
      return picked.length === state.picked.length && cursor === state.cursor ? state : { picked, cursor };
    }
  }
}

/**
 * The pair to compare, older first, when two rows are picked. Rows are newest
 * first, so the one further down the list is the older.
 */
export function comparePair(rows: TimelineRow[], picked: RowRef[]): { from: RowRef; to: RowRef } | null {
  if (picked.length !== 2) return null;
  const index = (ref: RowRef) => rows.findIndex((r) => r.ref === ref);
  const [a, b] = picked as [RowRef, RowRef];
  const ia = index(a);
  const ib = index(b);
  if (ia < 0 || ib < 0) return null;
  return ia > ib ? { from: a, to: b } : { from: b, to: a };
}
