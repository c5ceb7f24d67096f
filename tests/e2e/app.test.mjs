// The web UI under `tidemark serve`, driven in headless Chromium on a fresh
// demo workspace: timeline, compare, schema edit + snapshot, token checks.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { browser, demoWorkspace, screenshot, serve, tempDir, tidemark } from './harness.mjs';

describe('tidemark serve + web UI on the demo workspace', () => {
  let tmp;
  let workspace;
  let server;
  let chrome;
  let page;

  const rowRefs = () => page.$$eval('[data-testid=timeline-row]', (rows) => rows.map((r) => r.dataset.ref));
  const row = (ref) => page.locator(`[data-testid=timeline-row][data-ref="${ref}"]`);

  before(async () => {
    tmp = tempDir();
    workspace = demoWorkspace(tmp.dir);
    server = await serve(workspace);
    chrome = await browser();
    page = await chrome.context.newPage();
    page.on('pageerror', (e) => console.error('page error:', e.message));
    await page.goto(server.url);
    await page.locator('[data-testid=timeline-row]').nth(3).waitFor();
  });

  after(async () => {
    await chrome?.close();
    await server?.stop();
    tmp?.cleanup();
  });

  test('serve prints the workspace and a loopback URL with a token', () => {
    assert.equal(server.printedWorkspace, workspace);
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/#token=[0-9a-f]{64}$/);
  });

  test('the timeline lists the three demo snapshots, newest first, under the uncommitted row', async () => {
    assert.deepEqual(await rowRefs(), ['working', '1.0.0', '0.2.0', '0.1.0']);
    assert.match(await row('working').innerText(), /Uncommitted ops \(0\)/);
    assert.match(await row('1.0.0').innerText(), /Public API names/);
    assert.match(await row('1.0.0').innerText(), /release/);
    // Environment badges sit on the versions they run.
    const status = JSON.parse(tidemark(workspace, '--json', 'status'));
    for (const e of status.environments.filter((x) => x.version)) {
      await row(e.version).locator(`.env-badge[data-env="${e.environment.name}"]`).waitFor();
    }
    await screenshot(page, 'timeline');
  });

  test('the token moves from the address bar into sessionStorage', async () => {
    assert.equal(await page.evaluate(() => location.hash), '');
    assert.equal(await page.evaluate(() => sessionStorage.getItem('tidemark.token')), server.token);
  });

  test('selecting one row shows its details', async () => {
    await row('0.2.0').click();
    const detail = page.locator('[data-testid=snapshot-detail]');
    await detail.waitFor();
    assert.match(await detail.innerText(), /Order lines and phone numbers/);
    await screenshot(page, 'snapshot-detail');
  });

  test('comparing 0.2.0 with 1.0.0 marks the customers.name → full_name rename breaking', async () => {
    await row('0.2.0').click();
    await row('1.0.0').click({ modifiers: ['Shift'] });
    const rename = page.locator('[data-testid=change-row][data-change=rename_column]');
    await rename.waitFor();
    const text = await rename.innerText();
    assert.match(text, /customers/);
    assert.match(text, /name → full_name/);
    assert.equal(await rename.getAttribute('data-severity'), 'breaking');
    assert.match(text, /breaking/i, 'the word, not only the colour');
    const group = page.locator('[data-testid=change-group][data-group="public.customers"]');
    assert.ok(await group.locator('[data-change=rename_column]').count(), 'grouped under its table');
    assert.match(await page.locator('[data-testid=compare]').innerText(), /0\.2\.0\s*→\s*1\.0\.0/);
    await rename.click();
    const active = page.locator('[data-testid=change-detail] .change-block.active');
    assert.match(await active.innerText(), /"change": "rename_column"/);
    await screenshot(page, 'compare');

  });

  test('the SQL tab shows what the backend plans for PostgreSQL (or its error, unchanged)', async () => {
    // What the backend answers for this comparison, asked directly.
    const expected = await page.evaluate(async () => {
      const res = await fetch('/api/call', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${sessionStorage.getItem('tidemark.token')}` },
        body: JSON.stringify({ command: 'compare', args: { from: '0.2.0', to: '1.0.0', dialect: 'postgres' } }),
      });
      return { ok: res.ok, body: await res.json() };
    });
    await page.click('[data-testid=change-detail] [data-renderer=postgres]');
    const detail = page.locator('[data-testid=change-detail]');
    if (expected.ok) {
      await page.locator('[data-testid=migration-script]').waitFor();
      assert.equal(await page.locator('[data-testid=migration-script] pre').innerText(), expected.body.script.trimEnd());
      const rename = detail.locator('.change-block.active');
      await page.waitForFunction(() =>
        /RENAME COLUMN/i.test(document.querySelector('[data-testid=change-detail] .change-block.active')?.textContent ?? ''),
      );
      assert.match(await rename.innerText(), /-- \[breaking\]/);
    } else {
      const error = detail.locator('.notice-error');
      await error.waitFor();
      assert.equal(await error.innerText(), expected.body.message);
      console.log(`note: the backend's compare call failed, and the UI shows its message: ${expected.body.message}`);
    }
    await screenshot(page, 'compare-sql');
    await page.click('[data-testid=change-detail] [data-renderer=json]');
  });

  test('arrow keys move through the timeline', async () => {
    await row('working').click();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    assert.equal(await page.locator('[data-testid=timeline-row][aria-selected=true]').getAttribute('data-ref'), '0.2.0');
  });

  test('a schema edit and a snapshot from the UI add a fourth snapshot', async () => {
    await page.click('[data-testid=nav-schema]');
    await page.locator('[data-testid=tree-table]', { hasText: 'customers' }).click();
    await page.locator('[data-testid=column-row][data-column=full_name]').waitFor();
    await screenshot(page, 'schema');

    await page.click('[data-testid=add-column]');
    const editor = page.locator('[data-testid=new-column-editor]');
    await editor.locator('input[name=column-name]').fill('nickname');
    await editor.locator('select[name=type]').selectOption('varchar');
    await editor.locator('input[aria-label=Length]').fill('40');
    await editor.locator('[data-testid=column-submit]').click();
    await page.locator('[data-testid=column-row][data-column=nickname]').waitFor();
    assert.match(await page.locator('[data-testid=column-row][data-column=nickname]').innerText(), /varchar\(40\)/);
    await screenshot(page, 'schema-edit');

    await page.click('[data-testid=nav-timeline]');
    assert.match(await row('working').innerText(), /Uncommitted ops \(1\)/);
    await page.click('[data-testid=open-create-snapshot]');
    const dialog = page.locator('[data-testid=create-snapshot]');
    await dialog.locator('input[name=name]').fill('Nicknames');
    await dialog.locator('input[name=tags]').fill('ui');
    await screenshot(page, 'create-snapshot');
    await dialog.locator('[data-testid=create-snapshot-submit]').click();
    await dialog.waitFor({ state: 'detached' });
    await row('1.1.0').waitFor();
    assert.deepEqual(await rowRefs(), ['working', '1.1.0', '1.0.0', '0.2.0', '0.1.0']);
    assert.match(await row('working').innerText(), /Uncommitted ops \(0\)/);

    // The CLI sees the same snapshot.
    const list = JSON.parse(tidemark(workspace, '--json', 'snapshot', 'list'));
    const versions = (Array.isArray(list) ? list : list.snapshots).map((s) => s.version);
    assert.ok(versions.includes('1.1.0'), `CLI lists ${versions}`);
  });

  test('the dialog shows the backend error unchanged when nothing is uncommitted', async () => {
    await page.click('[data-testid=open-create-snapshot]');
    const dialog = page.locator('[data-testid=create-snapshot]');
    assert.match(await dialog.innerText(), /Nothing to snapshot/);
    assert.equal(await dialog.locator('[data-testid=create-snapshot-submit]').isDisabled(), true);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
  });

  test('an API call without the token is refused with 401', async () => {
    const result = await page.evaluate(async () => {
      const body = JSON.stringify({ command: 'snapshot_list' });
      const headers = { 'Content-Type': 'application/json' };
      const without = await fetch('/api/call', { method: 'POST', headers, body });
      const wrong = await fetch('/api/call', {
        method: 'POST',
        headers: { ...headers, Authorization: 'Bearer ' + '0'.repeat(64) },
        body,
      });
      const token = sessionStorage.getItem('tidemark.token');
      const withToken = await fetch('/api/call', {
        method: 'POST',
        headers: { ...headers, Authorization: `Bearer ${token}` },
        body,
      });
      return { without: without.status, wrong: wrong.status, withToken: withToken.status, message: (await without.json()).message };
    });
    assert.equal(result.without, 401);
    assert.equal(result.wrong, 401);
    assert.equal(result.withToken, 200);
    assert.match(result.message, /token/);
  });

  test('the environments board shows what each environment runs, with drift and lag', async () => {
    const status = JSON.parse(tidemark(workspace, '--json', 'status'));
    await page.click('[data-testid=nav-environments]');
    const board = page.locator('[data-testid=env-board]');
    await board.waitFor();
    const columns = page.locator('[data-testid=env-column]');
    assert.equal(await columns.count(), status.environments.length);
    for (const [i, e] of status.environments.entries()) {
      const text = await columns.nth(i).innerText();
      assert.match(text, new RegExp(e.environment.name));
      if (e.version) assert.match(text, new RegExp(e.version.replace(/\./g, '\\.')));
      assert.match(text, e.drift === 'clean' ? /no drift/ : e.drift === 'drifted' ? /drift item/ : /./);
    }
    const prod = status.environments.find((e) => e.environment.protected);
    if (prod) assert.equal(await page.locator(`[data-testid=env-column][data-env=${prod.environment.name}] .env-lock`).count(), 1);
    await screenshot(page, 'environments');
  });

  test('promoting asks for the plan first, breaking statements need consent, protected targets their name', async () => {
    const status = JSON.parse(tidemark(workspace, '--json', 'status')).environments;
    // The first pair whose left side runs something the right side does not.
    const i = status.findIndex((e, k) => k > 0 && status[k - 1].version && status[k - 1].version !== e.version && !e.environment.protected);
    assert.ok(i > 0, 'the demo has an environment to promote to');
    const [from, to] = [status[i - 1], status[i]];
    await page.click(`[data-testid=promote-${from.environment.name}-${to.environment.name}]`);
    const dialog = page.locator('[data-testid=promote-dialog]');
    await dialog.locator('[data-testid=promote-summary]').waitFor();
    assert.match(await dialog.innerText(), new RegExp(`${from.version.replace(/\./g, '\\.')}`));
    assert.match(await dialog.locator('[data-testid=promote-script]').innerText(), /\S/);
    const confirm = dialog.locator('[data-testid=promote-confirm]');
    const breaking = await dialog.locator('.stmt').count();
    if (breaking > 0) {
      assert.equal(await confirm.isDisabled(), true, 'breaking statements need consent');
      await dialog.locator('input[type=checkbox]').check();
    }
    await screenshot(page, 'promote');
    assert.equal(await confirm.isDisabled(), false);
    await confirm.click();
    await dialog.waitFor({ state: 'detached' });
    await page.waitForFunction(
      ([env, version]) => document.querySelector(`[data-testid=env-column][data-env="${env}"]`)?.textContent?.includes(version),
      [to.environment.name, from.version],
    );
    const after = JSON.parse(tidemark(workspace, '--json', 'status')).environments.find((e) => e.environment.name === to.environment.name);
    assert.equal(after.version, from.version, 'the CLI sees the promotion');

    // A protected target: the button waits for its name.
    const now = JSON.parse(tidemark(workspace, '--json', 'status')).environments;
    const p = now.findIndex((e, k) => k > 0 && e.environment.protected && now[k - 1].version && now[k - 1].version !== e.version);
    if (p > 0) {
      await page.click(`[data-testid=promote-${now[p - 1].environment.name}-${now[p].environment.name}]`);
      await dialog.locator('[data-testid=promote-summary]').waitFor();
      if (await dialog.locator('.stmt').count()) await dialog.locator('input[type=checkbox]').check();
      assert.equal(await confirm.isDisabled(), true, 'disabled until the name is typed');
      await dialog.locator(`input[aria-label="Type ${now[p].environment.name} to confirm"]`).fill(now[p].environment.name);
      assert.equal(await confirm.isDisabled(), false);
      await screenshot(page, 'promote-protected');
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'detached' });
    }
  });

  test('a card deploys a chosen snapshot to dev after a dry-run plan, and offers a rollback', async () => {
    const before = JSON.parse(tidemark(workspace, '--json', 'status')).environments.find((e) => e.environment.name === 'dev');
    const versions = JSON.parse(tidemark(workspace, '--json', 'snapshot', 'list'));
    const latest = (Array.isArray(versions) ? versions : versions.snapshots).map((s) => s.version).at(-1);
    assert.notEqual(before.version, latest, 'dev does not run the newest snapshot yet');
    await page.click('[data-testid=nav-environments]');
    await page.click('[data-testid=deploy-dev]');
    const dialog = page.locator('[data-testid=deploy-dialog]');
    await dialog.locator('[data-testid=promote-summary]').waitFor();
    // The newest snapshot is offered first; the plan is a dry run of it.
    assert.equal(await dialog.locator('[data-testid=deploy-snapshot]').inputValue(), latest);
    assert.match(await dialog.locator('[data-testid=promote-script]').innerText(), /nickname/);
    const confirm = dialog.locator('[data-testid=promote-confirm]');
    if (await dialog.locator('.stmt').count()) {
      assert.equal(await confirm.isDisabled(), true, 'breaking statements need consent');
      await dialog.locator('input[type=checkbox]').check();
    }
    assert.match(await confirm.innerText(), new RegExp(`Deploy ${latest.replace(/\./g, '\\.')} to dev`));
    await screenshot(page, 'deploy');
    await confirm.click();
    await dialog.waitFor({ state: 'detached' });
    await page.waitForFunction(
      (version) => document.querySelector('[data-testid=env-column][data-env="dev"] .env-version')?.textContent?.includes(version),
      latest,
    );
    const after = JSON.parse(tidemark(workspace, '--json', 'status')).environments.find((e) => e.environment.name === 'dev');
    assert.equal(after.version, latest, 'the CLI sees the deployment');
    const history = JSON.parse(tidemark(workspace, '--json', 'history', '--env', 'dev'));
    assert.equal(history[0].to_version, latest);
    assert.equal(history[0].status, 'succeeded');

    // Rollback offers the earlier snapshots, newest first, and plans the way back.
    await page.click('[data-testid=rollback-dev]');
    const back = page.locator('[data-testid=rollback-dialog]');
    await back.locator('[data-testid=promote-summary]').waitFor();
    assert.equal(await back.locator('[data-testid=deploy-snapshot]').inputValue(), before.version);
    assert.match(await back.locator('[data-testid=promote-script]').innerText(), /nickname/);
    await screenshot(page, 'rollback');
    await page.keyboard.press('Escape');
    await back.waitFor({ state: 'detached' });
    const still = JSON.parse(tidemark(workspace, '--json', 'status')).environments.find((e) => e.environment.name === 'dev');
    assert.equal(still.version, latest, 'planning a rollback changes nothing');
  });

  test('drift is checked against the live database', async () => {
    await page.click('[data-testid=nav-drift]');
    await page.locator('[data-testid=drift-table]').waitFor();
    await page.click('[data-testid=check-drift]');
    const detail = page.locator('[data-testid=env-detail]');
    await detail.locator('.notice, [data-testid=drift-report]').first().waitFor();
    assert.match(await detail.innerText(), /No drift|missing|modified|extra|cannot/i);
    await screenshot(page, 'drift');
  });

  test('connections list the demo databases and test them', async () => {
    const conns = JSON.parse(tidemark(workspace, '--json', 'connection', 'list'));
    await page.click('[data-testid=nav-connections]');
    await page.locator('[data-testid=connections-table]').waitFor();
    assert.equal(await page.locator('[data-testid=connections-table] tbody tr').count(), conns.length);
    await page.click('[data-testid=test-connection]');
    await page.locator('[data-testid=connection-detail] .notice').waitFor();
    assert.match(await page.locator('[data-testid=connection-detail] .notice').innerText(), /Connected|Not reachable|cannot|error/i);
    await screenshot(page, 'connections');
  });

  test('syncs and scans show what the workspace holds, or say how to start', async () => {
    const jobs = JSON.parse(tidemark(workspace, '--json', 'sync', 'list'));
    await page.click('[data-testid=nav-syncs]');
    if (jobs.length === 0) {
      const empty = page.locator('[data-testid=empty-syncs]');
      await empty.waitFor();
      assert.match(await empty.innerText(), /tidemark sync add/);
    } else {
      await page.locator('[data-testid=syncs-table]').waitFor();
      assert.equal(await page.locator('[data-testid=syncs-table] tbody tr').count(), jobs.length);
    }
    await screenshot(page, 'syncs');
    await page.click('[data-testid=nav-scans]');
    await page.locator('[data-testid=empty-scans], [data-testid=scans-table]').first().waitFor();
    await screenshot(page, 'scans');
    await page.click('[data-testid=nav-timeline]');
  });

  test('Ctrl-K opens the command palette with every action', async () => {
    await page.keyboard.press('Control+k');
    const palette = page.locator('[data-testid=palette]');
    await palette.waitFor();
    const text = await palette.innerText();
    for (const title of ['Create snapshot', 'Timeline', 'Schema', 'Environments', 'Compare the last two snapshots']) {
      assert.match(text, new RegExp(title));
    }
    await page.keyboard.type('last two');
    await screenshot(page, 'palette');
    await page.keyboard.press('Enter');
    await palette.waitFor({ state: 'detached' });
    await page.locator('[data-testid=compare]').waitFor();
    assert.match(await page.locator('[data-testid=compare]').innerText(), /1\.0\.0\s*→\s*1\.1\.0/);
  });

  test('the dark theme follows the system', async () => {
    const dark = await chrome.context.newPage();
    await dark.emulateMedia({ colorScheme: 'dark' });
    await dark.goto(`${server.url.split('#')[0]}#token=${server.token}`);
    await dark.locator('[data-testid=timeline-row]').nth(4).waitFor();
    await dark.locator('[data-testid=timeline-row][data-ref="1.0.0"]').click();
    await dark.locator('[data-testid=timeline-row][data-ref="1.1.0"]').click({ modifiers: ['Shift'] });
    await dark.locator('[data-testid=change-row]').first().waitFor();
    const bg = await dark.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert.notEqual(bg, 'rgb(247, 247, 245)', 'a dark background');
    await screenshot(dark, 'compare-dark');
    await dark.close();
  });
});
