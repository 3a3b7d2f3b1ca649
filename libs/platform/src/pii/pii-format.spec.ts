import { createSecretKey, randomBytes } from 'node:crypto';
import { isSealed, openValue, SEALED_PREFIX, sealValue } from './pii-format.js';
import { PiiDecryptionError } from './pii.errors.js';

const key = createSecretKey(randomBytes(32));
const plaintext = 'Ana María Núñez <ana@example.com> ☎';

/** Changes one character of the payload at `index` (negative counts from the end) to another base64url character. */
function flip(sealed: string, index: number): string {
  const at = index < 0 ? sealed.length + index : SEALED_PREFIX.length + index;
  const replacement = sealed[at] === 'A' ? 'B' : 'A';
  return sealed.slice(0, at) + replacement + sealed.slice(at + 1);
}

function failure(open: () => unknown): PiiDecryptionError {
  try {
    open();
  } catch (error) {
    if (error instanceof PiiDecryptionError) return error;
    throw error;
  }
  throw new Error('expected a PiiDecryptionError');
}

describe('sealed value format', () => {
  it('round-trips text, including the empty string and non-ASCII', () => {
    for (const value of [plaintext, '', 'x'.repeat(5_000)]) {
      expect(openValue(key, 'c-1', 'name', sealValue(key, 'c-1', 'name', value))).toBe(value);
    }
  });

  it('is pii:v1: then base64url of iv (12) + ciphertext + tag (16), with no plaintext in it', () => {
    const sealed = sealValue(key, 'c-1', 'email', plaintext);
    expect(sealed.startsWith('pii:v1:')).toBe(true);
    const payload = sealed.slice('pii:v1:'.length);
    expect(payload).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(Buffer.from(payload, 'base64url').length).toBe(12 + Buffer.byteLength(plaintext) + 16);
    expect(sealed).not.toContain('ana@example.com');
  });

  it('gives a different sealed value every time for the same plaintext (fresh IV)', () => {
    const values = new Set(Array.from({ length: 50 }, () => sealValue(key, 'c-1', 'email', plaintext)));
    expect(values.size).toBe(50);
    const ivs = new Set([...values].map((v) => Buffer.from(v.slice(SEALED_PREFIX.length), 'base64url').subarray(0, 12).toString('hex')));
    expect(ivs.size).toBe(50);
  });

  it('binds a value to its customer and its field', () => {
    const sealed = sealValue(key, 'c-1', 'email', plaintext);
    expect(failure(() => openValue(key, 'c-2', 'email', sealed)).field).toBe('email');
    expect(failure(() => openValue(key, 'c-1', 'phone', sealed)).customerId).toBe('c-1');
  });

  it('keeps customer and field apart: ("a:b", "c") does not open as ("a", "b:c")', () => {
    const sealed = sealValue(key, 'a:b', 'c', plaintext);
    expect(() => openValue(key, 'a', 'b:c', sealed)).toThrow(PiiDecryptionError);
    expect(openValue(key, 'a:b', 'c', sealed)).toBe(plaintext);
  });

  it('detects a change anywhere: iv, ciphertext, tag, spare bits, added characters, truncation', () => {
    const sealed = sealValue(key, 'c-1', 'name', plaintext);
    const tampered = [
      flip(sealed, 0), // iv
      flip(sealed, 20), // ciphertext
      flip(sealed, -3), // tag
      flip(sealed, -1), // last character, part spare bits
      `${sealed}A`,
      `${sealed}!`,
      sealed.slice(0, -4),
      `${SEALED_PREFIX}AAAA`,
    ];
    for (const value of tampered) {
      expect(value).not.toBe(sealed);
      expect(() => openValue(key, 'c-1', 'name', value)).toThrow(PiiDecryptionError);
    }
  });

  it('does not open with another key, and says nothing of the plaintext or the key when it fails', () => {
    const sealed = sealValue(key, 'c-1', 'name', plaintext);
    const error = failure(() => openValue(createSecretKey(randomBytes(32)), 'c-1', 'name', sealed));
    expect(error.message).not.toContain('Ana');
    expect(error.message).not.toContain(key.export().toString('base64'));
    expect(error.message).toContain('"c-1"');
  });

  it('refuses a sealed value of a version it does not know instead of returning it', () => {
    expect(failure(() => openValue(key, 'c-1', 'name', 'pii:v2:AAAA')).message).toContain('unsupported');
  });

  it('recognises sealed values of any version and nothing else', () => {
    expect(isSealed(sealValue(key, 'c-1', 'name', plaintext))).toBe(true);
    expect(isSealed('pii:v2:whatever')).toBe(true);
    for (const value of ['Ana', 'pii:', 'pii:vx:AAAA', 'PII:v1:AAAA', ' pii:v1:AAAA', null, undefined, 42, { a: 1 }]) {
      expect(isSealed(value)).toBe(false);
    }
  });
});
