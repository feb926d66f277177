/** Reports carry at most this much of a diff or of a file's content. */
export const DIFF_LIMIT_BYTES = 4096;

/** Files larger than this are compared whole, not line by line (the table below is lines × lines). */
const MAX_DIFF_LINES = 2000;

function cut(text: string): string {
  if (Buffer.byteLength(text) <= DIFF_LIMIT_BYTES) return text;
  return `${Buffer.from(text)
    .subarray(0, DIFF_LIMIT_BYTES)
    .toString('utf8')
    .replace(/\uFFFD*$/, '')}\n… (cut)`;
}

/** What a report shows of a file: its text, or a note when it is binary. */
export function describeContent(content: Buffer): string {
  if (content.includes(0)) return `(binary, ${content.length} bytes)`;
  return cut(content.toString('utf8'));
}

/**
 * The lines removed ("- ") and added ("+ ") between two texts, in order, without context lines: enough to see
 * what a session changed in a small config file. Longest common subsequence; cut at DIFF_LIMIT_BYTES.
 */
export function diffLines(before: Buffer, after: Buffer): string {
  if (before.includes(0) || after.includes(0))
    return `(binary: ${before.length} bytes before, ${after.length} after)`;
  const old = before.toString('utf8').split('\n');
  const next = after.toString('utf8').split('\n');
  if (old.at(-1) === '') old.pop();
  if (next.at(-1) === '') next.pop();
  if (old.length > MAX_DIFF_LINES || next.length > MAX_DIFF_LINES)
    return `(${old.length} lines before, ${next.length} after: too long to compare)`;
  // common[i][j]: length of the longest common subsequence of old[i..] and next[j..].
  const common = Array.from({ length: old.length + 1 }, () => new Uint16Array(next.length + 1));
  for (let i = old.length - 1; i >= 0; i -= 1)
    for (let j = next.length - 1; j >= 0; j -= 1)
      common[i]![j] =
        old[i] === next[j] ? common[i + 1]![j + 1]! + 1 : Math.max(common[i + 1]![j]!, common[i]![j + 1]!);
  const lines: string[] = [];
  let i = 0;
  let j = 0;
  while (i < old.length || j < next.length) {
    if (i < old.length && j < next.length && old[i] === next[j]) {
      i += 1;
      j += 1;
    } else if (j < next.length && (i === old.length || common[i]![j + 1]! >= common[i + 1]![j]!)) {
      lines.push(`+ ${next[j]}`);
      j += 1;
    } else {
      lines.push(`- ${old[i]}`);
      i += 1;
    }
  }
  return cut(lines.join('\n'));
}
