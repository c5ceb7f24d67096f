// Drives the desktop app through tauri-driver (WebDriver) and checks the
// timeline shows the demo's three snapshots. Run by scripts/tauri-smoke.sh
// under Xvfb: node tauri-smoke.mjs PATH/TO/tidemark-desktop
//
// Plain HTTP calls to the WebDriver endpoint; no client library needed.

import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const app = resolve(process.argv[2] ?? '');
const port = 4444 + Math.floor(Math.random() * 1000);
const base = `http://127.0.0.1:${port}`;
const shots = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'artifacts', 'screenshots');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function wd(method, path, body) {
  const res = await fetch(base + path, {
    method,
    headers: { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json.value ?? json)}`);
  return json.value;
}

const driver = spawn('tauri-driver', ['--port', String(port), '--native-driver', '/usr/bin/WebKitWebDriver'], {
  stdio: ['ignore', 'inherit', 'inherit'],
});
let session = null;

async function main() {
  for (let i = 0; ; i++) {
    try {
      await fetch(`${base}/status`);
      break;
    } catch {
      if (i > 100) throw new Error('tauri-driver did not start');
      await sleep(100);
    }
  }
  const created = await wd('POST', '/session', {
    capabilities: { alwaysMatch: { 'tauri:options': { application: app }, browserName: 'wry' } },
  });
  session = created.sessionId;
  const s = `/session/${session}`;

  // Wait for the four rows: uncommitted ops + 0.1.0, 0.2.0, 1.0.0.
  let refs = [];
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    refs = await wd('POST', `${s}/execute/sync`, {
      script: "return [...document.querySelectorAll('[data-testid=timeline-row]')].map((r) => r.dataset.ref)",
      args: [],
    });
    if (refs.length >= 4) break;
    await sleep(250);
  }
  const title = await wd('GET', `${s}/title`);
  const transport = await wd('POST', `${s}/execute/sync`, {
    script: "return document.querySelector('[data-testid=statusbar]')?.textContent ?? ''",
    args: [],
  });
  mkdirSync(shots, { recursive: true });
  writeFileSync(join(shots, 'desktop-timeline.png'), Buffer.from(await wd('GET', `${s}/screenshot`), 'base64'));

  const expected = ['working', '1.0.0', '0.2.0', '0.1.0'];
  if (JSON.stringify(refs) !== JSON.stringify(expected)) {
    throw new Error(`timeline rows ${JSON.stringify(refs)}, expected ${JSON.stringify(expected)}`);
  }
  if (!/desktop/.test(transport)) throw new Error(`the UI does not use the Tauri transport: ${transport}`);
  console.log(`desktop app "${title}": timeline shows ${refs.slice(1).join(', ')}`);
  console.log('1 passed, 0 failed');
}

try {
  await main();
} catch (e) {
  console.error(`desktop smoke test failed: ${e.message}`);
  console.log('0 passed, 1 failed');
  process.exitCode = 1;
} finally {
  if (session) await wd('DELETE', `/session/${session}`).catch(() => undefined);
  driver.kill();
}
