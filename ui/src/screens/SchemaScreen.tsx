// Schema section: the working state as a tree (catalog → schema → table),
// a table's columns, and edits that become ops.

import type { TargetedKeyboardEvent } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { Column } from '../bindings/Column';
import type { ObjectId } from '../bindings/ObjectId';
import type { Table } from '../bindings/Table';
import { IconChevronDown, IconChevronRight, IconEdit, IconFolder, IconKey, IconLink, IconPlus, IconSchema, IconSearch, IconTable, IconTrash } from '../components/Icons';
import { formatType, plural } from '../format';
import {
  NEW_COLUMN,
  TYPE_KINDS,
  addColumnOps,
  addTableOps,
  allTables,
  columnEditOps,
  columnForm,
  columnKeys,
  tableEditOps,
  type ColumnForm,
  type OpsResult,
  type TableLocation,
  type TypeForm,
} from '../logic/schemaEdits';
import { useStore } from '../store';
import type { NewOp, TypeKind } from '../types';

type Panel =
  | { kind: 'table' }
  | { kind: 'column'; id: ObjectId }
  | { kind: 'new-column' }
  | { kind: 'new-table'; schemaId: ObjectId }
  | { kind: 'drop-table' }
  | { kind: 'drop-column'; id: ObjectId };

/** Imperative hooks for the command palette. */
export interface SchemaCommands {
  addTable: () => void;
  addColumn: () => void;
}

function TypePicker({ value, onChange }: { value: TypeForm; onChange: (t: TypeForm) => void }) {
  const set = (patch: Partial<TypeForm>) => onChange({ ...value, ...patch });
  return (
    <div class="type-picker">
      <select
        aria-label="Type"
        name="type"
        value={value.kind}
        onChange={(e) => set({ kind: e.currentTarget.value as TypeKind })}
      >
        {TYPE_KINDS.map((k) => (
          <option key={k.kind} value={k.kind}>
            {k.label}
          </option>
        ))}
      </select>
      {(value.kind === 'varchar' || value.kind === 'char') && (
        <input
          class="narrow mono"
          aria-label="Length"
          placeholder="length"
          value={value.length}
          onInput={(e) => set({ length: e.currentTarget.value })}
        />
      )}
      {value.kind === 'decimal' && (
        <>
          <input
            class="narrow mono"
            aria-label="Precision"
            placeholder="precision"
            value={value.precision}
            onInput={(e) => set({ precision: e.currentTarget.value })}
          />
          <input
            class="narrow mono"
            aria-label="Scale"
            placeholder="scale"
            value={value.scale}
            onInput={(e) => set({ scale: e.currentTarget.value })}
          />
        </>
      )}
      {value.kind === 'raw' && (
        <input
          class="mono"
          aria-label="Native type"
          placeholder="e.g. inet"
          value={value.sql}
          onInput={(e) => set({ sql: e.currentTarget.value })}
        />
      )}
    </div>
  );
}

