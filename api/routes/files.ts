import { Hono } from "hono";
import { requireScope } from "../services/tokens.ts";
import { storeUpload } from "../services/files.ts";
import type { ApiEnv, ApiDeps } from "../types.ts";

export function filesRoutes(deps: ApiDeps) {
  const app = new Hono<ApiEnv>();
  // POST and PUT both accepted: Now's clients used either.
  const upload = async (c: import("hono").Context<ApiEnv>) => {
    const auth = c.get("auth");
    requireScope(auth, "deployments");
    const r = await storeUpload({
      blobs: deps.blobs,
      accountId: auth.accountId,
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
