/**
 * Rows that arrive on a hot path (proxy flows, gateway usage) are written at once, one transaction per
 * row, so a row is in SQLite's write-ahead log (and survives a `kill -9` of Warren) before its caller
 * goes on: the proxy records a flow before it releases the response's last byte. With WAL and
 * synchronous=NORMAL a commit is a write() to the log, not an fsync.
 *
 * When the disk refuses a write (full, I/O error, locked past the busy timeout), rows are kept in
 * memory, oldest first, up to `maxPendingBytes`, and retried every `retryIntervalMs` and whenever a
 * reader asks; past the bound the newest are dropped and counted. The writer never throws into its
 * caller or from its timer: it reports what happens through `onStatus`.
 */
export interface RecordWriter<Row> {
  push(row: Row): void;
  /** Retries the rows the disk refused so far (readers call it first, to see their own writes). */
  flush(): void;
  /** Stops retrying after a last attempt. */
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
  /** The last refusal, while rows are pending; undefined once the disk takes them again. */
  error?: string;
  /** Epoch ms of the first refusal of the current outage. */
  since?: number;
}

export interface RecordWriterOptions<Row> {
  records: string;
  /** Estimated bytes a row holds in memory while it waits. */
  sizeOf: (row: Row) => number;
  maxPendingBytes?: number;
  retryIntervalMs?: number;
  /** Called when an outage starts, when rows are dropped, and when the disk takes the rows again. */
  onStatus?: (status: WriterStatus) => void;
}

/** 64 MiB: at the default body cap (1 MiB a body) at least 32 full flows, typically tens of thousands. */
export const DEFAULT_MAX_PENDING_BYTES = 64 * 1024 * 1024;

/** SQLite result codes that say "not now" (space, I/O, a lock) rather than "never" (a bad row). */
const RETRYABLE = /^SQLITE_(FULL|IOERR|BUSY|LOCKED|CANTOPEN|READONLY|PROTOCOL|NOMEM)/;

export function isRetryableWriteError(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && RETRYABLE.test(code);
}

export function createRecordWriter<Row>(
  writeRows: (rows: Row[]) => void,
  options: RecordWriterOptions<Row>,
): RecordWriter<Row> {
  const maxPendingBytes = options.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES;
  const retryIntervalMs = options.retryIntervalMs ?? 1000;
  let pending: { row: Row; size: number }[] = [];
  let pendingBytes = 0;
  let droppedRows = 0;
  let error: string | undefined;
  let since: number | undefined;
  /** One report of dropped rows per outage: a full disk under traffic must not flood the log. */
  let dropReported = false;
  let timer: NodeJS.Timeout | undefined;
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

  const hold = (rows: Row[], refusal: unknown) => {
    const firstRefusal = error === undefined;
    error = `${(refusal as { code?: string }).code ?? 'error'}: ${(refusal as Error).message}`;
    since ??= Date.now();
    let droppedNow = 0;
    for (const row of rows) {
      const size = options.sizeOf(row);
      if (pendingBytes + size > maxPendingBytes) {
        droppedNow += 1;
        continue;
      }
      pending.push({ row, size });
      pendingBytes += size;
    }
    droppedRows += droppedNow;
    if (!closed && timer === undefined) {
      timer = setInterval(flush, retryIntervalMs);
      timer.unref();
    }
    if (firstRefusal || (droppedNow > 0 && !dropReported)) {
      dropReported ||= droppedNow > 0;
      report();
    }
  };

  const drop = (rows: Row[], refusal: unknown) => {
    droppedRows += rows.length;
    error = `${(refusal as { code?: string }).code ?? 'error'}: ${(refusal as Error).message}`;
    report();
    if (pending.length === 0) error = undefined;
  };

  const write = (rows: Row[]): boolean => {
    try {
      writeRows(rows);
      return true;
    } catch (refusal) {
      if (isRetryableWriteError(refusal)) hold(rows, refusal);
      else if (rows.length === 1) drop(rows, refusal);
      // A batch refused for its content: one row at a time, so that one bad row costs only itself.
      else for (const row of rows) write([row]);
      return false;
    }
  };

  function flush(): void {
    if (pending.length === 0) return;
    const waiting = pending;
    pending = [];
    pendingBytes = 0;
    const rows = waiting.map((entry) => entry.row);
    for (let start = 0; start < rows.length; start += 500) {
      if (!write(rows.slice(start, start + 500))) {
        // The rest stay queued behind the refused ones, in order.
        for (const row of rows.slice(start + 500)) {
          const size = options.sizeOf(row);
          pending.push({ row, size });
          pendingBytes += size;
        }
        return;
      }
    }
    clearInterval(timer);
    timer = undefined;
    if (error !== undefined) {
      error = undefined;
      since = undefined;
      dropReported = false;
      report();
    }
  }

  return {
    push(row) {
      // Behind rows already waiting, so that the store keeps the order they arrived in.
      if (pending.length > 0) {
        const size = options.sizeOf(row);
        if (pendingBytes + size > maxPendingBytes) {
          droppedRows += 1;
          if (!dropReported) {
            dropReported = true;
            report();
          }
          return;
        }
        pending.push({ row, size });
        pendingBytes += size;
        return;
      }
      write([row]);
    },
    flush,
    close() {
      flush();
      closed = true;
      clearInterval(timer);
      timer = undefined;
    },
    status,
  };
}
