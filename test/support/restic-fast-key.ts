/**
 * Makes a test repository's key cheap to open. restic derives the key of every command from the
 * password with scrypt, calibrated at `restic init` to take about half a second: most of the time
 * of a restic command on a small test repository. This rewrites the repository's one key file with
 * the same master key behind scrypt parameters a thousand times cheaper (N=1024, r=8, p=1).
 * Everything else stays real: restic still derives the key, verifies its MAC, and encrypts,
 * decrypts and authenticates all data with the master key.
 *
 * The key file format (restic's design document, "Keys, Encryption and MAC"): JSON with the scrypt
 * parameters, a 64-byte salt and `data` = IV (16) ‖ AES-256-CTR ciphertext ‖ Poly1305-AES MAC (16)
 * of the master key's JSON. scrypt gives 64 bytes: the AES key (32), then the MAC's k (16, the AES
 * key that encrypts the IV into the Poly1305 `s`) and r (16, clamped).
 */
import { createCipheriv, createHash, randomBytes, scryptSync } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const CHEAP = { N: 1024, r: 8, p: 1 };
const P1305 = (1n << 130n) - 5n;

function littleEndian(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]);
  return n;
}

/** Poly1305 (RFC 8439) of `msg` with the one-time key r ‖ s. */
function poly1305(msg: Buffer, r16: Buffer, s16: Buffer): Buffer {
  const r = littleEndian(r16) & 0x0ffffffc0ffffffc0ffffffc0fffffffn;
  let acc = 0n;
  for (let i = 0; i < msg.length; i += 16) {
    const block = msg.subarray(i, i + 16);
    acc = ((acc + littleEndian(block) + (1n << BigInt(8 * block.length))) * r) % P1305;
  }
  acc = (acc + littleEndian(s16)) & ((1n << 128n) - 1n);
  const out = Buffer.alloc(16);
  for (let i = 0; i < 16; i++, acc >>= 8n) out[i] = Number(acc & 0xffn);
  return out;
}

/** An AES-256 key and the Poly1305-AES key (k, r) that authenticates what it encrypts. */
export interface UserKey { readonly encrypt: Buffer; readonly k: Buffer; readonly r: Buffer }

function derive(password: string, salt: Buffer, N: number, r: number, p: number): UserKey {
  const d = scryptSync(password, salt, 64, { N, r, p, maxmem: 1 << 30 });
  return { encrypt: d.subarray(0, 32), k: d.subarray(32, 48), r: d.subarray(48, 64) };
}

/** restic's Poly1305-AES: the IV encrypted with AES-128 under k is Poly1305's s. */
export function mac(ciphertext: Buffer, iv: Buffer, key: UserKey): Buffer {
  const aes = createCipheriv('aes-128-ecb', key.k, null);
  aes.setAutoPadding(false);
  return poly1305(ciphertext, key.r, aes.update(iv));
}

/** The repository's only key file: its directory, name and content, and the master key's JSON it holds. */
function openKey(repository: string, password: string) {
  const dir = join(repository, 'keys');
  const names = readdirSync(dir);
  if (names.length !== 1) throw new Error(`expected one key in ${dir}, found ${names.length}`);
  const key = JSON.parse(readFileSync(join(dir, names[0]), 'utf8'));
  const user = derive(password, Buffer.from(key.salt, 'base64'), key.N, key.r, key.p);
  const data = Buffer.from(key.data, 'base64');
  const iv = data.subarray(0, 16);
  const ciphertext = data.subarray(16, data.length - 16);
  if (!mac(ciphertext, iv, user).equals(data.subarray(data.length - 16))) throw new Error('the password does not open the key');
  return { dir, name: names[0], key, master: createCipheriv('aes-256-ctr', user.encrypt, iv).update(ciphertext) };
}

/** The master key that encrypts and authenticates every file of the repository. */
export function masterKey(repository: string, password: string): UserKey {
  const { master } = openKey(repository, password);
  const json = JSON.parse(master.toString('utf8'));
  return { encrypt: Buffer.from(json.encrypt, 'base64'), k: Buffer.from(json.mac.k, 'base64'), r: Buffer.from(json.mac.r, 'base64') };
}

/** Replace the repository's only key with an equivalent one that is cheap to derive. */
export function makeKeyCheap(repository: string, password: string): void {
  const { dir, name, key, master } = openKey(repository, password);

  const salt = randomBytes(64);
  const cheap = derive(password, salt, CHEAP.N, CHEAP.r, CHEAP.p);
  const newIv = randomBytes(16);
  const newCiphertext = createCipheriv('aes-256-ctr', cheap.encrypt, newIv).update(master);
  const file = JSON.stringify({ ...key, ...CHEAP, salt: salt.toString('base64'), data: Buffer.concat([newIv, newCiphertext, mac(newCiphertext, newIv, cheap)]).toString('base64') });
  // Files in a repository are named by the SHA-256 of their content.
  writeFileSync(join(dir, createHash('sha256').update(file).digest('hex')), file, { mode: 0o400 });
  rmSync(join(dir, name));
}
