// Finds and launches headless Chromium through playwright-core: Playwright's own browser when it
// is installed, else the system's, else an error that says how to get one.
import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";
import { EvalsError } from "../../evals/errors.ts";

export class ChromiumNotFoundError extends EvalsError {}

/** Flags of DESIGN §9: WebGPU behind --enable-unsafe-webgpu, and no background networking. */
export const CHROMIUM_FLAGS = [
  "--enable-unsafe-webgpu",
  "--disable-quic",
  "--disable-sync",
  "--no-sandbox",
  "--disable-background-networking",
  "--disable-component-update",
];

const SYSTEM_CHROMIUM = [
  "/usr/bin/chromium",
  "/usr/bin/chromium-browser",
  "/usr/bin/google-chrome",
];

export function findChromium(explicit?: string): string | undefined {
  if (explicit) {
    if (!existsSync(explicit))
      throw new ChromiumNotFoundError(`--chromium ${explicit} does not exist`);
    return explicit;
  }
  try {
    const bundled = chromium.executablePath();
    if (bundled && existsSync(bundled)) return bundled;
  } catch {
    // Playwright has no browser of its own installed; fall back to the system's.
  }
  const system = SYSTEM_CHROMIUM.find((path) => existsSync(path));
  if (system) return system;
  throw new ChromiumNotFoundError(
    "no Chromium found; install one (Debian: `apt-get install -y chromium`) or pass --chromium <path>",
  );
}

export function launchChromium(explicit?: string): Promise<Browser> {
  return chromium.launch({
    executablePath: findChromium(explicit),
    headless: true,
    args: CHROMIUM_FLAGS,
    // The runner decides what Ctrl-C means (give leases back, then close); Playwright's own
    // handlers would kill the browser mid-shard and exit the process.
    handleSIGINT: false,
    handleSIGTERM: false,
  });
}
