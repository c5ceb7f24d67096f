// The shell: rail, the current section (main area + right-hand panel),
// status bar, the create-snapshot dialog and the command palette.

import { useEffect, useMemo, useReducer, useRef, useState } from 'preact/hooks';
import { CommandPalette, type Action } from './components/CommandPalette';
import { CreateSnapshotDialog } from './components/CreateSnapshotDialog';
import { Rail } from './components/Rail';
import { StatusBar } from './components/StatusBar';
import { EMPTY_SELECTION, WORKING, selectionReducer, timelineRows } from './logic/timeline';
import { ConnectionsScreen } from './screens/ConnectionsScreen';
import { DriftScreen } from './screens/DriftScreen';
import { EnvironmentsScreen } from './screens/EnvironmentsScreen';
import { ScansScreen } from './screens/ScansScreen';
import { SchemaScreen, type SchemaCommands } from './screens/SchemaScreen';
import { SyncsScreen } from './screens/SyncsScreen';
import { TimelineScreen } from './screens/TimelineScreen';
import { SECTIONS, type SectionId } from './sections';
import { StoreContext, useTidemarkStore } from './store';
import { transport } from './transport';

type Theme = 'system' | 'light' | 'dark';
const THEME_KEY = 'tidemark.theme';
const SECTION_KEY = 'tidemark.section';

function initialSection(): SectionId {
  const saved = sessionStorage.getItem(SECTION_KEY);
  return SECTIONS.some((s) => s.id === saved) ? (saved as SectionId) : 'timeline';
}

