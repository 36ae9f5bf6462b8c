/** Reading the HTTP headers of a ranged (resumed) download. */

/** `bytes START-END/TOTAL` (TOTAL may be `*`). */
export function parseContentRange(
  header: string | null,
): { start: number; end: number; total?: number } | undefined {
  const m = header?.match(/^bytes (\d+)-(\d+)\/(\d+|\*)$/);
  if (!m) return undefined;
  return { start: Number(m[1]), end: Number(m[2]), total: m[3] === "*" ? undefined : Number(m[3]) };
}

/** The TOTAL of `bytes *\/TOTAL` (a 416 reply). */
export function contentRangeTotal(header: string | null): number | undefined {
  const m = header?.match(/\/(\d+)$/);
  return m ? Number(m[1]) : undefined;
}

/** Content-Length as a number, when it is one. */
export function contentLength(header: string | null): number | undefined {
  return header && /^\d+$/.test(header) ? Number(header) : undefined;
}
