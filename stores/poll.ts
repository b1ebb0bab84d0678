/**
 * Calls `check` with growing pauses (25 ms up to 1 s) until it returns a value or `timeoutMs`
 * passes; returns undefined on timeout. Fast against the local emulators, gentle on AWS.
 */
export async function pollUntil<T>(timeoutMs: number, check: () => Promise<T | undefined>): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 25; ; delay = Math.min(delay * 2, 1000)) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() >= deadline) return undefined;
    await new Promise((r) => setTimeout(r, delay));
  }
}
