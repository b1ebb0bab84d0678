/** One line of a deployment's runtime log: function output or a request summary. */
export interface LogEntry {
  ts: number;
  deploymentId: string;
  function?: string;
  requestId?: string;
  stream: "stdout" | "stderr" | "request";
  text: string;
  method?: string;
  path?: string;
  status?: number;
  durationMs?: number;
}

/**
 * Runtime logs, kept across restarts. Embedded: NDJSON files under FERRY_HOME; on AWS the same
 * port reads CloudWatch Logs.
 */
export interface LogStore {
  append(entry: LogEntry): void;
  query(deploymentId: string, opts?: { since?: number; limit?: number }): Promise<LogEntry[]>;
  /** live entries as they are appended; returns an unsubscribe function */
  follow(deploymentId: string, fn: (e: LogEntry) => void): () => void;
  close(): Promise<void>;
}
