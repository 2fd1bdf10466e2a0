// The script of the page that `frostsign group page` writes. It checks a minisign, SSHSIG, OpenPGP or
// signify manifest signature of a local file with the group key embedded in the page, entirely in the browser:
// the file is read in chunks (File.slice), never uploaded, never held whole. Everything shown that comes
// from a file goes through textContent, never innerHTML. Built into web/dist/verify-page.html by
// web/build.mjs (esbuild, from the packages pinned in web/package-lock.json).
import { ed25519 } from '@noble/curves/ed25519.js';
import { blake2b } from '@noble/hashes/blake2.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';

const CHUNK = 4 * 1024 * 1024; // bytes read and hashed at a time
const MAX_SIG = 1024 * 1024; // largest signature file read

const $ = (id) => document.getElementById(id);
const groupEl = $('group');
const GROUP = {
  key: hexToBytes(groupEl.dataset.key),
  keyId: hexToBytes(groupEl.dataset.keyid),
  name: groupEl.dataset.name,
  fingerprint: groupEl.dataset.fingerprint,
};

function hexToBytes(hex) {
  if (!/^([0-9a-f]{2})*$/.test(hex || '')) throw new Error('bad hex in the page');
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}
const toHex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const equal = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
const utf8 = new TextEncoder();

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}
function sshString(bytes) {
  const out = new Uint8Array(4 + bytes.length);
  new DataView(out.buffer).setUint32(0, bytes.length);
  out.set(bytes, 4);
  return out;
}
function base64(text) {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) throw new Bad('it is not valid base64');
  const bin = atob(text);
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}
// As strict as `verify_strict` in `frostsign verify` (ed25519-dalek): canonical encodings only (no ZIP-215
// leniency), S < L, a public key of small order refused, and R refused unless it lies in the prime-order
// subgroup. noble checks the cofactored equation [8][S]B = [8]R + [8][k]A, which a signature whose R
// carries a small-order component also satisfies; with R and A torsion-free it is the same as the
// cofactorless [S]B = R + [k]A that verify_strict checks.
function edOk(sig, msg) {
  try {
    const A = ed25519.Point.fromBytes(GROUP.key, false);
    const R = ed25519.Point.fromBytes(sig.slice(0, 32), false);
    if (A.isSmallOrder() || !A.isTorsionFree() || R.isSmallOrder() || !R.isTorsionFree()) return false;
    return ed25519.verify(sig, msg, GROUP.key, { zip215: false });
  } catch {
    return false;
  }
}

/** A signature file that cannot be read as any format. */
class Bad extends Error {}
/** A signature that does not verify. */
class Invalid extends Error {}

// ---- signature formats ---------------------------------------------------------------------------

function parseMinisign(text) {
  const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  if (!lines[0].startsWith('untrusted comment:')) throw new Bad('the first line is not "untrusted comment: ..."');
  const raw = base64((lines[1] || '').trim());
  if (raw.length !== 74) throw new Bad('the signature line has the wrong length');
  const alg = String.fromCharCode(raw[0], raw[1]);
  if (alg === 'Ed') throw new Bad('legacy (not prehashed) minisign signature; frostsign makes only prehashed ones');
  if (alg !== 'ED') throw new Bad('unknown signature algorithm');
  const tc = lines[2] || '';
  if (!tc.startsWith('trusted comment: ')) throw new Bad('the third line is not "trusted comment: ..."');
  const global = base64((lines[3] || '').trim());
  if (global.length !== 64) throw new Bad('the global signature has the wrong length');
  if (lines.slice(4).join('\n').trim() !== '') throw new Bad('unexpected data after the global signature');
  return { keyId: raw.slice(2, 10), sig: raw.slice(10), trusted: tc.slice('trusted comment: '.length), global };
}

