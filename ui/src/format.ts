// Small display helpers shared by the screens.

import type { DataType } from './bindings/DataType';
import type { QualifiedName } from './bindings/QualifiedName';

/** A column type as engineers write it: `varchar(255)`, `decimal(10,2)`. */
export function formatType(t: DataType): string {
  switch (t.kind) {
    case 'boolean':
      return 'boolean';
    case 'small_int':
      return 'smallint';
    case 'integer':
      return 'integer';
    case 'big_int':
      return 'bigint';
    case 'decimal':
      if (t.precision == null) return 'decimal';
      return t.scale == null ? `decimal(${t.precision})` : `decimal(${t.precision},${t.scale})`;
    case 'real':
      return 'real';
    case 'double':
      return 'double';
    case 'varchar':
      return t.length == null ? 'varchar' : `varchar(${t.length})`;
    case 'char':
      return `char(${t.length})`;
    case 'text':
      return 'text';
    case 'binary':
      return 'binary';
    case 'date':
      return 'date';
    case 'time':
      return 'time';
    case 'timestamp':
      return 'timestamp';
    case 'timestamp_tz':
      return 'timestamptz';
    case 'uuid':
      return 'uuid';
    case 'json':
      return 'json';
    case 'raw':
      return t.sql;
  }
}

/** `schema.table`, with the catalog only when asked for. */
export function formatTable(q: QualifiedName, withCatalog = false): string {
  return withCatalog ? `${q.catalog}.${q.schema}.${q.name}` : `${q.schema}.${q.name}`;
}

/** The first 8 hex characters of a SHA-256 hash. */
export function shortHash(hash: string): string {
  return hash.replace(/^sha256:/, '').slice(0, 8);
}

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 365 * 24 * 3600],
  ['month', 30 * 24 * 3600],
  ['week', 7 * 24 * 3600],
  ['day', 24 * 3600],
  ['hour', 3600],
  ['minute', 60],
];

const relative = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });

/** "3 days ago", "just now". */
export function relativeTime(iso: string, now: number = Date.now()): string {
  const seconds = (new Date(iso).getTime() - now) / 1000;
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size) return relative.format(Math.round(seconds / size), unit);
  }
  return 'just now';
}

/** A timestamp in the reader's locale, to the minute. */
export function absoluteTime(iso: string): string {
  return new Date(iso).toLocaleString(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  });
}

/** Plural with the count: `1 change`, `3 changes`. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
