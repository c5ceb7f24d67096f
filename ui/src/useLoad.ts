// Loads data through a backend call, reporting failures in the status bar.

import { useCallback, useEffect, useState } from 'preact/hooks';
import { useStore } from './store';

export interface Loaded<T> {
  data: T | null;
  loading: boolean;
  error: string | null;
  reload: () => void;
}

/** Calls `fn` when `key` changes (and after every workspace change); null key skips. */
export function useLoad<T>(action: string, key: string | null, fn: () => Promise<T>): Loaded<T> {
  const { attempt, data: ws } = useStore();
  const [state, setState] = useState<{ data: T | null; loading: boolean; error: string | null }>({
    data: null,
    loading: key !== null,
    error: null,
  });
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  useEffect(() => {
    if (key === null) {
      setState({ data: null, loading: false, error: null });
      return;
    }
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    attempt(action, fn)
      .then((data) => live && setState({ data, loading: false, error: null }))
      .catch((e: Error) => live && setState({ data: null, loading: false, error: e.message }));
    return () => {
      live = false;
    };
    // `fn` is a new closure every render: `key` says when to call again.
  }, [key, tick, ws.revision, action, attempt]);
  return { ...state, reload };
}
