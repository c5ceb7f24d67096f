// A fixed-row-height virtual list: only the rows in view (plus a margin) are
// in the DOM, so thousands of rows stay smooth.

import type { ComponentChildren, TargetedKeyboardEvent } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';

export interface VirtualListProps<T> {
  items: T[];
  rowHeight: number;
  getKey: (item: T, index: number) => string;
  renderRow: (item: T, index: number) => ComponentChildren;
  /** The row to keep in view (the keyboard cursor). */
  activeIndex?: number;
  /** Extra rows rendered above and below the viewport. */
  overscan?: number;
  class?: string;
  label: string;
  onKeyDown?: (e: TargetedKeyboardEvent<HTMLDivElement>) => void;
  /** Fallback viewport height before layout is known (tests, first paint). */
  initialHeight?: number;
  testId?: string;
}

export function VirtualList<T>(props: VirtualListProps<T>) {
  const { items, rowHeight, overscan = 8 } = props;
  const ref = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(props.initialHeight ?? 800);

  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    if (el.clientHeight > 0) setHeight(el.clientHeight);
    if (typeof ResizeObserver === 'undefined') return;
    const ro = new ResizeObserver(() => {
      if (el.clientHeight > 0) setHeight(el.clientHeight);
    });
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  // Keep the active row in view when it moves by keyboard.
  useEffect(() => {
    const el = ref.current;
    const i = props.activeIndex;
    if (!el || i == null || i < 0) return;
    const top = i * rowHeight;
    if (top < el.scrollTop) el.scrollTop = top;
    else if (top + rowHeight > el.scrollTop + el.clientHeight) el.scrollTop = top + rowHeight - el.clientHeight;
  }, [props.activeIndex, rowHeight]);

  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const last = Math.min(items.length, Math.ceil((scrollTop + height) / rowHeight) + overscan);
  const rows: ComponentChildren[] = [];
  for (let i = first; i < last; i++) {
    const item = items[i]!;
    rows.push(
      <div key={props.getKey(item, i)} class="vrow" style={{ transform: `translateY(${i * rowHeight}px)`, height: `${rowHeight}px` }}>
        {props.renderRow(item, i)}
      </div>,
    );
  }

  return (
    <div
      ref={ref}
      class={`vlist${props.class ? ` ${props.class}` : ''}`}
      role="listbox"
      aria-label={props.label}
      aria-multiselectable="true"
      tabIndex={0}
      data-testid={props.testId}
      data-rows={items.length}
      onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}
      onKeyDown={props.onKeyDown}
    >
      <div class="vlist-inner" style={{ height: `${items.length * rowHeight}px` }}>
        {rows}
      </div>
    </div>
  );
}
