/**
 * Rows that arrive on a hot path (proxy flows, gateway usage) are queued and written in one
 * transaction per tick or per `maxBatch` rows, so a caller pays an array push, not a commit.
 */
export interface BatchWriter<Row> {
  push(row: Row): void;
  /** Writes everything queued so far (readers call it first, to see their own writes). */
  flush(): void;
  /** Stops the timer and writes what is left. */
  close(): void;
}

export function createBatchWriter<Row>(
  writeBatch: (rows: Row[]) => void,
  options: { flushIntervalMs: number; maxBatch?: number },
): BatchWriter<Row> {
  let queue: Row[] = [];
  const maxBatch = options.maxBatch ?? 500;
  const flush = () => {
    if (queue.length === 0) return;
    const batch = queue;
    queue = [];
    writeBatch(batch);
  };
  const timer = setInterval(flush, options.flushIntervalMs);
  timer.unref();
  return {
    push(row) {
      queue.push(row);
      if (queue.length >= maxBatch) flush();
    },
    flush,
    close() {
      clearInterval(timer);
      flush();
    },
  };
}
