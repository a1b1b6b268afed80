// Asks a real page what WebGPU adapter the browser has (navigator.gpu needs a secure context,
// so the probe runs on the engine page's own local server).
import type { Browser } from "playwright-core";
import { buildEnginePage } from "../page/build.ts";
import type { WebGpuProbe } from "../page/engine-page.ts";
import { startStaticServer } from "../serve/static-server.ts";

export async function probeWebGpu(browser: Browser): Promise<WebGpuProbe> {
  const server = await startStaticServer(await buildEnginePage());
  const page = await browser.newPage();
  try {
    await page.goto(`${server.url}/`);
    await page.waitForFunction(() => "evalsEngine" in globalThis, null, { timeout: 30_000 });
    return await page.evaluate(() =>
      (
        globalThis as unknown as { evalsEngine: { probeWebGpu(): Promise<WebGpuProbe> } }
      ).evalsEngine.probeWebGpu(),
    );
  } finally {
    await page.close();
    await server.close();
  }
}
