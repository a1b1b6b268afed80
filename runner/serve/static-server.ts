// A local HTTP server for the engine page: the bundle, onnxruntime-web's files and checkpoint
// directories, with the COOP/COEP headers that make the page cross-origin isolated (WASM threads).
import { createReadStream, existsSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { dirname, extname, join, normalize, sep } from "node:path";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript",
  ".mjs": "text/javascript",
  ".wasm": "application/wasm",
  ".json": "application/json",
  ".onnx": "application/octet-stream",
  ".data": "application/octet-stream",
};

const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>evals engine</title></head>
<body><script type="module" src="/engine-page.js"></script></body></html>`;

export interface StaticServer {
  url: string;
  /** Serves `dir` under /ckpt/<id>; returns the URL prefix. */
  addCheckpoint(id: string, dir: string): string;
  close(): Promise<void>;
}

export async function startStaticServer(pageScript: string): Promise<StaticServer> {
  const ortDir = join(dirname(createRequire(import.meta.url).resolve("onnxruntime-web")), "");
  const checkpoints = new Map<string, string>();
  const server: Server = createServer(function serve(request, response) {
    response.setHeader("Cross-Origin-Opener-Policy", "same-origin");
    response.setHeader("Cross-Origin-Embedder-Policy", "require-corp");
    response.setHeader("Cross-Origin-Resource-Policy", "same-origin");
    const path = decodeURIComponent(new URL(request.url ?? "/", "http://localhost").pathname);
    if (path === "/" || path === "/index.html") {
      response.setHeader("Content-Type", TYPES[".html"]);
      response.end(PAGE);
      return;
    }
    const file = resolveFile(path, pageScript, ortDir, checkpoints);
    if (!file) {
      response.statusCode = 404;
      response.end("not found");
      return;
    }
    response.setHeader("Content-Type", TYPES[extname(file)] ?? "application/octet-stream");
    response.setHeader("Content-Length", statSync(file).size);
    createReadStream(file).pipe(response);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    addCheckpoint(id, dir) {
      checkpoints.set(id, dir);
      return `${url}/ckpt/${id}`;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function resolveFile(
  path: string,
  pageScript: string,
  ortDir: string,
  checkpoints: Map<string, string>,
): string | null {
  if (path === "/engine-page.js") return pageScript;
  const within = (root: string, rest: string) => {
    const file = normalize(join(root, rest));
    return file.startsWith(root + sep) && existsSync(file) && statSync(file).isFile() ? file : null;
  };
  if (path.startsWith("/ort/")) return within(ortDir, path.slice(5));
  const match = /^\/ckpt\/([^/]+)\/(.+)$/.exec(path);
  if (match) {
    const dir = checkpoints.get(match[1]);
    return dir ? within(dir, match[2]) : null;
  }
  return null;
}
