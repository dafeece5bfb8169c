// What the figures were measured on: CPU, cores, memory, OS, Node, and the git commit.
import { execFileSync } from 'node:child_process';
import * as os from 'node:os';

export interface MachineInfo {
  readonly cpu: string;
  readonly cores: number;
  readonly ramBytes: number;
  readonly os: string;
  readonly node: string;
  readonly commit: string | null;
}

function gitCommit(cwd: string): string | null {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return null;
  }
}

export function machineInfo(root: string): MachineInfo {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown CPU',
    // availableParallelism honours cgroup/affinity limits, which is what the benchmark can use.
    cores: typeof os.availableParallelism === 'function' ? os.availableParallelism() : cpus.length,
    ramBytes: os.totalmem(),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    commit: gitCommit(root),
  };
}
