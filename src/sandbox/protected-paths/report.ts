/** One protected path a session created, changed or deleted, and what Warren did about it. */
export interface ProtectedPathChange {
  /** Relative to the workspace, e.g. ".git/config", ".envrc", "vendor/lib/.git/hooks/pre-commit". */
  path: string;
  change: 'created' | 'changed' | 'deleted';
  /**
   * kept-private: the change went to the session's private copy and never reached the host's file.
   * quarantined: it reached the host and was renamed to `movedTo`, where nothing runs it.
   * sanitized: a git config the session wrote was renamed to `movedTo` and replaced by its safe keys only.
   * failed: it reached the host and could not be neutralised (`error` says why): look at it before using it.
   */
  outcome: 'kept-private' | 'quarantined' | 'sanitized' | 'failed';
  movedTo?: string;
  /** Why the path is protected. */
  why: string;
  /** Lines removed ("- ") and added ("+ "), or the content the session wrote; cut at 4 KiB. */
  diff?: string;
  error?: string;
}

/** What a session did to protected paths, as stored with the session and printed by `warren run`. */
export interface ProtectedPathsReport {
  changes: ProtectedPathChange[];
  /** git state the session changed in its private view and Warren carried to the host (HEAD, ORIG_HEAD, …). */
  carried: string[];
  /** What Warren noticed and left alone, in words (HEAD changed on the host too, so the host's was kept). */
  notes: string[];
  /** Changes past REPORT_CHANGE_LIMIT: neutralised all the same, counted but not listed. */
  omitted?: number;
}

/** A report lists this many changes; a session that made more cannot grow the session's record without bound. */
export const REPORT_CHANGE_LIMIT = 200;

export function recordChange(report: ProtectedPathsReport, change: ProtectedPathChange): void {
  // A failure is always listed: it is what the user must look at.
  if (report.changes.length < REPORT_CHANGE_LIMIT || change.outcome === 'failed') report.changes.push(change);
  else report.omitted = (report.omitted ?? 0) + 1;
}

/** Whether a stored value (a session row's details) is a report, as written by settle. */
export function isProtectedPathsReport(value: unknown): value is ProtectedPathsReport {
  if (typeof value !== 'object' || value === null) return false;
  const report = value as Partial<ProtectedPathsReport>;
  return Array.isArray(report.changes) && Array.isArray(report.carried) && Array.isArray(report.notes);
}

export function emptyReport(): ProtectedPathsReport {
  return { changes: [], carried: [], notes: [] };
}

function outcomeText(change: ProtectedPathChange): string {
  switch (change.outcome) {
    case 'kept-private':
      return 'kept in the session only; the host file is unchanged';
    case 'quarantined':
      return `moved aside to ${change.movedTo ?? '?'}`;
    case 'sanitized':
      return `moved aside to ${change.movedTo ?? '?'}, replaced by its remote and branch settings only`;
    case 'failed':
      return `COULD NOT BE NEUTRALISED (${change.error ?? 'unknown error'}): inspect it before running git there`;
  }
}

/**
 * File names and contents are the session's: escape sequences in them would drive the user's terminal. Control
 * characters other than tab are shown as \xNN.
 */
function printable(text: string): string {
  return text.replace(
    /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g,
    (character) => `\\x${character.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
}

/**
 * The report as one block of text for a terminal: a heading, then one entry per path with its diff indented.
 * Empty when there is nothing to say (no report, or a session that changed no protected path).
 */
export function formatProtectedPathsReport(
  report: ProtectedPathsReport | undefined,
  prefix = 'warren: ',
): string {
  if (!report || (report.changes.length === 0 && report.notes.length === 0)) return '';
  const total = report.changes.length + (report.omitted ?? 0);
  const failed = report.changes.filter((change) => change.outcome === 'failed').length;
  const heading =
    report.changes.length === 0
      ? 'protected paths:'
      : failed > 0
        ? `protected paths: the session changed ${total} file(s) the host runs; ${failed} could not be neutralised:`
        : `protected paths: the session changed ${total} file(s) the host runs; none of it will run there:`;
  const lines = [`${prefix}${heading}`];
  for (const change of report.changes) {
    lines.push(`  ${printable(change.path)}: ${change.change}, ${printable(outcomeText(change))}`);
    for (const line of (change.diff ?? '').split('\n').filter((text) => text.length > 0))
      lines.push(`      ${printable(line)}`);
  }
  if (report.omitted) lines.push(`  … and ${report.omitted} more, neutralised the same way`);
  for (const note of report.notes) lines.push(`  note: ${printable(note)}`);
  return `${lines.join('\n')}\n`;
}
