// The one module that talks to the backend. Inside the desktop app it uses
// Tauri's `invoke('call', {call})`; under `tidemark serve` it POSTs the same
// `Call` JSON to /api/call with the per-start token. It is also the only
// importer of `@tauri-apps/api`.

import type { AddedOps } from './bindings/AddedOps';
import type { Connection } from './bindings/Connection';
import type { ConnectionCheck } from './bindings/ConnectionCheck';
import type { Deployment } from './bindings/Deployment';
import type { DeployOutcome } from './bindings/DeployOutcome';
import type { DiffDetail } from './bindings/DiffDetail';
import type { DiffRun } from './bindings/DiffRun';
import type { DriftReport } from './bindings/DriftReport';
import type { ScanRun } from './bindings/ScanRun';
import type { StatusReport } from './bindings/StatusReport';
import type { SyncJobDetail } from './bindings/SyncJobDetail';
import type { SyncJobSummary } from './bindings/SyncJobSummary';
import type { SyncRunResult } from './bindings/SyncRunResult';
import type { ApiErrorKind } from './bindings/ApiErrorKind';
import type { Bump } from './bindings/Bump';
import type { Call } from './bindings/Call';
import type { Comparison } from './bindings/Comparison';
import type { DialectKind } from './bindings/DialectKind';
import type { DiffReport } from './bindings/DiffReport';
import type { JsonValue } from './bindings/serde_json/JsonValue';
import type { Op } from './bindings/Op';
import type { ProgressEvent } from './bindings/ProgressEvent';
import type { ProjectInfo } from './bindings/ProjectInfo';
import type { Snapshot } from './bindings/Snapshot';
import type { SnapshotSummary } from './bindings/SnapshotSummary';
import type { State } from './bindings/State';
import type { VerifyReport } from './bindings/VerifyReport';
import type { WorkspaceInfo } from './bindings/WorkspaceInfo';
import type { NewOp } from './types';

/** How a call failed: the backend's kinds plus the transport's own. */
export type ErrorKind = ApiErrorKind | 'unauthorized' | 'network';

/** A failed call, with the backend's message unchanged. */
export class TidemarkError extends Error {
  readonly kind: ErrorKind;
  readonly status: number | undefined;

  constructor(kind: ErrorKind, message: string, status?: number) {
    super(message);
    this.name = 'TidemarkError';
    this.kind = kind;
    this.status = status;
  }
}

export type TransportKind = 'tauri' | 'http';

export interface Transport {
  readonly kind: TransportKind;
  /** Runs one call; rejects with a {@link TidemarkError}. */
  call(call: Call): Promise<unknown>;
  /** Subscribes to progress events; returns the unsubscribe function. */
  onProgress(listener: (event: ProgressEvent) => void): () => void;
}

/** The key under which the token lives for the tab's lifetime. */
export const TOKEN_KEY = 'tidemark.token';

/** Inside the desktop app Tauri injects `__TAURI_INTERNALS__`. */
export function detectTransport(win: object = globalThis): TransportKind {
  return '__TAURI_INTERNALS__' in win ? 'tauri' : 'http';
}

function isApiErrorKind(kind: unknown): kind is ApiErrorKind {
  return kind === 'bad_input' || kind === 'failure';
}

/** Maps anything a call can throw or return as an error to a TidemarkError. */
export function toTidemarkError(raw: unknown, status?: number): TidemarkError {
  if (raw instanceof TidemarkError) return raw;
  if (status === 401) {
    const message =
      raw && typeof raw === 'object' && typeof (raw as { message?: unknown }).message === 'string'
        ? (raw as { message: string }).message
        : 'missing or wrong API token';
    return new TidemarkError('unauthorized', message, status);
  }
  if (raw && typeof raw === 'object' && 'message' in raw) {
    const { kind, message } = raw as { kind?: unknown; message?: unknown };
    if (typeof message === 'string') {
      return new TidemarkError(isApiErrorKind(kind) ? kind : 'failure', message, status);
    }
  }
  if (typeof raw === 'string' && raw.trim() !== '') {
    return new TidemarkError('failure', raw, status);
  }
  if (raw instanceof Error) return new TidemarkError('failure', raw.message, status);
  return new TidemarkError(
    'failure',
    status ? `the server answered ${status} with no error message` : 'the call failed with no error message',
    status,
  );
}

