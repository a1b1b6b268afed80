// How often a dashboard page load in Chromium leaves an API request unanswered for seconds: the
// stack of dashboard.long.test.ts (wrangler dev on a migrated state, seeded the same way, Chromium
// with the runner's flags), the dashboard's pages loaded in turn, every request timed. A request
// slower than --stall-ms is a stall; for each, the script prints Chromium's timing phases and what
// the worker saw (arrival and answer lines from bench/dashboard-stalls-worker.ts, timed here).
//
//   npx tsx bench/dashboard-stalls.ts --loads 200 [--stall-ms 5000] [--netlog /tmp/net.json]
//   [--fresh-context] # each load in a new browser context (its own connections), as a test's first
//   [--live-poll]   # keep a running run's page polling in a second tab meanwhile
//   [--wrangler-log debug --server-log f.log] # wrangler's own log level; every server line, live
//   [--dump f.json] # every request's timing and every server line, for a closer look
//   [--heartbeat]   # the read every 2 s that startLocalApi sends to keep wrangler's proxy moving
//   [--node-rounds N] # first, N rounds of a run page's four reads from node:http at once, each
//                     # round on fresh keep-alive sockets (no browser): does node see stalls too?
import { appendFileSync, rmSync, writeFileSync } from "node:fs";
import { Agent, get as httpGet } from "node:http";
import { parseArgs } from "node:util";
import type { Page, Request } from "playwright-core";
import { chromium } from "playwright-core";
import {
  retrofitCheckpoint,
  seed,
  seedComparisons,
  seedGeneral,
  seedTriage,
} from "../dashboard/testing/seed.ts";
import { CHROMIUM_FLAGS, findChromium } from "../runner/browser/chromium.ts";
import { migratedState } from "../tests/migrated-state.ts";
import { startLocalApi, unusedPort } from "../worker/dev.ts";

const { values } = parseArgs({
  options: {
    loads: { type: "string", default: "200" },
    "stall-ms": { type: "string", default: "5000" },
    netlog: { type: "string" },
    "live-poll": { type: "boolean", default: false },
    "fresh-context": { type: "boolean", default: false },
    dump: { type: "string" },
    "wrangler-log": { type: "string", default: "log" },
    "server-log": { type: "string" },
    "node-rounds": { type: "string", default: "0" },
    heartbeat: { type: "boolean", default: false },
  },
});
const LOADS = Number(values.loads);
const STALL_MS = Number(values["stall-ms"]);
const t0 = Date.now();
const at = () => ((Date.now() - t0) / 1000).toFixed(3);

// ── the API: wrangler dev as worker/dev.ts starts it, on the probing entry, logs kept ──
const persistTo = await migratedState("evals-stalls-");
const serverLog: { t: string; line: string }[] = [];
const api = await startLocalApi({
  port: await unusedPort(),
  persistTo,
  migrated: true,
  entry: "bench/dashboard-stalls-worker.ts",
  logLevel: values["wrangler-log"],
  onOutput: (line) => {
    serverLog.push({ t: at(), line });
    if (values["server-log"]) appendFileSync(values["server-log"], `${at()} ${line}\n`);
  },
  heartbeat: values.heartbeat,
});
const { url, adminToken } = api;
console.log(
  `[${at()}] API at ${url}${values.heartbeat ? " (a read every 2 s, as startLocalApi sends)" : ""}`,
);

// ── the seed of dashboard.long.test.ts, in its order ──
const [checkpointA, browser] = await Promise.all([
  retrofitCheckpoint(),
  chromium.launch({
    executablePath: findChromium(),
    headless: true,
    args: [
      ...CHROMIUM_FLAGS,
      ...(values.netlog
        ? [`--log-net-log=${values.netlog}`, "--net-log-capture-mode=Default"]
        : []),
    ],
  }),
]);
const extras = await seedComparisons(url, adminToken, checkpointA);
const triage = await seedTriage(url, adminToken);
await seedGeneral(url, adminToken, checkpointA);
const seeded = await seed(url, adminToken, checkpointA);
console.log(`[${at()}] seeded`);

const anonymous = [
  "/",
  `/run?id=${seeded.runs.a}`,
  `/checkpoint?id=${seeded.checkpoints.a}`,
  `/compare?a=${seeded.runs.a}&b=${seeded.runs.b}`,
  `/samples?run=${seeded.runs.a}&doc=3`,
  `/run?id=${extras.runs.unrolled}`,
  "/?task=arc_easy",
];
const owned = [`/run?id=${triage.truncatedRun}`, `/samples?run=${triage.truncatedRun}&doc=2`];

async function tab(token?: string): Promise<Page> {
  const context = await browser.newContext();
  if (token) {
    await context.addInitScript((t) => {
      if (location.protocol.startsWith("http")) localStorage.setItem("evals.token", t);
    }, token);
  }
  return context.newPage();
}

