// The coordinator API: every route under /api, JSON errors, and the OpenAPI document.
import { OpenAPIHono } from "@hono/zod-openapi";
import { HTTPException } from "hono/http-exception";
import { authenticate } from "./auth/middleware.ts";
import { limitBodies } from "./body-limit.ts";
import type { AppEnv } from "./env.ts";
import { HttpError } from "./http-error.ts";
import { blobRoutes } from "./routes/blobs.ts";
import { checkpointRoutes } from "./routes/checkpoints.ts";
import { datasetRoutes } from "./routes/datasets.ts";
import { leaderboardRoutes } from "./routes/leaderboard.ts";
import { leaseRoutes } from "./routes/leases.ts";
import { runRoutes } from "./routes/runs.ts";
import { tokenRoutes } from "./routes/tokens.ts";
import { uploadRoutes } from "./routes/uploads.ts";

export function createApp(): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>();
  app.use("/api/*", limitBodies(), authenticate());
  for (const routes of [
    tokenRoutes,
    blobRoutes,
    uploadRoutes,
    checkpointRoutes,
    datasetRoutes,
    runRoutes,
    leaseRoutes,
    leaderboardRoutes,
  ]) {
    app.route("/api", routes);
  }

  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
  });
  app.doc31("/api/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "evals coordinator API",
      version: "1",
      description:
        "Checkpoints, datasets, runs, shards, leases and results of evals (DESIGN §2, §7, §8).",
    },
  });

  app.notFound((c) =>
    c.json({ error: "not_found", detail: `no route ${c.req.method} ${c.req.path}` }, 404),
  );
  app.onError(function answerError(error, c) {
    if (error instanceof HttpError) {
      return c.json({ error: error.error, detail: error.detail }, error.status);
    }
    if (error instanceof HTTPException) {
      // Hono's own refusals: malformed JSON (400), a body that is not JSON (415).
      const status = error.status;
      const code = status === 415 ? "unsupported_media_type" : "invalid_request";
      return c.json({ error: code, detail: error.message || "malformed request" }, status);
    }
    console.error(error);
    return c.json({ error: "internal", detail: "internal error; see the worker log" }, 500);
  });
  return app;
}