function parseSsh(text) {
  const BEGIN = '-----BEGIN SSH SIGNATURE-----', END = '-----END SSH SIGNATURE-----';
  const t = text.trim();
  if (!t.startsWith(BEGIN) || !t.endsWith(END)) throw new Bad('missing SSH SIGNATURE armor');
  const blob = base64(t.slice(BEGIN.length, t.length - END.length).replace(/\s+/g, ''));
  let at = 0;
  const take = (n) => {
    if (at + n > blob.length) throw new Bad('malformed SSH signature');
    const out = blob.slice(at, at + n);
    at += n;
    return out;
  };
  const u32 = () => new DataView(take(4).buffer).getUint32(0);
  const str = () => take(u32());
  const text8 = (b) => new TextDecoder('utf-8', { fatal: true }).decode(b);
  if (text8(take(6)) !== 'SSHSIG' || u32() !== 1) throw new Bad('not an SSHSIG version 1 signature');
  const keyBlob = str(), namespace = str(), reserved = str(), hash = text8(str()), sigBlob = str();
  if (at !== blob.length) throw new Bad('unexpected data in the SSH signature');
  const ed = sshString(utf8.encode('ssh-ed25519'));
  const key = keyBlob.slice(ed.length + 4), sig = sigBlob.slice(ed.length + 4);
  if (!equal(keyBlob.slice(0, ed.length), ed) || !equal(sigBlob.slice(0, ed.length), ed)) {
    throw new Bad('only ssh-ed25519 signatures are supported');
  }
  if (!equal(keyBlob, concat(ed, sshString(key))) || key.length !== 32 || !equal(sigBlob, concat(ed, sshString(sig))) || sig.length !== 64) {
    throw new Bad('malformed SSH signature');
  }
  if (hash !== 'sha256' && hash !== 'sha512') throw new Bad('unsupported SSHSIG hash algorithm');
  return { key, namespace, reserved, hash, sig };
}

function parseSignify(text) {
  const nl1 = text.indexOf('\n');
  const nl2 = text.indexOf('\n', nl1 + 1);
  if (nl1 < 0 || nl2 < 0) throw new Bad('truncated signify file');
  if (!text.startsWith('untrusted comment: ')) throw new Bad('the first line is not "untrusted comment: ..."');
  const raw = base64(text.slice(nl1 + 1, nl2));
  if (raw.length !== 74 || raw[0] !== 0x45 || raw[1] !== 0x64) throw new Bad('not a signify Ed25519 signature');
  const manifest = text.slice(nl2 + 1);
  if (!manifest.startsWith('SHA256 (')) throw new Bad('no SHA256 manifest follows the signature');
  return { keyId: raw.slice(2, 10), sig: raw.slice(10), manifest };
}

function manifestLookup(manifest, name) {
  for (const raw of manifest.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (!line.startsWith('SHA256 (')) continue;
    const rest = line.slice('SHA256 ('.length);
    const cut = rest.lastIndexOf(') = ');
    if (cut < 0 || rest.slice(0, cut) !== name) continue;
    const hex = rest.slice(cut + 4).toLowerCase();
    if (/^[0-9a-f]{64}$/.test(hex)) return hex;
  }
  return null;
}

function crc24(data) {
  let crc = 0xb704ce;
  for (const b of data) {
    crc ^= b << 16;
    for (let i = 0; i < 8; i++) {
      crc <<= 1;
      if (crc & 0x1000000) crc ^= 0x1864cfb;
    }
  }
  return crc & 0xffffff;
}

