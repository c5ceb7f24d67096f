import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/preact';
import { useReducer } from 'preact/hooks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { DiffReport } from '../bindings/DiffReport';
import { SAMPLE_CHANGES, summary } from '../testFixtures';
import { EMPTY_SELECTION, comparePair, selectionReducer, timelineRows } from '../logic/timeline';
import { Compare } from './Compare';
import { CreateSnapshotDialog } from './CreateSnapshotDialog';
import { StatusBar } from './StatusBar';
import { Timeline } from './Timeline';

afterEach(cleanup);

function TimelineHarness({ count }: { count: number }) {
  const snapshots = Array.from({ length: count }, (_, i) => summary(`1.${i}.0`));
  const rows = timelineRows(snapshots, 1);
  const [selection, dispatch] = useReducer(selectionReducer, EMPTY_SELECTION);
  return <Timeline rows={rows} selection={selection} dispatch={dispatch} pair={comparePair(rows, selection.picked)} />;
}

const picked = () =>
  [...document.querySelectorAll('[data-testid=timeline-row][aria-selected=true]')].map((r) => (r as HTMLElement).dataset.ref);

describe('Timeline', () => {
  it('selects one row on click and a pair with shift-click, marking from and to', () => {
    render(<TimelineHarness count={3} />);
    const row = (ref: string) => document.querySelector(`[data-ref="${ref}"]`)!;
    fireEvent.click(row('1.1.0'));
    expect(picked()).toEqual(['1.1.0']);
    fireEvent.click(row('1.2.0'), { shiftKey: true });
    expect(picked()).toEqual(['1.2.0', '1.1.0']);
    expect(row('1.1.0').textContent).toContain('from');
    expect(row('1.2.0').textContent).toContain('to');
    fireEvent.click(row('working'), { metaKey: true });
    expect(picked()).toEqual(['working', '1.2.0']);
  });

  it('moves with the arrow keys, pairs with shift-arrows and toggles with Space', () => {
    render(<TimelineHarness count={3} />);
    const list = screen.getByRole('listbox');
    fireEvent.keyDown(list, { key: 'ArrowDown' });
    expect(picked()).toEqual(['1.2.0']);
    fireEvent.keyDown(list, { key: ' ' });
    expect(picked()).toEqual([]);
    fireEvent.keyDown(list, { key: ' ' });
    expect(picked()).toEqual(['1.2.0']);
    fireEvent.keyDown(list, { key: 'ArrowDown', shiftKey: true });
    expect(picked()).toEqual(['1.2.0', '1.1.0']);
    fireEvent.keyDown(list, { key: 'ArrowDown' });
    expect(picked()).toEqual(['1.0.0']);
  });

  it('renders only the rows in view of a long timeline, quickly', () => {
    const started = performance.now();
    render(<TimelineHarness count={1000} />);
    const elapsed = performance.now() - started;
    expect(screen.getByRole('listbox').dataset.rows).toBe('1001');
    const inDom = document.querySelectorAll('[data-testid=timeline-row]').length;
    expect(inDom).toBeGreaterThan(10);
    expect(inDom).toBeLessThan(60);
    expect(elapsed).toBeLessThan(500);
  });
});

describe('Compare', () => {
  const report: DiffReport = {
    from: { kind: 'version', version: '0.2.0' },
    to: { kind: 'version', version: '1.0.0' },
    changes: SAMPLE_CHANGES,
    severity: 'breaking',
  };

  it('groups changes by table with the severity word next to each', () => {
    render(<Compare from="0.2.0" to="1.0.0" report={report} loading={false} active={0} onActivate={() => undefined} />);
    const groups = screen.getAllByTestId('change-group');
    expect(groups.map((g) => g.dataset.group)).toEqual(['public.customers', 'public.orders', 'shop.audit']);
    const first = groups[0]!.querySelectorAll('[data-testid=change-row]');
    expect([...first].map((r) => (r as HTMLElement).dataset.severity)).toEqual(['breaking', 'risky']);
    expect(first[0]!.textContent).toMatch(/breaking/);
    expect(first[0]!.textContent).toMatch(/name → full_name/);
    expect(first[0]!.textContent).toMatch(/queries using the old name break/);
    expect(screen.getByTestId('compare-summary').textContent).toMatch(/5 changes/);
  });

  it('activates a change by click and by arrows in display order', () => {
    const onActivate = vi.fn();
    render(<Compare from="0.2.0" to="1.0.0" report={report} loading={false} active={0} onActivate={onActivate} />);
    fireEvent.click(screen.getAllByTestId('change-row')[2]!);
    expect(onActivate).toHaveBeenLastCalledWith(1);
    fireEvent.keyDown(screen.getByRole('listbox', { name: 'Changes' }), { key: 'ArrowDown' });
    expect(onActivate).toHaveBeenLastCalledWith(2);
  });

  it('says so when there are no differences', () => {
    render(<Compare from="1.0.0" to="working" report={{ ...report, changes: [], severity: 'safe' }} loading={false} active={0} onActivate={() => undefined} />);
    expect(screen.getByText('No differences.')).toBeTruthy();
  });
});

