// `evals submit` through the real command line against a real local API (`wrangler dev` on a free
// port with its own state): checkpoint validation, uploads, dataset registration, run creation,
// --wait with its final table, and every kind of bad input as one line with exit code 2.
import { createHash, randomBytes } from "node:crypto";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uploadCheckpointFiles } from "../evals/api-client/upload.ts";
import { exportModel } from "../model/export-model.ts";
import { stories260kDir } from "../model/testing/stories.ts";
import { addNumericCheck } from "../runner/engine/numeric-check.ts";
import { unusedPort } from "../worker/dev.ts";
import { DEFAULT_PART_BYTES, MAX_SINGLE_PUT_BYTES, UploadSchema } from "../worker/protocol.ts";
import { type CliResult, runCli, runCliInProcess } from "./cli.ts";
import { answerOneShard, gsm8kGolds } from "./fabricated-runner.ts";
import { startTestStack, type TestStack } from "./local-stack.ts";

const TASK = "gsm8k_cot_sean";
let stack: TestStack;
let work: string;
let ckpt: string;
let submitToken: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "evals-submit-cli-"));
  ckpt = join(work, "ckpt");
  // What `evals export` writes, made in-process (tests/export-cli.test.ts runs that command).
  await exportModel({ from: stories260kDir, out: ckpt, split: [1, 3, 1] });
  await addNumericCheck(ckpt);
  stack = await startTestStack();
  // Runs belong to the token that made them: the CLI submits with the token stack.submit reads with.
  submitToken = stack.submitToken;
  // No config file from the machine running the tests: XDG_CONFIG_HOME points at an empty folder.
  env = {
    EVALS_API: stack.api.url,
    EVALS_TOKEN: submitToken,
    EVALS_CONFIG: "",
    XDG_CONFIG_HOME: join(work, "config-home"),
    HF_HUB_OFFLINE: "1",
  };
});

afterAll(async () => {
  await stack?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

// The binary runs for the first submit and for --wait; every other case calls the same program
// in-process (tests/cli.ts).
const submitBinary = (args: string[]) => runCli(["submit", ...args], { env });
const submit = (args: string[], extraEnv: NodeJS.ProcessEnv = {}, cwd?: string) =>
  runCliInProcess(["submit", ...args], { env: { ...env, ...extraEnv }, cwd });

function parseJson(result: CliResult) {
  expect(result.code, result.stderr).toBe(0);
  const lines = result.stdout.trim().split("\n");
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0]);
}