// An armored OpenPGP detached signature: one v4 EdDSA (Ed25519) signature packet, as frostsign makes.
function parseOpenPgp(text) {
  const BEGIN = '-----BEGIN PGP SIGNATURE-----', END = '-----END PGP SIGNATURE-----';
  const t = text.trim();
  if (!t.startsWith(BEGIN) || !t.endsWith(END)) throw new Bad('missing PGP SIGNATURE armor');
  // After the BEGIN line: armor headers ("Key: value", e.g. "Comment: ..."), then an empty line, then the
  // base64 and the optional "=" checksum line (RFC 4880 section 6.2). A header line always holds ": ",
  // which base64 never does.
  const lines = t.slice(BEGIN.length, t.length - END.length).split('\n').map((l) => l.trim());
  if (lines[0] !== '') throw new Bad('text after the BEGIN PGP SIGNATURE line');
  let h = 1;
  while (h < lines.length && lines[h].includes(': ')) h++;
  if (h > 1 && lines[h] !== '') throw new Bad('no empty line after the armor headers');
  let b64 = '', crc = null;
  for (const line of lines.slice(h)) {
    if (line.startsWith('=')) crc = line.slice(1);
    else b64 += line;
  }
  const bytes = base64(b64);
  if (crc !== null) {
    const c = base64(crc);
    const want = crc24(bytes);
    if (c.length !== 3 || c[0] !== want >> 16 || c[1] !== ((want >> 8) & 0xff) || c[2] !== (want & 0xff)) {
      throw new Bad('the armor checksum does not match (damaged file)');
    }
  }
  const bad = () => new Bad('malformed OpenPGP signature');
  if (bytes.length < 2 || (bytes[0] & 0x80) === 0) throw bad();
  let tag, len, hdr;
  if (bytes[0] & 0x40) {
    tag = bytes[0] & 0x3f;
    const b1 = bytes[1];
    if (b1 < 192) { len = b1; hdr = 2; }
    else if (b1 < 224) { if (bytes.length < 3) throw bad(); len = ((b1 - 192) << 8) + bytes[2] + 192; hdr = 3; }
    else if (b1 === 255) { if (bytes.length < 6) throw bad(); len = new DataView(bytes.buffer, 2, 4).getUint32(0); hdr = 6; }
    else throw new Bad('partial-length OpenPGP packets are not supported');
  } else {
    tag = (bytes[0] >> 2) & 0x0f;
    const lt = bytes[0] & 3;
    if (lt === 3) throw new Bad('indeterminate-length OpenPGP packets are not supported');
    hdr = [2, 3, 5][lt];
    if (bytes.length < hdr) throw bad();
    len = lt === 0 ? bytes[1] : lt === 1 ? (bytes[1] << 8) | bytes[2] : new DataView(bytes.buffer, 1, 4).getUint32(0);
  }
  if (tag !== 2 || hdr + len !== bytes.length) throw new Bad('expected exactly one OpenPGP signature packet');
  const body = bytes.slice(hdr);
  if (body[0] !== 4) throw new Bad('only version 4 OpenPGP signatures are supported');
  if (body[2] !== 22) throw new Bad('not an EdDSA (Ed25519) signature');
  if (body.length < 6) throw bad();
  const hlen = (body[4] << 8) | body[5];
  if (body.length < 6 + hlen + 2) throw bad();
  const hashed = body.slice(0, 6 + hlen);
  let at = 6 + hlen;
  const ulen = (body[at] << 8) | body[at + 1];
  at += 2 + ulen;
  if (body.length < at + 2) throw bad();
  const left16 = body.slice(at, at + 2);
  at += 2;
  const mpi = () => {
    if (body.length < at + 2) throw bad();
    const n = (((body[at] << 8) | body[at + 1]) + 7) >> 3;
    if (n > 32 || body.length < at + 2 + n) throw bad();
    const out = new Uint8Array(32);
    out.set(body.slice(at + 2, at + 2 + n), 32 - n);
    at += 2 + n;
    return out;
  };
  const r = mpi(), sv = mpi();
  if (at !== body.length) throw bad();
  const trailer = concat(hashed, new Uint8Array([4, 0xff]), new Uint8Array([hashed.length >>> 24, (hashed.length >>> 16) & 0xff, (hashed.length >>> 8) & 0xff, hashed.length & 0xff]));
  return { sigType: body[1], hashAlgo: body[3], trailer, left16, sig: concat(r, sv) };
}

function keyIdDisplay(id) {
  return toHex(Array.from(id).reverse()).toUpperCase();
}

// ---- hashing ---------------------------------------------------------------------------------------

/** Feed `file` to `hasher` in CHUNK-sized slices, reporting progress; resolves to the hasher. */
async function hashFile(file, hasher, onProgress) {
  for (let at = 0; at < file.size; at += CHUNK) {
    const buf = await file.slice(at, Math.min(file.size, at + CHUNK)).arrayBuffer();
    hasher.update(new Uint8Array(buf));
    onProgress(Math.min(file.size, at + CHUNK), file.size);
  }
  onProgress(file.size, file.size);
  return hasher;
}

// ---- verification ---------------------------------------------------------------------------------

async function readSignature(file) {
  if (file.size > MAX_SIG) throw new Bad('the signature file is larger than 1 MiB');
  const bytes = new Uint8Array(await file.arrayBuffer());
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new Bad('the signature file is not UTF-8 text');
  }
}

