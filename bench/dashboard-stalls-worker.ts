// The API worker with a line per request as it arrives and as it is answered, for
// bench/dashboard-stalls.ts (which starts `wrangler dev` on this entry instead of worker/index.ts).
import { createApp } from "../worker/app.ts";

const app = createApp();
let next = 0;

export default {
  async fetch(request: Request, env: unknown, ctx: unknown) {
    const id = ++next;
    const path = new URL(request.url).pathname;
    console.log(`[stall-probe] arrive ${id} ${request.method} ${path}`);
    const response = await app.fetch(request, env as never, ctx as never);
    console.log(`[stall-probe] answer ${id} ${response.status} ${path}`);
    return response;
  },
};
