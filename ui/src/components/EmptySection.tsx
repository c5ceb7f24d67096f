// Honest empty states: what the section shows and the command that fills it.

import type { SectionInfo } from '../sections';

export function EmptyState({ section }: { section: SectionInfo }) {
  const empty = section.empty!;
  return (
    <div class="empty" data-testid={`empty-${section.id}`}>
      <h2>{empty.title}</h2>
      <p class="muted">{empty.text}</p>
      <pre class="code command">{empty.command}</pre>
      <p class="muted small">This section fills in once the workspace has some; nothing here is sample data.</p>
    </div>
  );
}
