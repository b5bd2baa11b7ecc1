// A Redis server of the test's own, for fault tests that must never touch the shared one on 6379: stop it (an
// outage), restart it (with its data when `persistent`), or fill it past `maxmemory` (writes refused with OOM).
// It runs as a child of the test process on a free port with its own directory, and is killed and removed by
// close() (call it in an after hook).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

export interface PrivateRedisOptions {
  /** e.g. '2mb': with noeviction, writes are refused once used memory passes it. Default: no limit. */
  maxmemory?: string;
  /** Keep the data across stop/restart (AOF, fsync on every write), as a production Redis does. Default false. */
  persistent?: boolean;
}

/** A TCP port nothing listens on right now (the OS picks it; closed again before returning). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export class PrivateRedis {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private admin: Redis | undefined;
  private fillers = 0;

  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly options: PrivateRedisOptions,
  ) {}

  static async start(options: PrivateRedisOptions = {}): Promise<PrivateRedis> {
    const dir = await mkdtemp(join(tmpdir(), 'bill-fleet-redis-'));
    const server = new PrivateRedis(await freePort(), dir, options);
    await server.restart();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** Starts the server (again, on the same port and directory); resolves once it accepts connections. */
  async restart(): Promise<void> {
    if (this.child) throw new Error('private Redis is already running');
    const args = [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--dir',
      this.dir,
      '--save',
      '',
      '--appendonly',
      this.options.persistent ? 'yes' : 'no',
      '--appendfsync',
      'always',
      '--maxmemory-policy',
      'noeviction',
      '--maxmemory',
      this.options.maxmemory ?? '0',
      '--logfile',
      '',
    ];
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('close', () => resolve()));
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) {
          child.stdout!.off('data', onData);
          resolve();
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.once('close', (code) => reject(new Error(`redis-server exited (${code}) before it was ready:\n${output}`)));
      child.once('error', reject);
    });
    child.stdout!.resume(); // keep draining its log so it never blocks on a full pipe
  }

  /** An outage: SIGKILL (no chance to save; a persistent server keeps what its AOF has). Resolves once it is gone. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.admin?.disconnect();
    this.admin = undefined;
    child.kill('SIGKILL');
    await this.exited;
    this.child = undefined;
  }

  /** A connection for the test's own commands (closed by stop/close). */
  client(): Redis {
    this.admin ??= new Redis(this.url, { maxRetriesPerRequest: 1, lazyConnect: false });
    this.admin.on('error', () => undefined);
    return this.admin;
  }

  /**
   * Writes filler keys until Redis refuses even a tiny write with OOM (needs `maxmemory`), and stays so. Large values
   * first, then small ones: a large command's own query buffer counts as used memory while it is read, so the first
   * refusal of a large write can leave Redis just under the limit once that buffer is freed. Returns the refusal.
   */
  async fillMemory(): Promise<string> {
    if (!this.options.maxmemory) throw new Error('fillMemory needs a maxmemory');
    const redis = this.client();
    const oom = (err: unknown) => /OOM/.test((err as Error).message);
    for (const size of [64 * 1024, 1024, 16]) {
      const value = 'x'.repeat(size);
      for (let i = 0; i < 100_000; i += 1) {
        try {
          await redis.set(`filler:${this.fillers++}`, value);
        } catch (err) {
          if (!oom(err)) throw err;
          if (size > 16) break;
          try {
            await redis.set('filler:probe', '1'); // Redis freed some buffer meanwhile: keep filling
          } catch (probe) {
            if (oom(probe)) return (probe as Error).message;
            throw probe;
          }
        }
      }
    }
    throw new Error('Redis still takes writes: is maxmemory set?');
  }

  /** Removes the filler keys: writes are accepted again. */
  async freeMemory(): Promise<void> {
    const redis = this.client();
    const keys = Array.from({ length: this.fillers }, (_, i) => `filler:${i}`);
    for (let i = 0; i < keys.length; i += 1000) await redis.del(...keys.slice(i, i + 1000));
    this.fillers = 0;
  }

  async close(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}
