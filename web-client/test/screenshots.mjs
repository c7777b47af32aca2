#!/usr/bin/env node
// Takes screenshots of the client against the fake gateway (or GALAXY_E2E_SERVER_CMD), for
// looking at what a player sees: node test/screenshots.mjs [outdir]. Build first (npm run build).
import { launchBrowser, startServer, screenshotPath } from "./e2e/harness.mjs";

process.env.GALAXY_E2E_SERVER_CMD ??= "fake";
const server = await startServer();
const browser = await launchBrowser();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
try {
  const [vw, vh] = (process.env.VIEWPORT ?? "1280x800").split("x").map(Number);
  const page = await browser.newPage({ viewport: { width: vw, height: vh } });
  page.on("console", (m) => console.log(`[${m.type()}] ${m.text()}`));
  await page.goto(server.base);
  await page.fill("#username", `shot_${Date.now() % 100000}`);
  await page.fill("#password", "correct horse battery");
  await page.click("#register-btn");
  await page.waitForFunction(() => /^\d+$/.test(document.querySelector('[data-hud="tick"]')?.textContent ?? ""));
  await sleep(2500);
  await page.screenshot({ path: screenshotPath("dev-chase") });
  const steps = (process.env.SHOTS ?? "map:c,mapbig:b,system:wheel+b,cockpit:c,target:Tab+Tab+t+wait4000").split(",");
  for (const step of steps) {
    const [name, keys] = step.split(":");
    for (const k of keys.split("+")) {
      if (k === "wheel") for (let i = 0; i < 3; i++) await page.mouse.wheel(0, 2500);
      else if (k === "zoomin") await page.mouse.wheel(0, -1200);
      else if (k.startsWith("wait")) await sleep(Number(k.slice(4)));
      else await page.keyboard.press(k.length === 1 ? `Key${k.toUpperCase()}` : k);
    }
    await sleep(1500);
    await page.screenshot({ path: screenshotPath(`dev-${name}`) });
  }
  console.log(await page.evaluate(() => JSON.stringify(window.galaxy.state())));
} finally {
  await browser.close();
  server.stop();
}
