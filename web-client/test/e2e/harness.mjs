// Shared e2e plumbing: start the server under test (the real `galaxy` binary or the fake
// gateway), wait for /livez, launch Debian's chromium through playwright-core, and judge pixels.
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { existsSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
export const clientDir = resolve(here, "..", "..");
export const distDir = join(clientDir, "dist");
export const resultsDir = join(clientDir, "test-results");

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--use-angle=swiftshader",
  "--enable-unsafe-swiftshader",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

export async function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.unref();
    s.on("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

/** Which server: "fake" (the component-test gateway), or a command line (default: the real binary). */
export function serverKind() {
  const cmd = process.env.GALAXY_E2E_SERVER_CMD ?? resolve(clientDir, "..", "target", "release", "galaxy");
  return cmd === "fake" ? { fake: true, cmd: `${JSON.stringify(process.execPath)} ${JSON.stringify(join(clientDir, "test", "fake-gateway.mjs"))}` } : { fake: false, cmd };
}

export async function startServer() {
  const kind = serverKind();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  if (!existsSync(join(distDir, "index.html"))) throw new Error(`no build in ${distDir}: run npm run build first`);
  const env = { ...process.env, GALAXY_HTTP_ADDR: `127.0.0.1:${port}`, GALAXY_WEB_ROOT: distDir };
  const child = spawn(kind.cmd, { shell: true, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let log = "";
  const keep = (d) => {
    log += d;
    if (log.length > 200_000) log = log.slice(-100_000);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  let exited = null;
  child.on("exit", (code, signal) => (exited = { code, signal }));
  const deadline = Date.now() + Number(process.env.GALAXY_E2E_START_TIMEOUT_MS ?? 120_000);
  for (;;) {
    if (exited) throw new Error(`server exited early (${JSON.stringify(exited)}): ${kind.cmd}\n${log.slice(-4000)}`);
    try {
      const r = await fetch(`${base}/livez`);
      if (r.ok) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) {
      stopProcess(child);
      throw new Error(`server did not answer /livez in time: ${kind.cmd}\n${log.slice(-4000)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { base, port, fake: kind.fake, child, log: () => log, stop: () => stopProcess(child) };
}

function stopProcess(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, "SIGTERM"); // the shell and the server it started
  } catch {
    child.kill("SIGTERM");
  }
  setTimeout(() => {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      /* gone */
    }
  }, 3000).unref();
}

export async function launchBrowser() {
  const executablePath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
  return chromium.launch({ executablePath, args: CHROMIUM_ARGS, headless: true });
}

export function screenshotPath(name) {
  mkdirSync(resultsDir, { recursive: true });
  return join(resultsDir, `${name}.png`);
}

/**
 * Pixel statistics of a PNG, decoded by the browser itself (no PNG library needed): how many
 * distinct colours (quantised to 4 bits per channel) and which fraction of pixels is not black.
 */
export async function pixelStats(browser, png) {
  const page = await browser.newPage();
  try {
    return await page.evaluate(async (b64) => {
      const img = new Image();
      img.src = `data:image/png;base64,${b64}`;
      await img.decode();
      const c = document.createElement("canvas");
      c.width = img.width;
      c.height = img.height;
      const ctx = c.getContext("2d");
      ctx.drawImage(img, 0, 0);
      const d = ctx.getImageData(0, 0, c.width, c.height).data;
      const colours = new Set();
      let lit = 0;
      for (let i = 0; i < d.length; i += 4) {
        colours.add(((d[i] >> 4) << 8) | ((d[i + 1] >> 4) << 4) | (d[i + 2] >> 4));
        if (d[i] + d[i + 1] + d[i + 2] > 60) lit++;
      }
      return { width: c.width, height: c.height, distinct: colours.size, litFraction: lit / (d.length / 4) };
    }, png.toString("base64"));
  } finally {
    await page.close();
  }
}
