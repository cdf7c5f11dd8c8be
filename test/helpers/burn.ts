// CPU burners for tests of timing behaviour "while the machine is loaded": one busy child process per core,
// stopped by PID (never by name) when the test is done.
import { spawn, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';

export interface Burners {
  pids: number[];
  stop(): Promise<void>;
}

/** Starts `n` (default: one per core) processes that spin until stopped. */
export function burnCpu(n = availableParallelism()): Burners {
  const kids: ChildProcess[] = [];
  for (let i = 0; i < n; i++) {
    kids.push(spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
  }
  const stop = async (): Promise<void> => {
    await Promise.all(
      kids.map(
        (k) =>
          new Promise<void>((resolve) => {
            if (k.exitCode !== null || k.signalCode !== null || k.pid === undefined) return resolve();
            k.once('exit', () => resolve());
            process.kill(k.pid, 'SIGKILL');
          }),
      ),
    );
  };
  // A test that dies must not leave burners behind.
  process.once('exit', () => {
    for (const k of kids)
      if (k.exitCode === null && k.signalCode === null && k.pid)
        try {
          process.kill(k.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
  });
  return { pids: kids.map((k) => k.pid!).filter(Boolean), stop };
}
