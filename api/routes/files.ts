import { Hono } from "hono";
import { storeUpload } from "../services/files.ts";
import type { ApiEnv, ApiDeps } from "../types.ts";

export function filesRoutes(deps: ApiDeps) {
  const app = new Hono<ApiEnv>();
  // POST and PUT both accepted: Now's clients used either. Scope: see access.ts.
  const upload = async (c: import("hono").Context<ApiEnv>) => {
    const r = await storeUpload({
      blobs: deps.blobs,
      accountId: c.get("auth").accountId,
      digest: c.req.header("x-ferry-digest"),
      contentLength: c.req.header("content-length"),
      body: c.req.raw.body,
      maxFileSize: deps.limits.maxFileSize,
    });
    return c.json(r, r.existed ? 200 : 201);
  };
  app.post("/", upload);
  app.put("/", upload);
  return app;
}
