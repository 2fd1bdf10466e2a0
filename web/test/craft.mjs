// Crafts signatures that frostsign never makes, with a throwaway Ed25519 key (a fixed seed: the same
// files every run), for the page's negative tests in tests/suite/page.rs. They need the secret key, so
// they cannot be made with a group; the test builds a page with this key in place of the group's.
//
//   node web/test/craft.mjs DIR
//
// writes into DIR:
//   crafted.txt             the file that is signed
//   good.minisig            a plain minisign signature of it (prehashed "ED"): the page must say valid
//   torsion.minisig         the same, but R has a small-order point added and S recomputed: it passes
//                           the cofactored equation ([8][S]B = [8]R + [8][k]A) but not the cofactorless
//                           one of verify_strict, so the page must say NOT valid
//   legacy.minisig          a real legacy minisign signature ("Ed", over the whole file): NOT valid
// and prints { "keyHex", "keyIdHex" } for the page.
import { ed25519 } from '@noble/curves/ed25519.js';
import { blake2b } from '@noble/hashes/blake2.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
const seed = new Uint8Array(32).fill(7);
const keyId = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
const { scalar: a, pointBytes: A } = ed25519.utils.getExtendedPublicKey(seed);
const n = ed25519.Point.CURVE().n;
const Point = ed25519.Point;
const le = (b) => b.reduceRight((acc, x) => (acc << 8n) | BigInt(x), 0n);
const toLe32 = (x) => Uint8Array.from({ length: 32 }, (_, i) => Number((x >> BigInt(8 * i)) & 0xffn));
const concat = (...p) => { const o = new Uint8Array(p.reduce((s, x) => s + x.length, 0)); let i = 0; for (const x of p) { o.set(x, i); i += x.length; } return o; };
const b64 = (b) => Buffer.from(b).toString('base64');

// A point of order 8 (RFC 8032 / "Taming the many EdDSAs" test vectors).
const T = Point.fromHex('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a');
if (T.is0() || !T.isSmallOrder() || !T.multiply(1n).add(T).add(T).add(T).add(T).add(T).add(T).add(T).is0()) throw new Error('T is not of order 8');

/** Ed25519 over msg with R = [r]B + T (S recomputed for that R), or a plain one when T is null. */
function sign(msg, T) {
  if (!T) return ed25519.sign(msg, seed);
  const r = le(sha512(concat(Uint8Array.of(42), msg))) % n;
  const R = Point.BASE.multiply(r).add(T).toBytes();
  const k = le(sha512(concat(R, A, msg))) % n;
  return concat(R, toLe32((r + k * a) % n));
}

function minisig(alg, sig, trusted) {
  const global = ed25519.sign(concat(sig, new TextEncoder().encode(trusted)), seed);
  return `untrusted comment: crafted by web/test/craft.mjs\n${b64(concat(new TextEncoder().encode(alg), keyId, sig))}\ntrusted comment: ${trusted}\n${b64(global)}\n`;
}

const file = new TextEncoder().encode('a file signed by a throwaway key, for the page tests\n');
const digest = blake2b(file, { dkLen: 64 });
const trusted = 'timestamp:1764633600\tfile:crafted.txt\tprehashed';
const torsion = sign(digest, T);
// The crafted signature must pass a cofactored check (else the test would prove nothing) and fail the strict one.
if (!ed25519.verify(torsion, digest, A, { zip215: false })) throw new Error('the torsion signature does not pass the cofactored check');
writeFileSync(join(dir, 'crafted.txt'), file);
writeFileSync(join(dir, 'good.minisig'), minisig('ED', sign(digest, null), trusted));
writeFileSync(join(dir, 'torsion.minisig'), minisig('ED', torsion, trusted));
writeFileSync(join(dir, 'legacy.minisig'), minisig('Ed', sign(file, null), trusted));
console.log(JSON.stringify({ keyHex: Buffer.from(A).toString('hex'), keyIdHex: Buffer.from(keyId).toString('hex') }));
