/**
 * Rows that arrive on a hot path (proxy flows, gateway usage) are written in one transaction per turn
 * of the event loop (a group commit, at setImmediate), and callers that must not go on before their row
 * is stored wait for that commit with `afterCommit`: the proxy holds a response's last bytes until the
 * flow is in SQLite's write-ahead log, so a `kill -9` of Warren never loses a flow whose response the
 * agent has whole. With WAL and synchronous=NORMAL a commit is a write() to the log, not an fsync: it
 * survives the process, not a power cut. One commit per turn instead of one per row keeps most of
 * the batching's throughput (docs/performance.md).
 *
 * When the disk refuses a write (full, I/O error, locked past the busy timeout), rows are kept in
 * memory, oldest first, up to `maxPendingBytes`, and retried every `retryIntervalMs` and whenever a
 * reader asks; past the bound the newest are dropped and counted. Waiters are released all the same
 * (traffic goes on). The writer never throws into its caller or from a timer: it reports through
 * `onStatus`.
 */
export interface RecordWriter<Row> {
  /** Queues the row for this turn's commit. */
  push(row: Row): void;
  /** Calls back after the next commit: every row pushed before it is then stored (or held, see above). */
  afterCommit(callback: () => void): void;
  /** Writes what is queued and retries what the disk refused (readers call it first, to see their own writes). */
  flush(): void;
  /** Writes what is left, releases the waiters, stops retrying. */
  close(): void;
  status(): WriterStatus;
}

/** What a writer holds back from the disk, and why. */
export interface WriterStatus {
  /** Which records ("flows", "usage"). */
  records: string;
  /** Rows waiting in memory for the disk to take them. */
  pendingRows: number;
  pendingBytes: number;
  /** Rows given up since the writer opened: past the bound, or refused for a reason other than space. */
  droppedRows: number;
  /** The last refusal, while rows are pending; absent once the disk takes them again. */
  error?: string;
  /** Epoch ms of the first refusal of the current outage. */
  since?: number;
  /** Set in the last report, at close, when rows the disk still refuses are given up with the process. */
  lostAtClose?: number;
}

export interface RecordWriterOptions<Row> {
  records: string;
  /** Estimated bytes a row holds in memory while it waits. */
  sizeOf: (row: Row) => number;
  maxPendingBytes?: number;
  retryIntervalMs?: number;
  /** Called when an outage starts, when rows are first dropped in it, and when the disk takes the rows again. */
  onStatus?: (status: WriterStatus) => void;
}

/** 64 MiB: at the default body cap at least a few dozen flows with full bodies, typically tens of thousands. */
export const DEFAULT_MAX_PENDING_BYTES = 64 * 1024 * 1024;

/** SQLite result codes that say "not now" (space, I/O, a lock) rather than "never" (a bad row). */
const RETRYABLE = /^SQLITE_(FULL|IOERR|BUSY|LOCKED|CANTOPEN|READONLY|PROTOCOL|NOMEM)/;

export function isRetryableWriteError(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && RETRYABLE.test(code);
}

function describeRefusal(refusal: unknown): string {
  return `${(refusal as { code?: string }).code ?? 'error'}: ${(refusal as Error).message}`;
}