/** Verify; resolves to { format, details: [[label, value]...] } or throws Bad / Invalid. */
async function verify(file, sigFile, onProgress) {
  const text = await readSignature(sigFile);
  if (text.trimStart().startsWith('-----BEGIN SSH SIGNATURE-----')) {
    const s = parseSsh(text);
    if (!equal(s.key, GROUP.key)) throw new Invalid('the SSH signature was made by another key, not this group');
    if (s.namespace.length !== 4 || new TextDecoder().decode(s.namespace) !== 'file') {
      throw new Invalid('the SSH signature is not for the namespace "file" (a file signature)');
    }
    const digest = (await hashFile(file, (s.hash === 'sha512' ? sha512 : sha256).create(), onProgress)).digest();
    const signed = concat(utf8.encode('SSHSIG'), sshString(s.namespace), sshString(s.reserved), sshString(utf8.encode(s.hash)), sshString(digest));
    if (!edOk(s.sig, signed)) throw new Invalid('the file or its signature was altered (the signature does not match the file)');
    return { format: `SSH signature (namespace file, ${s.hash})`, details: [['Note', 'this signature names no file: check that this is the version you meant']] };
  }
  const lines = text.split('\n');
  if (text.startsWith('untrusted comment:') && (lines[2] || '').startsWith('trusted comment: ')) {
    const m = parseMinisign(text);
    if (!equal(m.keyId, GROUP.keyId)) {
      throw new Invalid(`the signature was made by another key (key id ${keyIdDisplay(m.keyId)}; this group's is ${keyIdDisplay(GROUP.keyId)})`);
    }
    const digest = (await hashFile(file, blake2b.create({ dkLen: 64 }), onProgress)).digest();
    if (!edOk(m.sig, digest)) throw new Invalid('the file or its signature was altered (the signature does not match the file)');
    if (!edOk(m.global, concat(m.sig, utf8.encode(m.trusted)))) {
      throw new Invalid("the trusted comment's signature does not verify: the comment was altered");
    }
    const details = [['Trusted comment', m.trusted]];
    // Like minisign, the signature is about the bytes; but a signature made for a file of another name
    // (a valid signature of another release of the same project, say) gets its own verdict, not "Valid".
    const named = m.trusted.split('\t').find((f) => f.startsWith('file:'));
    if (named && named.slice(5) !== file.name) {
      return {
        format: 'minisign signature',
        otherName: named.slice(5),
        details: [...details, ['Warning', `the group signed these bytes under the name "${named.slice(5)}", not "${file.name}": this may be another release than the one you meant`]],
      };
    }
    return { format: 'minisign signature', details };
  }
  if (text.startsWith('untrusted comment: ') && (lines[2] || '').startsWith('SHA256 (')) {
    const sm = parseSignify(text);
    if (!equal(sm.keyId, GROUP.keyId)) {
      throw new Invalid(`the manifest was signed by another key (key number ${keyIdDisplay(sm.keyId)}; this group's is ${keyIdDisplay(GROUP.keyId)})`);
    }
    if (!edOk(sm.sig, utf8.encode(sm.manifest))) throw new Invalid("the manifest's signature does not verify: the manifest was altered");
    const listed = manifestLookup(sm.manifest, file.name);
    if (!listed) throw new Invalid(`the file name "${file.name}" is not listed in the signed manifest`);
    const digest = toHex((await hashFile(file, sha256.create(), onProgress)).digest());
    if (digest !== listed) throw new Invalid("the file's SHA-256 differs from the one in the signed manifest: the file was altered");
    return { format: 'signify signed manifest (SHA-256)', details: [['SHA-256', listed]] };
  }
  if (text.trimStart().startsWith('-----BEGIN PGP SIGNATURE-----')) {
    const p = parseOpenPgp(text);
    if (p.sigType !== 0 || p.hashAlgo !== 8) throw new Bad('only binary-document OpenPGP signatures with SHA-256 are supported');
    const digest = (await hashFile(file, sha256.create(), onProgress)).update(p.trailer).digest();
    if (!equal(digest.slice(0, 2), p.left16) || !edOk(p.sig, digest)) {
      throw new Invalid('the file or its signature was altered, or another key made it (the signature does not match)');
    }
    return { format: 'OpenPGP signature (SHA-256)', details: [['Note', 'this signature names no file: check that this is the version you meant']] };
  }
  if (text.startsWith('untrusted comment:') || sigFile.name.endsWith('.minisig')) parseMinisign(text);
  throw new Bad('this is not a signature this page knows (minisign .minisig, SSH .sig, OpenPGP .asc, signify SHA256.sig)');
}

// ---- the page ----------------------------------------------------------------------------------------

const state = { file: null, sig: null, run: 0 };
const fileInput = $('file'), sigInput = $('sig'), progress = $('progress'), verdict = $('verdict');

function show(kind, headline, rows) {
  verdict.hidden = false;
  verdict.dataset.verdict = kind;
  verdict.className = kind;
  $('verdict-head').textContent = headline;
  const list = $('verdict-details');
  list.replaceChildren();
  for (const [label, value] of rows) {
    const dt = document.createElement('dt');
    dt.textContent = label;
    const dd = document.createElement('dd');
    dd.textContent = value;
    list.append(dt, dd);
  }
}

function looksLikeSignature(f) {
  return f.size <= MAX_SIG && (/\.(minisig|sig|asc)$/i.test(f.name) || /^SHA256/i.test(f.name));
}

function showChosen() {
  $('chosen-file').textContent = state.file ? `${state.file.name} (${state.file.size} bytes)` : 'none yet';
  $('chosen-sig').textContent = state.sig ? state.sig.name : 'none yet';
}

