// The app's shared state: what the backend said last, background jobs, the
// last error (with a way to retry), and the actions that change the workspace.

import { createContext } from 'preact';
import { useCallback, useContext, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { Op } from './bindings/Op';
import type { ProgressEvent } from './bindings/ProgressEvent';
import type { ProjectInfo } from './bindings/ProjectInfo';
import type { SnapshotSummary } from './bindings/SnapshotSummary';
import type { State } from './bindings/State';
import type { WorkspaceInfo } from './bindings/WorkspaceInfo';
import { api, toTidemarkError, transport, type SnapshotCreateArgs, type TidemarkError } from './transport';
import type { NewOp } from './types';

export interface LastError {
  /** What was being done, e.g. “Load the timeline”. */
  action: string;
  error: TidemarkError;
  retry: (() => void) | null;
  at: number;
}

export interface Data {
  info: WorkspaceInfo | null;
  projects: ProjectInfo[];
  snapshots: SnapshotSummary[];
  uncommitted: Op[];
  working: State | null;
  /** True until the first load finished (successfully or not). */
  loading: boolean;
  /** Bumped after every change, so views can refetch derived data. */
  revision: number;
}

export interface Store {
  data: Data;
  jobs: ProgressEvent[];
  lastError: LastError | null;
  dismissError: () => void;
  /** Runs an action; a failure lands in the status bar with a retry. Rethrows. */
  attempt: <T>(action: string, fn: () => Promise<T>) => Promise<T>;
  refresh: () => Promise<void>;
  switchProject: (name: string) => Promise<void>;
  createSnapshot: (args: SnapshotCreateArgs) => Promise<SnapshotSummary>;
  addOps: (ops: NewOp[]) => Promise<void>;
  verify: () => Promise<string>;
}

const EMPTY: Data = {
  info: null,
  projects: [],
  snapshots: [],
  uncommitted: [],
  working: null,
  loading: true,
  revision: 0,
};

/** Marks when timeline data arrived, for the render-time measure. */
export const MARK_TIMELINE_DATA = 'tm:timeline-data';

export function useTidemarkStore(): Store {
  const [data, setData] = useState<Data>(EMPTY);
  const [jobs, setJobs] = useState<ProgressEvent[]>([]);
  const [lastError, setLastError] = useState<LastError | null>(null);
  const mounted = useRef(true);

  const attempt = useCallback(async <T,>(action: string, fn: () => Promise<T>): Promise<T> => {
    try {
      const result = await fn();
      setLastError((e) => (e && e.action === action ? null : e));
      return result;
    } catch (raw) {
      const error = toTidemarkError(raw);
      setLastError({
        action,
        error,
        retry: () => void attempt(action, fn).catch(() => undefined),
        at: Date.now(),
      });
      throw error;
    }
  }, []);

  const load = useCallback(async () => {
    const info = await api.workspaceInfo();
    const projects = await api.projectList();
    if (!info.project) {
      setData((d) => ({ ...d, info, projects, snapshots: [], uncommitted: [], working: null, loading: false, revision: d.revision + 1 }));
      return;
    }
    const [snapshots, uncommitted, working] = await Promise.all([api.snapshotList(), api.ops(), api.workingState()]);
    performance.mark(MARK_TIMELINE_DATA);
    if (!mounted.current) return;
    setData((d) => ({ info, projects, snapshots, uncommitted, working, loading: false, revision: d.revision + 1 }));
  }, []);

  const refresh = useCallback(
    () =>
      attempt('Load the workspace', load).catch(() => {
        setData((d) => ({ ...d, loading: false }));
      }),
    [attempt, load],
  );

  useEffect(() => {
    mounted.current = true;
    void refresh();
    const stop = transport().onProgress((event) => {
      setJobs((js) => {
        const others = js.filter((j) => j.job !== event.job);
        return [...others, event];
      });
      if (event.finished) {
        setTimeout(() => setJobs((js) => js.filter((j) => j.job !== event.job)), 1500);
      }
    });
    return () => {
      mounted.current = false;
      stop();
    };
  }, [refresh]);

  const switchProject = useCallback(
    async (name: string) => {
      await attempt(`Switch to project ${name}`, () => api.projectUse(name));
      await refresh();
    },
    [attempt, refresh],
  );

  const createSnapshot = useCallback(
    async (args: SnapshotCreateArgs) => {
      const created = await attempt('Create a snapshot', () => api.snapshotCreate(args));
      await refresh();
      return created;
    },
    [attempt, refresh],
  );

  const addOps = useCallback(
    async (ops: NewOp[]) => {
      await attempt('Edit the schema', () => api.addOps(ops));
      await refresh();
    },
    [attempt, refresh],
  );

  const verify = useCallback(async () => {
    const report = await attempt('Verify snapshot seals', () => api.snapshotVerify());
    const bad = report.snapshots.filter((r) => !r.ok);
    if (bad.length > 0) {
      const message = bad.map((r) => `${r.version}: ${r.error ?? 'hash mismatch'}`).join('; ');
      const error = toTidemarkError({ kind: 'failure', message: `Seal check failed — ${message}` });
      setLastError({ action: 'Verify snapshot seals', error, retry: null, at: Date.now() });
      return message;
    }
    return `All ${report.snapshots.length} snapshot seals verified`;
  }, [attempt]);

  const dismissError = useCallback(() => setLastError(null), []);

  return useMemo(
    () => ({ data, jobs, lastError, dismissError, attempt, refresh, switchProject, createSnapshot, addOps, verify }),
    [data, jobs, lastError, dismissError, attempt, refresh, switchProject, createSnapshot, addOps, verify],
  );
}

export const StoreContext = createContext<Store | null>(null);

export function useStore(): Store {
  const s = useContext(StoreContext);
  if (!s) throw new Error('useStore outside StoreContext');
  return s;
}
