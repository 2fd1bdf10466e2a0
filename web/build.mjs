// Builds dist/verify-page.html, the page template that `frostsign group page` fills in (src/page.rs
// embeds it with include_str!, so `cargo build` needs no node). Reproducible: the same bytes from the
// same sources and the packages pinned in package-lock.json (esbuild bundles src/verify.js with
// @noble/curves and @noble/hashes into one inline script; no timestamps, no paths).
//
//   node build.mjs           write dist/verify-page.html
//   node build.mjs --check   build in memory and fail if dist/verify-page.html differs
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const OUT = join(here, 'dist', 'verify-page.html');
// The placeholders frostsign fills in (HTML-escaped), in src/page.rs.
const FILLED = ['title', 'name', 'fingerprint', 'key_hex', 'key_id_hex', 'key_id', 'minisign_key', 'threshold', 'members', 'version'];

const bundled = await build({
  entryPoints: [join(here, 'src', 'verify.js')],
  absWorkingDir: here,
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: 'es2020',
  charset: 'ascii',
  legalComments: 'inline',
  minify: false,
  sourcemap: false,
  write: false,
  logLevel: 'error',
});
const script = '\n' + bundled.outputFiles[0].text;
const style = '\n' + readFileSync(join(here, 'src', 'page.css'), 'utf8');
for (const [what, text, end] of [['script', script, '</script'], ['style', style, '</style']]) {
  if (text.toLowerCase().includes(end) || text.includes('<!--') || text.includes('{{')) {
    throw new Error(`the inline ${what} contains ${end}, <!-- or {{ and cannot be inlined as is`);
  }
}
const hash = (text) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
const csp = [
  "default-src 'none'",
  `script-src ${hash(script)}`,
  `style-src ${hash(style)}`,
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

const template = readFileSync(join(here, 'src', 'page.html'), 'utf8');
const page = template.replace(/\{\{(csp|style|script)\}\}/g, (_, name) => ({ csp, style, script })[name]);
const left = new Set([...page.matchAll(/\{\{([a-z_]+)\}\}/g)].map((m) => m[1]));
if ([...left].sort().join() !== [...FILLED].sort().join()) {
  throw new Error(`placeholders left for frostsign: ${[...left].join(', ')}; expected ${FILLED.join(', ')}`);
}

if (process.argv.includes('--check')) {
  let committed = '';
  try { committed = readFileSync(OUT, 'utf8'); } catch {}
  if (committed !== page) {
    console.error('web/dist/verify-page.html differs from a fresh build of web/src with the locked packages: run `make page-asset` and commit the result');
    process.exit(1);
  }
  console.log('web/dist/verify-page.html is a fresh build of web/src with the locked packages');
} else {
  writeFileSync(OUT, page);
  console.log(`wrote web/dist/verify-page.html (${page.length} bytes; script ${script.length} bytes)`);
}
