// Bearer API key check. Both keys are hashed first, so the comparison takes
// the same time whatever the key's length or how much of it matches; the key
// is never logged or echoed.

const encoder = new TextEncoder();

async function digest(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(text)));
}

export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  let diff = 0;
  for (let i = 0; i < a.byteLength; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

export type KeyCheck = 'ok' | 'missing' | 'wrong';

/** Checks an `Authorization: Bearer <key>` header against the expected key. */
export async function checkBearer(header: string | null | undefined, expectedDigest: Promise<Uint8Array>): Promise<KeyCheck> {
  const match = /^Bearer\s+(.+)$/i.exec(header?.trim() ?? '');
  if (!match) return 'missing';
  return timingSafeEqual(await digest(match[1]), await expectedDigest) ? 'ok' : 'wrong';
}

export function keyDigest(key: string): Promise<Uint8Array> {
  return digest(key);
}
