// Sample data shared by the unit tests.

import type { DiffRow } from './bindings/DiffRow';
import type { SnapshotSummary } from './bindings/SnapshotSummary';

export function summary(version: string, extra: Partial<SnapshotSummary> = {}): SnapshotSummary {
  return {
    id: `snap_${version}`,
    version,
    name: `Snapshot ${version}`,
    comment: null,
    tags: [],
    created_by: 'ana',
    created_at: '2026-01-01T00:00:00Z',
    previous_version: null,
    ops: 1,
    tables: 1,
    hash: 'ab'.repeat(32),
    ...extra,
  };
}

const customers = { catalog: 'shop', schema: 'public', name: 'customers' };
const orders = { catalog: 'shop', schema: 'public', name: 'orders' };

export const SAMPLE_CHANGES: DiffRow[] = [
  { change: 'rename_column', table: customers, from: 'name', to: 'full_name', summary: 'rename column public.customers.name → full_name', severity: 'breaking', reason: 'queries using the old name break' },
  { change: 'add_column', table: orders, position: 4, column: { id: 'col_n', name: 'note', data_type: { kind: 'text' }, nullable: true }, summary: 'add column public.orders.note text', severity: 'safe', reason: 'adds nullable column orders.note' },
  { change: 'set_column_nullable', table: customers, column: 'email', nullable: false, summary: 'set public.customers.email not null', severity: 'risky', reason: 'fails if a row has NULL' },
  { change: 'rename_table', from: { ...orders, name: 'order' }, to: 'orders', summary: 'rename table public.order → orders', severity: 'breaking', reason: 'queries using the old name break' },
  { change: 'add_schema', catalog: 'shop', name: 'audit', summary: 'add schema audit', severity: 'safe', reason: 'new schema' },
];

