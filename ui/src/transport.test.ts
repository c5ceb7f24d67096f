import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ProgressEvent } from './bindings/ProgressEvent';
import {
  TOKEN_KEY,
  TidemarkError,
  createHttpTransport,
  createTauriTransport,
  detectTransport,
  setTransport,
  takeToken,
  toTidemarkError,
  transport,
} from './transport';

function memoryStorage(initial: Record<string, string> = {}) {
  const data = new Map(Object.entries(initial));
  return {
    getItem: (k: string) => data.get(k) ?? null,
    setItem: (k: string, v: string) => void data.set(k, v),
    data,
  };
}

function jsonResponse(status: number, body: unknown): Response {
  return new Response(typeof body === 'string' ? body : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json' },
  });
}

describe('transport selection', () => {
  afterEach(() => {
    setTransport(null);
    delete (window as unknown as Record<string, unknown>).__TAURI_INTERNALS__;
  });

  it('uses Tauri when the app injected its internals, HTTP otherwise', () => {
    expect(detectTransport({})).toBe('http');
    expect(detectTransport({ __TAURI_INTERNALS__: {} })).toBe('tauri');
  });

  it('picks the transport for the page once', () => {
    (window as unknown as Record<string, unknown>).__TAURI_INTERNALS__ = {};
    expect(transport().kind).toBe('tauri');
    setTransport(null);
    delete (window as unknown as Record<string, unknown>).__TAURI_INTERNALS__;
    expect(transport().kind).toBe('http');
  });
});

describe('token handling', () => {
  it('takes the token from the fragment, stores it and removes it from the address bar', () => {
    const storage = memoryStorage();
    const history = { replaceState: vi.fn() };
    const token = takeToken({ hash: '#token=abc123&x=1', pathname: '/', search: '?q=2' }, history, storage);
    expect(token).toBe('abc123');
    expect(storage.data.get(TOKEN_KEY)).toBe('abc123');
    expect(history.replaceState).toHaveBeenCalledWith(null, '', '/?q=2#x=1');
  });

  it('falls back to the token kept for this tab', () => {
    const storage = memoryStorage({ [TOKEN_KEY]: 'kept' });
    const history = { replaceState: vi.fn() };
    expect(takeToken({ hash: '', pathname: '/', search: '' }, history, storage)).toBe('kept');
    expect(history.replaceState).not.toHaveBeenCalled();
  });

  it('sends the token as a bearer header with the call as JSON', async () => {
    const fetch = vi.fn(async () => jsonResponse(200, [{ version: '1.0.0' }]));
    const t = createHttpTransport({ token: 'secret', fetch });
    await expect(t.call({ command: 'snapshot_list' })).resolves.toEqual([{ version: '1.0.0' }]);
    expect(fetch).toHaveBeenCalledTimes(1);
    const [url, init] = fetch.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe('/api/call');
    expect(init.method).toBe('POST');
    expect((init.headers as Record<string, string>).Authorization).toBe('Bearer secret');
    expect(JSON.parse(init.body as string)).toEqual({ command: 'snapshot_list' });
  });

  it('does not call without a token', async () => {
    const fetch = vi.fn();
    const t = createHttpTransport({ token: null, fetch });
    await expect(t.call({ command: 'snapshot_list' })).rejects.toMatchObject({ kind: 'unauthorized' });
    expect(fetch).not.toHaveBeenCalled();
  });
});

