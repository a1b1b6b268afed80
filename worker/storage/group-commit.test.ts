import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { GroupCommit } from "./group-commit.ts";

describe("GroupCommit", () => {
  it("gives each concurrent caller its own statements' results", async () => {
    await env.DB.prepare("CREATE TABLE t (i INTEGER PRIMARY KEY, v TEXT)").run();
    const committer = new GroupCommit(env.DB);
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        committer.batch([
          env.DB.prepare("INSERT INTO t (i, v) VALUES (?, ?)").bind(i, `v${i}`),
          env.DB.prepare("SELECT v FROM t WHERE i = ?").bind(i),
        ]),
      ),
    );
    answers.forEach((results, i) => {
      expect(results).toHaveLength(2);
      expect(results[1].results).toEqual([{ v: `v${i}` }]);
    });
  });

  it("fails only the caller whose statement fails", async () => {
    await env.DB.prepare("CREATE TABLE u (i INTEGER PRIMARY KEY)").run();
    await env.DB.prepare("INSERT INTO u (i) VALUES (0)").run();
    const committer = new GroupCommit(env.DB);
    const outcomes = await Promise.allSettled(
      [1, 2, 0, 3].map((i) =>
        committer.batch([env.DB.prepare("INSERT INTO u (i) VALUES (?)").bind(i)]),
      ),
    );
    expect(outcomes.map((o) => o.status)).toEqual([
      "fulfilled",
      "fulfilled",
      "rejected",
      "fulfilled",
    ]);
    const { results } = await env.DB.prepare("SELECT i FROM u ORDER BY i").all();
    expect(results).toEqual([{ i: 0 }, { i: 1 }, { i: 2 }, { i: 3 }]);
  });
});
