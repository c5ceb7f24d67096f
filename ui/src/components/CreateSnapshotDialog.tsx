// Seal the working state as a new snapshot.

import { useState } from 'preact/hooks';
import type { Bump } from '../bindings/Bump';
import type { SnapshotSummary } from '../bindings/SnapshotSummary';
import { EMPTY_FORM, checkSnapshotForm, parseTags, type FormContext, type SnapshotForm } from '../logic/snapshotForm';
import type { SnapshotCreateArgs } from '../transport';
import { Dialog } from './Dialog';

const BUMPS: { bump: Bump; label: string; hint: string }[] = [
  { bump: 'patch', label: 'Patch', hint: 'fixes' },
  { bump: 'minor', label: 'Minor', hint: 'additions' },
  { bump: 'major', label: 'Major', hint: 'breaking' },
];

export function CreateSnapshotDialog(props: {
  context: FormContext;
  onClose: () => void;
  onCreate: (args: SnapshotCreateArgs) => Promise<SnapshotSummary>;
}) {
  const [form, setForm] = useState<SnapshotForm>(EMPTY_FORM);
  const [touched, setTouched] = useState(false);
  const [busy, setBusy] = useState(false);
  const [serverError, setServerError] = useState<string | null>(null);
  const check = checkSnapshotForm(form, props.context);
  const set = (patch: Partial<SnapshotForm>) => {
    setForm((f) => ({ ...f, ...patch }));
    setServerError(null);
  };
  const show = (field: keyof typeof check.errors) => (touched ? check.errors[field] : undefined);

  const submit = async (e?: Event) => {
    e?.preventDefault();
    setTouched(true);
    if (!check.args || busy) return;
    setBusy(true);
    try {
      await props.onCreate(check.args);
      props.onClose();
    } catch (err) {
      setServerError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  const tags = parseTags(form.tags);
  return (
    <Dialog
      title="Create snapshot"
      onClose={props.onClose}
      testId="create-snapshot"
      footer={
        <>
          <span class="muted small">
            {check.preview ? (
              <>
                Seals {props.context.uncommitted} uncommitted op{props.context.uncommitted === 1 ? '' : 's'} as{' '}
                <span class="pill pill-version mono">{check.preview}</span>
              </>
            ) : (
              ' '
            )}
          </span>
          <span class="spacer" />
          <button type="button" class="btn" onClick={props.onClose}>
            Cancel
          </button>
          <button
            type="submit"
            form="create-snapshot-form"
            class="btn btn-primary"
            disabled={busy || Boolean(check.errors.form) || (touched && !check.args)}
            data-testid="create-snapshot-submit"
          >
            {busy ? 'Creating…' : 'Create snapshot'}
          </button>
        </>
      }
    >
      <form id="create-snapshot-form" class="form" onSubmit={submit} noValidate>
        {check.errors.form && (
          <div class="notice notice-warn" role="status">
            {check.errors.form}
          </div>
        )}
        {serverError && (
          <div class="notice notice-error" role="alert" data-testid="create-snapshot-error">
            {serverError}
          </div>
        )}
        <label class="field">
          <span class="label">Name</span>
          <input
            name="name"
            autofocus
            value={form.name}
            placeholder="What changed, e.g. Order notes"
            aria-invalid={show('name') ? 'true' : undefined}
            onInput={(e) => set({ name: e.currentTarget.value })}
          />
          {show('name') && <span class="field-error">{show('name')}</span>}
        </label>
        <label class="field">
          <span class="label">
            Comment <span class="muted">(optional)</span>
          </span>
          <textarea
            name="comment"
            rows={3}
            value={form.comment}
            placeholder="Why, for whoever reviews or deploys it"
            onInput={(e) => set({ comment: e.currentTarget.value })}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && (e.metaKey || e.ctrlKey)) void submit();
            }}
          />
        </label>
        <label class="field">
          <span class="label">
            Tags <span class="muted">(optional, comma or space separated)</span>
          </span>
          <input
            name="tags"
            value={form.tags}
            placeholder="release, q3"
            onInput={(e) => set({ tags: e.currentTarget.value })}
          />
          {tags.length > 0 && (
            <span class="tag-preview">
              {tags.map((t) => (
                <span class="tag" key={t}>
                  {t}
                </span>
              ))}
            </span>
          )}
          {show('tags') && <span class="field-error">{show('tags')}</span>}
        </label>
        <fieldset class="field">
          <legend class="label">Version</legend>
          <div class="version-choice">
            <label class="radio">
              <input
                type="radio"
                name="mode"
                checked={form.mode === 'bump'}
                onChange={() => set({ mode: 'bump' })}
              />
              Bump {props.context.latest ? <span class="mono">{props.context.latest}</span> : 'from 0.0.0'}
            </label>
            <div class="segmented" role="radiogroup" aria-label="Bump">
              {BUMPS.map((b) => (
                <button
                  type="button"
                  key={b.bump}
                  role="radio"
                  aria-checked={form.mode === 'bump' && form.bump === b.bump}
                  class={form.mode === 'bump' && form.bump === b.bump ? 'on' : ''}
                  onClick={() => set({ mode: 'bump', bump: b.bump })}
                  title={b.hint}
                >
                  {b.label}
                </button>
              ))}
            </div>
          </div>
          <div class="version-choice">
            <label class="radio">
              <input
                type="radio"
                name="mode"
                checked={form.mode === 'version'}
                onChange={() => set({ mode: 'version' })}
              />
              Exact version
            </label>
            <input
              name="version"
              class="mono narrow"
              value={form.version}
              placeholder="1.2.0"
              aria-invalid={show('version') ? 'true' : undefined}
              onFocus={() => set({ mode: 'version' })}
              onInput={(e) => set({ version: e.currentTarget.value, mode: 'version' })}
            />
          </div>
          {show('version') && <span class="field-error">{show('version')}</span>}
        </fieldset>
      </form>
    </Dialog>
  );
}
