// A modal dialog: focus moves in, Escape closes, the page behind is inert.

import type { ComponentChildren } from 'preact';
import { useLayoutEffect, useRef } from 'preact/hooks';
import { IconClose } from './Icons';

export function Dialog(props: {
  title: string;
  onClose: () => void;
  children: ComponentChildren;
  footer?: ComponentChildren;
  wide?: boolean;
  testId?: string;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const onClose = useRef(props.onClose);
  onClose.current = props.onClose;
  // Layout effects run before the next input event, so focus and Escape work
  // even for a key pressed right after the dialog opens.
  useLayoutEffect(() => {
    const previous = document.activeElement as HTMLElement | null;
    const body = ref.current?.querySelector('.dialog-body');
    const first =
      body?.querySelector<HTMLElement>('input:not([type=radio]), textarea, select, button') ??
      ref.current?.querySelector<HTMLElement>('button');
    first?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        e.stopPropagation();
        onClose.current();
      }
    };
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('keydown', onKey);
      previous?.focus?.();
    };
  }, []);
  return (
    <div
      class="backdrop"
      onMouseDown={(e) => {
        if (e.target === e.currentTarget) props.onClose();
      }}
    >
      <div
        ref={ref}
        class={`dialog${props.wide ? ' dialog-wide' : ''}`}
        role="dialog"
        aria-modal="true"
        aria-label={props.title}
        data-testid={props.testId}
      >
        <header class="dialog-head">
          <h2>{props.title}</h2>
          <button class="icon-btn" type="button" aria-label="Close" onClick={props.onClose}>
            <IconClose />
          </button>
        </header>
        <div class="dialog-body">{props.children}</div>
        {props.footer && <footer class="dialog-foot">{props.footer}</footer>}
      </div>
    </div>
  );
}