describe("evals submit", () => {
  it("validates, uploads, registers the dataset and creates a run with its shards (--json)", async () => {
    const out = parseJson(
      await submitBinary([
        "--model",
        ckpt,
        "--recurrences",
        "1,4",
        "--tasks",
        TASK,
        "--limit",
        "8",
        "--shard-size",
        "4",
        "--kv",
        "shared",
        "--json",
      ]),
    );
    expect(out.run_id).toMatch(/^run_/);
    expect(out.url).toBe(`${stack.api.url}/run?id=${out.run_id}`);
    expect(out.uploaded).toEqual(
      expect.arrayContaining(["prelude.onnx", "block.onnx", "coda.onnx", "tokenizer.json"]),
    );
    expect(out.already_present).toEqual([]);
    expect(out.datasets_registered).toEqual([
      { name: "gsm8k", added: ["test.jsonl", "fewshot_gsm8k_cot_8shot.jsonl"] },
    ]);
    expect(out.shards).toBe(4);

    const run = await stack.submit.getRun(out.run_id);
    expect(run.state).toBe("active");
    expect(run.checkpoint_id).toBe(out.checkpoint_id);
    expect(run.config).toMatchObject({
      tasks: [TASK],
      recurrences: [1, 4],
      limit: 8,
      kv: "shared",
    });
    expect(run.progress.map((p) => [p.task, p.recurrences, p.samples_total, p.shards])).toEqual([
      [TASK, 1, 8, expect.objectContaining({ queued: 2, leased: 0, done: 0 })],
      [TASK, 4, 8, expect.objectContaining({ queued: 2, leased: 0, done: 0 })],
    ]);
    // Out of the way of the --wait test, which answers whatever shard the API hands out.
    await stack.submit.cancelRun(out.run_id);
  });

  it("skips what the server holds, and reads the token from the config file", async () => {
    const config = join(work, "config.json");
    writeFileSync(config, JSON.stringify({ token: submitToken }));
    const out = parseJson(
      await submit(
        ["--model", ckpt, "--recurrences", "2", "--limit", "4", "--name", "renamed", "--json"],
        {
          EVALS_TOKEN: "",
          EVALS_CONFIG: config,
        },
      ),
    );
    expect(out.uploaded).toEqual([]);
    expect(out.already_present).toContain("block.onnx");
    // --name renames the registered checkpoint; its files are the ones already held.
    expect(out.checkpoint_name).toBe("renamed");
    expect(out.datasets_registered).toEqual([]);
    await stack.submit.cancelRun(out.run_id);
  });

  it("registers the built-in arithmetic task's generated dataset", async () => {
    const out = parseJson(
      await submit([
        ...["--model", ckpt, "--recurrences", "1", "--limit", "2", "--json"],
        ...["--tasks", "arithmetic_word_problems"],
      ]),
    );
    expect(out.datasets_registered).toEqual([
      { name: "arithmetic", added: ["test.jsonl", "fewshot.jsonl"] },
    ]);
    const run = await stack.submit.getRun(out.run_id);
    expect(run.tasks.map((t) => [t.task, t.doc_count])).toEqual([["arithmetic_word_problems", 2]]);
    await stack.submit.cancelRun(out.run_id);
  });

  it("exports a Hugging Face model directory with --split into .evals/exports, once", async () => {
    const cwd = join(work, "cwd");
    mkdirSync(cwd);
    const args = ["--model", stories260kDir, "--split", "1,3,1", "--recurrences", "1", "--json"];
    const first = parseJson(await submit([...args, "--limit", "2"], {}, cwd));
    expect(first.exported).toMatchObject({ from: stories260kDir, split: "1,3,1", cached: false });
    expect(first.exported.dir).toMatch(/^\.evals\/exports\/stories260k-1-3-1-[0-9a-f]{12}$/);
    expect(first.checkpoint_name).toBe("stories260k 1·3·1 random-s0");
    const second = parseJson(await submit([...args, "--limit", "3"], {}, cwd));
    expect(second.exported).toMatchObject({ dir: first.exported.dir, cached: true });
    expect(second.checkpoint_id).toBe(first.checkpoint_id);
    expect(second.uploaded).toEqual([]);
    for (const id of [first.run_id, second.run_id]) await stack.submit.cancelRun(id);
  });

  it("--wait follows the run and ends with the results table", async () => {
    // No browser runner here: the test itself plays the runner, leasing shards and posting
    // fabricated completions through the runner protocol (EvalsClient.lease / postResults)
    // while `submit --wait` polls. Even documents are answered right, odd ones wrong.
    const golds = gsm8kGolds(8);
    let finished = false;
    const waiting = submitBinary([
      "--model",
      ckpt,
      "--recurrences",
      "1,4",
      "--limit",
      "8",
      "--shard-size",
      "3",
      // A seed no other test uses: no sample of an earlier run (whose shards this loop may
      // answer too) can be reused, so all six shards are this run's to answer.
      "--seed",
      "11",
      "--wait",
      "--poll",
      "1",
    ]).finally(() => {
      finished = true;
    });
    const answered: string[] = [];
    while (!finished) {
      const runId = await answerOneShard(stack.runner, golds);
      if (runId) answered.push(runId);
      else await new Promise((done) => setTimeout(done, 100));
    }
    const result = await waiting;
    expect(result.code, result.stderr).toBe(0);
    const runId = /run (run_\S+) finished/.exec(result.stdout)?.[1];
    expect(answered.filter((id) => id === runId)).toHaveLength(6);
    const lines = result.stdout.trim().split("\n");
    expect(lines[0]).toMatch(
      /^task\s+r\s+n\s+metric\s+accuracy \(95% Wilson CI\)\s+mean FLOPs\/sample\s+mean gen tokens\s+truncated prompts\s+backend$/,
    );
    for (const r of [1, 4]) {
      expect(result.stdout).toMatch(
        new RegExp(
          `${TASK}\\s+${r}\\s+8\\s+exact_match,flexible-extract\\s+50\\.0% \\(21\\.5–78\\.5\\)\\s+\\d\\.\\d{3}e\\+\\d+\\s+${10 + r}\\.0\\s+0/8\\s+wasm`,
        ),
      );
    }
    expect(lines.at(-1)).toMatch(
      new RegExp(`^run run_\\S+ finished: ${stack.api.url.replaceAll(".", "\\.")}/run\\?id=run_`),
    );
    // Without a terminal the progress is plain lines on stderr, never on stdout.
    expect(result.stderr).toMatch(new RegExp(`${TASK} r=4: 8/8`));
    expect(result.stdout).not.toMatch(/r=4: 8\/8/);
  });
});