interface LocationLike {
  hash: string;
  pathname: string;
  search: string;
}
interface HistoryLike {
  replaceState(data: unknown, unused: string, url?: string): void;
}
interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/**
 * Reads the token `tidemark serve` put in the URL fragment (`#token=…`),
 * keeps it in sessionStorage, and removes it from the address bar so it is
 * not bookmarked, shared or left in the history. Falls back to the stored one.
 */
export function takeToken(
  location: LocationLike,
  history: HistoryLike,
  storage: StorageLike,
): string | null {
  const fragment = new URLSearchParams(location.hash.replace(/^#/, ''));
  const fromUrl = fragment.get('token');
  if (fromUrl) {
    storage.setItem(TOKEN_KEY, fromUrl);
    fragment.delete('token');
    const rest = fragment.toString();
    history.replaceState(null, '', location.pathname + location.search + (rest ? `#${rest}` : ''));
    return fromUrl;
  }
  return storage.getItem(TOKEN_KEY);
}

type FetchLike = (input: string, init: RequestInit) => Promise<Response>;
type EventSourceFactory = (url: string) => EventSource;

export interface HttpOptions {
  token: string | null;
  baseUrl?: string;
  fetch?: FetchLike;
  eventSource?: EventSourceFactory;
}

/** Calls through `tidemark serve`. */
export function createHttpTransport(options: HttpOptions): Transport {
  const base = options.baseUrl ?? '';
  const doFetch: FetchLike = options.fetch ?? ((input, init) => fetch(input, init));
  const listeners = new Set<(event: ProgressEvent) => void>();
  let source: EventSource | null = null;

  const openEvents = () => {
    if (source || !options.token) return;
    const make = options.eventSource ?? ((url: string) => new EventSource(url));
    source = make(`${base}/api/events?token=${encodeURIComponent(options.token)}`);
    source.addEventListener('progress', (e) => {
      let event: ProgressEvent;
      try {
        event = JSON.parse((e as MessageEvent<string>).data) as ProgressEvent;
      } catch {
        return;
      }
      for (const l of listeners) l(event);
    });
  };

  return {
    kind: 'http',
    async call(call: Call): Promise<unknown> {
      if (!options.token) {
        throw new TidemarkError(
          'unauthorized',
          'no API token: open the URL that `tidemark serve` printed (it ends with #token=…)',
          401,
        );
      }
      let response: Response;
      try {
        response = await doFetch(`${base}/api/call`, {
          method: 'POST',
          headers: {
            'Content-Type': 'application/json',
            Authorization: `Bearer ${options.token}`,
          },
          body: JSON.stringify(call),
        });
      } catch (e) {
        const why = e instanceof Error ? e.message : String(e);
        throw new TidemarkError(
          'network',
          `cannot reach the Tidemark server (${why}): is \`tidemark serve\` still running?`,
        );
      }
      const text = await response.text();
      let body: unknown = text;
      try {
        body = text ? JSON.parse(text) : null;
      } catch {
        // Not JSON: keep the text as the message.
      }
      if (!response.ok) throw toTidemarkError(body, response.status);
      return body;
    },
    onProgress(listener) {
      listeners.add(listener);
      openEvents();
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0 && source) {
          source.close();
          source = null;
        }
      };
    },
  };
}

type InvokeFn = (cmd: string, args: Record<string, unknown>) => Promise<unknown>;
type ListenFn = (
  event: string,
  handler: (e: { payload: ProgressEvent }) => void,
) => Promise<() => void>;

export interface TauriOptions {
  invoke?: InvokeFn;
  listen?: ListenFn;
}

/** Calls through the desktop app's single `call` command. */
export function createTauriTransport(options: TauriOptions = {}): Transport {
  const invoke: InvokeFn =
    options.invoke ??
    (async (cmd, args) => (await import('@tauri-apps/api/core')).invoke(cmd, args));
  const listen: ListenFn =
    options.listen ??
    (async (event, handler) => (await import('@tauri-apps/api/event')).listen<ProgressEvent>(event, handler));
  return {
    kind: 'tauri',
    async call(call: Call): Promise<unknown> {
      try {
        return await invoke('call', { call });
      } catch (e) {
        throw toTidemarkError(e);
      }
    },
    onProgress(listener) {
      let unlisten: (() => void) | null = null;
      let cancelled = false;
      void listen('progress', (e) => listener(e.payload)).then((u) => {
        if (cancelled) u();
        else unlisten = u;
      });
      return () => {
        cancelled = true;
        unlisten?.();
      };
    },
  };
}

