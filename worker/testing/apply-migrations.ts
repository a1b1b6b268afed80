// Each test file starts from a migrated, empty D1 (storage is isolated per file).
import { applyD1Migrations, env } from "cloudflare:test";

await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
