// Shared e2e plumbing: start the server under test (the real `galaxy` binary or the fake
// gateway) behind a TCP proxy that can cut the network, wait for /livez, launch Debian's chromium
// through playwright-core, and judge pixels.
import { spawn } from "node:child_process";
import { connect, createServer } from "node:net";
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

/** Which server: "fake" (the component-test gateway), or a command line (default: the real binary, release or else debug). */
export function serverKind() {
  const built = ["release", "debug"].map((p) => resolve(clientDir, "..", "target", p, "galaxy"));
  const cmd = process.env.GALAXY_E2E_SERVER_CMD ?? built.find((f) => existsSync(f)) ?? built[0];
  return cmd === "fake" ? { fake: true, cmd: `${JSON.stringify(process.execPath)} ${JSON.stringify(join(clientDir, "test", "fake-gateway.mjs"))}` } : { fake: false, cmd };
}

/** Starts the server under test; `extraEnv` adds to (and overrides) its environment. */
export async function startServer(extraEnv = {}) {
  const kind = serverKind();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  if (!existsSync(join(distDir, "index.html"))) throw new Error(`no build in ${distDir}: run npm run build first`);
  // GALAXY_GRPC_BASE_PORT=0: the real binary's internal services take free ports too.
  const env = { GALAXY_GRPC_BASE_PORT: "0", ...process.env, GALAXY_HTTP_ADDR: `127.0.0.1:${port}`, GALAXY_WEB_ROOT: distDir, ...extraEnv };
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
  const proxy = await startProxy(port);
  return {
    /** The server itself (for the test's own requests). */
    base,
    port,
    /** What the browser loads: the proxy in front of the server. */
    pageBase: proxy.base,
    /** Cuts the browser's network: resets every connection and refuses new ones for `refuseMs`. */
    dropNetwork: (refuseMs) => proxy.drop(refuseMs),
    fake: kind.fake,
    child,
    log: () => log,
    stop: () => {
      proxy.close();
      stopProcess(child);
    },
  };
}

/**
 * A TCP proxy on a free port in front of 127.0.0.1:`targetPort`. The browser talks to the server
 * through it, so a test can take the network away — `drop(ms)` resets every open connection (the
 * page sees its WebSocket die with 1006, the server sees the peer vanish) and resets new ones for
 * `ms` — with either server, without hooks in the server or the client.
 */
export async function startProxy(targetPort) {
  const open = new Set();
  let refuseUntil = 0;
  const kill = (s) => (s.resetAndDestroy ? s.resetAndDestroy() : s.destroy());
  const server = createServer((client) => {
    if (Date.now() < refuseUntil) return kill(client);
    const upstream = connect(targetPort, "127.0.0.1");
    open.add(client);
    open.add(upstream);
    const done = () => {
      for (const s of [client, upstream]) {
        open.delete(s);
        if (!s.destroyed) s.destroy();
      }
    };
    for (const s of [client, upstream]) {
      s.on("error", done);
      s.on("close", done);
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise((ok, fail) => {
    server.once("error", fail);
    server.listen(0, "127.0.0.1", ok);
  });
  const { port } = server.address();
  return {
    base: `http://127.0.0.1:${port}`,
    port,
    drop(refuseMs = 0) {
      refuseUntil = Date.now() + refuseMs;
      for (const s of [...open]) kill(s);
      open.clear();
    },
    close() {
      for (const s of [...open]) s.destroy();
      server.close();
    },
  };
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

/**
 * Which pixels of a screenshot are your ship, from two screenshots of the same frame region —
 * `withShip` and `withoutShip` (the ship hidden) — within `rect` (the ship's box on the canvas):
 * a pixel is the ship's when the two differ by more than 30 (sum of |ΔR|+|ΔG|+|ΔB|). Returns the
 * box's area, how many pixels are the ship's, and their luminance (0..255, Rec. 709) median and
 * 10th/90th percentiles in `withShip`.
 */
export async function shipPixelStats(browser, withShip, withoutShip, rect) {
  const page = await browser.newPage();
  try {
    return await page.evaluate(
      async ({ a, b, rect }) => {
        const decode = async (b64) => {
          const img = new Image();
          img.src = `data:image/png;base64,${b64}`;
          await img.decode();
          const c = document.createElement("canvas");
          c.width = img.width;
          c.height = img.height;
          const ctx = c.getContext("2d");
          ctx.drawImage(img, 0, 0);
          return ctx.getImageData(0, 0, c.width, c.height);
        };
        const [A, B] = [await decode(a), await decode(b)];
        const x0 = Math.max(0, Math.floor(rect.x));
        const y0 = Math.max(0, Math.floor(rect.y));
        const x1 = Math.min(A.width, Math.ceil(rect.x + rect.width));
        const y1 = Math.min(A.height, Math.ceil(rect.y + rect.height));
        const lum = [];
        for (let y = y0; y < y1; y++) {
          for (let x = x0; x < x1; x++) {
            const i = (y * A.width + x) * 4;
            const d = Math.abs(A.data[i] - B.data[i]) + Math.abs(A.data[i + 1] - B.data[i + 1]) + Math.abs(A.data[i + 2] - B.data[i + 2]);
            if (d > 30) lum.push(0.2126 * A.data[i] + 0.7152 * A.data[i + 1] + 0.0722 * A.data[i + 2]);
          }
        }
        lum.sort((p, q) => p - q);
        const q = (f) => (lum.length ? lum[Math.min(lum.length - 1, Math.floor(f * lum.length))] : 0);
        return { area: Math.max(0, x1 - x0) * Math.max(0, y1 - y0), shipPixels: lum.length, p10: q(0.1), median: q(0.5), p90: q(0.9) };
      },
      { a: withShip.toString("base64"), b: withoutShip.toString("base64"), rect },
    );
  } finally {
    await page.close();
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns something truthy (returned), or throws after `timeout` ms. */
export async function waitFor(fn, what, timeout = 15_000) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} (last: ${last})`);
    await sleep(150);
  }
}
