import { readFile } from "node:fs/promises";
import { basename, resolve } from "node:path";

const readJson = (path: string) =>
  readFile(path, "utf8").then(
    (t) => {
      try {
        return JSON.parse(t) as { name?: string };
      } catch {
        return null;
      }
    },
    () => null,
  );

export const sanitizeName = (s: string) =>
  s.toLowerCase().replace(/^@[^/]+\//, "").replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 48).replace(/-+$/, "");

/** The project a folder deploys as: ferry.json name > package.json name > folder name. */
export async function projectOf(dir: string): Promise<{ name: string; fromConfig: boolean }> {
  const ferry = await readJson(resolve(dir, "ferry.json"));
  if (ferry?.name) return { name: ferry.name, fromConfig: true };
  const pkg = await readJson(resolve(dir, "package.json"));
  return { name: sanitizeName(pkg?.name ?? "") || sanitizeName(basename(resolve(dir))) || "app", fromConfig: false };
}