export function createRecordWriter<Row>(
  writeRows: (rows: Row[]) => void,
  options: RecordWriterOptions<Row>,
): RecordWriter<Row> {
  const maxPendingBytes = options.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES;
  const retryIntervalMs = options.retryIntervalMs ?? 1000;
  /** Rows of this turn, not yet offered to the disk. */
  let queued: Row[] = [];
  /** Rows the disk refused, oldest first; while any wait, new rows line up behind them. */
  let pending: { row: Row; size: number }[] = [];
  let pendingBytes = 0;
  let droppedRows = 0;
  let error: string | undefined;
  let since: number | undefined;
  /** One report of dropped rows per outage: a full disk under traffic must not flood the log. */
  let dropReported = false;
  let waiters: (() => void)[] = [];
  let scheduled: NodeJS.Immediate | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let closed = false;

  const status = (): WriterStatus => ({
    records: options.records,
    pendingRows: pending.length,
    pendingBytes,
    droppedRows,
    ...(error !== undefined ? { error } : {}),
    ...(since !== undefined ? { since } : {}),
  });
  const report = () => {
    try {
      options.onStatus?.(status());
    } catch {
      // A failing listener must not turn a disk problem into a crash.
    }
  };

  /** Lines rows up behind those already waiting, within the bound; says how many it had to drop. */
  const hold = (rows: Row[]): number => {
    let dropped = 0;
    for (const row of rows) {
      const size = options.sizeOf(row);
      if (pendingBytes + size > maxPendingBytes) {
        dropped += 1;
        continue;
      }
      pending.push({ row, size });
      pendingBytes += size;
    }
    droppedRows += dropped;
    return dropped;
  };

  const refused = (rows: Row[], refusal: unknown) => {
    const firstRefusal = error === undefined;
    error = describeRefusal(refusal);
    since ??= Date.now();
    const dropped = hold(rows);
    if (!closed && retryTimer === undefined) {
      retryTimer = setInterval(retry, retryIntervalMs);
      retryTimer.unref();
    }
    if (firstRefusal || (dropped > 0 && !dropReported)) {
      dropReported ||= dropped > 0;
      report();
    }
  };

  /** Writes `rows`; false when the disk refused them (they are then held). */
  const write = (rows: Row[]): boolean => {
    try {
      writeRows(rows);
      return true;
    } catch (refusal) {
      if (isRetryableWriteError(refusal)) {
        refused(rows, refusal);
        return false;
      }
      if (rows.length > 1) {
        // A batch refused for its content: one row at a time, so that one bad row costs only itself.
        for (const [index, row] of rows.entries()) {
          if (!write([row])) {
            hold(rows.slice(index + 1));
            return false;
          }
        }
        return true;
      }
      droppedRows += 1;
      const previous = error;
      error = describeRefusal(refusal);
      report();
      if (pending.length === 0) error = previous;
      return true;
    }
  };

  /** Offers the rows the disk refused again, in chunks, then what is queued; stops at the first refusal. */
  function retry(): void {
    if (pending.length > 0) {
      const rows = pending.map((entry) => entry.row);
      pending = [];
      pendingBytes = 0;
      for (let start = 0; start < rows.length; start += 500) {
        if (!write(rows.slice(start, start + 500))) {
          hold(rows.slice(start + 500));
          break;
        }
      }
      if (pending.length === 0) {
        clearInterval(retryTimer);
        retryTimer = undefined;
        if (error !== undefined) {
          error = undefined;
          since = undefined;
          dropReported = false;
          report();
        }
      }
    }
    if (queued.length === 0) return;
    const rows = queued;
    queued = [];
    if (pending.length > 0) {
      const dropped = hold(rows);
      if (dropped > 0 && !dropReported) {
        dropReported = true;
        report();
      }
      return;
    }
    write(rows);
  }

  const commit = () => {
    scheduled = undefined;
    retry();
    const released = waiters;
    waiters = [];
    for (const waiter of released) {
      try {
        waiter();
      } catch {
        // One waiter failing must not keep the others' responses back.
      }
    }
  };
  const schedule = () => {
    if (scheduled === undefined && !closed) scheduled = setImmediate(commit);
  };

  return {
    push(row) {
      queued.push(row);
      if (closed) retry();
      else schedule();
    },
    afterCommit(callback) {
      if (closed) {
        callback();
        return;
      }
      waiters.push(callback);
      schedule();
    },
    flush: retry,
    close() {
      closed = true;
      if (scheduled !== undefined) clearImmediate(scheduled);
      commit();
      clearInterval(retryTimer);
      retryTimer = undefined;
      // Nothing will retry them now: say they are lost rather than leave "held in memory" as the last word.
      if (pending.length > 0) {
        const lost = pending.length;
        droppedRows += lost;
        const last = { ...status(), lostAtClose: lost };
        pending = [];
        pendingBytes = 0;
        try {
          options.onStatus?.({ ...last, pendingRows: 0, pendingBytes: 0, droppedRows });
        } catch {
          // As in report().
        }
      }
    },
    status,
  };
}
