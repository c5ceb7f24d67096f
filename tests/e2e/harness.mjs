// Shared set-up of the browser tests: the tidemark binary, demo workspaces,
// `tidemark serve` processes, and a headless Chromium.

import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const UI_DIST = join(ROOT, 'ui', 'dist');
export const SCREENSHOTS = join(ROOT, 'artifacts', 'screenshots');
const TARGET = process.env.CARGO_TARGET_DIR || join(homedir(), '.cache', 'tidemark', 'target');

let built = null;

/** Builds the CLI once per run (or uses $TIDEMARK_BIN) and returns its path. */
export function tidemarkBin() {
  if (process.env.TIDEMARK_BIN) return process.env.TIDEMARK_BIN;
  if (!built) {
    execFileSync('cargo', ['build', '-q', '-p', 'tidemark-cli'], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, CARGO_TARGET_DIR: TARGET },
    });
    built = join(TARGET, 'debug', 'tidemark');
  }
  return built;
}

/** Runs the CLI on a workspace and returns its stdout. */
export function tidemark(workspace, ...args) {
  return execFileSync(tidemarkBin(), ['--workspace', workspace, ...args], {
    encoding: 'utf8',
    env: { ...process.env, TIDEMARK_USER: 'e2e' },
  });
}

/** A fresh temp folder, removed by the returned cleanup. */
export function tempDir(prefix = 'tidemark-e2e-') {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A fresh demo workspace (project shop: 0.1.0, 0.2.0, 1.0.0). */
export function demoWorkspace(dir) {
  const workspace = join(dir, 'demo.tmdb');
  tidemark(workspace, 'demo');
  return workspace;
}

/** A workspace whose current project has `count` snapshots. */
export function bigWorkspace(dir, count) {
  const exportDir = join(dir, 'export');
  execFileSync(
    'cargo',
    ['run', '-q', '-p', 'tidemark-server', '--example', 'timeline_fixture', '--', exportDir, String(count)],
    { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, CARGO_TARGET_DIR: TARGET } },
  );
  const workspace = join(dir, 'big.tmdb');
  tidemark(workspace, 'project', 'import', exportDir);
  return workspace;
}

/**
 * Starts `tidemark serve --port 0` on a workspace and resolves once it
 * printed its URL: `{url, origin, token, stop}`.
 */
export function serve(workspace) {
  if (!existsSync(join(UI_DIST, 'index.html'))) {
    throw new Error('the UI is not built: run `npm --prefix ui run build` first');
  }
  const child = spawn(tidemarkBin(), ['--workspace', workspace, 'serve', '--port', '0', '--ui-dir', UI_DIST], {
    env: { ...process.env, TIDEMARK_USER: 'e2e' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolvePromise, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`tidemark serve printed no URL within 20 s; stderr: ${stderr}`));
    }, 20_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`tidemark serve exited with ${code}: ${stderr}`));
    });
    child.stdout.on('data', (d) => {
      out += d;
      const m = /Tidemark is serving (.+) at (http:\/\/127\.0\.0\.1:(\d+)\/#token=([0-9a-f]{32,}))/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      const url = m[2];
      resolvePromise({
        url,
        origin: new URL(url).origin,
        token: m[4],
        printedWorkspace: m[1],
        stop: () =>
          new Promise((done) => {
            if (child.exitCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGINT');
          }),
      });
    });
  });
}

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Debian's Chromium, headless, with a fresh profile: `{context, close}`. */
export async function browser({ colorScheme = 'light', width = 1440, height = 900 } = {}) {
  const profile = tempDir('tidemark-chromium-');
  const context = await chromium.launchPersistentContext(profile.dir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width, height },
    colorScheme,
    deviceScaleFactor: 1,
  });
  return {
    context,
    close: async () => {
      await context.close();
      profile.cleanup();
    },
  };
}

/** Saves a screenshot under artifacts/screenshots/NAME.png. */
export async function screenshot(page, name) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
}