interface Timed {
  load: number;
  path: string;
  url: string;
  started: number;
  ms?: number;
  failed?: string;
  timing?: ReturnType<Request["timing"]>;
}
const timed: Timed[] = [];
const inFlight = new Map<Request, Timed>();

function watch(page: Page, load: () => number, path: () => string) {
  page.on("request", (request) => {
    const entry = { load: load(), path: path(), url: request.url(), started: Date.now() };
    inFlight.set(request, entry);
    timed.push(entry);
  });
  const done = (request: Request, failed?: string) => {
    const entry = inFlight.get(request);
    if (!entry) return;
    inFlight.delete(request);
    entry.ms = Date.now() - entry.started;
    entry.failed = failed;
    entry.timing = request.timing();
  };
  page.on("requestfinished", (request) => done(request));
  page.on("requestfailed", (request) => done(request, request.failure()?.errorText ?? "failed"));
}

const pages: Record<string, Page> = {
  anonymous: await tab(),
  owned: await tab(triage.submitToken),
};
let current = 0;
let currentPath = "";
watch(
  pages.anonymous,
  () => current,
  () => currentPath,
);
watch(
  pages.owned,
  () => current,
  () => currentPath,
);
if (values["live-poll"]) {
  const live = await tab(seeded.submitToken);
  watch(
    live,
    () => -1,
    () => "live poll",
  );
  await live.goto(`${url}/run?id=${seeded.runs.live}`);
}

/** Requests open longer than the stall limit, each reported once while it is still open. */
const reported = new Set<Timed>();
function reportOpenStalls(): void {
  for (const entry of inFlight.values()) {
    if (reported.has(entry) || Date.now() - entry.started < STALL_MS) continue;
    reported.add(entry);
    const path = new URL(entry.url).pathname;
    const since = (entry.started - t0) / 1000 - 0.5;
    const seen = serverLog.filter((l) => Number(l.t) >= since && l.line.includes(` ${path}`));
    console.log(
      `[${at()}] load ${entry.load} (${entry.path}): ${entry.url.replace(url, "")} open for ${Date.now() - entry.started} ms; the worker saw: ${seen.map((l) => `${l.t} ${l.line.trim()}`).join(" | ") || "nothing"}`,
    );
  }
}

/**
 * Waits until the page's requests are all answered and none is issued for 500 ms (a page may ask
 * for a second round once the first is in), at most HUNG_MS.
 */
