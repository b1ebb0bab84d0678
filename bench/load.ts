import autocannon from "autocannon";

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  /** requests answered */
  total: number;
}

/** Drives `url` with keep-alive connections for `seconds`; the Host header picks the deployment. */
export async function load(url: string, opts: { host?: string; seconds?: number; connections?: number } = {}): Promise<LoadResult> {
  const r = await autocannon({
    url,
    connections: opts.connections ?? 32,
    duration: opts.seconds ?? 5,
    headers: opts.host ? { host: opts.host } : {},
  });
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.timeouts, non2xx: r.non2xx, total: r.requests.total };
}
