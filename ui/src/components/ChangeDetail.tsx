// The right-hand panel of a comparison: each change rendered by the chosen
// renderer — the structured JSON, or one dialect's SQL from the migration plan.

import { useEffect, useRef, useState } from 'preact/hooks';
import type { DiffReport } from '../bindings/DiffReport';
import type { DiffRow } from '../bindings/DiffRow';
import { changeOf } from '../logic/plan';
import { IconCopy } from './Icons';
import { SeverityBadge } from './SeverityBadge';

export interface ChangeRenderer {
  id: string;
  label: string;
  /** The text shown for one change (JSON, or one dialect's SQL); null while loading. */
  render: (row: DiffRow, index: number) => string | null;
  /** The whole migration script, for SQL renderers. */
  script?: string | null;
  /** Why the renderer has nothing to show (e.g. the backend refused). */
  error?: string | null;
}

/** The change as the backend describes it, without the assessment fields. */
export function changeJson(row: DiffRow): string {
  return JSON.stringify(changeOf(row), null, 2);
}

export const JSON_RENDERER: ChangeRenderer = { id: 'json', label: 'JSON', render: changeJson };

function CopyButton({ text }: { text: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <button
      type="button"
      class="icon-btn"
      title="Copy"
      aria-label="Copy"
      onClick={() => void navigator.clipboard?.writeText(text).then(() => setCopied(true))}
    >
      {copied ? <span class="small">✓</span> : <IconCopy size={13} />}
    </button>
  );
}

export function ChangeDetail(props: {
  report: DiffReport;
  active: number;
  renderers: ChangeRenderer[];
  renderer: string;
  onRenderer: (id: string) => void;
}) {
  const listRef = useRef<HTMLDivElement>(null);
  const renderer = props.renderers.find((r) => r.id === props.renderer) ?? props.renderers[0]!;

  useEffect(() => {
    const el = listRef.current?.querySelector<HTMLElement>(`[data-index="${props.active}"]`);
    el?.scrollIntoView({ block: 'nearest' });
  }, [props.active, props.report, renderer.id]);

  return (
    <div class="change-detail" data-testid="change-detail">
      <header class="pane-head">
        <div class="segmented wrap" role="tablist" aria-label="Render changes as">
          {props.renderers.map((r) => (
            <button
              type="button"
              role="tab"
              key={r.id}
              aria-selected={r.id === renderer.id}
              class={r.id === renderer.id ? 'on' : ''}
              data-renderer={r.id}
              onClick={() => props.onRenderer(r.id)}
            >
              {r.label}
            </button>
          ))}
        </div>
      </header>
      <div class="change-blocks" ref={listRef}>
        {renderer.error && (
          <div class="notice notice-error" role="alert">
            {renderer.error}
          </div>
        )}
        {renderer.script != null && (
          <section class="change-block script-block" data-testid="migration-script">
            <div class="block-head">
              <span class="block-title">Migration script · {renderer.label}</span>
              <span class="spacer" />
              <CopyButton text={renderer.script} />
            </div>
            <pre class="code">{renderer.script.trimEnd()}</pre>
          </section>
        )}
        {props.report.changes.map((row, i) => {
          const text = renderer.render(row, i);
          return (
            <section key={i} data-index={i} class={`change-block${i === props.active ? ' active' : ''}`}>
              <div class="block-head">
                <SeverityBadge severity={row.severity} />
                <span class="block-title" title={row.summary}>
                  {row.summary}
                </span>
              </div>
              <pre class={`code${text == null ? ' muted' : ''}`}>{text ?? 'Rendering…'}</pre>
            </section>
          );
        })}
      </div>
    </div>
  );
}
