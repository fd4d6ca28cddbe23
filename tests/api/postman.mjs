// Runs api/special-offers.postman_collection.json with newman against the four services, started
// here with their base URLs handed to the collection's variables.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { API_DIR, ROOT, runWithSandbox } from './support.mjs';

const NEWMAN = path.join(ROOT, 'tests', 'node_modules', '.bin', 'newman');

await runWithSandbox('postman', async (sb) => {
  for (const name of ['special-offers', 'loyalty', 'notifications', 'statistics']) await sb.start(name);
  const vars = {
    offersUrl: sb.url('special-offers'),
    loyaltyUrl: sb.url('loyalty'),
    notificationsUrl: sb.url('notifications'),
    statisticsUrl: sb.url('statistics'),
  };
  const args = ['run', path.join(API_DIR, 'special-offers.postman_collection.json'), '--bail', 'failure', '--color', 'off', '--disable-unicode', '--timeout-request', '15000'];
  for (const [k, v] of Object.entries(vars)) args.push('--env-var', `${k}=${v}`);
  const code = await new Promise((resolve, reject) => {
    const child = spawn(NEWMAN, args, { stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (c, signal) => resolve(signal ? 128 : c));
  });
  if (code !== 0) throw new Error(`newman exited with ${code}`);
});
