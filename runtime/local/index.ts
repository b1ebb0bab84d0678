export { createLocalHost, type LocalHostOptions } from "./host.ts";
export type { LogEntry, LogSink } from "./logs.ts";
