// safe / risky / breaking: always colour, icon and word together.

import type { Severity } from '../types';
import { IconBreaking, IconRisky, IconSafe } from './Icons';

const ICONS = { safe: IconSafe, risky: IconRisky, breaking: IconBreaking };

export function SeverityBadge({ severity, count, quiet }: { severity: Severity; count?: number; quiet?: boolean }) {
  const Icon = ICONS[severity];
  return (
    <span class={`sev sev-${severity}${quiet ? ' sev-quiet' : ''}`} data-severity={severity}>
      <Icon size={13} />
      {count != null && <span class="sev-count">{count}</span>}
      <span class="sev-word">{severity}</span>
    </span>
  );
}