describe("evals submit refuses bad input with one line and exit 2", () => {
  const base = () => ["--model", ckpt, "--recurrences", "1"];
  const corrupted = () => {
    const dir = join(work, "corrupt");
    cpSync(ckpt, dir, { recursive: true });
    const path = join(dir, "coda.onnx.data");
    const bytes = readFileSync(path);
    bytes[100] ^= 0xff;
    writeFileSync(path, bytes);
    return dir;
  };
  // NaN weights with hashes that match them, as an export from NaN weights would write.
  const nanWeights = () => {
    const dir = join(work, "nan-weights");
    cpSync(ckpt, dir, { recursive: true });
    const path = join(dir, "block.onnx.data");
    const bytes = Buffer.alloc(readFileSync(path).length);
    for (let i = 0; i + 4 <= bytes.length; i += 4) bytes.writeUInt32LE(0x7fc00000, i);
    writeFileSync(path, bytes);
    const manifestPath = join(dir, "recurrent.json");
    const manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
    manifest.graphs.block.externalData.sha256 = createHash("sha256").update(bytes).digest("hex");
    writeFileSync(manifestPath, JSON.stringify(manifest));
    return dir;
  };
  const wrongLayers = () => {
    const dir = join(work, "wrong-layers");
    cpSync(ckpt, dir, { recursive: true });
    const path = join(dir, "recurrent.json");
    const manifest = JSON.parse(readFileSync(path, "utf8"));
    manifest.layers.block = manifest.layers.block.slice(0, 2);
    writeFileSync(path, JSON.stringify(manifest));
    return dir;
  };
  const cases: [string, () => string[] | Promise<string[]>, NodeJS.ProcessEnv, RegExp][] = [
    ["an unknown flag", () => [...base(), "--bogus"], {}, /unknown option '--bogus'/],
    [
      "an empty recurrence",
      () => ["--model", ckpt, "--recurrences", "1,,4"],
      {},
      /--recurrences "1,,4": "" is not a positive integer/,
    ],
    [
      "r = 0",
      () => ["--model", ckpt, "--recurrences", "0"],
      {},
      /--recurrences "0": 0 is outside 1\.\.256/,
    ],
    [
      "a negative r",
      () => ["--model", ckpt, "--recurrences", "-1"],
      {},
      /--recurrences "-1": "-1" is not a positive integer/,
    ],
    [
      "a word for r",
      () => ["--model", ckpt, "--recurrences", "abc"],
      {},
      /--recurrences "abc": "abc" is not a positive integer/,
    ],
    [
      "r above 256",
      () => ["--model", ckpt, "--recurrences", "1,300"],
      {},
      /--recurrences "1,300": 300 is outside 1\.\.256/,
    ],
    ["a bad --limit", () => [...base(), "--limit", "0"], {}, /--limit 0 must be between 1 and/],
    [
      "an unknown task",
      () => [...base(), "--tasks", "gsm8k,nope"],
      {},
      /unknown task "nope"; known tasks: gsm8k, .*minerva_math/,
    ],
    [
      "a bad --kv",
      () => [...base(), "--kv", "paged"],
      {},
      /--kv .*paged.* Allowed choices are full, shared/,
    ],
    [
      "a missing checkpoint",
      () => ["--model", join(work, "nowhere"), "--recurrences", "1"],
      {},
      /--model .*nowhere: no such checkpoint or model directory/,
    ],
    [
      "a Hugging Face model without --split",
      () => ["--model", stories260kDir, "--recurrences", "1"],
      {},
      /is a Hugging Face model, not a recurrent checkpoint: give --split P,B,C/,
    ],
    [
      "a corrupted graph file",
      () => ["--model", corrupted(), "--recurrences", "1"],
      {},
      /coda\.onnx\.data does not match its sha256/,
    ],
    [
      "a checkpoint with NaN weights (before any upload)",
      () => ["--model", nanWeights(), "--recurrences", "1"],
      {},
      /nan-weights\/block\.onnx\.data: the weights give NaN .*export the checkpoint again from finite weights/,
    ],
    [
      "a manifest the graphs disagree with",
      () => ["--model", wrongLayers(), "--recurrences", "1"],
      {},
      /block\.onnx disagrees with recurrent\.json \(2 block layers\): unexpected inputs past_key_values\.2\.key/,
    ],
    [
      "no token",
      base,
      { EVALS_TOKEN: "" },
      /no token for the API at .*: pass --token, set EVALS_TOKEN/,
    ],
    [
      "a bad token",
      base,
      { EVALS_TOKEN: "evt_not_a_token" },
      /the API at .* refused the token .*\(401 /,
    ],
    [
      "a runner token",
      () => [...base(), "--token", stack.runnerToken],
      {},
      /the token may not do this .*\(403 .*use a submit token/,
    ],
    [
      "an API URL that is not one",
      () => [...base(), "--api", "localhost:8787"],
      {},
      /--api "localhost:8787" must be an http:\/\/ or https:\/\/ URL/,
    ],
    [
      "a malformed config file",
      base,
      { EVALS_TOKEN: "", EVALS_CONFIG: "" },
      /config\.json: token: .*\{"api": "<url>", "token": "<token>"\}/,
    ],
  ];

  it.each(cases)("%s", async (name, makeArgs, extraEnv, message) => {
    if (name === "a malformed config file") {
      mkdirSync(join(work, "config-home/evals"), { recursive: true });
      writeFileSync(join(work, "config-home/evals/config.json"), JSON.stringify({ token: 5 }));
    }
    try {
      const result = await submit(await makeArgs(), extraEnv);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr.trim().split("\n")).toHaveLength(1);
      expect(result.stderr).not.toMatch(/\n\s+at /);
      expect(result.stdout).toBe("");
    } finally {
      rmSync(join(work, "config-home"), { recursive: true, force: true });
    }
  });

  it("says how to start an API when none answers", async () => {
    const url = `http://127.0.0.1:${await unusedPort()}`;
    const result = await submit(base(), { EVALS_API: url });
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toMatch(
      new RegExp(
        `^error: cannot reach the evals API at ${url.replaceAll(".", "\\.")} \\(ECONNREFUSED\\); start a local one with \`npm run api\``,
      ),
    );
  });
});

describe("checkpoint uploads", () => {
  it("resume a multipart upload from disk, sending only the parts the server lacks", async () => {
    // Larger than one PUT may carry, so it goes in parts read from the file by offset.
    const bytes = Buffer.alloc(MAX_SINGLE_PUT_BYTES + 3 * 2 ** 20);
    const block = randomBytes(2 ** 20);
    for (let at = 0; at < bytes.length; at += block.length) block.copy(bytes, at);
    const path = join(work, "big.onnx.data");
    writeFileSync(path, bytes);
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    // An upload interrupted after its first part.
    const auth = { authorization: `Bearer ${submitToken}` };
    const started = await fetch(`${stack.api.url}/api/uploads`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ sha256, bytes: bytes.length }),
    });
    const upload = UploadSchema.parse(await started.json());
    expect(upload.part_size).toBe(DEFAULT_PART_BYTES);
    const part = await fetch(`${stack.api.url}/api/uploads/${upload.id}/parts/1`, {
      method: "PUT",
      headers: { ...auth, "content-type": "application/octet-stream" },
      body: bytes.subarray(0, DEFAULT_PART_BYTES),
    });
    expect(part.status).toBe(200);

    const seen: number[] = [];
    const file = { name: "big.onnx.data", path, sha256, bytes: bytes.length };
    const summary = await uploadCheckpointFiles(stack.submit, [file], {
      onBytes: (done) => seen.push(done),
    });
    expect(summary).toEqual({
      uploaded: ["big.onnx.data"],
      present: [],
      bytesSent: bytes.length - DEFAULT_PART_BYTES,
    });
    expect(await stack.submit.hasBlob(sha256)).toBe(true);
    expect(seen.at(-1)).toBe(bytes.length);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));

    const again = await uploadCheckpointFiles(stack.submit, [file]);
    expect(again).toEqual({ uploaded: [], present: ["big.onnx.data"], bytesSent: 0 });
  });
});
