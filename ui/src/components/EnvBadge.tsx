// An environment's name in its colour, with a lock when it is protected.

import type { Environment } from '../bindings/Environment';

const KNOWN = new Set(['blue', 'violet', 'orange', 'green', 'red', 'teal', 'pink', 'yellow', 'gray']);

/** The CSS class of an environment colour (unknown colours fall back to gray). */
export function envColorClass(color: string): string {
  return `env-${KNOWN.has(color) ? color : 'gray'}`;
}

export function EnvBadge({ env }: { env: Pick<Environment, 'name' | 'color' | 'protected'> }) {
  return (
    <span class={`env-badge ${envColorClass(env.color)}`} data-env={env.name}>
      <span class="env-dot" aria-hidden="true" />
      {env.name}
      {env.protected && (
        <span class="env-lock" title="protected: deploying needs the name typed to confirm" aria-label="protected">
          <svg viewBox="0 0 24 24" width="11" height="11" fill="none" stroke="currentColor" stroke-width="2.4">
            <rect x="5" y="11" width="14" height="10" rx="2" />
            <path d="M8 11V8a4 4 0 0 1 8 0v3" />
          </svg>
        </span>
      )}
    </span>
  );
}

/** Drift as a red dot with a count, or a quiet grey check. */
export function DriftMark({ drift, items, problem }: { drift: string; items: number; problem?: string | null }) {
  if (problem) {
    return (
      <span class="drift drift-unknown" title={problem} data-drift="unknown">
        ? cannot check
      </span>
    );
  }
  if (drift === 'drifted' || items > 0) {
    return (
      <span class="drift drift-yes" data-drift="drifted">
        <span class="drift-dot" aria-hidden="true" />
        {items} drift item{items === 1 ? '' : 's'}
      </span>
    );
  }
  if (drift === 'clean') {
    return (
      <span class="drift drift-no" data-drift="clean">
        ✓ no drift
      </span>
    );
  }
  return (
    <span class="drift drift-unknown" data-drift={drift}>
      {drift.replace(/_/g, ' ')}
    </span>
  );
}
