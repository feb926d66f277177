/** Quotes one word for POSIX sh: single quotes, with embedded single quotes closed, escaped and reopened. */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_./:=@%+-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}
