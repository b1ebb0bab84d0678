import { z } from "zod";
import { assertKey, blobKeys, type BlobStore } from "../core/blobs/port.ts";
import { sha1 } from "../core/ids.ts";
import { confinePath } from "../core/paths.ts";
import type { BuildOutput, FunctionAsset, StaticFile } from "../core/types.ts";
import { routesOf } from "./build.ts";
import type { BuildErrorItem } from "./errors.ts";
import { formatBytes } from "./format.ts";
import { functionConfigFor } from "./function-config.ts";
import type { BuildRequest } from "./port.ts";
import { contentTypeOf } from "./static-files.ts";

// The platform's side of a sandboxed build's blob store. The build process runs next to tenant
// code (which could take it over), so nothing it asks for is trusted: it may read only this
// build's uploaded files, write only this deployment's artifacts and content-addressed files of
// this account whose bytes match their sha, and report only an output made of those.

/** A request the build process may not make: the build stops with an internal error naming it. */
export class GateViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = "GateViolation";
  }
}

const SHA1 = /^[0-9a-f]{40}$/;

export interface BlobGate {
  get(key: string): Promise<Buffer | null>;
  put(key: string, bytes: Uint8Array): Promise<void>;
  /** The output the build process reported, checked against what it was allowed and did write. */
  checkOutput(output: unknown): BuildOutput;
}

export function createBlobGate(req: BuildRequest, blobs: BlobStore, opts: { maxBytes: number }): BlobGate {
  const uploaded = new Map(req.files.map((f) => [f.sha, f.size]));
  const artifactRoot = `deployments/${req.deploymentId}/functions/`;
  const filePrefix = blobKeys.file(req.accountId, "");
  /** artifact keys written by this build -> size */
  const artifacts = new Map<string, number>();
  /** shas of content-addressed files written by this build -> size */
  const produced = new Map<string, number>();
  let total = 0;

  const shaOf = (key: string) => (key.startsWith(filePrefix) ? key.slice(filePrefix.length) : null);

  return {
    async get(key) {
      const sha = shaOf(String(key));
      if (!sha || !uploaded.has(sha)) throw new GateViolation(`the build process asked to read ${JSON.stringify(key)}, which is not one of this build's files`);
      return blobs.get(key);
    },

    async put(key, bytes) {
      try {
        assertKey(key);
      } catch {
        throw new GateViolation(`the build process asked to write the invalid key ${JSON.stringify(key)}`);
      }
      if (!(bytes instanceof Uint8Array)) throw new GateViolation(`the build process sent something other than bytes for ${key}`);
      total += bytes.byteLength;
      if (total > opts.maxBytes) throw new GateViolation(`the build wrote more than ${formatBytes(opts.maxBytes)} of artifacts and files`);
      if (key.startsWith(artifactRoot) && key.slice(artifactRoot.length).split("/").length === 2) {
        await blobs.put(key, bytes);
        artifacts.set(key, bytes.byteLength);
        return;
      }
      const sha = shaOf(key);
      if (sha && SHA1.test(sha)) {
        // re-hashed here: the build process cannot store bytes under another file's name
        if (sha1(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)) !== sha) throw new GateViolation(`the build process sent bytes for ${key} that do not match that sha`);
        await blobs.put(key, bytes);
        produced.set(sha, bytes.byteLength);
        return;
      }
      throw new GateViolation(`the build process asked to write ${JSON.stringify(key)}, outside this deployment's artifacts and this account's files`);
    },

    checkOutput(value) {
      const parsed = OutputShape.safeParse(value);
      if (!parsed.success) throw new GateViolation(`the build process reported a malformed output: ${parsed.error.issues[0]?.message ?? "invalid"}`);
      const out = parsed.data;
      const names = new Set<string>();
      const functions = out.functions.map((fn) => {
        if (names.has(fn.name)) throw new GateViolation(`the build process reported function ${fn.name} twice`);
        names.add(fn.name);
        const prefix = blobKeys.artifactPrefix(req.deploymentId, fn.name);
        if (fn.artifact.prefix !== prefix) throw new GateViolation(`the build process reported function ${fn.name} at ${fn.artifact.prefix}, not under this deployment`);
        if (!fn.artifact.files.includes(fn.artifact.entry)) throw new GateViolation(`function ${fn.name}: its entry is not one of its files`);
        for (const f of fn.artifact.files) {
          if (!artifacts.has(`${prefix}/${f}`)) throw new GateViolation(`function ${fn.name}: ${f} was not written by this build`);
        }
        const source = confined(fn.source);
        const dir = fn.artifact.dir === undefined ? undefined : confined(fn.artifact.dir);
        const assets = checkAssets(fn.name, fn.artifact.assets ?? [], new Set(fn.artifact.files.map((f) => (dir ? `${dir}/${f}` : f))));
        const artifact = { prefix, entry: fn.artifact.entry, files: fn.artifact.files, ...(dir ? { dir } : {}), ...(assets.length ? { assets } : {}) };
        // settings come from ferry.json as the platform read it, never from the build process
        return { ...fn, source, artifact, config: functionConfigFor(source, req.config) };
      });
      /** files shipped beside a bundle: uploaded or written by this build, each path once, none over a bundle file */
      function checkAssets(fnName: string, list: { path: string; key: string; sha: string; executable?: boolean }[], bundle: Set<string>): FunctionAsset[] {
        const seen = new Set<string>();
        return list.map((a) => {
          const path = confined(a.path);
          if (seen.has(path) || bundle.has(path)) throw new GateViolation(`function ${fnName}: the build process reported the file ${path} twice`);
          seen.add(path);
          const size = produced.get(a.sha) ?? uploaded.get(a.sha);
          if (size === undefined || a.key !== blobKeys.file(req.accountId, a.sha)) throw new GateViolation(`function ${fnName}: ${a.key} is neither an uploaded file nor one this build wrote`);
          return { path, key: a.key, sha: a.sha, size, ...(a.executable ? { executable: true } : {}) };
        });
      }
      const paths = new Set<string>();
      const staticFiles: StaticFile[] = out.static.map((f) => {
        const path = confined(f.path);
        if (paths.has(path)) throw new GateViolation(`the build process reported static file ${path} twice`);
        paths.add(path);
        const size = produced.get(f.sha) ?? uploaded.get(f.sha);
        if (size === undefined || f.key !== blobKeys.file(req.accountId, f.sha)) throw new GateViolation(`static file ${path}: ${f.key} is neither an uploaded file nor one this build wrote`);
        return { path, key: f.key, sha: f.sha, size, contentType: contentTypeOf(path) };
      });
      return { version: 1, functions, static: staticFiles, routes: routesOf(req.config) };
    },
  };
}

