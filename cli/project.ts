import { basename, resolve } from "node:path";
import { readJson } from "./config.ts";

export const sanitizeName = (s: string) =>
  s.toLowerCase().replace(/^@[^/]+\//, "").replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 48).replace(/-+$/, "");

/** The project a folder deploys as: ferry.json name > package.json name > folder name. */
export async function projectOf(dir: string): Promise<{ name: string; fromConfig: boolean }> {
  const ferry = await readJson<{ name?: string }>(resolve(dir, "ferry.json"));
  if (ferry?.name) return { name: ferry.name, fromConfig: true };
  const pkg = await readJson<{ name?: string }>(resolve(dir, "package.json"));
  return { name: sanitizeName(pkg?.name ?? "") || sanitizeName(basename(resolve(dir))) || "app", fromConfig: false };
}
