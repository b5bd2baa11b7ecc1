// Who is asking, over which scheme, for which host: from the socket, or from the proxy in front when BOARD_TRUST_PROXY
// says one is there. Forwarded headers from anyone else are ignored: a client that could set them would choose its own
// address (escaping the login throttle) or its own origin (passing the same-origin check).
import { isIP } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Request } from 'express';
import type { ProxyTrust } from './config.js';

export interface RequestInfo {
  /** The client's address: the socket's, or the one the trusted proxy reports. */
  ip: string;
  protocol: 'http' | 'https';
  /** The Host the client asked for (host[:port], lower case), or undefined when it sent none. */
  host: string | undefined;
}

const first = (header: string | undefined): string | undefined => header?.split(',')[0]?.trim() || undefined;

function socketAddress(req: Request): string {
  const address = req.socket.remoteAddress ?? 'unknown';
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

export function requestInfo(req: Request, trust: ProxyTrust): RequestInfo {
  const socket = socketAddress(req);
  const direct: RequestInfo = {
    ip: socket,
    protocol: (req.socket as TLSSocket).encrypted ? 'https' : 'http',
    host: req.get('host')?.toLowerCase(),
  };
  if (trust.mode === 'none') return direct;
  const proto = first(req.get('x-forwarded-proto'))?.toLowerCase();
  const forwarded = {
    protocol: proto === 'https' || proto === 'http' ? proto : direct.protocol,
    host: first(req.get('x-forwarded-host'))?.toLowerCase() ?? direct.host,
  };
  if (trust.mode === 'x-real-ip') {
    const real = req.get('x-real-ip')?.trim();
    return { ...forwarded, ip: real && isIP(real) ? real : socket };
  }
  // N proxies each append the address they saw: the client is N entries from the right (the socket being the last).
  const chain = (req.get('x-forwarded-for') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const hops = [socket, ...chain.reverse()];
  const ip = hops[Math.min(trust.hops, hops.length - 1)]!;
  return { ...forwarded, ip: isIP(ip) ? ip : socket };
}
