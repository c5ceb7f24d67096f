// Per-change SQL from a comparison's migration plan.

import type { Change } from '../bindings/Change';
import type { Comparison } from '../bindings/Comparison';
import type { DialectKind } from '../bindings/DialectKind';
import type { DiffRow } from '../bindings/DiffRow';

export const DIALECTS: { id: DialectKind; label: string }[] = [
  { id: 'postgres', label: 'PostgreSQL' },
  { id: 'mysql', label: 'MySQL' },
  { id: 'sqlite', label: 'SQLite' },
  { id: 'sql_server', label: 'SQL Server' },
  { id: 'databricks', label: 'Databricks' },
];

/** The change of a diff row, without the assessment fields. */
export function changeOf(row: DiffRow): Change {
  const { summary: _s, severity: _v, reason: _r, ...change } = row;
  return change as Change;
}

/**
 * The SQL text for each diff row (by index): its statements, each with its
 * severity and reason as a comment, or the plan's note when a change needs
 * no statement in this dialect.
 */
export function sqlPerChange(rows: DiffRow[], comparison: Comparison): string[] {
  const { plan } = comparison;
  // Plan changes are matched to diff rows by content, not position.
  const keyOf = (c: Change) => JSON.stringify(c);
  const planIndex = new Map<string, number[]>();
  plan.changes.forEach((c, i) => {
    const k = keyOf(c);
    planIndex.set(k, [...(planIndex.get(k) ?? []), i]);
  });
  return rows.map((row, r) => {
    const candidates = planIndex.get(keyOf(changeOf(row)));
    const p = candidates?.shift() ?? (plan.changes.length === rows.length ? r : -1);
    const lines: string[] = [];
    for (const s of plan.statements.filter((st) => st.change === p)) {
      lines.push(`-- [${s.severity}] ${s.reason}`);
      const sql = s.sql.trimEnd();
      lines.push(sql.endsWith(';') ? sql : `${sql};`);
    }
    for (const n of plan.notes.filter((note) => note.change === p)) lines.push(`-- note: ${n.reason}`);
    return lines.length > 0 ? lines.join('\n') : '-- no statement in this dialect';
  });
}
