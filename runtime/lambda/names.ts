import { createHash } from "node:crypto";

const hash = (parts: string[], n: number) => createHash("sha256").update(JSON.stringify(parts)).digest("hex").slice(0, n);

/**
 * One Lambda function per (account, project, function); each deployment publishes a version of
 * it and names that version with an alias (its deployment id). Project names are unique only
 * within an account, so the account is in the hash. At most 64 characters (Lambda's limit):
 * prefix (<= 8) + `-` + project (<= 48, the project name rule) + `-` + 6 hex.
 */
export function functionName(prefix: string, accountId: string, project: string, fn: string): string {
  return `${prefix}-${project}-${hash([accountId, project, fn], 6)}`.slice(0, 64);
}

/** Deployment ids (`dpl_<16>`) are valid alias names as they are (no alias may be all digits). */
export function aliasName(deploymentId: string): string {
  if (!/^[a-zA-Z0-9_-]{1,128}$/.test(deploymentId) || /^[0-9]+$/.test(deploymentId)) throw new Error(`deployment id ${deploymentId} is not a valid Lambda alias name`);
  return deploymentId;
}

/** The execution role of one project's functions in one environment: previews never get
 * production's stores (unless a store is shared on purpose, which its env then names). */
export function roleName(prefix: string, accountId: string, project: string, environment: "production" | "preview"): string {
  return `${prefix}-fn-${hash([accountId, project, environment], 16)}`;
}
