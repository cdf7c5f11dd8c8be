// Debian's Chromium driven by playwright-core (never a downloaded browser), with the launch options that
// work on these machines (without the background-networking flags Chromium keeps trying this machine's closed network). Screenshots go to test/artifacts/ (gitignored).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const artifacts = join(import.meta.dirname, '..', 'artifacts');

export async function launch(): Promise<Browser> {
  mkdirSync(artifacts, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // playwright gives every launch its own fresh profile directory.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
