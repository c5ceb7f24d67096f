// Schema edits as ops: the forms of the Schema screen and the ops they make.

import type { Column } from '../bindings/Column';
import type { DataType } from '../bindings/DataType';
import type { ObjectId } from '../bindings/ObjectId';
import type { State } from '../bindings/State';
import type { Table } from '../bindings/Table';
import type { NewOp, TypeKind } from '../types';

/** Type kinds in the order the type picker lists them, with their labels. */
export const TYPE_KINDS: { kind: TypeKind; label: string }[] = [
  { kind: 'big_int', label: 'bigint' },
  { kind: 'integer', label: 'integer' },
  { kind: 'small_int', label: 'smallint' },
  { kind: 'decimal', label: 'decimal(p,s)' },
  { kind: 'real', label: 'real' },
  { kind: 'double', label: 'double' },
  { kind: 'boolean', label: 'boolean' },
  { kind: 'varchar', label: 'varchar(n)' },
  { kind: 'char', label: 'char(n)' },
  { kind: 'text', label: 'text' },
  { kind: 'uuid', label: 'uuid' },
  { kind: 'json', label: 'json' },
  { kind: 'date', label: 'date' },
  { kind: 'time', label: 'time' },
  { kind: 'timestamp', label: 'timestamp' },
  { kind: 'timestamp_tz', label: 'timestamptz' },
  { kind: 'binary', label: 'binary' },
  { kind: 'raw', label: 'native type…' },
];

export interface TypeForm {
  kind: TypeKind;
  length: string;
  precision: string;
  scale: string;
  sql: string;
}

export function typeForm(t: DataType): TypeForm {
  const f: TypeForm = { kind: t.kind, length: '', precision: '', scale: '', sql: '' };
  if (t.kind === 'varchar' || t.kind === 'char') f.length = t.length == null ? '' : String(t.length);
  if (t.kind === 'decimal') {
    f.precision = t.precision == null ? '' : String(t.precision);
    f.scale = t.scale == null ? '' : String(t.scale);
  }
  if (t.kind === 'raw') f.sql = t.sql;
  return f;
}

function positive(text: string, what: string, required: boolean): { value: number | null } | { error: string } {
  const t = text.trim();
  if (!t) return required ? { error: `${what} is required` } : { value: null };
  if (!/^\d+$/.test(t) || Number(t) > 1_000_000) return { error: `${what} must be a whole number` };
  return { value: Number(t) };
}

/** The DataType a type form describes, or what is wrong with it. */
export function typeFromForm(f: TypeForm): { type: DataType } | { error: string } {
  switch (f.kind) {
    case 'varchar': {
      const n = positive(f.length, 'Length', false);
      if ('error' in n) return n;
      return { type: { kind: 'varchar', length: n.value } };
    }
    case 'char': {
      const n = positive(f.length, 'Length', true);
      if ('error' in n) return n;
      return { type: { kind: 'char', length: n.value! } };
    }
    case 'decimal': {
      const p = positive(f.precision, 'Precision', false);
      if ('error' in p) return p;
      const s = positive(f.scale, 'Scale', false);
      if ('error' in s) return s;
      if (s.value != null && p.value == null) return { error: 'Give a precision with the scale' };
      if (s.value != null && p.value != null && s.value > p.value)
        return { error: 'Scale cannot exceed precision' };
      return { type: { kind: 'decimal', precision: p.value, scale: s.value } };
    }
    case 'raw':
      return f.sql.trim() ? { type: { kind: 'raw', sql: f.sql.trim() } } : { error: 'Type the native type, e.g. inet' };
    default:
      return { type: { kind: f.kind } as DataType };
  }
}

/** Type equality that ignores absent-vs-null optional fields. */
export function sameType(a: DataType, b: DataType): boolean {
  const norm = (t: DataType) => JSON.stringify(t, (_k, v: unknown) => (v === undefined ? null : v));
  return norm(a) === norm(b);
}

export interface ColumnForm {
  name: string;
  type: TypeForm;
  nullable: boolean;
  default: string;
  comment: string;
}

export function columnForm(c: Column): ColumnForm {
  return {
    name: c.name,
    type: typeForm(c.data_type),
    nullable: c.nullable,
    default: c.default ?? '',
    comment: c.comment ?? '',
  };
}

export const NEW_COLUMN: ColumnForm = {
  name: '',
  type: typeForm({ kind: 'text' }),
  nullable: true,
  default: '',
  comment: '',
};

const IDENT = /^[A-Za-z_][A-Za-z0-9_$]*$/;

