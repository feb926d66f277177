/**
 * Width and height from the first bytes of a base64 image (PNG, JPEG, GIF, WebP), for token estimates.
 * Reads at most the first 64 KiB: JPEG's size marker may follow EXIF data. Returns undefined when the
 * header cannot be read.
 */
const HEADER_BASE64_CHARS = 87_384; // 64 KiB of bytes

export interface ImageSize {
  width: number;
  height: number;
}

export function imageSizeFromBase64(data: string): ImageSize | undefined {
  const bytes = Buffer.from(data.slice(0, HEADER_BASE64_CHARS), 'base64');
  return pngSize(bytes) ?? gifSize(bytes) ?? webpSize(bytes) ?? jpegSize(bytes);
}

function pngSize(bytes: Buffer): ImageSize | undefined {
  if (
    bytes.length < 24 ||
    bytes.readUInt32BE(0) !== 0x89504e47 ||
    bytes.toString('latin1', 12, 16) !== 'IHDR'
  )
    return undefined;
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

function gifSize(bytes: Buffer): ImageSize | undefined {
  if (bytes.length < 10 || bytes.toString('latin1', 0, 4) !== 'GIF8') return undefined;
  return { width: bytes.readUInt16LE(6), height: bytes.readUInt16LE(8) };
}

function webpSize(bytes: Buffer): ImageSize | undefined {
  if (
    bytes.length < 30 ||
    bytes.toString('latin1', 0, 4) !== 'RIFF' ||
    bytes.toString('latin1', 8, 12) !== 'WEBP'
  )
    return undefined;
  const chunk = bytes.toString('latin1', 12, 16);
  if (chunk === 'VP8X') return { width: 1 + bytes.readUIntLE(24, 3), height: 1 + bytes.readUIntLE(27, 3) };
  if (chunk === 'VP8 ')
    return { width: bytes.readUInt16LE(26) & 0x3fff, height: bytes.readUInt16LE(28) & 0x3fff };
  if (chunk === 'VP8L') {
    const bits = bytes.readUInt32LE(21);
    return { width: 1 + (bits & 0x3fff), height: 1 + ((bits >> 14) & 0x3fff) };
  }
  return undefined;
}

function jpegSize(bytes: Buffer): ImageSize | undefined {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return undefined;
  let offset = 2;
  while (offset + 9 < bytes.length) {
    if (bytes[offset] !== 0xff) return undefined;
    const marker = bytes[offset + 1] as number;
    // Start-of-frame markers carry the size; C4 (huffman), C8 and CC (arithmetic) are not frames.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { width: bytes.readUInt16BE(offset + 7), height: bytes.readUInt16BE(offset + 5) };
    }
    offset += 2 + bytes.readUInt16BE(offset + 2);
  }
  return undefined;
}

/**
 * Anthropic's documented image cost: the image is scaled to fit 1568 px on its long edge and about 1.15
 * megapixels, then costs width × height / 750 tokens (about 1,600 at most).
 */
export function imageTokens(size: ImageSize): number {
  let { width, height } = size;
  const longEdge = Math.max(width, height);
  if (longEdge > 1568) {
    width = (width * 1568) / longEdge;
    height = (height * 1568) / longEdge;
  }
  const pixels = width * height;
  const maxPixels = 1_150_000;
  const scale = pixels > maxPixels ? maxPixels / pixels : 1;
  return Math.max(1, Math.ceil((pixels * scale) / 750));
}