/** Not checked: `why`. Forgets both files, so nothing from this choice is paired with a later one. */
function refuse(why, names) {
  state.run++;
  state.file = null;
  state.sig = null;
  fileInput.value = '';
  sigInput.value = '';
  showChosen();
  progress.hidden = true;
  $('progress-text').textContent = '';
  show('refused', 'Not checked', [...(names.length ? [['Dropped', names.join(', ')]] : []), ['Why', why]]);
}

/**
 * Files dropped on the page. One file fills the slot its name suggests (the other one stays). Two files
 * replace both: one signature and one file, or two signature-looking files that pair by name (X and
 * X.minisig, X.sig or X.asc). Anything else is refused rather than guessed, and a refused drop
 * forgets the earlier choice, so a file from one drop is never checked with a signature from another
 * without being shown as the file checked.
 */
function take(files) {
  const names = files.map((f) => f.name);
  if (files.length === 0) return;
  if (files.length === 1) {
    if (looksLikeSignature(files[0])) state.sig = files[0];
    else state.file = files[0];
  } else if (files.length > 2) {
    return refuse(`${files.length} files were dropped: drop one file and its one signature (or choose them above), and check each file on its own`, names);
  } else {
    const [a, b] = files;
    const sigs = files.filter(looksLikeSignature);
    const pairsWith = (x, y) => ['.minisig', '.sig', '.asc'].some((ext) => y.name === x.name + ext);
    if (sigs.length === 1) {
      state.sig = sigs[0];
      state.file = sigs[0] === a ? b : a;
    } else if (pairsWith(a, b)) {
      state.file = a;
      state.sig = b;
    } else if (pairsWith(b, a)) {
      state.file = b;
      state.sig = a;
    } else if (sigs.length === 2) {
      return refuse('both files look like signatures: drop one file and its one signature (or choose them above)', names);
    } else {
      return refuse('neither file looks like a signature (.minisig, .sig, .asc or SHA256.sig): choose the file and its signature above', names);
    }
  }
  showChosen();
  run();
}

async function run() {
  if (!state.file || !state.sig) return;
  const run = ++state.run;
  const { file, sig } = state;
  verdict.hidden = true;
  verdict.dataset.verdict = 'working';
  progress.hidden = false;
  progress.value = 0;
  const started = performance.now();
  let last = 0;
  const onProgress = (done, total) => {
    if (run !== state.run) throw new Error('superseded');
    const now = performance.now();
    if (now - last > 50 || done === total) {
      progress.value = total ? done / total : 1;
      $('progress-text').textContent = `Hashing: ${Math.floor((total ? done / total : 1) * 100)} %`;
      last = now;
    }
  };
  try {
    const ok = await verify(file, sig, onProgress);
    if (run !== state.run) return;
    show(ok.otherName === undefined ? 'valid' : 'other-name', ok.otherName === undefined ? 'Valid' : 'Signed, but under another file name', [
      ['File', file.name],
      ['Signed by', `${GROUP.name} (the group built into this page, fingerprint ${GROUP.fingerprint})`],
      ['Signature', `${sig.name}: ${ok.format}`],
      ...ok.details,
    ]);
  } catch (e) {
    if (run !== state.run) return;
    const why = e instanceof Bad || e instanceof Invalid ? e.message : `the files could not be read (${e && e.message})`;
    show('invalid', 'NOT valid', [
      ['File', file.name],
      ['Signature', sig.name],
      ['Why', why],
    ]);
  } finally {
    if (run === state.run) {
      progress.hidden = true;
      $('progress-text').textContent = `Checked in ${((performance.now() - started) / 1000).toFixed(1)} s.`;
    }
  }
}

fileInput.addEventListener('change', () => { if (fileInput.files[0]) { state.file = fileInput.files[0]; showChosen(); run(); } });
sigInput.addEventListener('change', () => { if (sigInput.files[0]) { state.sig = sigInput.files[0]; showChosen(); run(); } });
const drop = $('drop');
for (const ev of ['dragenter', 'dragover']) {
  document.addEventListener(ev, (e) => { e.preventDefault(); drop.classList.add('over'); });
}
document.addEventListener('dragleave', () => drop.classList.remove('over'));
document.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  take(Array.from(e.dataTransfer.files));
});
// The key line shown is computed from the very bytes the page verifies with (data-key, data-keyid), so
// the two cannot differ in a page frostsign wrote. This says nothing about a copy someone else made:
// such a copy can show anything, which is why only the page file's SHA-256 identifies it.
$('key-line').textContent = btoa(String.fromCharCode(...concat(utf8.encode('Ed'), GROUP.keyId, GROUP.key)));
$('status').textContent = 'Ready. Nothing you choose leaves this computer.';
