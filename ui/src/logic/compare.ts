// Grouping a diff's changes by the table they touch.

import type { DiffRow } from '../bindings/DiffRow';
import type { Severity } from '../types';

export interface ChangeGroup {
  /** `schema.table`, or `catalog.schema` / `catalog` for non-table changes. */
  key: string;
  /** What the group is: a table, or the schemas/catalogs themselves. */
  kind: 'table' | 'schema' | 'catalog';
  /** The changes in diff order, with their index in the whole report. */
  changes: { row: DiffRow; index: number }[];
  /** The worst severity in the group. */
  worst: Severity;
  /** How many changes of each severity. */
  counts: Record<Severity, number>;
}

const RANK: Record<Severity, number> = { safe: 0, risky: 1, breaking: 2 };

/** The group a change belongs to. Renamed tables go under their new name. */
export function changeGroupKey(row: DiffRow): { key: string; kind: ChangeGroup['kind'] } {
  switch (row.change) {
    case 'add_catalog':
    case 'drop_catalog':
      return { key: row.name, kind: 'catalog' };
    case 'rename_catalog':
      return { key: row.to, kind: 'catalog' };
    case 'add_schema':
    case 'drop_schema':
    case 'set_schema_comment':
      return { key: `${row.catalog}.${row.name}`, kind: 'schema' };
    case 'rename_schema':
      return { key: `${row.catalog}.${row.to}`, kind: 'schema' };
    case 'rename_table':
      return { key: `${row.from.schema}.${row.to}`, kind: 'table' };
    default:
      return { key: `${row.table.schema}.${row.table.name}`, kind: 'table' };
  }
}

/** Tally of severities over some changes. */
export function severityCounts(rows: Iterable<{ severity: Severity }>): Record<Severity, number> {
  const counts: Record<Severity, number> = { safe: 0, risky: 0, breaking: 0 };
  for (const r of rows) counts[r.severity]++;
  return counts;
}

/** Groups in order of first appearance; changes keep their diff order. */
export function groupChanges(rows: DiffRow[]): ChangeGroup[] {
  const groups = new Map<string, ChangeGroup>();
  rows.forEach((row, index) => {
    const { key, kind } = changeGroupKey(row);
    let g = groups.get(key);
    if (!g) {
      g = { key, kind, changes: [], worst: 'safe', counts: { safe: 0, risky: 0, breaking: 0 } };
      groups.set(key, g);
    }
    g.changes.push({ row, index });
    g.counts[row.severity]++;
    if (RANK[row.severity] > RANK[g.worst]) g.worst = row.severity;
  });
  return [...groups.values()];
}
