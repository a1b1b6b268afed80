#!/usr/bin/env node
// `npm run test:times [-- vitest args]`: runs the suite with vitest's JSON reporter and prints the
// slowest 30 tests and the wall time of every file, to see where CI's minutes go. The machine's
// load average is printed beside the figures because a shared machine makes them noisy.
// `npm run test:times -- --from report.json` prints the tables of an earlier run without running.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const args = process.argv.slice(2);
const fromIndex = args.indexOf("--from");
const SLOWEST = 30;

function load() {
  return loadavg()
    .map((n) => n.toFixed(2))
    .join(" ");
}

let reportPath;
let wallSeconds;
let loadBefore;
let loadAfter;
if (fromIndex >= 0) {
  reportPath = resolve(args[fromIndex + 1] ?? "");
} else {
  reportPath = join(mkdtempSync(join(tmpdir(), "test-times-")), "report.json");
  loadBefore = load();
  const started = performance.now();
  // The JSON reporter writes the file; the default reporter keeps progress visible on stderr.
  const result = spawnSync(
    "npx",
    [
      "vitest",
      "run",
      "--reporter=json",
      "--reporter=dot",
      `--outputFile.json=${reportPath}`,
      ...args,
    ],
    { cwd: root, stdio: ["ignore", "inherit", "inherit"] },
  );
  wallSeconds = (performance.now() - started) / 1000;
  loadAfter = load();
  if (result.error) throw result.error;
  process.exitCode = result.status ?? 1;
}

const report = JSON.parse(readFileSync(reportPath, "utf8"));
const seconds = (ms) => (ms / 1000).toFixed(1).padStart(7);
const fileName = (name) => relative(root, name);

const tests = report.testResults.flatMap((file) =>
  file.assertionResults.map((test) => ({
    file: fileName(file.name),
    name: test.fullName,
    ms: test.duration ?? 0,
    status: test.status,
  })),
);
tests.sort((a, b) => b.ms - a.ms);

console.log(`\nslowest ${SLOWEST} tests (seconds)`);
for (const test of tests.slice(0, SLOWEST)) {
  const mark = test.status === "passed" ? "" : ` [${test.status}]`;
  console.log(`${seconds(test.ms)}  ${test.file} > ${test.name}${mark}`);
}

// A file's wall time runs from its start to its end, so it includes imports and hooks
// (global exports, wrangler dev, Chromium) that no single test's duration shows.
const files = report.testResults.map((file) => ({
  file: fileName(file.name),
  ms: file.endTime - file.startTime,
  tests: file.assertionResults.length,
  status: file.status,
}));
files.sort((a, b) => b.ms - a.ms);
console.log("\nwall time per file (seconds, tests)");
for (const file of files) {
  const mark = file.status === "passed" ? "" : ` [${file.status}]`;
  console.log(`${seconds(file.ms)}  ${String(file.tests).padStart(4)}  ${file.file}${mark}`);
}

const sum = files.reduce((total, file) => total + file.ms, 0);
console.log(
  `\n${report.numTotalTests} tests (${report.numPassedTests} passed, ${report.numFailedTests} failed, ` +
    `${report.numPendingTests + report.numTodoTests} skipped) in ${files.length} files; ` +
    `sum of file times ${seconds(sum).trim()} s`,
);
if (wallSeconds !== undefined) {
  console.log(
    `wall ${wallSeconds.toFixed(0)} s; load average (1, 5, 15 min) before ${loadBefore}, after ${loadAfter}`,
  );
  console.log(`JSON report: ${reportPath}`);
}
