// Every test starts from an empty, migrated D1 and an empty R2 bucket.
import { applyD1Migrations, env, reset } from "cloudflare:test";
import { beforeEach } from "vitest";

beforeEach(async () => {
  await reset();
  await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
  await emptyStorage();
});

/**
 * Deletes every row and object left. The files share one workerd (isolate: false in
 * worker/vitest.config.ts), and there the first reset() of a file was seen to leave the previous
 * file's rows behind; this makes "empty" checked rather than assumed.
 */
async function emptyStorage(): Promise<void> {
  const { results } = await env.DB.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name != 'd1_migrations'",
  ).all<{ name: string }>();
  if (results.length > 0) {
    await env.DB.batch([
      env.DB.prepare("PRAGMA defer_foreign_keys = ON"),
      ...results.map(({ name }) => env.DB.prepare(`DELETE FROM "${name}"`)),
    ]);
  }
  for (let listed = await env.BLOBS.list(); listed.objects.length > 0; ) {
    await env.BLOBS.delete(listed.objects.map((object) => object.key));
    listed = await env.BLOBS.list();
  }
}
