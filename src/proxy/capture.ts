import type { CapturedBody } from './flow.js';

/** Keeps at most `capBytes` of a body while counting every byte, so the true size survives the cut. */
export interface BodyCapture {
  add(chunk: Buffer): void;
  result(): CapturedBody;
}

export const EMPTY_BODY: CapturedBody = Object.freeze({ size: 0, data: Buffer.alloc(0), truncated: false });

export function createBodyCapture(capBytes: number): BodyCapture {
  const kept: Buffer[] = [];
  let keptBytes = 0;
  let size = 0;
  return {
    add(chunk) {
      size += chunk.length;
      if (keptBytes >= capBytes) return;
      const piece = keptBytes + chunk.length > capBytes ? chunk.subarray(0, capBytes - keptBytes) : chunk;
      kept.push(piece);
      keptBytes += piece.length;
    },
    result() {
      if (size === 0) return EMPTY_BODY;
      const data = kept.length === 1 ? kept[0]! : Buffer.concat(kept, keptBytes);
      return { size, data, truncated: size > keptBytes };
    },
  };
}

export function bodyFromText(text: string): CapturedBody {
  const data = Buffer.from(text);
  return { size: data.length, data, truncated: false };
}
