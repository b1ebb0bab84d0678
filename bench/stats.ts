/** Small helpers shared by the benchmarks: timing and summaries. */
export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

export async function timeIt(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/** Runs `a` and `b` alternately so machine noise hits both alike; returns the median of each. */
export async function interleaved(runs: number, a: () => Promise<unknown>, b: () => Promise<unknown>) {
  const ta: number[] = [];
  const tb: number[] = [];
  for (let i = 0; i < runs; i++) {
    ta.push(await timeIt(a));
    tb.push(await timeIt(b));
  }
  return { a: median(ta), b: median(tb), samplesA: ta, samplesB: tb };
}

export interface BenchResult {
  name: string;
  /** the measured ratio and whether it meets the target */
  ratio: number;
  /** when set, `ratio` is a count in this unit rather than a ratio */
  unit?: string;
  target: string;
  ok: boolean;
  details: Record<string, number | string>;
}

export const fmt = (n: number, digits = 1) => n.toFixed(digits);
