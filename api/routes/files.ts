import { Hono } from "hono";
import { storeUpload } from "../services/files.ts";
import { storeBatch } from "../services/file-batch.ts";
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
  // many files in one body (services/file-batch.ts); a digest mismatch fails only its own file,
  // and the answer says which: 400 digest_mismatch listing every file's result
  app.post("/batch", async (c) => {
    let files;
    try {
      files = await storeBatch({ blobs: deps.blobs, accountId: c.get("auth").accountId, body: c.req.raw.body, maxFileSize: deps.limits.maxFileSize, maxFiles: deps.limits.maxFiles });
    } catch (e) {
      // the rest of the body is left unread: the connection cannot carry another request
      c.header("connection", "close");
      throw e;
    }
    const failed = files.filter((f) => "error" in f).map((f) => f.sha);
    if (failed.length) {
      const message = `${failed.length} of ${files.length} files did not hash to their digest and were not stored (the others were): ${failed.slice(0, 5).join(", ")}${failed.length > 5 ? ", ..." : ""}`;
      return c.json({ error: { code: "digest_mismatch", message, failed, files } }, 400);
    }
    return c.json({ files });
  });
  app.put("/", upload);
  return app;
}
