// Drives the verification page in Debian's chromium, headless, through playwright-core (pinned in
// web/package-lock.json; playwright's own browser download is not used). tests/suite/page.rs writes a
// job file and runs `node web/test/browser.mjs JOB.json`; this prints one JSON object with the outcome of
// every case, and fails if the page made any request other than file: or data:.
//
// JOB.json: { "page": "/abs/verify.html", "chromium": "/usr/bin/chromium",
//             "cases": [ { "name": "...", "file": "/abs/artifact", "sig": "/abs/artifact.minisig",
//                          "screenshot": "/abs/out.png" (optional), "measure": true (optional),
//                          "drop": true (optional: drop both files on the page instead of choosing them),
//                          "dropFiles": ["/abs/a", ...] (optional: drop these files instead; small files only),
//                          "dropSteps": [["/abs/a"], ["/abs/b", "/abs/c"]] (optional: several drops in turn),
//                          "page": "/abs/other.html" (optional: this page instead of the job's) } ] }
// Every read the page makes of a File or Blob (Blob.arrayBuffer, text, bytes, stream, Response(blob),
// FileReader) is recorded with its size, in "reads": [{ "how", "bytes" }], so a test can check that
// no read is larger than a slice, whatever the JS heap or the resident memory say.
// Output: { "requests": ["file:///..."], "blocked": [], "cases": [ { "name", "verdict": "valid"|"invalid"|
//           "other-name"|"refused", "reads",
//           "head", "details", "seconds", "bytes", "peakHeapBytes" (V8's JSHeapUsedSize, sampled every 0.1 s
//           when "measure"), "baseRendererRssBytes", "peakRendererRssBytes" (the renderers' resident memory) } ] }
import { chromium } from 'playwright-core';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';

// The resident memory (bytes) of the renderer processes of the browser started with `profile` (its
// tabs: every renderer carries --user-data-dir and --type=renderer). Linux only (/proc); 0 elsewhere.
function rendererRss(profile) {
  let total = 0;
  let pids = [];
  try { pids = readdirSync('/proc').filter((d) => /^[0-9]+$/.test(d)); } catch { return 0; }
  for (const pid of pids) {
    try {
      // Forked renderers rewrite their command line (spaces, not NULs): match words in the text.
      const cmd = ` ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ')} `;
      if (!cmd.includes(' --type=renderer ') || !cmd.includes(` --user-data-dir=${profile} `)) continue;
      const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
      if (m) total += Number(m[1]) * 1024;
    } catch {}
  }
  return total;
}

