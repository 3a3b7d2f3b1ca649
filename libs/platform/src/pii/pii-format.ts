import { createCipheriv, createDecipheriv, type KeyObject, randomBytes } from 'node:crypto';
import { PiiDecryptionError } from './pii.errors.js';

/**
 * A sealed value: `pii:v1:` then base64url(iv 12 bytes | AES-256-GCM ciphertext | tag 16 bytes).
 * A string, so it fits any JSON field that held the plain value; versioned, so the format can change.
 */
export const SEALED_PREFIX = 'pii:v1:';
const ANY_VERSION = /^pii:v\d+:/;
/** AES-GCM's 96-bit IV, for sealed values and wrapped keys alike. */
export const IV_BYTES = 12;
const TAG_BYTES = 16;
const IV_POOL_BYTES = IV_BYTES * 4096;

let ivPool = Buffer.alloc(0);
let ivOffset = 0;

/**
 * A fresh random IV. One randomBytes call costs about as much as the encryption itself, so IVs are
 * cut from a larger random buffer; each is handed out once, and a used-up buffer is replaced, never refilled.
 */
export function freshIv(): Buffer {
  if (ivOffset + IV_BYTES > ivPool.length) {
    ivPool = randomBytes(IV_POOL_BYTES);
    ivOffset = 0;
  }
  const iv = ivPool.subarray(ivOffset, ivOffset + IV_BYTES);
  ivOffset += IV_BYTES;
  return iv;
}

/** True for any `pii:v<n>:` value: one this version cannot read must fail, not pass through as if plain. */
export function isSealed(value: unknown): value is string {
  return typeof value === 'string' && ANY_VERSION.test(value);
}

/**
 * Binds a value to its customer and field: a ciphertext copied into another customer's event, or
 * into another field, fails to open. The length prefix keeps `("a:b", "c")` apart from `("a", "b:c")`.
 */
function aad(customerId: string, field: string): Buffer {
  return Buffer.from(`${SEALED_PREFIX}${customerId.length}:${customerId}:${field}`, 'utf8');
}

/** Encrypts with a fresh random IV, so the same plaintext never gives the same sealed value twice. */
export function sealValue(dataKey: KeyObject, customerId: string, field: string, plaintext: string): string {
  const iv = freshIv();
  const cipher = createCipheriv('aes-256-gcm', dataKey, iv);
  cipher.setAAD(aad(customerId, field));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return SEALED_PREFIX + Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
}

/** Decrypts a sealed value; anything that does not authenticate raises PiiDecryptionError. */
export function openValue(dataKey: KeyObject, customerId: string, field: string, sealed: string): string {
  if (!sealed.startsWith(SEALED_PREFIX)) {
    throw new PiiDecryptionError(customerId, field, isSealed(sealed) ? 'unsupported sealed format version' : 'not a sealed value');
  }
  const payload = sealed.slice(SEALED_PREFIX.length);
  const bytes = Buffer.from(payload, 'base64url');
  // Node's decoder skips foreign characters and ignores the spare bits of the last one: insist on
  // the canonical text, so that every change to a sealed value is detected.
  if (bytes.toString('base64url') !== payload) throw new PiiDecryptionError(customerId, field, 'malformed sealed value');
  if (bytes.length < IV_BYTES + TAG_BYTES) throw new PiiDecryptionError(customerId, field, 'sealed value too short');
  try {
    const decipher = createDecipheriv('aes-256-gcm', dataKey, bytes.subarray(0, IV_BYTES));
    decipher.setAAD(aad(customerId, field));
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    throw new PiiDecryptionError(customerId, field, 'does not authenticate (tampered, or sealed for another customer or field)');
  }
}
