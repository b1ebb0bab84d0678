/** Human-readable byte size for build logs and messages: `512 B`, `3.4 kB`, `12.0 MB` (powers of 1024, like Lambda's limits). */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} kB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

export const formatSeconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;
