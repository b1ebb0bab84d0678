import { createHash } from "node:crypto";
import type { BlobStore } from "../../core/blobs/port.ts";
import type { BuildOutput, BuiltFunction, Deployment, RouteConfig, StaticFile } from "../../core/types.ts";
import type { Resolved } from "../../router/resolver.ts";

/** Stores `content` as a static file of a deployment, content-addressed like uploads. */
export async function staticFile(blobs: BlobStore, path: string, content: string | Buffer, contentType = "text/html; charset=utf-8"): Promise<StaticFile> {
  const sha = createHash("sha1").update(content).digest("hex");
  const key = `files/acct_test/${sha}`;
  await blobs.put(key, content);
  return { path, key, sha, size: Buffer.byteLength(content), contentType };
}

export function deployment(over: Partial<Deployment> = {}): Deployment {
  return {
    id: "dpl_test",
    accountId: "acct_test",
    projectId: "prj_test",
    project: "site",
    host: "site-abc12345",
    state: "READY",
    target: "preview",
    fileCount: 1,
    config: {},
    inputHash: "x",
    createdAt: 1,
    updatedAt: 1,
    ...over,
  } as Deployment;
}

export function output(files: StaticFile[], functions: BuiltFunction[] = [], routes: RouteConfig = {}): BuildOutput {
  return { version: 1, static: files, functions, routes };
}

/** A resolve() over a fixed table of labels. */
export function fakeResolve(table: Record<string, Resolved>) {
  return async (label: string) => table[label] ?? null;
}

export const ready = (out: BuildOutput, over: Partial<Deployment> = {}, env: Record<string, string> = {}): Resolved => ({
  deployment: deployment(over),
  output: out,
  env,
});
