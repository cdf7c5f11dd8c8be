// The leader's small CA: it signs the aggregator's certificate (SANs: the aggregator binding's addresses) so
// that agents verify the aggregator with --ca-file. openssl does the cryptography; keys never leave the
// files they are written to (mode 0600) except the CA key, which travels in the cluster's Juju secret so a
// new leader can sign with the same CA (the agents' trust survives a leader change).
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Ca {
  key: string;
  cert: string;
}

function openssl(args: string[], cwd: string): string {
  return execFileSync('openssl', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A new CA (EC P-256, 10 years): what `openssl req -x509` makes, as the README's TLS section shows. */
export function makeCa(workDir: string, name: string): Ca {
  const dir = join(workDir, 'ca-new');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  try {
    openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'ca.key'], dir);
    openssl(
      [
        'req',
        '-x509',
        '-new',
        '-key',
        'ca.key',
        '-sha256',
        '-days',
        '3650',
        '-subj',
        `/CN=${name} pinger CA`,
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        'keyUsage=critical,keyCertSign,cRLSign',
        '-out',
        'ca.pem',
      ],
      dir,
    );
    return { key: readFileSync(join(dir, 'ca.key'), 'utf8'), cert: readFileSync(join(dir, 'ca.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The aggregator's key and certificate for these IP addresses, signed by `ca`; rewritten only when the
 * addresses or the CA changed (a sidecar file remembers what the current one was made for). Returns true
 * when it wrote new files (the aggregator must restart to serve them).
 */
export function ensureServerCert(dir: string, ca: Ca, ips: string[]): boolean {
  const stamp = `${ips.join(',')}\n${ca.cert}`;
  const stampFile = join(dir, 'aggregator.for');
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp && existsSync(join(dir, 'aggregator.pem'))) return false;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, 'ca.key'), ca.key, { mode: 0o600 });
  writeFileSync(join(dir, 'ca.pem'), ca.cert, { mode: 0o644 });
  writeFileSync(
    join(dir, 'san.ext'),
    `subjectAltName=${ips.map((ip) => `IP:${ip}`).join(',')}\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n`,
  );
  try {
    openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'aggregator.key'], dir);
    openssl(['req', '-new', '-key', 'aggregator.key', '-subj', '/CN=pinger-aggregator', '-out', 'aggregator.csr'], dir);
    openssl(
      [
        'x509',
        '-req',
        '-in',
        'aggregator.csr',
        '-CA',
        'ca.pem',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-days',
        '825',
        '-sha256',
        '-extfile',
        'san.ext',
        '-out',
        'aggregator.pem',
      ],
      dir,
    );
  } finally {
    // The CA key is needed only to sign: it stays in the Juju secret, not on the disk.
    for (const f of ['ca.key', 'aggregator.csr', 'san.ext', 'ca.srl']) rmSync(join(dir, f), { force: true });
  }
  chmodSync(join(dir, 'aggregator.key'), 0o600);
  writeFileSync(stampFile, stamp);
  return true;
}