let current: Transport | null = null;

/** The transport for this page, chosen once. */
export function transport(): Transport {
  if (!current) {
    current =
      detectTransport(window) === 'tauri'
        ? createTauriTransport()
        : createHttpTransport({
            token: takeToken(window.location, window.history, window.sessionStorage),
          });
  }
  return current;
}

/** Replaces the transport (tests and previews). */
export function setTransport(t: Transport | null): void {
  current = t;
}

async function call<T>(c: Call): Promise<T> {
  return (await transport().call(c)) as T;
}

/** Arguments of `snapshot_create`, as the dialog fills them. */
export interface SnapshotCreateArgs {
  name: string;
  comment: string | null;
  tags: string[];
  version: string | null;
  bump: Bump | null;
}

/** One typed function per backend call. */
export const api = {
  workspaceInfo: () => call<WorkspaceInfo>({ command: 'workspace_info' }),
  projectList: () => call<ProjectInfo[]>({ command: 'project_list' }),
  projectUse: (name: string) => call<ProjectInfo>({ command: 'project_use', args: { name } }),
  snapshotList: () => call<SnapshotSummary[]>({ command: 'snapshot_list' }),
  snapshotShow: (version: string) => call<Snapshot>({ command: 'snapshot_show', args: { version } }),
  snapshotCreate: (args: SnapshotCreateArgs) => call<SnapshotSummary>({ command: 'snapshot_create', args }),
  snapshotVerify: () => call<VerifyReport>({ command: 'snapshot_verify' }),
  ops: () => call<Op[]>({ command: 'ops' }),
  // Ops are plain JSON objects; the backend fills in ids and timestamps.
  addOps: (ops: NewOp[]) => call<AddedOps>({ command: 'add_ops', args: { ops: ops as unknown as JsonValue } }),
  workingState: () => call<State>({ command: 'working_state' }),
  diff: (from: string, to: string) => call<DiffReport>({ command: 'diff', args: { from, to } }),
  compare: (from: string, to: string, dialect: DialectKind) =>
    call<Comparison>({ command: 'compare', args: { from, to, dialect } }),
  connectionList: () => call<Connection[]>({ command: 'connection_list' }),
  connectionTest: (name: string) => call<ConnectionCheck>({ command: 'connection_test', args: { name } }),
  scanList: (connection: string) => call<ScanRun[]>({ command: 'scan_list', args: { connection } }),
  diffList: (connection: string) => call<DiffRun[]>({ command: 'diff_list', args: { connection } }),
  diffShow: (id: string) => call<DiffDetail>({ command: 'diff_show', args: { id } }),
  envStatus: () => call<StatusReport>({ command: 'env_status' }),
  promote: (args: { from: string; to: string; allow_breaking: boolean; confirm: string | null; dry_run: boolean }) =>
    call<DeployOutcome>({ command: 'promote', args }),
  deploy: (args: { env: string; snapshot: string | null; allow_breaking: boolean; confirm: string | null; dry_run: boolean }) =>
    call<DeployOutcome>({ command: 'deploy', args }),
  rollback: (args: { env: string; to: string; allow_breaking: boolean; confirm: string | null; dry_run: boolean }) =>
    call<DeployOutcome>({ command: 'rollback', args }),
  drift: (env: string) => call<DriftReport>({ command: 'drift', args: { env } }),
  history: (env: string | null) => call<Deployment[]>({ command: 'history', args: { env } }),
  syncList: () => call<SyncJobSummary[]>({ command: 'sync_list' }),
  syncShow: (name: string) => call<SyncJobDetail>({ command: 'sync_show', args: { name } }),
  /** Runs a sync job once; its progress arrives as progress events meanwhile. */
  syncRun: (name: string) => call<SyncRunResult>({ command: 'sync_run', args: { name } }),
};
