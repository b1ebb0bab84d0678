import type { BuildResult } from "../core/types.ts";
import type { BuildRequest } from "./port.ts";

/** parent -> build process: the one build it runs */
export type ParentMessage = { type: "build"; request: BuildRequest; workDir: string; cacheDir: string };

/** build process -> parent: log lines as they happen, then exactly one result */
export type WorkerMessage = { type: "log"; line: string } | { type: "result"; result: BuildResult };