export function App() {
  const store = useTidemarkStore();
  const { data } = store;
  const [section, setSection] = useState<SectionId>(initialSection);
  const [creating, setCreating] = useState(false);
  const [palette, setPalette] = useState(false);
  const [theme, setTheme] = useState<Theme>(() => (localStorage.getItem(THEME_KEY) as Theme | null) ?? 'system');
  const [selection, dispatch] = useReducer(selectionReducer, EMPTY_SELECTION);
  const schemaCommands = useRef<SchemaCommands | null>(null);
  const isMac = /Mac|iPhone|iPad/.test(navigator.platform);

  const rows = useMemo(() => timelineRows(data.snapshots, data.uncommitted.length), [data.snapshots, data.uncommitted.length]);
  useEffect(() => dispatch({ type: 'prune', rows }), [rows]);

  useEffect(() => sessionStorage.setItem(SECTION_KEY, section), [section]);
  useEffect(() => {
    if (theme === 'system') document.documentElement.removeAttribute('data-theme');
    else document.documentElement.setAttribute('data-theme', theme);
    localStorage.setItem(THEME_KEY, theme);
  }, [theme]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.metaKey || e.ctrlKey) && e.key.toLowerCase() === 'k') {
        e.preventDefault();
        setPalette((p) => !p);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  const latest = data.snapshots.at(-1)?.version ?? null;
  const openCreate = () => setCreating(true);
  const compare = (from: string, to: string) => {
    setSection('timeline');
    const index = rows.findIndex((r) => r.ref === to);
    dispatch({ type: 'set', picked: [from, to], cursor: Math.max(0, index) });
  };

  const actions: Action[] = [
    ...SECTIONS.map((s, i) => ({
      id: `go-${s.id}`,
      group: 'Go to',
      title: s.label,
      hint: `${i + 1}`,
      run: () => setSection(s.id),
    })),
    { id: 'create-snapshot', group: 'Snapshot', title: 'Create snapshot…', run: openCreate, disabled: !data.info?.project },
    {
      id: 'compare-working',
      group: 'Compare',
      title: `Compare ${latest ?? 'latest'} with the working state`,
      run: () => latest && compare(latest, WORKING),
      disabled: !latest,
    },
    {
      id: 'compare-last-two',
      group: 'Compare',
      title: 'Compare the last two snapshots',
      run: () => {
        const n = data.snapshots.length;
        if (n >= 2) compare(data.snapshots[n - 2]!.version, data.snapshots[n - 1]!.version);
      },
      disabled: data.snapshots.length < 2,
    },
    {
      id: 'compare-clear',
      group: 'Compare',
      title: 'Clear the selection',
      run: () => dispatch({ type: 'set', picked: [], cursor: selection.cursor }),
      disabled: selection.picked.length === 0,
    },
    {
      id: 'verify',
      group: 'Snapshot',
      title: 'Verify every snapshot seal (SHA-256)',
      run: () => void store.verify().catch(() => undefined),
      disabled: data.snapshots.length === 0,
    },
    {
      id: 'add-table',
      group: 'Schema',
      title: 'Add a table…',
      run: () => {
        setSection('schema');
        setTimeout(() => schemaCommands.current?.addTable(), 0);
      },
      disabled: !data.working?.catalogs.length,
    },
    {
      id: 'add-column',
      group: 'Schema',
      title: 'Add a column to the selected table…',
      run: () => {
        setSection('schema');
        setTimeout(() => schemaCommands.current?.addColumn(), 0);
      },
      disabled: !data.working?.catalogs.length,
    },
    { id: 'refresh', group: 'Workspace', title: 'Reload from the workspace', run: () => void store.refresh() },
    ...data.projects
      .filter((p) => !p.current)
      .map((p) => ({
        id: `project-${p.id}`,
        group: 'Project',
        title: `Switch to ${p.name}`,
        run: () => void store.switchProject(p.name).catch(() => undefined),
      })),
    ...(['system', 'light', 'dark'] as Theme[])
      .filter((t) => t !== theme)
      .map((t) => ({ id: `theme-${t}`, group: 'Theme', title: `Use the ${t} theme`, run: () => setTheme(t) })),
  ];

  // Digit shortcuts for sections when no field has focus.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const el = e.target as HTMLElement | null;
      if (e.metaKey || e.ctrlKey || e.altKey || (el && /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName))) return;
      if (creating || palette) return;
      const n = Number(e.key);
      if (n >= 1 && n <= SECTIONS.length) setSection(SECTIONS[n - 1]!.id);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [creating, palette]);


  return (
    <StoreContext.Provider value={store}>
      <div class="shell">
        <Rail
          section={section}
          onSection={setSection}
          projects={data.projects}
          current={data.info?.project ?? null}
          onProject={(name) => void store.switchProject(name).catch(() => undefined)}
          counts={{ timeline: data.snapshots.length }}
          onPalette={() => setPalette(true)}
          isMac={isMac}
        />
        {data.loading ? (
          <main class="main">
            <div class="empty muted">Loading the workspace…</div>
          </main>
        ) : !data.info?.project ? (
          <main class="main">
            <div class="empty">
              <h2>No project in this workspace</h2>
              <p class="muted">Create one from the command line, or start from the demo:</p>
              <pre class="code command">tidemark project new shop{'\n'}tidemark demo --force</pre>
            </div>
          </main>
        ) : section === 'timeline' ? (
          <TimelineScreen rows={rows} selection={selection} dispatch={dispatch} onCreate={openCreate} />
        ) : section === 'schema' ? (
          <SchemaScreen commands={(c) => (schemaCommands.current = c)} />
        ) : section === 'environments' ? (
          <EnvironmentsScreen />
        ) : section === 'drift' ? (
          <DriftScreen />
        ) : section === 'syncs' ? (
          <SyncsScreen />
        ) : section === 'scans' ? (
          <ScansScreen />
        ) : (
          <ConnectionsScreen />
        )}
        <StatusBar
          workspace={data.info?.path ?? null}
          project={data.info?.project ?? null}
          actor={data.info?.actor ?? null}
          transport={transport().kind === 'tauri' ? 'desktop' : 'tidemark serve'}
          jobs={store.jobs}
          lastError={store.lastError}
          onDismiss={store.dismissError}
        />
      </div>
      {creating && (
        <CreateSnapshotDialog
          context={{ latest, uncommitted: data.uncommitted.length }}
          onClose={() => setCreating(false)}
          onCreate={async (args) => {
            const created = await store.createSnapshot(args);
            setSection('timeline');
            dispatch({ type: 'set', picked: [created.version], cursor: 1 });
            return created;
          }}
        />
      )}
      {palette && <CommandPalette actions={actions} onClose={() => setPalette(false)} />}
    </StoreContext.Provider>
  );
}
