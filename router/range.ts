/**
 * Parses a single `bytes=` range against a file size (inclusive bounds, like Content-Range).
 * Returns null when the header should be ignored (not bytes, several ranges, malformed), and
 * "unsatisfiable" when it asks for bytes the file does not have (416).
 */
export function parseRange(header: string, size: number): { start: number; end: number } | "unsatisfiable" | null {
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m) return null;
  const [, a, b] = m;
  if (a === "" && b === "") return null;
  let start: number;
  let end: number;
  if (a === "") {
    // suffix range: the last N bytes
    const n = Number(b);
    if (n === 0) return "unsatisfiable";
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(a);
    end = b === "" ? size - 1 : Math.min(Number(b), size - 1);
    if (b !== "" && Number(b) < start) return null;
  }
  if (start >= size || size === 0) return "unsatisfiable";
  return { start, end };
}
