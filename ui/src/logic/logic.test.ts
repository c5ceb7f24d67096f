import { describe, expect, it } from 'vitest';
import type { Column } from '../bindings/Column';
import type { Table } from '../bindings/Table';
import { groupChanges } from './compare';
import { addColumnOps, columnEditOps, columnForm, tableEditOps, typeFromForm, typeForm } from './schemaEdits';
import { EMPTY_FORM, checkSnapshotForm, parseTags } from './snapshotForm';
import { SAMPLE_CHANGES, summary } from '../testFixtures';
import { EMPTY_SELECTION, comparePair, selectionReducer, timelineRows } from './timeline';

describe('timeline rows and selection', () => {
  const rows = timelineRows([summary('0.1.0'), summary('0.2.0'), summary('1.0.0')], 2);

  it('puts the uncommitted row first and the newest snapshot next', () => {
    expect(rows.map((r) => r.ref)).toEqual(['working', '1.0.0', '0.2.0', '0.1.0']);
    expect(rows[0]).toMatchObject({ kind: 'working', ops: 2 });
  });

  it('a click selects one row; toggling adds a second; a third replaces the earliest pick', () => {
    let s = selectionReducer(EMPTY_SELECTION, { type: 'click', index: 2, ref: '0.2.0' });
    expect(s.picked).toEqual(['0.2.0']);
    s = selectionReducer(s, { type: 'toggle', index: 1, ref: '1.0.0' });
    expect(s.picked).toEqual(['0.2.0', '1.0.0']);
    s = selectionReducer(s, { type: 'toggle', index: 0, ref: 'working' });
    expect(s.picked).toEqual(['1.0.0', 'working']);
    s = selectionReducer(s, { type: 'toggle', index: 0, ref: 'working' });
    expect(s.picked).toEqual(['1.0.0']);
    s = selectionReducer(s, { type: 'click', index: 3, ref: '0.1.0' });
    expect(s).toEqual({ picked: ['0.1.0'], cursor: 3 });
  });

  it('arrows move the cursor within the list; shift-arrows pair with the first pick', () => {
    let s = selectionReducer(EMPTY_SELECTION, { type: 'move', by: 1, rows });
    expect(s).toEqual({ picked: ['1.0.0'], cursor: 1 });
    s = selectionReducer(s, { type: 'move', by: 10, rows });
    expect(s.cursor).toBe(3);
    s = selectionReducer(s, { type: 'move', by: -1, rows, extend: true });
    expect(s.picked).toEqual(['0.1.0', '0.2.0']);
    s = selectionReducer(s, { type: 'move', by: -99, rows });
    expect(s).toEqual({ picked: ['working'], cursor: 0 });
  });

  it('compares the older row with the newer, whatever the picking order', () => {
    expect(comparePair(rows, ['1.0.0', '0.2.0'])).toEqual({ from: '0.2.0', to: '1.0.0' });
    expect(comparePair(rows, ['0.2.0', '1.0.0'])).toEqual({ from: '0.2.0', to: '1.0.0' });
    expect(comparePair(rows, ['working', '0.1.0'])).toEqual({ from: '0.1.0', to: 'working' });
    expect(comparePair(rows, ['1.0.0'])).toBeNull();
  });

  it('prunes picks that no longer exist', () => {
    const s = selectionReducer({ picked: ['9.9.9', '1.0.0'], cursor: 9 }, { type: 'prune', rows });
    expect(s).toEqual({ picked: ['1.0.0'], cursor: 3 });
  });
});

describe('compare grouping', () => {
  it('groups by table in order of first appearance, keeping diff order inside', () => {
    const groups = groupChanges(SAMPLE_CHANGES);
    expect(groups.map((g) => g.key)).toEqual(['public.customers', 'public.orders', 'shop.audit']);
    expect(groups[0]!.changes.map((c) => c.index)).toEqual([0, 2]);
    expect(groups[1]!.changes.map((c) => c.row.change)).toEqual(['add_column', 'rename_table']);
    expect(groups[2]!.kind).toBe('schema');
  });

  it('tracks the worst severity and the counts per group', () => {
    const [cust, ord, audit] = groupChanges(SAMPLE_CHANGES);
    expect(cust!.worst).toBe('breaking');
    expect(cust!.counts).toEqual({ safe: 0, risky: 1, breaking: 1 });
    expect(ord!.worst).toBe('breaking');
    expect(audit!.worst).toBe('safe');
  });
});

describe('create-snapshot form', () => {
  const ctx = { latest: '1.0.0', uncommitted: 2 };

  it('needs a name', () => {
    const c = checkSnapshotForm({ ...EMPTY_FORM, name: '  ' }, ctx);
    expect(c.errors.name).toBeTruthy();
    expect(c.args).toBeNull();
  });

  it('previews the bumped version and builds the call', () => {
    const c = checkSnapshotForm({ ...EMPTY_FORM, name: ' Notes ', comment: ' ', tags: 'a, b a', bump: 'major' }, ctx);
    expect(c.preview).toBe('2.0.0');
    expect(c.args).toEqual({ name: 'Notes', comment: null, tags: ['a', 'b'], version: null, bump: 'major' });
  });

  it('checks an explicit version is a version above the latest', () => {
    const bad = checkSnapshotForm({ ...EMPTY_FORM, name: 'x', mode: 'version', version: '1.2' }, ctx);
    expect(bad.errors.version).toMatch(/not a version/);
    const low = checkSnapshotForm({ ...EMPTY_FORM, name: 'x', mode: 'version', version: '1.0.0' }, ctx);
    expect(low.errors.version).toMatch(/not above the latest snapshot 1\.0\.0/);
    const ok = checkSnapshotForm({ ...EMPTY_FORM, name: 'x', mode: 'version', version: 'v1.0.1' }, ctx);
    expect(ok.errors).toEqual({});
    expect(ok.args).toMatchObject({ version: '1.0.1', bump: null });
    expect(ok.preview).toBe('1.0.1');
  });

  it('says when there is nothing to snapshot', () => {
    const c = checkSnapshotForm({ ...EMPTY_FORM, name: 'x' }, { latest: '1.0.0', uncommitted: 0 });
    expect(c.errors.form).toMatch(/Nothing to snapshot/);
    expect(c.args).toBeNull();
    expect(checkSnapshotForm({ ...EMPTY_FORM, name: 'x' }, { latest: null, uncommitted: 0 }).preview).toBe('0.1.0');
  });

  it('splits tags on commas and spaces without repeats', () => {
    expect(parseTags(' release,,q3  release ')).toEqual(['release', 'q3']);
  });
});

