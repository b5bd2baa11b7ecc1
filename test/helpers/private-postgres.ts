// A PostgreSQL cluster of the test's own (initdb + pg_ctl into a temporary directory, trust auth, TCP on a free
// loopback port), for tests that need a database that is not there yet, or goes away; the shared server on 5432 is
// never touched. initdb and postgres refuse to run as root: as root they run as the `postgres` user (runuser).
import { execFile } from 'node:child_process';
import { chown, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './private-redis.js';

const run = promisify(execFile);

/** The newest installed PostgreSQL's bin directory (/usr/lib/postgresql/<version>/bin), as on Debian. */
async function binDir(): Promise<string> {
  const root = '/usr/lib/postgresql';
  const versions = (await readdir(root)).sort((a, b) => Number(b) - Number(a));
  if (!versions[0]) throw new Error(`no PostgreSQL under ${root}`);
  return join(root, versions[0], 'bin');
}

export class PrivatePostgres {
  private running = false;

  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly bin: string,
    private readonly asUser: string[],
  ) {}

  /** Creates the cluster (initdb) on a free port; it is not running until start(). */
  static async create(port?: number): Promise<PrivatePostgres> {
    const bin = await binDir();
    const dir = await mkdtemp(join(tmpdir(), 'bill-fleet-pg-'));
    let asUser: string[] = [];
    if (process.getuid?.() === 0) {
      const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
      const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
      await chown(dir, uid, gid);
      asUser = ['runuser', '-u', 'postgres', '--'];
    }
    const pg = new PrivatePostgres(port ?? (await freePort()), dir, bin, asUser);
    await pg.exec('initdb', ['-D', join(dir, 'data'), '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
    return pg;
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  /** Starts the server and resolves once it accepts connections (pg_ctl -w). */
  async start(): Promise<void> {
    const options = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
    await this.exec('pg_ctl', [
      '-D',
      join(this.dir, 'data'),
      '-o',
      options,
      '-l',
      join(this.dir, 'log'),
      '-w',
      'start',
    ]);
    this.running = true;
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    await this.exec('pg_ctl', ['-D', join(this.dir, 'data'), '-m', 'immediate', '-w', 'stop']);
    this.running = false;
  }

  async close(): Promise<void> {
    await this.stop().catch(() => undefined);
    await rm(this.dir, { recursive: true, force: true });
  }

  private async exec(tool: string, args: string[]): Promise<void> {
    const [cmd, ...rest] = [...this.asUser, join(this.bin, tool), ...args];
    await run(cmd!, rest, { cwd: this.dir });
  }
}