function confined(path: string): string {
  try {
    return confinePath(path);
  } catch {
    throw new GateViolation(`the build process reported the path ${JSON.stringify(path)}`);
  }
}

const str = (max: number) => z.string().min(1).max(max);

const OutputShape = z.object({
  functions: z
    .array(
      z.object({
        name: str(1024),
        route: str(4096),
        source: str(1024),
        handler: z.enum(["function", "server"]),
        exports: z.array(str(1024)).max(1000).optional(),
        args: z.array(z.string().max(16_384)).max(1000).optional(),
        artifact: z.object({
          prefix: str(2048),
          entry: str(256),
          files: z.array(str(256)).min(1).max(16),
          dir: str(1024).optional(),
          assets: z.array(z.object({ path: str(1024), key: str(2048), sha: z.string().regex(SHA1), size: z.number(), executable: z.boolean().optional() })).max(100_000).optional(),
        }),
      }),
    )
    .max(10_000),
  static: z.array(z.object({ path: str(1024), key: str(2048), sha: z.string().regex(SHA1), size: z.number(), contentType: z.string() })).max(1_000_000),
});

/** A build process's user errors, kept to a sane shape and size (they reach the API and the CLI). */
export function checkErrors(value: unknown): BuildErrorItem[] {
  const parsed = z
    .array(z.object({ message: z.string(), file: z.string().optional(), line: z.number().int().optional(), column: z.number().int().optional() }))
    .min(1)
    .safeParse(value);
  if (!parsed.success) throw new GateViolation("the build process reported malformed errors");
  return parsed.data.slice(0, 100).map((e) => {
    const item: BuildErrorItem = { message: e.message.slice(0, 16_000) };
    if (e.file !== undefined) item.file = e.file.slice(0, 1024);
    if (e.line !== undefined) item.line = e.line;
    if (e.column !== undefined) item.column = e.column;
    return item;
  });
}
