import { describe, expect, it } from 'vitest';
import { estimateTokens } from './estimate-tokens.js';
import { imageSizeFromBase64, imageTokens } from './image-size.js';

function png(width: number, height: number): string {
  const bytes = Buffer.alloc(33);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(bytes, 0);
  bytes.writeUInt32BE(13, 8);
  bytes.write('IHDR', 12, 'latin1');
  bytes.writeUInt32BE(width, 16);
  bytes.writeUInt32BE(height, 20);
  return bytes.toString('base64');
}

function jpeg(width: number, height: number): string {
  const app0 = Buffer.concat([Buffer.from([0xff, 0xe0, 0x00, 0x10]), Buffer.alloc(14)]);
  const sof = Buffer.from([
    0xff,
    0xc0,
    0x00,
    0x11,
    0x08,
    height >> 8,
    height & 0xff,
    width >> 8,
    width & 0xff,
    0x03,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
  ]);
  return Buffer.concat([Buffer.from([0xff, 0xd8]), app0, sof]).toString('base64');
}

function gif(width: number, height: number): string {
  const bytes = Buffer.alloc(13);
  bytes.write('GIF89a', 0, 'latin1');
  bytes.writeUInt16LE(width, 6);
  bytes.writeUInt16LE(height, 8);
  return bytes.toString('base64');
}

function webp(width: number, height: number): string {
  const bytes = Buffer.alloc(30);
  bytes.write('RIFF', 0, 'latin1');
  bytes.write('WEBP', 8, 'latin1');
  bytes.write('VP8X', 12, 'latin1');
  bytes.writeUIntLE(width - 1, 24, 3);
  bytes.writeUIntLE(height - 1, 27, 3);
  return bytes.toString('base64');
}

describe('imageSizeFromBase64', () => {
  it.each([
    ['PNG', png(1280, 800)],
    ['JPEG', jpeg(1280, 800)],
    ['GIF', gif(1280, 800)],
    ['WebP', webp(1280, 800)],
  ])('reads the size of a %s', (_format, data) => {
    expect(imageSizeFromBase64(data)).toEqual({ width: 1280, height: 800 });
  });

  it('gives up on anything else', () => {
    expect(imageSizeFromBase64(Buffer.from('not an image at all').toString('base64'))).toBeUndefined();
    expect(imageSizeFromBase64('')).toBeUndefined();
  });
});

describe('imageTokens', () => {
  it("follows Anthropic's width × height / 750 with its resize limits", () => {
    expect(imageTokens({ width: 200, height: 200 })).toBe(54);
    expect(imageTokens({ width: 1000, height: 1000 })).toBe(1334);
    expect(imageTokens({ width: 4000, height: 3000 })).toBe(1534);
  });

  it('makes a small screenshot cheaper than the full-size default in a token estimate', () => {
    const request = (data: string) =>
      estimateTokens({
        model: 'm',
        system: [],
        tools: [],
        stream: false,
        messages: [
          {
            role: 'user',
            content: [{ type: 'image', source: { kind: 'base64', mediaType: 'image/png', data } }],
          },
        ],
      });
    expect(request(png(320, 240))).toBeLessThan(150);
    expect(request('AAAA')).toBeGreaterThan(1600);
  });
});
