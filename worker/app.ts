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

  const allowed = allowedMethods(app);
  app.notFound(function answerNoRoute(c) {
    const allow = allowed(c.req.path);
    if (allow.length > 0) {
      return c.json(
        {
          error: "method_not_allowed",
          detail: `${c.req.path} takes ${allow.join(", ")}, not ${c.req.method}`,
        },
        405,
        { allow: allow.join(", ") },
      );
    }
    return c.json({ error: "not_found", detail: `no route ${c.req.method} ${c.req.path}` }, 404);
  });
  app.onError(function answerError(error, c) {
    if (error instanceof HttpError) {
      return c.json({ error: error.error, detail: error.detail }, error.status);
    }
    if (error instanceof HTTPException) {
      // Hono's own refusals: malformed JSON (400), a body that is not JSON (415; only JSON bodies
      // are validated, so application/json is the type to name).
      const status = error.status;
      if (status === 415) {
        const got = c.req.header("content-type") ?? "none";
        return c.json(
          {
            error: "unsupported_media_type",
            detail: `Content-Type must be application/json (got ${got})`,
          },
          415,
        );
      }
      return c.json(
        { error: "invalid_request", detail: error.message || "malformed request" },
        status,
      );
    }
    console.error(error);
    return c.json({ error: "internal", detail: "internal error; see the worker log" }, 500);
  });
  return app;
}

/**
 * The methods the app's routes take on a path, so a known path asked with another method gets 405
 * and `Allow` rather than 404. Built lazily: routes are all registered once the first request comes.
 */
function allowedMethods(app: OpenAPIHono<AppEnv>): (path: string) => string[] {
  let table: { pattern: RegExp; method: string }[] | null = null;
  return (path) => {
    table ??= app.routes
      .filter((route) => route.method !== "ALL")
      .map((route) => ({
        method: route.method,
        pattern: new RegExp(
          `^${route.path
            .split("/")
            .map((part) =>
              part.startsWith(":") ? "[^/]+" : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"),
            )
            .join("/")}$`,
        ),
      }));
    const methods = new Set(table.filter((r) => r.pattern.test(path)).map((r) => r.method));
    if (methods.has("GET")) methods.add("HEAD");
    return [...methods].sort();
  };
}