describe('error mapping', () => {
  const call = async (response: Response | Error) => {
    const fetch = vi.fn(async () => {
      if (response instanceof Error) throw response;
      return response;
    });
    try {
      await createHttpTransport({ token: 't', fetch }).call({ command: 'ops' });
    } catch (e) {
      return e as TidemarkError;
    }
    throw new Error('expected the call to fail');
  };

  it('keeps the backend kind and message unchanged', async () => {
    const e = await call(jsonResponse(400, { kind: 'bad_input', message: 'bad version \'x\': expected 1.2.0' }));
    expect(e).toBeInstanceOf(TidemarkError);
    expect(e.kind).toBe('bad_input');
    expect(e.message).toBe("bad version 'x': expected 1.2.0");
    expect(e.status).toBe(400);
    const f = await call(jsonResponse(500, { kind: 'failure', message: 'disk full' }));
    expect([f.kind, f.message, f.status]).toEqual(['failure', 'disk full', 500]);
  });

  it('maps 401 to unauthorized', async () => {
    const e = await call(jsonResponse(401, { kind: 'bad_input', message: 'missing or wrong API token' }));
    expect(e.kind).toBe('unauthorized');
    expect(e.message).toBe('missing or wrong API token');
  });

  it('keeps a non-JSON error body as the message', async () => {
    const e = await call(new Response('this server answers only requests addressed to it', { status: 403 }));
    expect(e.kind).toBe('failure');
    expect(e.message).toBe('this server answers only requests addressed to it');
    expect(e.status).toBe(403);
  });

  it('reports an unreachable server as a network error', async () => {
    const e = await call(new TypeError('Failed to fetch'));
    expect(e.kind).toBe('network');
    expect(e.message).toContain('Failed to fetch');
  });

  it('never loses an unknown kind or an empty error', () => {
    expect(toTidemarkError({ kind: 'strange', message: 'm' }).kind).toBe('failure');
    expect(toTidemarkError(undefined, 502).message).toContain('502');
  });
});

describe('Tauri transport', () => {
  it('invokes the one `call` command with the call as its argument', async () => {
    const invoke = vi.fn(async () => ({ path: '/w.tmdb', project: 'shop', actor: 'me' }));
    const t = createTauriTransport({ invoke, listen: vi.fn() });
    await expect(t.call({ command: 'workspace_info' })).resolves.toMatchObject({ project: 'shop' });
    expect(invoke).toHaveBeenCalledWith('call', { call: { command: 'workspace_info' } });
  });

  it('maps the rejected ApiError and plain strings', async () => {
    const t1 = createTauriTransport({ invoke: vi.fn(async () => Promise.reject({ kind: 'bad_input', message: 'no such snapshot 9.9.9' })) });
    await expect(t1.call({ command: 'snapshot_show', args: { version: '9.9.9' } })).rejects.toMatchObject({
      kind: 'bad_input',
      message: 'no such snapshot 9.9.9',
    });
    const t2 = createTauriTransport({ invoke: vi.fn(async () => Promise.reject('command call not found')) });
    await expect(t2.call({ command: 'ops' })).rejects.toMatchObject({ kind: 'failure', message: 'command call not found' });
  });

  it('forwards progress events and stops listening', async () => {
    const unlisten = vi.fn();
    let handler: ((e: { payload: ProgressEvent }) => void) | null = null;
    const listen = vi.fn(async (_event: string, h: (e: { payload: ProgressEvent }) => void) => {
      handler = h;
      return unlisten;
    });
    const t = createTauriTransport({ invoke: vi.fn(), listen });
    const got: ProgressEvent[] = [];
    const stop = t.onProgress((e) => got.push(e));
    await Promise.resolve();
    await Promise.resolve();
    const event: ProgressEvent = { job: 'job-1', label: 'diff', done: 0, total: null, finished: false, error: null, sync: null };
    handler!({ payload: event });
    expect(got).toEqual([event]);
    expect(listen.mock.calls[0]![0]).toBe('progress');
    stop();
    expect(unlisten).toHaveBeenCalled();
  });
});

describe('HTTP progress events', () => {
  it('opens one EventSource with the token in the query and parses events', () => {
    const listeners = new Map<string, (e: MessageEvent) => void>();
    const source = {
      addEventListener: (name: string, l: (e: MessageEvent) => void) => listeners.set(name, l),
      close: vi.fn(),
    };
    const make = vi.fn(() => source as unknown as EventSource);
    const t = createHttpTransport({ token: 'a b', eventSource: make });
    const got: ProgressEvent[] = [];
    const stop = t.onProgress((e) => got.push(e));
    t.onProgress(() => undefined);
    expect(make).toHaveBeenCalledTimes(1);
    expect(make).toHaveBeenCalledWith('/api/events?token=a%20b');
    const event: ProgressEvent = { job: 'job-2', label: 'scan', done: 3, total: 10, finished: false, error: null, sync: null };
    listeners.get('progress')!(new MessageEvent('progress', { data: JSON.stringify(event) }));
    expect(got).toEqual([event]);
    stop();
    expect(source.close).not.toHaveBeenCalled();
  });
});
