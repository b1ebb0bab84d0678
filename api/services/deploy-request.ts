import { z } from "zod";
import { FerryError } from "../../core/errors.ts";
import { confinePath } from "../../core/paths.ts";
import { jsonPath } from "../../core/config/schema.ts";
import type { FileEntry } from "../../core/types.ts";
import { SHA1_RE } from "./files.ts";

const envMap = z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "invalid environment variable name"), z.string());

export const deployBodySchema = z.strictObject({
  name: z.string().optional(),
  files: z.array(z.strictObject({ file: z.string(), sha: z.string(), size: z.number().int().min(0), mode: z.number().int().min(0).optional() })),
  target: z.enum(["production", "preview"]).optional(),
  env: envMap.optional(),
  buildEnv: envMap.optional(),
  force: z.boolean().optional(),
});

export type DeployRequest = Omit<z.infer<typeof deployBodySchema>, "files"> & { files: FileEntry[] };

/**
 * Validates a create-deployment body. Every file path is confined and normalized, every sha and
 * size checked, duplicates rejected; errors name the offending file.
 */
export function parseDeployRequest(body: unknown, limits: { maxFiles: number; maxFileSize: number }): DeployRequest {
  const r = deployBodySchema.safeParse(body);
  if (!r.success) {
    const i = r.error.issues[0]!;
    const path = i.path.length ? jsonPath(i.path) : "body";
    throw new FerryError("invalid_request", `${path}: ${i.message}`, 400);
  }
  const { files: raw, ...rest } = r.data;
  if (raw.length === 0) throw new FerryError("invalid_request", "files: a deployment needs at least one file", 400);
  if (raw.length > limits.maxFiles) throw new FerryError("too_many_files", `a deployment may have at most ${limits.maxFiles} files, got ${raw.length}`, 400);
  const seen = new Set<string>();
  const files: FileEntry[] = raw.map((f) => {
    const file = confinePath(f.file);
    if (seen.has(file)) throw new FerryError("duplicate_file", `file ${JSON.stringify(file)} is listed twice`, 400, { file });
    seen.add(file);
    const sha = f.sha.toLowerCase();
    if (!SHA1_RE.test(sha)) throw new FerryError("invalid_sha", `file ${JSON.stringify(file)}: sha must be 40 hex characters`, 400, { file });
    if (f.size > limits.maxFileSize) {
      throw new FerryError("file_too_large", `file ${JSON.stringify(file)} is ${f.size} bytes, over the limit of ${limits.maxFileSize}`, 413, { file });
    }
    const mode = f.mode ?? 0o100644;
    if ((mode & 0o170000) === 0o120000) throw new FerryError("invalid_file_mode", `file ${JSON.stringify(file)} is a symlink; upload its target instead`, 400, { file });
    return { file, sha, size: f.size, mode };
  });
  return { ...rest, files };
}