/** Submits the ops a form produced; shows the result or the backend's error. */
function useOpsSubmit(onDone?: () => void) {
  const { addOps } = useStore();
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (result: OpsResult) => {
    setNote(null);
    if ('error' in result) {
      setError(result.error);
      return;
    }
    if (result.ops.length === 0) {
      setError(null);
      setNote('Nothing changed.');
      return;
    }
    setBusy(true);
    try {
      await addOps(result.ops);
      setError(null);
      setNote(`Recorded ${plural(result.ops.length, 'op')}: ${result.ops.map((o: NewOp) => o.op).join(', ')}.`);
      onDone?.();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  return { submit, error, note, busy, clear: () => (setError(null), setNote(null)) };
}

function ColumnEditor(props: {
  table: Table;
  column: Column | null;
  onDone: (name?: string) => void;
  onDrop?: () => void;
}) {
  const { table, column } = props;
  const initial = column ? columnForm(column) : NEW_COLUMN;
  const [form, setForm] = useState<ColumnForm>(initial);
  const { submit, error, note, busy } = useOpsSubmit(() => props.onDone(form.name.trim()));
  const set = (patch: Partial<ColumnForm>) => setForm((f) => ({ ...f, ...patch }));
  const onSubmit = (e: Event) => {
    e.preventDefault();
    void submit(column ? columnEditOps(table, column, form) : addColumnOps(table, form));
  };
  return (
    <form class="form" onSubmit={onSubmit} data-testid={column ? 'column-editor' : 'new-column-editor'}>
      <h3 class="panel-title">
        {column ? (
          <>
            Column <span class="mono">{table.name}.{column.name}</span>
          </>
        ) : (
          <>
            New column in <span class="mono">{table.name}</span>
          </>
        )}
      </h3>
      <label class="field">
        <span class="label">Name</span>
        <input name="column-name" class="mono" value={form.name} autofocus={!column} onInput={(e) => set({ name: e.currentTarget.value })} />
      </label>
      <div class="field">
        <span class="label">Type</span>
        <TypePicker value={form.type} onChange={(type) => set({ type })} />
      </div>
      <label class="check">
        <input type="checkbox" name="nullable" checked={form.nullable} onChange={(e) => set({ nullable: e.currentTarget.checked })} />
        Nullable
      </label>
      <label class="field">
        <span class="label">
          Default <span class="muted">(SQL expression)</span>
        </span>
        <input
          name="default"
          class="mono"
          value={form.default}
          placeholder="none"
          onInput={(e) => set({ default: e.currentTarget.value })}
        />
      </label>
      <label class="field">
        <span class="label">Comment</span>
        <input name="comment" value={form.comment} onInput={(e) => set({ comment: e.currentTarget.value })} />
      </label>
      {error && (
        <div class="notice notice-error" role="alert">
          {error}
        </div>
      )}
      {note && <div class="notice notice-ok">{note}</div>}
      <div class="form-actions">
        {column && props.onDrop && (
          <button type="button" class="btn btn-danger-quiet" onClick={props.onDrop}>
            <IconTrash size={14} /> Drop column…
          </button>
        )}
        <span class="spacer" />
        <button type="submit" class="btn btn-primary" disabled={busy} data-testid="column-submit">
          {column ? 'Apply changes' : 'Add column'}
        </button>
      </div>
      <p class="muted small">Edits are recorded as ops in the project's uncommitted ops; no database changes.</p>
    </form>
  );
}

function TableEditor(props: { loc: TableLocation; siblings: string[]; onDrop: () => void; onAddColumn: () => void }) {
  const { table } = props.loc;
  const [form, setForm] = useState({ name: table.name, comment: table.comment ?? '' });
  // Show the table as it is after an edit elsewhere (not on mount: that could
  // wipe what was typed before the effect ran).
  const seen = useRef(table);
  useEffect(() => {
    if (seen.current === table) return;
    seen.current = table;
    setForm({ name: table.name, comment: table.comment ?? '' });
  }, [table]);
  const { submit, error, note, busy } = useOpsSubmit();
  return (
    <div class="detail-body">
      <form
        class="form"
        data-testid="table-editor"
        onSubmit={(e) => {
          e.preventDefault();
          void submit(tableEditOps(table, props.siblings, form));
        }}
      >
        <h3 class="panel-title">
          Table <span class="mono">{props.loc.schema}.{table.name}</span>
        </h3>
        <label class="field">
          <span class="label">Name</span>
          <input name="table-name" class="mono" value={form.name} onInput={(e) => setForm({ ...form, name: e.currentTarget.value })} />
        </label>
        <label class="field">
          <span class="label">Comment</span>
          <input name="table-comment" value={form.comment} onInput={(e) => setForm({ ...form, comment: e.currentTarget.value })} />
        </label>
        {error && (
          <div class="notice notice-error" role="alert">
            {error}
          </div>
        )}
        {note && <div class="notice notice-ok">{note}</div>}
        <div class="form-actions">
          <button type="button" class="btn btn-danger-quiet" onClick={props.onDrop}>
            <IconTrash size={14} /> Drop table…
          </button>
          <span class="spacer" />
          <button type="submit" class="btn btn-primary" disabled={busy}>
            Apply changes
          </button>
        </div>
      </form>
      <Constraints table={table} />
    </div>
  );
}

function Constraints({ table }: { table: Table }) {
  const pk = table.primary_key;
  const props = Object.entries(table.properties ?? {});
  return (
    <div class="constraints">
      <h4>Keys and constraints</h4>
      <ul class="plain">
        {pk && (
          <li>
            <IconKey size={13} /> <span class="mono">{pk.name}</span> primary key ({pk.columns.join(', ')})
          </li>
        )}
        {table.uniques?.map((u) => (
          <li key={u.id}>
            <span class="key-chip">UQ</span> <span class="mono">{u.name}</span> ({u.columns.join(', ')})
          </li>
        ))}
        {table.foreign_keys?.map((f) => (
          <li key={f.id}>
            <IconLink size={13} /> <span class="mono">{f.name}</span> ({f.columns.join(', ')}) →{' '}
            <span class="mono">
              {f.references.schema}.{f.references.table}
            </span>{' '}
            ({f.ref_columns.join(', ')})
          </li>
        ))}
        {table.indexes?.map((i) => (
          <li key={i.id}>
            <span class="key-chip">{i.unique ? 'UQ' : 'IX'}</span> <span class="mono">{i.name}</span> ({i.columns.join(', ')})
          </li>
        ))}
        {table.checks?.map((c) => (
          <li key={c.id}>
            <span class="key-chip">CK</span> <span class="mono">{c.name}</span> <code class="mono">{c.expression}</code>
          </li>
        ))}
        {!pk && !table.uniques?.length && !table.foreign_keys?.length && !table.indexes?.length && !table.checks?.length && (
          <li class="muted">None</li>
        )}
      </ul>
      {props.length > 0 && (
        <>
          <h4>Properties</h4>
          <dl class="props">
            {props.map(([k, v]) => (
              <>
                <dt class="mono">{k}</dt>
                <dd class="mono">{v}</dd>
              </>
            ))}
          </dl>
        </>
      )}
    </div>
  );
}

function ConfirmDrop(props: { what: string; op: string; name: string; onCancel: () => void; ops: NewOp[]; onDone: () => void }) {
  const { submit, error, busy } = useOpsSubmit(props.onDone);
  return (
    <div class="detail-body" data-testid="confirm-drop">
      <h3 class="panel-title">
        Drop {props.what} <span class="mono">{props.name}</span>?
      </h3>
      <p>
        This appends a <code class="mono">{props.op}</code> op for <span class="mono">{props.name}</span> to the project's
        uncommitted ops. Nothing changes in any database until a snapshot with it is deployed; a compare against the latest
        snapshot will show the drop and its severity.
      </p>
      {error && (
        <div class="notice notice-error" role="alert">
          {error}
        </div>
      )}
      <div class="form-actions">
        <button type="button" class="btn" onClick={props.onCancel} autofocus>
          Cancel
        </button>
        <span class="spacer" />
        <button type="button" class="btn btn-danger" disabled={busy} onClick={() => void submit({ ops: props.ops })}>
          <IconTrash size={14} /> Drop {props.what}
        </button>
      </div>
    </div>
  );
}

function NewTable(props: { schemaId: ObjectId; schemaName: string; siblings: string[]; onDone: (name: string) => void }) {
  const [name, setName] = useState('');
  const { submit, error, busy } = useOpsSubmit(() => props.onDone(name.trim()));
  return (
    <form
      class="form detail-body"
      data-testid="new-table-editor"
      onSubmit={(e) => {
        e.preventDefault();
        void submit(addTableOps(props.schemaId, props.siblings, name));
      }}
    >
      <h3 class="panel-title">
        New table in <span class="mono">{props.schemaName}</span>
      </h3>
      <label class="field">
        <span class="label">Name</span>
        <input name="new-table-name" class="mono" autofocus value={name} onInput={(e) => setName(e.currentTarget.value)} />
      </label>
      {error && (
        <div class="notice notice-error" role="alert">
          {error}
        </div>
      )}
      <div class="form-actions">
        <span class="spacer" />
        <button type="submit" class="btn btn-primary" disabled={busy}>
          Add table
        </button>
      </div>
    </form>
  );
}

interface TreeNode {
  id: string;
  depth: number;
  kind: 'catalog' | 'schema' | 'table';
  label: string;
  count?: number;
  schemaId?: ObjectId;
}

export function SchemaScreen(props: { commands?: (c: SchemaCommands) => void }) {
  const { data } = useStore();
  const state = data.working;
  const tables = useMemo(() => (state ? allTables(state) : []), [state]);
  const [selected, setSelected] = useState<ObjectId | null>(null);
  const [panel, setPanel] = useState<Panel>({ kind: 'table' });
  const [collapsed, setCollapsed] = useState<Set<string>>(new Set());
  const [filter, setFilter] = useState('');
  const [pendingSelect, setPendingSelect] = useState<string | null>(null);

  // Keep a valid selection: the first table when nothing (or a dropped one) is selected.
  useEffect(() => {
    if (pendingSelect) {
      const found = tables.find((t) => t.table.name === pendingSelect);
      if (found) {
        setSelected(found.table.id);
        setPendingSelect(null);
        return;
      }
    }
    if (!selected || !tables.some((t) => t.table.id === selected)) setSelected(tables[0]?.table.id ?? null);
  }, [tables, selected, pendingSelect]);

  const loc = tables.find((t) => t.table.id === selected) ?? null;
  const firstSchema = state?.catalogs[0]?.schemas[0] ?? null;
  const targetSchemaId = loc?.schemaId ?? firstSchema?.id ?? null;

  useEffect(() => {
    props.commands?.({
      addTable: () => targetSchemaId && setPanel({ kind: 'new-table', schemaId: targetSchemaId }),
      addColumn: () => loc && setPanel({ kind: 'new-column' }),
    });
  });

  const nodes: TreeNode[] = [];
  const needle = filter.trim().toLowerCase();
  for (const c of state?.catalogs ?? []) {
    nodes.push({ id: c.id, depth: 0, kind: 'catalog', label: c.name, count: c.schemas.length });
    if (collapsed.has(c.id)) continue;
    for (const s of c.schemas) {
      nodes.push({ id: s.id, depth: 1, kind: 'schema', label: s.name, count: s.tables.length });
      if (collapsed.has(s.id)) continue;
      for (const t of s.tables) {
        if (needle && !t.name.toLowerCase().includes(needle)) continue;
        nodes.push({ id: t.id, depth: 2, kind: 'table', label: t.name, count: t.columns.length, schemaId: s.id });
      }
    }
  }

  const selectTable = (id: ObjectId) => {
    setSelected(id);
    setPanel({ kind: 'table' });
  };
  const toggle = (id: string) =>
    setCollapsed((c) => {
      const next = new Set(c);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  const onTreeKey = (e: TargetedKeyboardEvent<HTMLDivElement>) => {
    const tableNodes = nodes.filter((n) => n.kind === 'table');
    const i = tableNodes.findIndex((n) => n.id === selected);
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const next = tableNodes[Math.max(0, Math.min(tableNodes.length - 1, i + (e.key === 'ArrowDown' ? 1 : -1)))];
      if (next) selectTable(next.id);
    }
  };

  const columns = loc?.table.columns ?? [];
  const selectedColumnIndex = panel.kind === 'column' ? columns.findIndex((c) => c.id === panel.id) : -1;
  const onGridKey = (e: TargetedKeyboardEvent<HTMLTableElement>) => {
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
    e.preventDefault();
    const next = Math.max(0, Math.min(columns.length - 1, selectedColumnIndex + (e.key === 'ArrowDown' ? 1 : -1)));
    const col = columns[next];
    if (col) setPanel({ kind: 'column', id: col.id });
  };

  const siblings = loc
    ? (state?.catalogs.flatMap((c) => c.schemas).find((s) => s.id === loc.schemaId)?.tables.map((t) => t.name) ?? [])
    : [];

  const renderPanel = () => {
    if (!state) return <div class="detail-empty muted">Loading…</div>;
    if (panel.kind === 'new-table') {
      const schema = state.catalogs.flatMap((c) => c.schemas).find((s) => s.id === panel.schemaId);
      return (
        <NewTable
          key={panel.schemaId}
          schemaId={panel.schemaId}
          schemaName={schema?.name ?? ''}
          siblings={schema?.tables.map((t) => t.name) ?? []}
          onDone={(name) => {
            setPendingSelect(name);
            setPanel({ kind: 'new-column' });
          }}
        />
      );
    }
    if (!loc) return <div class="detail-empty muted">No table selected.</div>;
    const t = loc.table;
    switch (panel.kind) {
      case 'table':
        return (
          <TableEditor
            key={t.id}
            loc={loc}
            siblings={siblings}
            onDrop={() => setPanel({ kind: 'drop-table' })}
            onAddColumn={() => setPanel({ kind: 'new-column' })}
          />
        );
      case 'column': {
        const col = t.columns.find((c) => c.id === panel.id);
        if (!col) return <div class="detail-empty muted">The column is gone.</div>;
        return (
          <div class="detail-body">
            <ColumnEditor key={col.id} table={t} column={col} onDone={() => undefined} onDrop={() => setPanel({ kind: 'drop-column', id: col.id })} />
          </div>
        );
      }
      case 'new-column':
        return (
          <div class="detail-body">
            <ColumnEditor key={`new-${t.id}`} table={t} column={null} onDone={() => undefined} />
          </div>
        );
      case 'drop-table':
        return (
          <ConfirmDrop
            what="table"
            op="drop_table"
            name={`${loc.schema}.${t.name}`}
            ops={[{ target: t.id, op: 'drop_table' }]}
            onCancel={() => setPanel({ kind: 'table' })}
            onDone={() => setPanel({ kind: 'table' })}
          />
        );
      case 'drop-column': {
        const col = t.columns.find((c) => c.id === panel.id);
        if (!col) return <div class="detail-empty muted">The column is gone.</div>;
        return (
          <ConfirmDrop
            what="column"
            op="drop_column"
            name={`${loc.schema}.${t.name}.${col.name}`}
            ops={[{ target: col.id, op: 'drop_column' }]}
            onCancel={() => setPanel({ kind: 'column', id: col.id })}
            onDone={() => setPanel({ kind: 'table' })}
          />
        );
      }
    }
  };

  return (
    <>
      <main class="main schema-screen" aria-label="Schema">
        <header class="main-head">
          <h1>Schema</h1>
          <span class="muted">
            working state · {plural(tables.length, 'table')} · {plural(data.uncommitted.length, 'uncommitted op')}
          </span>
          <span class="spacer" />
          <button
            type="button"
            class="btn"
            disabled={!targetSchemaId}
            onClick={() => targetSchemaId && setPanel({ kind: 'new-table', schemaId: targetSchemaId })}
            data-testid="add-table"
          >
            <IconPlus size={14} /> Table
          </button>
          <button type="button" class="btn" disabled={!loc} onClick={() => setPanel({ kind: 'new-column' })} data-testid="add-column">
            <IconPlus size={14} /> Column
          </button>
        </header>
        <div class="schema-body">
          <nav class="tree" aria-label="Catalog tree">
            <div class="tree-filter">
              <IconSearch size={13} />
              <input placeholder="Filter tables" value={filter} onInput={(e) => setFilter(e.currentTarget.value)} aria-label="Filter tables" />
            </div>
            <div class="tree-items" role="tree" tabIndex={0} onKeyDown={onTreeKey} data-testid="schema-tree">
              {nodes.length === 0 && <div class="muted pad">The working state is empty.</div>}
              {nodes.map((n) => (
                <div
                  key={n.id}
                  role="treeitem"
                  aria-selected={n.id === selected}
                  class={`tree-node depth-${n.depth} kind-${n.kind}${n.id === selected ? ' selected' : ''}`}
                  onClick={() => (n.kind === 'table' ? selectTable(n.id) : toggle(n.id))}
                  data-testid={`tree-${n.kind}`}
                >
                  {n.kind !== 'table' ? (
                    collapsed.has(n.id) ? <IconChevronRight size={12} /> : <IconChevronDown size={12} />
                  ) : (
                    <span class="tree-spacer" />
                  )}
                  {n.kind === 'catalog' ? <IconSchema size={14} /> : n.kind === 'schema' ? <IconFolder size={14} /> : <IconTable size={14} />}
                  <span class="tree-label">{n.label}</span>
                  <span class="tree-count muted">{n.count}</span>
                </div>
              ))}
            </div>
          </nav>
          <section class="table-view" aria-label="Table">
            {loc ? (
              <>
                <div class="table-head">
                  <h2 class="mono">
                    <span class="muted">{loc.schema}.</span>
                    {loc.table.name}
                  </h2>
                  <button type="button" class="icon-btn" title="Edit table" aria-label="Edit table" onClick={() => setPanel({ kind: 'table' })}>
                    <IconEdit size={14} />
                  </button>
                  {loc.table.comment && <span class="muted table-comment">{loc.table.comment}</span>}
                </div>
                <table class="grid" tabIndex={0} onKeyDown={onGridKey} data-testid="columns-grid">
                  <thead>
                    <tr>
                      <th class="num">#</th>
                      <th>Column</th>
                      <th>Type</th>
                      <th>Null</th>
                      <th>Default</th>
                      <th>Keys</th>
                      <th>Comment</th>
                    </tr>
                  </thead>
                  <tbody>
                    {columns.map((c, i) => (
                      <tr
                        key={c.id}
                        class={panel.kind === 'column' && panel.id === c.id ? 'selected' : ''}
                        onClick={() => setPanel({ kind: 'column', id: c.id })}
                        data-testid="column-row"
                        data-column={c.name}
                      >
                        <td class="num muted">{i + 1}</td>
                        <td class="mono col-name">{c.name}</td>
                        <td class="mono col-type">
                          {formatType(c.data_type)}
                          {c.identity && <span class="key-chip" title="identity">ID</span>}
                        </td>
                        <td>{c.nullable ? <span class="muted">null</span> : <span class="not-null">not null</span>}</td>
                        <td class="mono">{c.default ?? <span class="muted">—</span>}</td>
                        <td>
                          {columnKeys(loc.table, c.name).map((k) => (
                            <span key={k} class={`key-chip key-${k}`} title={{ PK: 'primary key', UQ: 'unique', FK: 'foreign key', IX: 'indexed' }[k]}>
                              {k}
                            </span>
                          ))}
                        </td>
                        <td class="muted">{c.comment ?? ''}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
                {columns.length === 0 && (
                  <p class="pad muted">
                    No columns yet.{' '}
                    <button type="button" class="link" onClick={() => setPanel({ kind: 'new-column' })}>
                      Add one
                    </button>
                  </p>
                )}
              </>
            ) : (
              <div class="empty">
                <IconTable size={28} />
                <h2>No tables</h2>
                <p class="muted">
                  Add a table with the <strong>Table</strong> button, or import DDL with{' '}
                  <code>tidemark import --sql schema.sql --dialect postgres</code>.
                </p>
              </div>
            )}
          </section>
        </div>
      </main>
      <aside class="detail" aria-label="Details">
        {renderPanel()}
      </aside>
    </>
  );
}
