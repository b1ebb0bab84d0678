import { z } from "zod";
import { FerryError } from "../../core/errors.ts";
import { uploadPathProblem } from "../../core/paths.ts";
import { jsonPath } from "../../core/config/schema.ts";
import type { FileEntry } from "../../core/types.ts";
import { SHA1_RE } from "./files.ts";
import { gitMetaSchema } from "./git-meta.ts";

const envMap = z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "invalid environment variable name"), z.string());

export const deployBodySchema = z.strictObject({
  name: z.string().optional(),
  files: z.array(z.strictObject({ file: z.string(), sha: z.string(), size: z.number().int().min(0), mode: z.number().int().min(0).optional() })),
  target: z.enum(["production", "preview"]).optional(),
  env: envMap.optional(),
  buildEnv: envMap.optional(),
  force: z.boolean().optional(),
  /** the commit the files come from (git push, deploy hooks, `ferry` in a work tree) */
  git: gitMetaSchema.optional(),
});

export type DeployRequest = Omit<z.infer<typeof deployBodySchema>, "files"> & { files: FileEntry[] };

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const PERMISSIONS = 0o777;

/** 400 invalid_file_list naming the file and the rule it breaks. */
export const fileListError = (file: unknown, rule: string, why: string) =>
  new FerryError("invalid_file_list", `file ${JSON.stringify(file)} ${why}`, 400, { file, rule });

/**
 * The mode of a listed file: a regular file's st_mode with permission bits only (0o100644,
 * 0o100755...). Symlinks, devices, fifos, sockets, folders, setuid/setgid/sticky and anything
 * else are refused: only regular files are deployed, and their executable bit is all that is kept.
 */
function checkMode(file: string, mode: number): number {
  if ((mode & S_IFMT) === S_IFLNK && mode <= 0o177777) throw fileListError(file, "mode_symlink", "is a symlink (mode 0o" + mode.toString(8) + "); upload the file it points to instead");
  if (!Number.isSafeInteger(mode) || mode > 0o177777 || (mode & S_IFMT) !== S_IFREG) {
    throw fileListError(file, "mode_type", `has mode 0o${mode.toString(8)}: the mode must be a regular file's (0o100000 plus permission bits, e.g. 0o100644)`);
  }
  if (mode & ~(S_IFMT | PERMISSIONS)) throw fileListError(file, "mode_special_bits", `has mode 0o${mode.toString(8)}: setuid, setgid and sticky bits are not allowed`);
  return mode;
}

/**
 * Validates a create-deployment body. Every path must already be normal and confined (see
 * `uploadPathProblem`), every sha, size and mode checked, duplicates and a file that is also
 * another file's folder rejected; errors name the offending file and the rule.
 */
export function parseDeployRequest(body: unknown, limits: { maxFiles: number; maxFileSize: number }): DeployRequest {
  const r = deployBodySchema.safeParse(body);
  if (!r.success) {
    const i = r.error.issues[0]!;
    const path = i.path.length ? jsonPath(i.path) : "body";
    throw new FerryError("invalid_request", `${path}: ${i.message}`, 400, { field: path });
  }
  const { files: raw, ...rest } = r.data;
  if (raw.length === 0) throw new FerryError("invalid_request", "files: a deployment needs at least one file", 400, { field: "files" });
  if (raw.length > limits.maxFiles) throw new FerryError("too_many_files", `a deployment may have at most ${limits.maxFiles} files, got ${raw.length}`, 400);
  const seen = new Set<string>();
  // folder -> a file inside it: a path may not be both a file and another file's folder
  const folders = new Map<string, string>();
  const files: FileEntry[] = raw.map((f) => {
    const problem = uploadPathProblem(f.file);
    if (problem) throw fileListError(f.file, problem.rule, problem.message);
    const file = f.file;
    if (seen.has(file)) throw fileListError(file, "duplicate", "is listed twice");
    if (folders.has(file)) throw fileListError(file, "file_is_folder", `is listed as a file but is the folder of ${JSON.stringify(folders.get(file))}`);
    for (let i = file.indexOf("/"); i > 0; i = file.indexOf("/", i + 1)) {
      const folder = file.slice(0, i);
      if (seen.has(folder)) throw fileListError(file, "file_is_folder", `is inside ${JSON.stringify(folder)}, which is listed as a file`);
      if (!folders.has(folder)) folders.set(folder, file);
    }
    seen.add(file);
    const sha = f.sha.toLowerCase();
    if (!SHA1_RE.test(sha)) throw fileListError(file, "sha", "has a sha that is not 40 hex characters");
    if (f.size > limits.maxFileSize) {
      throw new FerryError("file_too_large", `file ${JSON.stringify(file)} is ${f.size} bytes, over the limit of ${limits.maxFileSize}`, 413, { file, limit: limits.maxFileSize });
    }
    return { file, sha, size: f.size, mode: checkMode(file, f.mode ?? 0o100644) };
  });
  return { ...rest, files };
}
