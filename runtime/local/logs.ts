import type { LogEntry } from "../../core/logs/port.ts";

export type { LogEntry };

export type LogSink = (entry: LogEntry) => void;

export { readLines } from "../../core/lines.ts";
