import type { BlobStore } from "../core/blobs/port.ts";
import type { FerryConfig } from "../core/config/schema.ts";
import type { ConfigSource } from "../core/config/source.ts";
import type { BuildResult, FileEntry } from "../core/types.ts";

export interface BuildRequest {
  deploymentId: string;
  accountId: string;
  project: string;
  /** the uploaded files; their bytes are at `blobKeys.file(accountId, sha)` */
  files: FileEntry[];
  config: FerryConfig;
  /** which file `config` came from (ferry.json or vercel.json) and what of it was ignored */
  configSource?: ConfigSource;
  /** build-time env only (`build.env`, `--build-env`); never runtime secrets */
  buildEnv: Record<string, string>;
}

export interface BuildContext {
  blobs: BlobStore;
  /** one line of build log; the caller timestamps and streams it */
  log: (line: string) => void;
  /** scratch space for this build; removed afterwards by the caller */
  workDir: string;
  /** persistent cache folder (dependency installs keyed by lockfile hash) */
  cacheDir: string;
  signal?: AbortSignal;
}

/** Builds return a result, never throw for a user's mistake (SST style). */
export type Builder = (req: BuildRequest, ctx: BuildContext) => Promise<BuildResult>;
