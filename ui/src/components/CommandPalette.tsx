// ⌘/Ctrl-K: every action, filtered as you type, arrows and Enter to run.

import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { IconSearch } from './Icons';

export interface Action {
  id: string;
  title: string;
  group: string;
  hint?: string;
  run: () => void;
  disabled?: boolean;
}

/** Matches when every word of the query appears in the title or group. */
export function filterActions(actions: Action[], query: string): Action[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  return actions.filter((a) => {
    if (a.disabled) return false;
    const hay = `${a.title} ${a.group}`.toLowerCase();
    return words.every((w) => hay.includes(w));
  });
}

export function CommandPalette({ actions, onClose }: { actions: Action[]; onClose: () => void }) {
  const [query, setQuery] = useState('');
  const [index, setIndex] = useState(0);
  const listRef = useRef<HTMLUListElement>(null);
  const shown = useMemo(() => filterActions(actions, query), [actions, query]);

  useEffect(() => setIndex(0), [query]);
  useEffect(() => {
    listRef.current?.querySelector('.on')?.scrollIntoView({ block: 'nearest' });
  }, [index]);

  const run = (a: Action | undefined) => {
    if (!a) return;
    onClose();
    a.run();
  };

  return (
    <div
      class="backdrop palette-backdrop"
      onMouseDown={(e) => {
        if (e.target === e.currentTarget) onClose();
      }}
    >
      <div class="palette" role="dialog" aria-modal="true" aria-label="Command palette" data-testid="palette">
        <div class="palette-input">
          <IconSearch size={15} />
          <input
            autofocus
            ref={(el) => el?.focus()}
            value={query}
            placeholder="Type a command…"
            aria-label="Command"
            onInput={(e) => setQuery(e.currentTarget.value)}
            onKeyDown={(e) => {
              if (e.key === 'ArrowDown') {
                e.preventDefault();
                setIndex((i) => Math.min(shown.length - 1, i + 1));
              } else if (e.key === 'ArrowUp') {
                e.preventDefault();
                setIndex((i) => Math.max(0, i - 1));
              } else if (e.key === 'Enter') {
                e.preventDefault();
                run(shown[index]);
              } else if (e.key === 'Escape') {
                e.preventDefault();
                onClose();
              }
            }}
          />
        </div>
        <ul class="palette-list" role="listbox" ref={listRef}>
          {shown.length === 0 && <li class="muted pad">No matching command</li>}
          {shown.map((a, i) => (
            <li
              key={a.id}
              role="option"
              aria-selected={i === index}
              class={i === index ? 'on' : ''}
              onMouseMove={() => setIndex(i)}
              onClick={() => run(a)}
            >
              <span class="palette-group muted">{a.group}</span>
              <span class="palette-title">{a.title}</span>
              {a.hint && <kbd>{a.hint}</kbd>}
            </li>
          ))}
        </ul>
      </div>
    </div>
  );
}
