// CPU an agent spends reading its inventory at start: the block YAML a person writes vs the JSON form the
// charm and the lab write (agent/contract/inventory.ts: inventoryToText, parseJsonForm). Each measurement is a fresh
// process (cold code, as at an agent's start); the figure is the CPU of parseInventory() alone.
// Usage: node --import tsx test/bench/inventory-parse.ts [--sizes 50x3,1000x6] [--runs 5]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { inventoryToText, parseInventory, type Inventory } from '../../agent/contract/inventory.js';

const { values } = parseArgs({
  options: { sizes: { type: 'string', default: '50x3,1000x6' }, runs: { type: 'string', default: '5' }, child: { type: 'string' } },
});

if (values.child) {
  const text = readFileSync(values.child, 'utf8');
  const c0 = process.cpuUsage();
  const inv = parseInventory(text, values.child);
  const c = process.cpuUsage(c0);
  process.stdout.write(`${(c.user + c.system) / 1000} ${inv.nodes.length}\n`);
  process.exit(0);
}

const names = ['internal', 'shared-db', 'ceph-cluster', 'ceph-public', 'overlay', 'public'];
/** Block YAML as a person writes it (one line per address); addresses are text only, nothing is sent. */
function blockYaml(nodes: number, bindings: number): string {
  const lines = ['version: 1', 'nodes:'];
  for (let n = 0; n < nodes; n++) {
    lines.push(`  node-${n + 1}:`, '    addresses:');
    for (let b = 0; b < bindings; b++) lines.push(`      ${names[b]}: 198.${18 + (b >> 2)}.${(b & 3) * 64 + (n >> 8)}.${n & 255}`);
  }
  return `${lines.join('\n')}\n`;
}

const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[(xs.length - 1) >> 1]!;
const dir = mkdtempSync(join(tmpdir(), 'pinger-bench-inv-'));
try {
  console.log(`inventory parse, fresh process each, ${values.runs} runs, medians of CPU (user+sys) in parseInventory(), ${new Date().toISOString()}`);
  for (const size of values.sizes.split(',')) {
    const [nodes, bindings] = size.split('x').map(Number) as [number, number];
    const yaml = blockYaml(nodes, bindings);
    const inv: Inventory = parseInventory(yaml);
    const forms = { 'block YAML': yaml, 'JSON form': inventoryToText(inv) };
    const out: string[] = [];
    for (const [form, text] of Object.entries(forms)) {
      const file = join(dir, `${size}-${form.replace(' ', '-')}.yaml`);
      writeFileSync(file, text);
      const ms: number[] = [];
      for (let r = 0; r < Number(values.runs); r++) {
        const [cpu, n] = execFileSync(process.execPath, [...process.execArgv, new URL(import.meta.url).pathname, '--child', file], { encoding: 'utf8' })
          .trim()
          .split(' ')
          .map(Number);
        if (n !== nodes) throw new Error(`${form}: parsed ${n} nodes, expected ${nodes}`);
        ms.push(cpu!);
      }
      out.push(`${form} ${med(ms).toFixed(1)} ms (${ms.map((x) => x.toFixed(0)).join('/')}; ${(text.length / 1024).toFixed(0)} KiB)`);
    }
    console.log(`${nodes} nodes x ${bindings} bindings: ${out.join('; ')}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
