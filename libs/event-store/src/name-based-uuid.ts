/** Namespace of the platform's name-based event ids (a fixed random UUID). */
const PLATFORM_NAMESPACE = Buffer.from('5f0c8a1e9b2d4c7e8a316d2f4b9e0c17', 'hex');

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const utf8 = new TextEncoder();
const words = new Int32Array(80);
let message = new Uint8Array(512);

/**
 * SHA-1 of the namespace's bytes followed by the name in UTF-8, as its five 32-bit words. Written
 * out in JavaScript because ids are derived per ingested event, and node:crypto's per-call cost
 * (a hash object, two updates, a digest buffer) is three times the hashing of a one-block name.
 * name-based-uuid.spec.ts checks it against node:crypto.
 */
function sha1(namespace: Uint8Array, name: string): [number, number, number, number, number] {
  const room = namespace.length + name.length * 3 + 72;
  if (message.length < room) message = new Uint8Array(room * 2);
  message.set(namespace, 0);
  const length = namespace.length + utf8.encodeInto(name, message.subarray(namespace.length)).written;
  const total = (((length + 8) >> 6) + 1) << 6;
  message[length] = 0x80;
  message.fill(0, length + 1, total);
  const bits = length * 8; // names are far below 2^29 bytes: the high word of the length is 0
  message[total - 4] = bits >>> 24;
  message[total - 3] = (bits >>> 16) & 255;
  message[total - 2] = (bits >>> 8) & 255;
  message[total - 1] = bits & 255;

  let h0 = 0x67452301;
  let h1 = 0xefcdab89 | 0;
  let h2 = 0x98badcfe | 0;
  let h3 = 0x10325476;
  let h4 = 0xc3d2e1f0 | 0;
  const w = words;
  for (let offset = 0; offset < total; offset += 64) {
    for (let i = 0; i < 16; i++) {
      const j = offset + i * 4;
      w[i] = (message[j] << 24) | (message[j + 1] << 16) | (message[j + 2] << 8) | message[j + 3];
    }
    for (let i = 16; i < 80; i++) {
      const x = w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16];
      w[i] = (x << 1) | (x >>> 31);
    }
    let a = h0;
    let b = h1;
    let c = h2;
    let d = h3;
    let e = h4;
    for (let i = 0; i < 80; i++) {
      let f: number;
      let k: number;
      if (i < 20) {
        f = (b & c) | (~b & d);
        k = 0x5a827999;
      } else if (i < 40) {
        f = b ^ c ^ d;
        k = 0x6ed9eba1;
      } else if (i < 60) {
        f = (b & c) | (b & d) | (c & d);
        k = 0x8f1bbcdc | 0;
      } else {
        f = b ^ c ^ d;
        k = 0xca62c1d6 | 0;
      }
      const t = (((a << 5) | (a >>> 27)) + f + e + k + w[i]) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = t;
    }
    h0 = (h0 + a) | 0;
    h1 = (h1 + b) | 0;
    h2 = (h2 + c) | 0;
    h3 = (h3 + d) | 0;
    h4 = (h4 + e) | 0;
  }
  return [h0, h1, h2, h3, h4];
}

const hex32 = (x: number) => HEX[(x >>> 24) & 255] + HEX[(x >>> 16) & 255] + HEX[(x >>> 8) & 255] + HEX[x & 255];

/**
 * A UUID v5 (RFC 9562, SHA-1 name-based) of the name: the same name always gives the same id, so
 * an event whose id is derived from what makes it unique is stored once, however often it is sent
 * or re-derived (the event store reports the repeats as duplicates).
 */
export function nameBasedUuid(name: string, namespace: Buffer = PLATFORM_NAMESPACE): string {
  const [h0, h1, h2, h3] = sha1(namespace, name);
  // Bytes 6 and 8 carry the version (5) and the variant (10xx).
  const version = ((h1 >>> 8) & 0x0f) | 0x50;
  const variant = ((h2 >>> 24) & 0x3f) | 0x80;
  return (
    `${hex32(h0)}-${HEX[(h1 >>> 24) & 255]}${HEX[(h1 >>> 16) & 255]}-${HEX[version]}${HEX[h1 & 255]}-` +
    `${HEX[variant]}${HEX[(h2 >>> 16) & 255]}-${HEX[(h2 >>> 8) & 255]}${HEX[h2 & 255]}${hex32(h3)}`
  );
}

/**
 * The stored id of the `index`-th event an incoming CloudEvent produced (most produce one).
 * CloudEvents are unique by `source` + `id`, so their stored ids derive from both.
 */
export function storedEventId(source: string, id: string, index = 0): string {
  return nameBasedUuid(index === 0 ? `${source}\n${id}` : `${source}\n${id}\n${index}`);
}
