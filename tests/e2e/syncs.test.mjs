// The Syncs screen on a fresh demo workspace: Run starts the demo job, its
// progress (rows, batches) arrives live through the server's events, and the
// finished run's result and history replace it.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { browser, demoWorkspace, screenshot, serve, tempDir, tidemark } from './harness.mjs';

describe('running a sync from the Syncs screen', () => {
  let tmp;
  let workspace;
  let server;
  let chrome;
  let page;

  before(async () => {
    tmp = tempDir();
    workspace = demoWorkspace(tmp.dir);
    server = await serve(workspace);
    chrome = await browser();
    page = await chrome.context.newPage();
    page.on('pageerror', (e) => console.error('page error:', e.message));
    await page.goto(server.url);
    await page.locator('[data-testid=timeline-row]').first().waitFor();
  });

  after(async () => {
    await chrome?.close();
    await server?.stop();
    tmp?.cleanup();
  });

  test('Run shows live batches in the row and the status bar, then the result and the history', async () => {
    const jobs = JSON.parse(tidemark(workspace, '--json', 'sync', 'list'));
    const demo = jobs.find((j) => j.job.name === 'events');
    assert.ok(demo, 'the demo has the events job');
    const job = demo.job;
    assert.equal(demo.last_run, null, 'it has not run yet');
    const source = JSON.parse(tidemark(workspace, '--json', 'sync', 'show', job.name));
    const batchSize = source.job.batch_size;

    await page.click('[data-testid=nav-syncs]');
    const row = page.locator(`[data-testid=sync-row][data-job="${job.name}"]`);
    await row.waitFor();
    assert.match(await row.innerText(), /idle/);

    // Record every progress state the row and the status bar go through.
    await page.evaluate(() => {
      window.__seen = { rows: [], batches: [], statusBar: [] };
      const look = () => {
        const p = document.querySelector('[data-testid=sync-progress]');
        if (p) {
          const b = Number(p.dataset.batches);
          if (window.__seen.batches.at(-1) !== b) window.__seen.batches.push(b);
          const r = Number(p.dataset.rows);
          if (window.__seen.rows.at(-1) !== r) window.__seen.rows.push(r);
        }
        const sb = document.querySelector('[data-testid=job-sync]');
        if (sb && window.__seen.statusBar.at(-1) !== sb.textContent) window.__seen.statusBar.push(sb.textContent);
      };
      window.__observer = new MutationObserver(look);
      window.__observer.observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
    });

    await row.locator('[data-testid=sync-run]').click();
    const result = page.locator(`[data-testid=sync-result][data-job="${job.name}"]`);
    await result.waitFor({ timeout: 30_000 });
    const seen = await page.evaluate(() => {
      window.__observer.disconnect();
      return window.__seen;
    });

    // The history as the CLI sees it: one succeeded full run of every row.
    const history = JSON.parse(tidemark(workspace, '--json', 'sync', 'history', job.name));
    assert.equal(history.length, 1);
    const run = history[0];
    assert.equal(run.status, 'succeeded');
    assert.ok(run.batches > 2, `several batches (${run.batches})`);
    assert.equal(run.rows_loaded, run.rows_extracted);

    // Progress arrived batch by batch while the run went on.
    const partial = seen.batches.filter((b) => b > 0 && b < run.batches);
    assert.ok(partial.length >= 2, `the row showed batches as they committed: ${JSON.stringify(seen)}`);
    for (let i = 1; i < seen.rows.length; i++) assert.ok(seen.rows[i] >= seen.rows[i - 1], `rows only grow: ${seen.rows}`);
    assert.ok(seen.rows.some((r) => r > 0 && r % batchSize === 0 && r < run.rows_loaded), `rows per batch: ${seen.rows}`);
    assert.ok(seen.statusBar.some((t) => /rows · \d+ batch/.test(t)), `the status bar showed the run: ${seen.statusBar}`);

    // The result: counts, time, watermark, as recorded.
    const text = await result.innerText();
    assert.match(text, /succeeded/);
    assert.match(text, new RegExp(`${run.rows_extracted.toLocaleString('en-US')} extracted`));
    assert.match(text, new RegExp(`${run.rows_loaded.toLocaleString('en-US')} loaded`));
    assert.match(text, new RegExp(`${run.rows_inserted.toLocaleString('en-US')} inserted`));
    assert.match(text, /0 updated/);
    assert.match(text, new RegExp(`${run.batches} batches in ${run.duration_ms.toLocaleString('en-US')} ms`));
    assert.ok(text.includes(run.watermark), `the new watermark ${run.watermark} in ${text}`);

    // The row and the job's history refreshed.
    await page.waitForFunction(
      (name) => /succeeded/.test(document.querySelector(`[data-testid=sync-row][data-job="${name}"]`)?.textContent ?? ''),
      job.name,
    );
    assert.match(await row.innerText(), new RegExp(run.rows_loaded.toLocaleString('en-US')));
    assert.equal(await row.locator('[data-testid=sync-run]').isDisabled(), false);
    const detail = page.locator('[data-testid=sync-detail]');
    await detail.locator('.history li').first().waitFor();
    assert.equal(await detail.locator('.history li').count(), 1);
    assert.match(await detail.innerText(), /succeeded/);
    await screenshot(page, 'sync-run');

    // Run all: nothing new to move, a second, incremental run.
    await row.click();
    await page.click('[data-testid=sync-run-all]');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=sync-detail] .history li').length === 2);
    const again = JSON.parse(tidemark(workspace, '--json', 'sync', 'history', job.name))[0];
    assert.equal(again.status, 'succeeded');
    assert.equal(again.full_sync, false);
    assert.match(await result.innerText(), new RegExp(`${again.rows_loaded} loaded`));
  });

  test('the chained job shows its Iceberg table, and its run lands there and in the target', async () => {
    const lake = JSON.parse(tidemark(workspace, '--json', 'sync', 'show', 'events_lake'));
    assert.equal(lake.job.via, 'iceberg:lake.events');
    const row = page.locator('[data-testid=sync-row][data-job="events_lake"]');
    await row.waitFor();
    assert.match(await row.innerText(), /events → iceberg:lake\.events → shop-warehouse\.events_from_lake/);
    await row.click();
    const via = page.locator('[data-testid=sync-via]');
    await via.waitFor();
    assert.match(await via.innerText(), /iceberg:lake\.events.*workspace’s Iceberg catalog/s);

    // Run all ran it above, once; Run runs it again: nothing new.
    const history = JSON.parse(tidemark(workspace, '--json', 'sync', 'history', 'events_lake'));
    assert.equal(history.length, 1);
    assert.equal(history[0].status, 'succeeded');
    assert.equal(history[0].rows_loaded, history[0].rows_extracted);
    const snaps = JSON.parse(tidemark(workspace, '--json', 'iceberg', 'snapshots', 'lake.events'));
    assert.equal(snaps.length, 1, 'one snapshot for the one run that moved rows');
    assert.equal(snaps[0].added_rows, history[0].rows_extracted);

    await row.locator('[data-testid=sync-run]').click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=sync-detail] .history li').length === 2);
    const again = JSON.parse(tidemark(workspace, '--json', 'sync', 'history', 'events_lake'))[0];
    assert.equal(again.status, 'succeeded');
    assert.equal(again.rows_extracted, 0);
    const after = JSON.parse(tidemark(workspace, '--json', 'iceberg', 'snapshots', 'lake.events'));
    assert.equal(after.length, 1, 'a run with no changes adds no snapshot');
    await screenshot(page, 'sync-chained');
  });
});
