// A small set of line icons (16 px, stroke follows the text colour).

import type { JSX } from 'preact';

type IconProps = { size?: number; class?: string; title?: string };

function svg(paths: JSX.Element, { size = 16, class: cls, title }: IconProps) {
  return (
    <svg
      class={`icon${cls ? ` ${cls}` : ''}`}
      width={size}
      height={size}
      viewBox="0 0 24 24"
      fill="none"
      stroke="currentColor"
      stroke-width="2"
      stroke-linecap="round"
      stroke-linejoin="round"
      aria-hidden={title ? undefined : 'true'}
      role={title ? 'img' : undefined}
    >
      {title && <title>{title}</title>}
      {paths}
    </svg>
  );
}

export const IconTimeline = (p: IconProps) =>
  svg(<><circle cx="12" cy="12" r="3" /><path d="M12 3v6M12 15v6" /></>, p);
export const IconSchema = (p: IconProps) =>
  svg(<><rect x="3" y="4" width="18" height="16" rx="2" /><path d="M3 10h18M9 10v10" /></>, p);
export const IconEnvironments = (p: IconProps) =>
  svg(<><path d="M12 3 3 8l9 5 9-5-9-5Z" /><path d="m3 13 9 5 9-5" /></>, p);
export const IconDrift = (p: IconProps) =>
  svg(<><path d="M3 12h4l3-7 4 14 3-7h4" /></>, p);
export const IconSyncs = (p: IconProps) =>
  svg(<><path d="M20 7h-9a5 5 0 0 0-5 5" /><path d="m17 4 3 3-3 3" /><path d="M4 17h9a5 5 0 0 0 5-5" /><path d="m7 20-3-3 3-3" /></>, p);
export const IconScans = (p: IconProps) =>
  svg(<><circle cx="11" cy="11" r="7" /><path d="m20 20-4-4M8 11h6M11 8v6" /></>, p);
export const IconConnections = (p: IconProps) =>
  svg(<><ellipse cx="12" cy="5.5" rx="7" ry="2.5" /><path d="M5 5.5v13c0 1.4 3.1 2.5 7 2.5s7-1.1 7-2.5v-13" /><path d="M5 12c0 1.4 3.1 2.5 7 2.5s7-1.1 7-2.5" /></>, p);
export const IconSafe = (p: IconProps) =>
  svg(<><circle cx="12" cy="12" r="9" /><path d="m8 12 3 3 5-6" /></>, p);
export const IconRisky = (p: IconProps) =>
  svg(<><path d="M10.3 3.9 2.4 17.6A2 2 0 0 0 4.1 20.6h15.8a2 2 0 0 0 1.7-3L13.7 3.9a2 2 0 0 0-3.4 0Z" /><path d="M12 9v4M12 17h.01" /></>, p);
export const IconBreaking = (p: IconProps) =>
  svg(<><path d="M7.9 2.5h8.2l5.4 5.4v8.2l-5.4 5.4H7.9l-5.4-5.4V7.9Z" /><path d="m15 9-6 6M9 9l6 6" /></>, p);
export const IconPlus = (p: IconProps) => svg(<path d="M12 5v14M5 12h14" />, p);
export const IconSearch = (p: IconProps) => svg(<><circle cx="11" cy="11" r="7" /><path d="m20 20-4-4" /></>, p);
export const IconClose = (p: IconProps) => svg(<path d="M18 6 6 18M6 6l12 12" />, p);
export const IconChevronRight = (p: IconProps) => svg(<path d="m9 6 6 6-6 6" />, p);
export const IconChevronDown = (p: IconProps) => svg(<path d="m6 9 6 6 6-6" />, p);
export const IconKey = (p: IconProps) =>
  svg(<><circle cx="7.5" cy="15.5" r="4.5" /><path d="m10.7 12.3 9.3-9.3M16 7l3 3M14 9l2 2" /></>, p);
export const IconLink = (p: IconProps) =>
  svg(<><path d="M10 13a5 5 0 0 0 7.5.5l3-3a5 5 0 0 0-7-7l-1.7 1.7" /><path d="M14 11a5 5 0 0 0-7.5-.5l-3 3a5 5 0 0 0 7 7l1.7-1.7" /></>, p);
export const IconCompare = (p: IconProps) =>
  svg(<><circle cx="6" cy="6" r="3" /><circle cx="18" cy="18" r="3" /><path d="M6 9v6a3 3 0 0 0 3 3h6M18 15V9a3 3 0 0 0-3-3H9" /></>, p);
export const IconTag = (p: IconProps) =>
  svg(<><path d="M20.6 13.4 13.4 20.6a2 2 0 0 1-2.8 0L3 13V3h10l7.6 7.6a2 2 0 0 1 0 2.8Z" /><circle cx="8" cy="8" r="1.5" /></>, p);
export const IconRefresh = (p: IconProps) =>
  svg(<><path d="M21 12a9 9 0 1 1-2.6-6.4" /><path d="M21 3v6h-6" /></>, p);
export const IconTable = (p: IconProps) =>
  svg(<><rect x="3" y="4" width="18" height="16" rx="2" /><path d="M3 10h18M3 15h18M9 10v10" /></>, p);
export const IconFolder = (p: IconProps) =>
  svg(<path d="M3 6.5A1.5 1.5 0 0 1 4.5 5H9l2 2.5h8.5A1.5 1.5 0 0 1 21 9v9.5a1.5 1.5 0 0 1-1.5 1.5h-15A1.5 1.5 0 0 1 3 18.5Z" />, p);
export const IconCommand = (p: IconProps) =>
  svg(<path d="M9 6a3 3 0 1 0-3 3h12a3 3 0 1 0-3-3v12a3 3 0 1 0 3-3H6a3 3 0 1 0 3 3Z" />, p);
export const IconAlert = (p: IconProps) =>
  svg(<><circle cx="12" cy="12" r="9" /><path d="M12 8v4M12 16h.01" /></>, p);
export const IconTrash = (p: IconProps) =>
  svg(<><path d="M4 7h16M10 11v6M14 11v6" /><path d="M6 7l1 12a2 2 0 0 0 2 2h6a2 2 0 0 0 2-2l1-12M9 7V4h6v3" /></>, p);
export const IconEdit = (p: IconProps) =>
  svg(<><path d="M12 20h9" /><path d="M16.5 3.5a2.1 2.1 0 0 1 3 3L7 19l-4 1 1-4Z" /></>, p);
export const IconCopy = (p: IconProps) =>
  svg(<><rect x="9" y="9" width="12" height="12" rx="2" /><path d="M5 15H4a1 1 0 0 1-1-1V4a1 1 0 0 1 1-1h10a1 1 0 0 1 1 1v1" /></>, p);
