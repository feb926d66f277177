import { describe, expect, it } from 'vitest';
import { createRecordWriter, type WriterStatus } from './batch.js';

function sqliteError(code: string): Error {
  return Object.assign(new Error(code === 'SQLITE_FULL' ? 'database or disk is full' : 'bad row'), { code });
}

/** A pretend table whose disk can be made to refuse writes. */
function fakeDisk() {
  const rows: string[] = [];
  let refusal: string | undefined;
  return {
    rows,
    refuse(code: string | undefined) {
      refusal = code;
    },
    write(batch: string[]) {
      if (refusal) throw sqliteError(refusal);
      if (batch.includes('poison')) throw sqliteError('SQLITE_CONSTRAINT');
      rows.push(...batch);
    },
  };
}

describe('record writer', () => {
  it('writes the rows of one event-loop turn in one commit, then calls the waiters back', async () => {
    const disk = fakeDisk();
    const commits: string[][] = [];
    const writer = createRecordWriter(
      (rows: string[]) => {
        commits.push([...rows]);
        disk.write(rows);
      },
      { records: 'rows', sizeOf: () => 1 },
    );
    const seenByWaiter: string[][] = [];
    writer.push('a');
    writer.push('b');
    writer.afterCommit(() => seenByWaiter.push([...disk.rows]));
    expect(disk.rows).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(commits).toEqual([['a', 'b']]);
    // The waiter ran after the rows pushed before it were stored.
    expect(seenByWaiter).toEqual([['a', 'b']]);
    writer.push('c');
    writer.flush(); // a reader: written now, not at the next turn
    expect(disk.rows).toEqual(['a', 'b', 'c']);
    writer.close();
  });

  it('keeps rows a full disk refuses, in order, reports once, and writes them when space returns', async () => {
    const disk = fakeDisk();
    const reports: WriterStatus[] = [];
    const writer = createRecordWriter(disk.write, {
      records: 'rows',
      sizeOf: () => 1,
      retryIntervalMs: 60_000,
      onStatus: (status) => reports.push(status),
    });
    writer.push('a');
    writer.flush();
    disk.refuse('SQLITE_FULL');
    writer.push('b');
    expect(() => writer.flush()).not.toThrow();
    writer.push('c');
    let released = false;
    writer.afterCommit(() => (released = true));
    await new Promise((resolve) => setImmediate(resolve));
    // Traffic goes on: a waiter is released even though its rows are only held.
    expect(released).toBe(true);
    writer.flush(); // still full: nothing thrown, nothing lost
    expect(writer.status()).toMatchObject({
      pendingRows: 2,
      droppedRows: 0,
      error: expect.stringContaining('SQLITE_FULL'),
    });
    expect(reports).toHaveLength(1);
    disk.refuse(undefined);
    writer.push('d'); // behind the waiting rows, not before them
    writer.flush();
    expect(disk.rows).toEqual(['a', 'b', 'c', 'd']);
    expect(writer.status()).toEqual({ records: 'rows', pendingRows: 0, pendingBytes: 0, droppedRows: 0 });
    expect(reports.at(-1)).toEqual({ records: 'rows', pendingRows: 0, pendingBytes: 0, droppedRows: 0 });
    writer.close();
  });

  it('retries on its own timer, without a reader', async () => {
    const disk = fakeDisk();
    const writer = createRecordWriter(disk.write, { records: 'rows', sizeOf: () => 1, retryIntervalMs: 10 });
    disk.refuse('SQLITE_IOERR_WRITE');
    writer.push('a');
    writer.flush();
    disk.refuse(undefined);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(disk.rows).toEqual(['a']);
    writer.close();
  });

  it('holds at most maxPendingBytes, drops the newest past it and counts them', () => {
    const disk = fakeDisk();
    const reports: WriterStatus[] = [];
    const writer = createRecordWriter(disk.write, {
      records: 'rows',
      sizeOf: () => 100,
      maxPendingBytes: 250,
      retryIntervalMs: 60_000,
      onStatus: (status) => reports.push(status),
    });
    disk.refuse('SQLITE_FULL');
    for (const row of ['a', 'b', 'c', 'd', 'e']) {
      writer.push(row);
      writer.flush();
    }
    expect(writer.status()).toMatchObject({ pendingRows: 2, pendingBytes: 200, droppedRows: 3 });
    // The outage, then one report of the drops: not one line per row.
    expect(reports).toHaveLength(2);
    disk.refuse(undefined);
    writer.flush();
    expect(disk.rows).toEqual(['a', 'b']);
    expect(writer.status()).toMatchObject({ pendingRows: 0, droppedRows: 3 });
    writer.close();
  });

  it('drops a row refused for its content instead of blocking the rows behind it', () => {
    const disk = fakeDisk();
    const reports: WriterStatus[] = [];
    const writer = createRecordWriter(disk.write, {
      records: 'rows',
      sizeOf: () => 1,
      onStatus: (status) => reports.push(status),
    });
    writer.push('poison');
    writer.push('a');
    writer.flush();
    expect(disk.rows).toEqual(['a']);
    expect(writer.status()).toMatchObject({ pendingRows: 0, droppedRows: 1 });
    expect(reports[0]?.error).toContain('SQLITE_CONSTRAINT');
    writer.close();
  });

  it('says at close how many rows the disk still refused, and that they are lost', () => {
    const disk = fakeDisk();
    const reports: WriterStatus[] = [];
    const writer = createRecordWriter(disk.write, {
      records: 'rows',
      sizeOf: () => 1,
      retryIntervalMs: 60_000,
      onStatus: (status) => reports.push(status),
    });
    disk.refuse('SQLITE_FULL');
    writer.push('a');
    writer.push('b');
    writer.flush();
    writer.close();
    expect(reports.at(-1)).toMatchObject({ lostAtClose: 2, droppedRows: 2, pendingRows: 0 });
  });

  it('never throws from a failing status listener', () => {
    const disk = fakeDisk();
    const writer = createRecordWriter(disk.write, {
      records: 'rows',
      sizeOf: () => 1,
      retryIntervalMs: 60_000,
      onStatus: () => {
        throw new Error('listener broke');
      },
    });
    disk.refuse('SQLITE_FULL');
    writer.push('a');
    expect(() => writer.flush()).not.toThrow();
    writer.close();
  });
});
