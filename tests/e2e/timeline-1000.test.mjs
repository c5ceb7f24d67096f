// A 1,000-snapshot timeline renders quickly (the time is reported, not asserted).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { bigWorkspace, browser, screenshot, serve, tempDir } from './harness.mjs';

let tmp;
let server;
let chrome;

before(async () => {
  tmp = tempDir();
  const workspace = bigWorkspace(tmp.dir, 1000);
  server = await serve(workspace);
  chrome = await browser();
});

after(async () => {
  await chrome?.close();
  await server?.stop();
  tmp?.cleanup();
});

test('a 1,000-snapshot timeline renders, virtualised', async () => {
  const page = await chrome.context.newPage();
  const started = Date.now();
  await page.goto(server.url);
  const list = page.locator('[data-testid=timeline]');
  await list.locator('[data-testid=timeline-row][data-ref="10.9.9"]').waitFor();
  const wall = Date.now() - started;
  assert.equal(await list.getAttribute('data-rows'), '1001');
  const inDom = await page.locator('[data-testid=timeline-row]').count();
  assert.ok(inDom < 100, `only the visible rows are in the DOM (${inDom})`);

  const render = await page.evaluate(() => performance.getEntriesByName('tm:timeline-render').at(-1)?.duration ?? null);
  assert.notEqual(render, null, 'the render was measured');
  console.log(`timeline of 1,000 snapshots: render ${render.toFixed(1)} ms after the data arrived; page load to first rows ${wall} ms`);

  // Scrolling to the end keeps working: the oldest snapshot appears.
  await list.hover();
  await list.focus();
  await page.keyboard.press('End');
  await page.locator('[data-testid=timeline-row][data-ref="1.0.0"]').waitFor();
  await screenshot(page, 'timeline-1000');
  await page.close();
});

test('sections with nothing in the workspace name the command that fills them', async () => {
  const page = await chrome.context.newPage();
  await page.goto(server.url);
  await page.locator('[data-testid=timeline-row]').first().waitFor();
  for (const [id, command] of [
    ['environments', 'tidemark env add dev --connection'],
    ['drift', 'tidemark env add'],
    ['syncs', 'tidemark sync add'],
    ['scans', 'tidemark scan'],
    ['connections', 'tidemark connection add'],
  ]) {
    await page.click(`[data-testid=nav-${id}]`);
    const empty = page.locator(`[data-testid=empty-${id}]`);
    await empty.waitFor();
    assert.match(await empty.innerText(), new RegExp(command));
    await screenshot(page, `empty-${id}`);
  }
  await page.close();
});