/** A problem with a new object name, or null. */
export function checkName(name: string, what: string, taken: string[]): string | null {
  const n = name.trim();
  if (!n) return `Give the ${what} a name`;
  if (!IDENT.test(n)) return `“${n}” is not a plain identifier (letters, digits, _; not starting with a digit)`;
  if (taken.some((t) => t.toLowerCase() === n.toLowerCase())) return `The ${what} “${n}” already exists here`;
  return null;
}

export type OpsResult = { ops: NewOp[] } | { error: string };

/** The ops that turn column `c` of `table` into what the form says (empty when unchanged). */
export function columnEditOps(table: Table, c: Column, form: ColumnForm): OpsResult {
  const ops: NewOp[] = [];
  const name = form.name.trim();
  if (name !== c.name) {
    const bad = checkName(name, 'column', table.columns.filter((x) => x.id !== c.id).map((x) => x.name));
    if (bad) return { error: bad };
    ops.push({ target: c.id, op: 'rename_column', payload: { name } });
  }
  const t = typeFromForm(form.type);
  if ('error' in t) return t;
  if (!sameType(t.type, c.data_type)) ops.push({ target: c.id, op: 'change_column_type', payload: { data_type: t.type } });
  if (form.nullable !== c.nullable) ops.push({ target: c.id, op: 'set_nullable', payload: { nullable: form.nullable } });
  const def = form.default.trim() || null;
  if (def !== (c.default ?? null)) ops.push({ target: c.id, op: 'set_default', payload: { default: def } });
  const comment = form.comment.trim() || null;
  if (comment !== (c.comment ?? null)) ops.push({ target: c.id, op: 'set_comment', payload: { comment } });
  return { ops };
}

/** The op that adds a column to `table`. */
export function addColumnOps(table: Table, form: ColumnForm): OpsResult {
  const name = form.name.trim();
  const bad = checkName(name, 'column', table.columns.map((c) => c.name));
  if (bad) return { error: bad };
  const t = typeFromForm(form.type);
  if ('error' in t) return t;
  return {
    ops: [
      {
        target: table.id,
        op: 'add_column',
        payload: {
          name,
          data_type: t.type,
          nullable: form.nullable,
          default: form.default.trim() || null,
          comment: form.comment.trim() || null,
        },
      },
    ],
  };
}

export interface TableForm {
  name: string;
  comment: string;
}

/** The ops that rename a table or change its comment. */
export function tableEditOps(table: Table, siblings: string[], form: TableForm): OpsResult {
  const ops: NewOp[] = [];
  const name = form.name.trim();
  if (name !== table.name) {
    const bad = checkName(name, 'table', siblings.filter((s) => s !== table.name));
    if (bad) return { error: bad };
    ops.push({ target: table.id, op: 'rename_table', payload: { name } });
  }
  const comment = form.comment.trim() || null;
  if (comment !== (table.comment ?? null)) ops.push({ target: table.id, op: 'set_comment', payload: { comment } });
  return { ops };
}

/** The op that adds a table to a schema. */
export function addTableOps(schemaId: ObjectId, siblings: string[], name: string): OpsResult {
  const bad = checkName(name, 'table', siblings);
  if (bad) return { error: bad };
  return { ops: [{ target: schemaId, op: 'add_table', payload: { name: name.trim() } }] };
}

/** Where a table lives, for display and for sibling-name checks. */
export interface TableLocation {
  catalog: string;
  schema: string;
  schemaId: ObjectId;
  table: Table;
}

/** Every table of a state, in order. */
export function allTables(state: State): TableLocation[] {
  const out: TableLocation[] = [];
  for (const c of state.catalogs)
    for (const s of c.schemas) for (const t of s.tables) out.push({ catalog: c.name, schema: s.name, schemaId: s.id, table: t });
  return out;
}

/** The key roles of a column: PK, unique, FK, indexed. */
export function columnKeys(table: Table, column: string): ('PK' | 'UQ' | 'FK' | 'IX')[] {
  const keys: ('PK' | 'UQ' | 'FK' | 'IX')[] = [];
  if (table.primary_key?.columns.includes(column)) keys.push('PK');
  if (table.uniques?.some((u) => u.columns.includes(column)) || table.indexes?.some((i) => i.unique && i.columns.includes(column)))
    keys.push('UQ');
  if (table.foreign_keys?.some((f) => f.columns.includes(column))) keys.push('FK');
  if (table.indexes?.some((i) => !i.unique && i.columns.includes(column))) keys.push('IX');
  return keys;
}