const job = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const profile = mkdtempSync(join(tmpdir(), 'frostsign-chromium-'));
const requests = [], blocked = [];
let context;
try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath: job.chromium || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--enable-precise-memory-info'],
    viewport: { width: 900, height: 1100 },
  });
  // Every request the page makes is seen here; anything but file: and data: is refused and reported.
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('file:') || url.startsWith('data:')) return route.continue();
    blocked.push(url);
    return route.abort();
  });
  // Before any script of the page: wrap every way a page can read the bytes of a File or Blob, and
  // record the size of each read (a Blob made by slice() is read like any other).
  await context.addInitScript(() => {
    const reads = [];
    Object.defineProperty(window, '__frostsignReads', { value: reads });
    const note = (how, blob) => reads.push({ how, bytes: blob.size, file: blob instanceof File ? blob.name : null });
    const B = Blob.prototype;
    for (const m of ['arrayBuffer', 'text', 'bytes', 'stream']) {
      const orig = B[m];
      if (typeof orig !== 'function') continue;
      Object.defineProperty(B, m, { value: function (...a) { note(`Blob.${m}`, this); return orig.apply(this, a); }, writable: true, configurable: true });
    }
    const FR = FileReader.prototype;
    for (const m of ['readAsArrayBuffer', 'readAsText', 'readAsDataURL', 'readAsBinaryString']) {
      const orig = FR[m];
      Object.defineProperty(FR, m, { value: function (blob, ...a) { note(`FileReader.${m}`, blob); return orig.call(this, blob, ...a); }, writable: true, configurable: true });
    }
    const R = window.Response;
    window.Response = function (body, init) {
      if (body instanceof Blob) note('Response', body);
      return new R(body, init);
    };
    window.Response.prototype = R.prototype;
    const objectUrl = URL.createObjectURL;
    URL.createObjectURL = function (o) { if (o instanceof Blob) note('URL.createObjectURL', o); return objectUrl.call(this, o); };
  });
  const page = context.pages()[0] || (await context.newPage());
  page.on('request', (r) => requests.push(r.url()));
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable');
  await cdp.send('HeapProfiler.enable');
  const heap = async () => {
    const { metrics } = await cdp.send('Performance.getMetrics');
    return metrics.find((m) => m.name === 'JSHeapUsedSize').value;
  };

  const results = [];
  for (const c of job.cases) {
    // A fresh load for each case: nothing carries over from the previous one.
    await page.goto(pathToFileURL(c.page || job.page).href);
    await cdp.send('HeapProfiler.collectGarbage');
    await page.waitForFunction(() => document.getElementById('status').textContent.startsWith('Ready'));
    const started = Date.now();
    if (c.drop || c.dropFiles || c.dropSteps) {
      // The files dropped onto the page at once (small files only: they pass through this script);
      // "dropSteps" drops several sets one after the other.
      for (const step of c.dropSteps || [c.dropFiles || [c.file, c.sig]]) {
        const items = step.map((p) => ({ name: basename(p), b64: readFileSync(p).toString('base64') }));
        await page.evaluate((items) => {
          const dt = new DataTransfer();
          for (const it of items) dt.items.add(new File([Uint8Array.from(atob(it.b64), (ch) => ch.charCodeAt(0))], it.name));
          document.getElementById('drop').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
        }, items);
      }
    } else {
      await page.setInputFiles('#sig', c.sig);
      await page.setInputFiles('#file', c.file);
    }
    let peak = await heap(), peakRss = rendererRss(profile);
    const baseRss = peakRss;
    const done = () => page.evaluate(() => {
      const v = document.getElementById('verdict');
      return !v.hidden && ['valid', 'invalid', 'other-name', 'refused'].includes(v.dataset.verdict);
    });
    const deadline = Date.now() + (c.timeoutSeconds || 120) * 1000;
    while (!(await done())) {
      if (Date.now() > deadline) throw new Error(`case ${c.name}: no verdict after ${c.timeoutSeconds || 120} s`);
      if (c.measure) { peak = Math.max(peak, await heap()); peakRss = Math.max(peakRss, rendererRss(profile)); }
      await new Promise((r) => setTimeout(r, c.measure ? 100 : 20));
    }
    peak = Math.max(peak, await heap());
    const seconds = (Date.now() - started) / 1000;
    const out = await page.evaluate(() => ({
      verdict: document.getElementById('verdict').dataset.verdict,
      head: document.getElementById('verdict-head').textContent,
      details: document.getElementById('verdict-details').innerText,
      // Elements the page did not make itself would come from file-derived text parsed as HTML.
      foreignElements: document.querySelectorAll('main img, main script, main b, main iframe').length,
      reads: window.__frostsignReads,
    }));
    if (c.screenshot) await page.screenshot({ path: c.screenshot, fullPage: true });
    results.push({ name: c.name, ...out, seconds, bytes: c.file ? statSync(c.file).size : 0, peakHeapBytes: peak, baseRendererRssBytes: baseRss, peakRendererRssBytes: peakRss });
  }
  const page2 = await page.evaluate(() => ({
    csp: document.querySelector('meta[http-equiv="Content-Security-Policy"]').content,
    fingerprint: document.getElementById('group').dataset.fingerprint,
    keyLine: document.getElementById('key-line').textContent,
    title: document.title,
    h1: document.querySelector('h1').textContent,
  }));
  console.log(JSON.stringify({ requests: [...new Set(requests)], blocked, errors, page: page2, cases: results }));
} finally {
  if (context) await context.close();
  rmSync(profile, { recursive: true, force: true });
}