describe('schema edits as ops', () => {
  const email: Column = { id: 'col_email', name: 'email', data_type: { kind: 'varchar', length: 255 }, nullable: false };
  const table: Table = {
    id: 'tbl_customers',
    name: 'customers',
    columns: [{ id: 'col_id', name: 'id', data_type: { kind: 'big_int' }, nullable: false }, email],
  };

  it('makes one op per changed property of a column, none when unchanged', () => {
    expect(columnEditOps(table, email, columnForm(email))).toEqual({ ops: [] });
    const form = { ...columnForm(email), name: 'email_address', nullable: true, default: "''", type: typeForm({ kind: 'text' }) };
    const result = columnEditOps(table, email, form);
    expect('ops' in result && result.ops.map((o) => o.op)).toEqual(['rename_column', 'change_column_type', 'set_nullable', 'set_default']);
    expect('ops' in result && result.ops.every((o) => o.target === 'col_email')).toBe(true);
  });

  it('refuses a name that is taken or not an identifier', () => {
    expect(columnEditOps(table, email, { ...columnForm(email), name: 'ID' })).toMatchObject({ error: expect.stringMatching(/already exists/) });
    expect(addColumnOps(table, { ...columnForm(email), name: '1st' })).toMatchObject({ error: expect.stringMatching(/not a plain identifier/) });
  });

  it('adds a column with its type, letting the backend pick the id', () => {
    const result = addColumnOps(table, { name: 'nickname', type: { ...typeForm({ kind: 'varchar' }), length: '40' }, nullable: true, default: '', comment: '' });
    expect(result).toEqual({
      ops: [{ target: 'tbl_customers', op: 'add_column', payload: { name: 'nickname', data_type: { kind: 'varchar', length: 40 }, nullable: true, default: null, comment: null } }],
    });
  });

  it('validates type parameters', () => {
    expect(typeFromForm({ ...typeForm({ kind: 'decimal' }), precision: '10', scale: '2' })).toEqual({ type: { kind: 'decimal', precision: 10, scale: 2 } });
    expect(typeFromForm({ ...typeForm({ kind: 'decimal' }), precision: '2', scale: '5' })).toMatchObject({ error: expect.any(String) });
    expect(typeFromForm({ ...typeForm({ kind: 'char', length: 1 }), length: '' })).toMatchObject({ error: expect.any(String) });
  });

  it('renames a table and sets its comment', () => {
    const result = tableEditOps(table, ['customers', 'orders'], { name: 'clients', comment: 'People' });
    expect('ops' in result && result.ops).toEqual([
      { target: 'tbl_customers', op: 'rename_table', payload: { name: 'clients' } },
      { target: 'tbl_customers', op: 'set_comment', payload: { comment: 'People' } },
    ]);
    expect(tableEditOps(table, ['customers', 'orders'], { name: 'orders', comment: '' })).toMatchObject({ error: expect.any(String) });
  });
});

describe('SQL per change from a plan', () => {
  it('matches plan changes to diff rows by content and keeps notes', async () => {
    const { sqlPerChange, changeOf } = await import('./plan');
    const rows = SAMPLE_CHANGES.slice(0, 3);
    // The plan lists the changes in another order than the diff.
    const planChanges = [changeOf(rows[1]!), changeOf(rows[0]!), changeOf(rows[2]!)];
    const comparison = {
      diff: { from: { kind: 'working' as const }, to: { kind: 'working' as const }, changes: rows, severity: 'breaking' as const },
      plan: {
        dialect: 'postgres' as const,
        changes: planChanges,
        statements: [
          { sql: 'ALTER TABLE "public"."orders" ADD COLUMN "note" text', change: 0, severity: 'safe' as const, reason: 'adds a nullable column' },
          { sql: 'ALTER TABLE "public"."customers" RENAME COLUMN "name" TO "full_name";', change: 1, severity: 'breaking' as const, reason: 'old name breaks' },
        ],
        notes: [{ change: 2, reason: 'checked by the database' }],
        down: null,
        down_lossy: [],
      },
      script: '',
      ddl_from: '',
      ddl_to: '',
      text_diff: [],
    };
    const sql = sqlPerChange(rows, comparison);
    expect(sql[0]).toBe('-- [breaking] old name breaks\nALTER TABLE "public"."customers" RENAME COLUMN "name" TO "full_name";');
    expect(sql[1]).toBe('-- [safe] adds a nullable column\nALTER TABLE "public"."orders" ADD COLUMN "note" text;');
    expect(sql[2]).toBe('-- note: checked by the database');
  });
});