const HUNG_MS = 60_000;
async function settled(page: Page, since: number): Promise<boolean> {
  let quietSince = Date.now();
  for (;;) {
    const open = [...inFlight.entries()].filter(([r]) => r.frame().page() === page);
    if (open.length) quietSince = Date.now();
    else if (Date.now() - quietSince > 500) return true;
    reportOpenStalls();
    if (Date.now() - since > HUNG_MS) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** One GET through `agent`; its time to the end of the body, or null when not answered in time. */
function nodeGet(agent: Agent, path: string): Promise<number | null> {
  const began = Date.now();
  return new Promise((done) => {
    const req = httpGet(`${url}${path}`, { agent }, (res) => {
      res.resume();
      res.on("end", () => done(Date.now() - began));
    });
    req.setTimeout(HUNG_MS, () => {
      req.destroy();
      done(null);
    });
    req.on("error", () => done(null));
  });
}

const nodeRounds = Number(values["node-rounds"]);
if (nodeRounds > 0) {
  const run = seeded.runs.a;
  const reads = [`/api/runs/${run}`, "/api/leaderboard", "/api/leaderboard/checkpoints"];
  reads.push(`/api/runs/${run}/precision-cost`);
  const times: (number | null)[] = [];
  const began = Date.now();
  for (let round = 0; round < nodeRounds; round++) {
    const agent = new Agent({ keepAlive: true });
    const got = await Promise.all(reads.map((path) => nodeGet(agent, path)));
    agent.destroy();
    got.forEach((ms, i) => {
      if (ms === null || ms > STALL_MS)
        console.log(`[${at()}] node round ${round}: ${reads[i]} ${ms ?? "no answer"} ms`);
    });
    times.push(...got);
  }
  const slow = times.filter((t) => t === null || t > STALL_MS).length;
  console.log(
    `node: ${nodeRounds} rounds of ${reads.length} reads at once in ${((Date.now() - began) / 1000).toFixed(1)} s; ${slow} over ${STALL_MS} ms or unanswered`,
  );
}

const started = Date.now();
for (current = 0; current < LOADS; current++) {
  const all = [...anonymous.map((p) => ["anonymous", p]), ...owned.map((p) => ["owned", p])];
  const [who, path] = all[current % all.length] as ["anonymous" | "owned", string];
  currentPath = path;
  const loadStart = Date.now();
  let page = pages[who];
  if (values["fresh-context"]) {
    // A request the closed page still had open is never answered to it: not a stall.
    for (const [request, entry] of inFlight) {
      if (request.frame().page() !== page) continue;
      inFlight.delete(request);
      entry.failed = "page closed";
      entry.ms = Date.now() - entry.started;
    }
    await page.context().close();
    page = pages[who] = await tab(who === "owned" ? triage.submitToken : undefined);
    watch(
      page,
      () => current,
      () => currentPath,
    );
  }
  await page.goto("about:blank");
  await page.goto(`${url}${path}`, { timeout: HUNG_MS }).catch((error) => {
    console.log(`[${at()}] load ${current} ${path}: ${String(error).split("\n")[0]}`);
  });
  const answered = await settled(page, loadStart);
  const ms = Date.now() - loadStart;
  if (!answered) console.log(`[${at()}] load ${current} ${path}: still open after ${ms} ms, left`);
  else if (ms > STALL_MS) console.log(`[${at()}] load ${current} ${path}: ${ms} ms`);
  if (current % 50 === 49) console.log(`[${at()}] ${current + 1} loads`);
}
const wall = Date.now() - started;

// ── the figures ──
/**
 * One read per load and URL (a hedged read's copies together): from its first request to its first
 * answer; never answered when no copy was (a load given up after HUNG_MS closes its requests).
 */
interface Read {
  load: number;
  path: string;
  url: string;
  api: boolean;
  copies: Timed[];
  ms: number;
}
const readsByKey = new Map<string, Timed[]>();
for (const t of timed) {
  if (t.load < 0) continue;
  const key = `${t.load} ${t.url}`;
  readsByKey.set(key, [...(readsByKey.get(key) ?? []), t]);
}
const reads: Read[] = [...readsByKey.values()].map((copies) => {
  const began = Math.min(...copies.map((c) => c.started));
  const answers = copies
    .filter((c) => !c.failed && c.ms !== undefined)
    .map((c) => c.started + (c.ms as number) - began);
  const { load, path, url: address } = copies[0];
  const api = address.includes("/api/");
  return {
    load,
    path,
    url: address.replace(url, ""),
    api,
    copies,
    ms: Math.min(Infinity, ...answers),
  };
});
console.log(`\n${LOADS} page loads in ${(wall / 1000).toFixed(1)} s`);
for (const api of [true, false]) {
  const group = reads.filter((r) => r.api === api);
  const sorted = group.map((r) => r.ms).sort((a, b) => a - b);
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  const over = (ms: number) => group.filter((r) => r.ms > ms);
  const extra = group.reduce((n, r) => n + r.copies.length - 1, 0);
  console.log(
    `${api ? "API reads" : "pages and assets"}: ${group.length} (${extra} extra copies sent); ` +
      `first answer median ${q(0.5)} ms, p99 ${q(0.99)} ms; over ${STALL_MS} ms: ` +
      `${over(STALL_MS).length} in ${new Set(over(STALL_MS).map((r) => r.load)).size} loads; ` +
      `over 10 s: ${over(10_000).length}; never answered: ${group.filter((r) => r.ms === Infinity).length}`,
  );
}
for (const read of reads.filter((r) => r.ms > STALL_MS)) {
  console.log(`  load ${read.load} (${read.path}): ${read.url} answered after ${read.ms} ms`);
  for (const copy of read.copies) {
    const t = copy.timing;
    const phases = t
      ? `connect ${t.connectStart.toFixed(0)}–${t.connectEnd.toFixed(0)}, sent ${t.requestStart.toFixed(0)}, response ${t.responseStart.toFixed(0)}–${t.responseEnd.toFixed(0)} ms`
      : "no timing";
    console.log(
      `    request at ${((copy.started - t0) / 1000).toFixed(3)} s: ${copy.ms ?? "never answered"} ms${copy.failed ? ` (${copy.failed})` : ""}; ${phases}`,
    );
  }
  const path = new URL(`${url}${read.url}`).pathname;
  const from = (Math.min(...read.copies.map((c) => c.started)) - t0) / 1000 - 0.5;
  const to = from + (Number.isFinite(read.ms) ? read.ms : HUNG_MS) / 1000 + 1.5;
  const lines = serverLog.filter(
    (e) => Number(e.t) >= from && Number(e.t) <= to && e.line.includes(` ${path}`),
  );
  for (const entry of lines.slice(0, 20))
    console.log(`    server ${entry.t}: ${entry.line.slice(0, 200)}`);
}

if (values.dump) writeFileSync(values.dump, JSON.stringify({ t0, timed, serverLog }, null, 1));
await browser.close();
await api.stop();
rmSync(persistTo, { recursive: true, force: true });
