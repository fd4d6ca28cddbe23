// The RabbitMQ management console as an operator sees it, in Debian's headless Chromium driven by
// playwright-core (which never downloads a browser of its own): log in as guest, the Queues page
// lists the nine queues of the contract with one consumer on each subscriber queue, the
// special-offers exchange shows its three bindings, and "Get messages" on a dead-letter queue
// shows the x-error and x-retry-count headers. Screenshots go to build/browser-<name>-*.png.
//   node tests/browser/console.mjs --url http://localhost:15672 --name compose --dlq loyalty.dlq
import { chromium } from 'playwright-core';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    url: { type: 'string' },
    name: { type: 'string', default: 'console' },
    dlq: { type: 'string', default: 'loyalty.dlq' },
    user: { type: 'string', default: 'guest' },
    password: { type: 'string', default: 'guest' },
  },
});
if (!args.url) throw new Error('--url of the management console is required');

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const shots = process.env.OFFERS_BUILD_DIR ?? path.join(root, 'build');
mkdirSync(shots, { recursive: true });
const BROWSER = '/usr/bin/chromium';
const SUBSCRIBERS = ['loyalty', 'notifications', 'statistics'];
const QUEUES = SUBSCRIBERS.flatMap((s) => [s, `${s}.retry`, `${s}.dlq`]);

if (!existsSync(BROWSER)) {
  console.log(`FAIL: ${BROWSER} is missing (the package chromium)`);
  process.exit(1);
}

let failures = 0;
const ok = (what) => console.log(`ok    ${what}`);
const fail = (what) => {
  console.log(`FAIL: ${what}`);
  failures += 1;
};
const shot = async (page, what) => {
  const file = path.join(shots, `browser-${args.name}-${what}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
};
// The console refreshes its pages every few seconds; a condition is asked again until it holds.
async function until(what, fn, ms = 30000) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last === true) return true;
    } catch (e) {
      last = e.message;
    }
    if (Date.now() > deadline) {
      fail(`${what} (last seen: ${JSON.stringify(last)})`);
      return false;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

const browser = await chromium.launch({
  executablePath: BROWSER,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.setDefaultTimeout(30000);

  await page.goto(args.url);
  await page.fill('input[name="username"]', args.user);
  await page.fill('input[name="password"]', args.password);
  await page.click('input[type="submit"]');
  await page.waitForSelector('#logout', { state: 'attached' });
  ok(`logged in to ${args.url} as ${args.user}`);

  await page.goto(`${args.url}/#/queues`);
  await until('the Queues page lists the nine queues of the contract', async () => {
    const names = await page.locator('#main table.list tbody tr td a').allTextContents();
    const missing = QUEUES.filter((q) => !names.map((n) => n.trim()).includes(q));
    return missing.length === 0 || `missing ${missing.join(', ')}`;
  });
  ok(`Queues page lists ${QUEUES.join(', ')} (${await shot(page, 'queues')})`);

  for (const q of SUBSCRIBERS) {
    await page.goto(`${args.url}/#/queues/%2F/${encodeURIComponent(q)}`);
    await until(`queue ${q} shows one consumer`, async () => {
      const consumers = await page
        .locator('#main table.facts th:text-is("Consumers") + td')
        .first()
        .textContent({ timeout: 2000 });
      return consumers.trim() === '1' || `Consumers: ${consumers.trim()}`;
    });
  }
  ok(`one consumer on each of ${SUBSCRIBERS.join(', ')}`);
  await shot(page, 'queue-statistics');

  await page.goto(`${args.url}/#/exchanges/%2F/special-offers`);
  await until('the special-offers exchange shows its three bindings', async () => {
    const rows = await page.locator('#main table.list tbody tr').allTextContents();
    const bound = SUBSCRIBERS.filter((q) => rows.some((r) => r.includes(q)));
    return bound.length === 3 || `bindings to ${bound.join(', ') || 'nothing'}`;
  });
  ok(`the special-offers exchange is bound to ${SUBSCRIBERS.join(', ')} (${await shot(page, 'exchange')})`);

  await page.goto(`${args.url}/#/queues/%2F/${encodeURIComponent(args.dlq)}`);
  // No periodic refresh from here on: it would redraw the page and drop the fetched message.
  await page.selectOption('#update-every', '');
  await page.click('h2:text-is("Get messages")');
  // The default acknowledgement mode hands the message back to the queue (nothing is removed).
  const dlqShot = path.join(shots, `browser-${args.name}-dlq.png`);
  const get = page.locator('input[type="submit"][value="Get Message(s)"]');
  await get.waitFor();
  await until(`"Get messages" on ${args.dlq} shows x-error and x-retry-count`, async () => {
    await get.click();
    await page.waitForSelector('#msg-wrapper table', { timeout: 5000 });
    const text = await page.locator('#msg-wrapper').innerText();
    if (!text.includes('x-error') || !text.includes('x-retry-count')) return text.slice(0, 300);
    // The console slides the fetched message in: the picture waits for the slide to end.
    await page.waitForFunction(() => !window.jQuery('#msg-wrapper').is(':animated'));
    await page.locator('#msg-wrapper').scrollIntoViewIfNeeded();
    await page.screenshot({ path: dlqShot });
    return true;
  });
  ok(`"Get messages" on ${args.dlq} shows x-error and x-retry-count (${dlqShot})`);
} catch (e) {
  fail(e.stack ?? String(e));
} finally {
  await browser.close();
}
console.log(failures === 0 ? `management console check passed (${args.name})` : `${failures} failures`);
process.exit(failures === 0 ? 0 : 1);
