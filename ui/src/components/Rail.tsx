// The left rail: project picker and sections.

import type { ProjectInfo } from '../bindings/ProjectInfo';
import { SECTIONS, type SectionId } from '../sections';
import {
  IconCommand,
  IconConnections,
  IconDrift,
  IconEnvironments,
  IconScans,
  IconSchema,
  IconSyncs,
  IconTimeline,
} from './Icons';

const ICONS: Record<SectionId, (p: { size?: number }) => preact.JSX.Element> = {
  timeline: IconTimeline,
  schema: IconSchema,
  environments: IconEnvironments,
  drift: IconDrift,
  syncs: IconSyncs,
  scans: IconScans,
  connections: IconConnections,
};

export function Rail(props: {
  section: SectionId;
  onSection: (s: SectionId) => void;
  projects: ProjectInfo[];
  current: string | null;
  onProject: (name: string) => void;
  counts: Partial<Record<SectionId, number>>;
  onPalette: () => void;
  isMac: boolean;
}) {
  return (
    <nav class="rail" aria-label="Sections">
      <div class="brand">
        <span class="brand-mark" aria-hidden="true">
          <svg viewBox="0 0 24 24" width="18" height="18">
            <path d="M2 15c3 0 3-3 6-3s3 3 6 3 3-3 6-3 2 1 2 1" fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round" />
            <path d="M12 3v8" stroke="currentColor" stroke-width="2.2" stroke-linecap="round" />
            <path d="M2 20c3 0 3-2 6-2s3 2 6 2 3-2 6-2 2 1 2 1" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linecap="round" opacity=".5" />
          </svg>
        </span>
        <span class="brand-name">Tidemark</span>
      </div>
      <label class="project-picker">
        <span class="label">Project</span>
        <select
          value={props.current ?? ''}
          onChange={(e) => props.onProject(e.currentTarget.value)}
          aria-label="Project"
          data-testid="project-picker"
        >
          {props.current == null && <option value="">No project</option>}
          {props.projects.map((p) => (
            <option key={p.id} value={p.name}>
              {p.name}
              {p.latest_version ? ` · ${p.latest_version}` : ''}
            </option>
          ))}
        </select>
      </label>
      <ul class="sections">
        {SECTIONS.map((s) => {
          const Icon = ICONS[s.id];
          const count = props.counts[s.id];
          return (
            <li key={s.id}>
              <button
                type="button"
                class={`section-btn${props.section === s.id ? ' on' : ''}`}
                aria-current={props.section === s.id ? 'page' : undefined}
                onClick={() => props.onSection(s.id)}
                data-testid={`nav-${s.id}`}
              >
                <Icon size={16} />
                <span>{s.label}</span>
                {count != null && <span class="count">{count}</span>}
              </button>
            </li>
          );
        })}
      </ul>
      <span class="spacer" />
      <button type="button" class="palette-btn" onClick={props.onPalette} data-testid="open-palette">
        <IconCommand size={13} />
        <span>Commands</span>
        <kbd>{props.isMac ? '⌘K' : 'Ctrl K'}</kbd>
      </button>
    </nav>
  );
}
