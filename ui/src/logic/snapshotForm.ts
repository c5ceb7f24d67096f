// The create-snapshot form: its fields, checks, and the call it makes.

import type { Bump } from '../bindings/Bump';
import { bumpVersion, compareVersions, formatVersion, parseVersion } from '../semver';
import type { SnapshotCreateArgs } from '../transport';

export interface SnapshotForm {
  name: string;
  comment: string;
  /** Tags as typed: separated by commas or spaces. */
  tags: string;
  mode: 'bump' | 'version';
  bump: Bump;
  version: string;
}

export const EMPTY_FORM: SnapshotForm = {
  name: '',
  comment: '',
  tags: '',
  mode: 'bump',
  bump: 'minor',
  version: '',
};

export interface FormContext {
  /** The latest snapshot's version, if any. */
  latest: string | null;
  /** How many ops are not in a snapshot yet. */
  uncommitted: number;
}

export interface FormCheck {
  errors: Partial<Record<'name' | 'version' | 'tags' | 'form', string>>;
  /** The version the snapshot will get, when it can be known. */
  preview: string | null;
  /** The call to make, when the form is valid. */
  args: SnapshotCreateArgs | null;
}

/** Splits tags on commas and whitespace, dropping empties and repeats. */
export function parseTags(text: string): string[] {
  const seen = new Set<string>();
  for (const t of text.split(/[\s,]+/)) if (t) seen.add(t);
  return [...seen];
}

export function checkSnapshotForm(form: SnapshotForm, ctx: FormContext): FormCheck {
  const errors: FormCheck['errors'] = {};
  const latest = ctx.latest ? parseVersion(ctx.latest) : null;
  let preview: string | null = null;

  if (!form.name.trim()) errors.name = 'Give the snapshot a name, e.g. “Add order notes”.';
  else if (form.name.trim().length > 200) errors.name = 'Keep the name under 200 characters; use the comment for more.';

  if (form.mode === 'bump') {
    preview = formatVersion(bumpVersion(latest, form.bump));
  } else {
    const v = parseVersion(form.version);
    if (!form.version.trim()) errors.version = 'Enter a version such as 1.2.0, or bump the latest.';
    else if (!v) errors.version = `“${form.version.trim()}” is not a version: use MAJOR.MINOR.PATCH such as 1.2.0.`;
    else if (latest && compareVersions(v, latest) <= 0)
      errors.version = `${formatVersion(v)} is not above the latest snapshot ${formatVersion(latest)}.`;
    else preview = formatVersion(v);
  }

  const tags = parseTags(form.tags);
  const badTag = tags.find((t) => t.length > 64);
  if (badTag) errors.tags = `Tag “${badTag.slice(0, 20)}…” is too long (64 characters at most).`;

  if (ctx.latest && ctx.uncommitted === 0)
    errors.form = `Nothing to snapshot: no ops since ${ctx.latest}. Edit the schema first.`;

  const valid = Object.keys(errors).length === 0;
  return {
    errors,
    preview,
    args: valid
      ? {
          name: form.name.trim(),
          comment: form.comment.trim() ? form.comment.trim() : null,
          tags,
          version: form.mode === 'version' ? form.version.trim().replace(/^v/, '') : null,
          bump: form.mode === 'bump' ? form.bump : null,
        }
      : null,
  };
}
