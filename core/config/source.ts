// Which config file a deployment read, kept apart from the schema so the build process can log
// it without loading the config parser.

export type ConfigFileName = "ferry.json" | "vercel.json";

/** Which file a deployment's config came from, for the build log. */
export interface ConfigSource {
  /** the file read; null when the app has neither */
  file: ConfigFileName | null;
  /** config files present but not read (vercel.json beside ferry.json) */
  ignoredFiles: ConfigFileName[];
  /** JSON paths of accepted keys that have no meaning on Ferry (`regions`, `functions["api/*.js"].runtime`) */
  ignoredKeys: string[];
}

/** The build log's account of the config: which file was read, and what of it is ignored. */
export function configLogLines(source: ConfigSource | undefined): string[] {
  if (!source?.file) return [];
  const lines = [`Using ${source.file}${source.ignoredFiles.length ? ` (${source.ignoredFiles.join(", ")} is ignored)` : ""}`];
  if (source.ignoredKeys.length) lines.push(`Ignoring ${source.file} keys that have no meaning on Ferry: ${source.ignoredKeys.join(", ")}`);
  return lines;
}
