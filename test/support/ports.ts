/**
 * Listening ports for servers a test starts. Ports from `listen(0)` come from the kernel's
 * ephemeral range, where every outgoing connection on the machine also takes its local port: one
 * released by the check can be taken by a connection before the server binds it. These come from
 * outside that range and are checked free by binding them. A process listening on purpose can
 * still take one between the check and the server's start, so a test retries with new ports when
 * a server reports the address in use (see `ADDRESS_IN_USE`).
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** What redis-server, redis-sentinel and most servers log when their port is taken. */
export const ADDRESS_IN_USE = /Address already in use|EADDRINUSE/;

/** The kernel's ephemeral port range (Linux's default when it cannot be read). */
export function ephemeralPortRange(): [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(low) && Number.isInteger(high) && low <= high) return [low, high];
  } catch {
    // Not Linux, or /proc not mounted.
  }
  return [32768, 60999];
}

/** Whether `port` can be bound on `host` right now. */
function bindable(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * `count` distinct ports, free on `host` when checked, outside the ephemeral range and above the
 * well-known and commonly registered ones (below 10000), picked at random so that concurrent test
 * files rarely try the same ones.
 */
export async function listenPorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const [low, high] = ephemeralPortRange();
  const ranges = ([[10000, low - 1], [high + 1, 65535]] as const).filter(([a, b]) => b >= a);
  const size = ranges.reduce((n, [a, b]) => n + b - a + 1, 0);
  if (size < count * 4) throw new Error(`only ${size} ports lie outside the ephemeral range ${low}-${high}`);
  const nth = (i: number): number => {
    for (const [a, b] of ranges) {
      if (i <= b - a) return a + i;
      i -= b - a + 1;
    }
    throw new Error('unreachable');
  };
  const ports: number[] = [];
  for (let tries = 0; ports.length < count; tries++) {
    if (tries >= count * 50) throw new Error(`found only ${ports.length} of ${count} free ports outside ${low}-${high}`);
    const port = nth(Math.floor(Math.random() * size));
    if (!ports.includes(port) && await bindable(port, host)) ports.push(port);
  }
  return ports;
}
