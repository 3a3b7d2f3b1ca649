import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createSecretKey,
  hkdfSync,
  type KeyObject,
  randomBytes,
} from 'node:crypto';
import { closeSync, fchmodSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { inspect } from 'node:util';
import { freshIv, IV_BYTES } from './pii-format.js';
import { MasterKeyError, PiiDecryptionError } from './pii.errors.js';

export const MASTER_KEY_BYTES = 32;
/** The file in the embedded data folder that keeps the generated master key. */
export const MASTER_KEY_FILE = 'master.key';
const HOW_TO_MAKE_ONE =
  `make one with \`openssl rand -base64 32\` or ` +
  `\`node -e "console.log(require('node:crypto').randomBytes(32).toString('base64'))"\`, and keep it safe: ` +
  'without it no personal data can be read';

const WRAP_IV_BYTES = IV_BYTES;
const WRAP_TAG_BYTES = 16;
const WRAPPED_KEY_BYTES = WRAP_IV_BYTES + MASTER_KEY_BYTES + WRAP_TAG_BYTES;

/** Where the key came from, for the startup log line. */
export type MasterKeySource = 'env' | 'file' | 'ephemeral';

/**
 * The key that wraps every customer's data key. It holds only a wrapping key derived from the
 * secret (HKDF, so the secret itself is used for nothing else) in a private field: it cannot be
 * logged, serialised or read back, only used to wrap and unwrap.
 */
export class MasterKey {
  /** Short public fingerprint, stored next to each wrapped key: tells which master key wrapped it. */
  readonly id: string;
  readonly #wrappingKey: KeyObject;

  constructor(
    secret: Uint8Array,
    readonly source: MasterKeySource,
    /** The key file, when source is 'file'. */
    readonly file?: string,
    /** True when this start generated the key file: worth a log line telling to back it up. */
    readonly created = false,
  ) {
    if (secret.length !== MASTER_KEY_BYTES) throw new RangeError(`a master key is ${MASTER_KEY_BYTES} bytes, got ${secret.length}`);
    this.id = createHash('sha256').update('cx-master-key-id').update(secret).digest('hex').slice(0, 16);
    const wrapping = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'cx/pii/data-key-wrap/v1', 32));
    this.#wrappingKey = createSecretKey(wrapping);
    wrapping.fill(0);
  }

  /** Safe to log: where the key came from and its fingerprint. */
  describe(): string {
    const where = this.source === 'env' ? 'CX_MASTER_KEY' : this.source === 'file' ? `${this.file}${this.created ? ' (new)' : ''}` : 'ephemeral (memory)';
    return `${where}, id ${this.id}`;
  }

  /** Encrypts a data key (AES-256-GCM), bound to its customer so a wrapped key cannot be moved to another row. */
  wrap(dataKey: Uint8Array, customerId: string): Buffer {
    const iv = freshIv();
    const cipher = createCipheriv('aes-256-gcm', this.#wrappingKey, iv);
    cipher.setAAD(wrapAad(customerId));
    const body = Buffer.concat([cipher.update(dataKey), cipher.final()]);
    return Buffer.concat([iv, body, cipher.getAuthTag()]);
  }

  unwrap(wrapped: Uint8Array, customerId: string): Buffer {
    if (wrapped.length !== WRAPPED_KEY_BYTES) throw new PiiDecryptionError(customerId, undefined, 'the stored data key has the wrong length');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#wrappingKey, wrapped.subarray(0, WRAP_IV_BYTES));
      decipher.setAAD(wrapAad(customerId));
      decipher.setAuthTag(wrapped.subarray(WRAP_IV_BYTES + MASTER_KEY_BYTES));
      return Buffer.concat([decipher.update(wrapped.subarray(WRAP_IV_BYTES, WRAP_IV_BYTES + MASTER_KEY_BYTES)), decipher.final()]);
    } catch {
      throw new PiiDecryptionError(customerId, undefined, 'the stored data key does not open with this master key');
    }
  }

  toJSON(): string {
    return `MasterKey(${this.id})`;
  }

  [inspect.custom](): string {
    return `MasterKey(${this.id})`;
  }
}

function wrapAad(customerId: string): Buffer {
  return Buffer.from(`cx-data-key:v1:${customerId}`, 'utf8');
}

/** Standard base64 (padding optional) of exactly 32 bytes; anything else is refused rather than guessed at. */
function parseKey(text: string): Buffer | undefined {
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed)) return undefined;
  const bytes = Buffer.from(trimmed, 'base64');
  if (bytes.length !== MASTER_KEY_BYTES) return undefined;
  if (bytes.toString('base64').replace(/=+$/, '') !== trimmed.replace(/=+$/, '')) return undefined;
  return bytes;
}

export type LoadMasterKeyOptions = {
  env: NodeJS.ProcessEnv;
  /** The embedded data folder, or 'memory'. */
  dataDir: string;
  /** True for the embedded database, false for a real PostgreSQL server. */
  embedded: boolean;
};

/**
 * The master key from `CX_MASTER_KEY`. Without it, the embedded database keeps a generated key in
 * its data folder (or an ephemeral one in memory, whose data dies with the process anyway); a real
 * server requires the variable, because a key generated on one host would leave every other
 * instance, and any restore elsewhere, unable to read personal data.
 */
export function loadMasterKey({ env, dataDir, embedded }: LoadMasterKeyOptions): MasterKey {
  const configured = env.CX_MASTER_KEY;
  if (configured !== undefined && configured.trim() !== '') {
    const secret = parseKey(configured);
    if (!secret) throw new MasterKeyError('invalid', `must be the base64 of exactly ${MASTER_KEY_BYTES} bytes; ${HOW_TO_MAKE_ONE}`);
    return new MasterKey(secret, 'env');
  }
  if (!embedded) {
    throw new MasterKeyError('required', `is required with a real PostgreSQL server (DATABASE_URL); ${HOW_TO_MAKE_ONE}`);
  }
  if (dataDir === 'memory') return new MasterKey(randomBytes(MASTER_KEY_BYTES), 'ephemeral');
  return keyFile(resolve(dataDir, MASTER_KEY_FILE));
}

/** Reads the key file, or creates it when there is none. */
function keyFile(path: string): MasterKey {
  for (let attempt = 0; attempt < 3; attempt++) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      const created = createKeyFile(path);
      if (created) return new MasterKey(created, 'file', path, true);
      continue; // another process created it first: read theirs
    }
    const secret = parseKey(text);
    if (!secret) {
      throw new MasterKeyError('invalid', `is not set, and ${path} does not hold a base64 ${MASTER_KEY_BYTES}-byte key: restore it or set CX_MASTER_KEY`);
    }
    return new MasterKey(secret, 'file', path);
  }
  throw new Error(`could not read or create ${path}`);
}

/**
 * Writes a new key to a private temporary file and hard-links it into place: the link fails if
 * the file exists, so the key file appears complete and 0600 or not at all, and two processes
 * starting together cannot each keep a different key. Returns undefined when another one won.
 */
function createKeyFile(path: string): Buffer | undefined {
  const dir = resolve(path, '..');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const secret = randomBytes(MASTER_KEY_BYTES);
  const temporary = join(dir, `.${MASTER_KEY_FILE}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = openSync(temporary, 'wx', 0o600);
  try {
    fchmodSync(fd, 0o600); // whatever the umask
    writeSync(fd, `${secret.toString('base64')}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(temporary, path);
    return secret;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
    throw error;
  } finally {
    rmSync(temporary, { force: true });
  }
}