describe('CreateSnapshotDialog', () => {
  const context = { latest: '1.0.0', uncommitted: 1 };

  it('does not submit without a name and says why', async () => {
    const onCreate = vi.fn();
    render(<CreateSnapshotDialog context={context} onClose={() => undefined} onCreate={onCreate} />);
    fireEvent.click(screen.getByTestId('create-snapshot-submit'));
    expect(await screen.findByText(/Give the snapshot a name/)).toBeTruthy();
    expect(onCreate).not.toHaveBeenCalled();
  });

  it('refuses a version that is not above the latest', async () => {
    const onCreate = vi.fn();
    const { container } = render(<CreateSnapshotDialog context={context} onClose={() => undefined} onCreate={onCreate} />);
    fireEvent.input(container.querySelector('input[name=name]')!, { target: { value: 'Notes' } });
    fireEvent.input(container.querySelector('input[name=version]')!, { target: { value: '0.9.0' } });
    fireEvent.click(screen.getByTestId('create-snapshot-submit'));
    expect(await screen.findByText(/not above the latest snapshot 1\.0\.0/)).toBeTruthy();
    expect(onCreate).not.toHaveBeenCalled();
  });

  it('creates with the bump it previews and closes', async () => {
    const onCreate = vi.fn(async () => summary('2.0.0'));
    const onClose = vi.fn();
    const { container } = render(<CreateSnapshotDialog context={context} onClose={onClose} onCreate={onCreate} />);
    fireEvent.input(container.querySelector('input[name=name]')!, { target: { value: 'Big change' } });
    fireEvent.input(container.querySelector('input[name=tags]')!, { target: { value: 'release' } });
    fireEvent.click(screen.getByRole('radio', { name: 'Major' }));
    expect(container.textContent).toContain('2.0.0');
    fireEvent.click(screen.getByTestId('create-snapshot-submit'));
    await waitFor(() => expect(onClose).toHaveBeenCalled());
    expect(onCreate).toHaveBeenCalledWith({ name: 'Big change', comment: null, tags: ['release'], version: null, bump: 'major' });
  });

  it('shows the backend error unchanged and stays open', async () => {
    const onCreate = vi.fn(async () => {
      throw new Error('version 1.1.0 is not above the latest snapshot 1.1.0: pass a higher --version or use --bump');
    });
    const onClose = vi.fn();
    const { container } = render(<CreateSnapshotDialog context={context} onClose={onClose} onCreate={onCreate} />);
    fireEvent.input(container.querySelector('input[name=name]')!, { target: { value: 'Again' } });
    fireEvent.click(screen.getByTestId('create-snapshot-submit'));
    const error = await screen.findByTestId('create-snapshot-error');
    expect(error.textContent).toBe('version 1.1.0 is not above the latest snapshot 1.1.0: pass a higher --version or use --bump');
    expect(onClose).not.toHaveBeenCalled();
  });
});

describe('StatusBar', () => {
  it('shows a running sync with its rows and batches under a progress bar', () => {
    const sync = {
      job: 'events',
      run_id: 'run_1',
      phase: 'loading' as const,
      rows: 1250,
      batches: 5,
      rows_per_sec: 4000,
      elapsed_ms: 300,
      watermark: null,
      message: null,
    };
    render(
      <StatusBar
        workspace="/tmp/demo.tmdb"
        project="shop"
        actor="e2e"
        transport="tidemark serve"
        jobs={[{ job: 'sync-run_1', label: 'sync events · 4000 rows/s', done: 1250, total: null, finished: false, error: null, sync }]}
        lastError={null}
        onDismiss={() => undefined}
      />,
    );
    expect(screen.getByRole('progressbar', { name: 'sync events · 4000 rows/s' })).toBeTruthy();
    expect(screen.getByTestId('job-sync').textContent).toBe(`${(1250).toLocaleString()} rows · 5 batches`);
  });
});
