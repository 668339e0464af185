/**
 * A minimal Redis client (RESP2 over one TCP connection) for tests that need what redis-cli cannot
 * give them: a connection held open across steps (WAIT counts only what that connection wrote; a
 * write held by CLIENT PAUSE stays pending on it) and calls that do not block jest's event loop.
 * Replies come back in order; an error reply is a RedisError value, not a rejection, so a test can
 * assert on it. A closed connection rejects everything still pending. Live tests bound every call
 * (commandWithin, or a probe raced by waitFor) except a write that is meant to be held.
 */
import { connect, type Socket } from 'node:net';

export class RedisError extends Error {}
export type Reply = string | number | null | RedisError | Reply[];

interface Parsed { readonly value: Reply; readonly end: number }

/** One reply starting at `pos`, or undefined while it has not fully arrived. */
function parse(buffer: Buffer, pos: number): Parsed | undefined {
  const eol = buffer.indexOf('\r\n', pos);
  if (eol < 0) return undefined;
  const head = buffer.toString('utf8', pos + 1, eol);
  const next = eol + 2;
  switch (String.fromCharCode(buffer[pos])) {
    case '+': return { value: head, end: next };
    case '-': return { value: new RedisError(head), end: next };
    case ':': return { value: Number(head), end: next };
    case '$': {
      const length = Number(head);
      if (length < 0) return { value: null, end: next };
      if (buffer.length < next + length + 2) return undefined;
      return { value: buffer.toString('utf8', next, next + length), end: next + length + 2 };
    }
    case '*': {
      const count = Number(head);
      if (count < 0) return { value: null, end: next };
      const items: Reply[] = [];
      let at = next;
      for (let i = 0; i < count; i++) {
        const item = parse(buffer, at);
        if (!item) return undefined;
        items.push(item.value);
        at = item.end;
      }
      return { value: items, end: at };
    }
    default: throw new Error(`not a RESP reply: ${JSON.stringify(buffer.toString('utf8', pos, eol))}`);
  }
}

export class RedisConnection {
  private buffer: Buffer = Buffer.alloc(0);
  private readonly pending: { resolve(reply: Reply): void; reject(error: Error): void }[] = [];
  private closed: Error | undefined;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
      for (;;) {
        if (this.pending.length === 0) return;
        const reply = parse(this.buffer, 0);
        if (!reply) return;
        this.buffer = this.buffer.subarray(reply.end);
        this.pending.shift()!.resolve(reply.value);
      }
    });
    socket.on('error', (error) => this.fail(error));
    socket.on('close', () => this.fail(new Error('connection closed')));
  }

  /** Connects to 127.0.0.1:<port> and authenticates when given a password; bounded by `timeoutMs`. */
  static async open(port: number, password?: string, timeoutMs = 3_000): Promise<RedisConnection> {
    const socket = connect({ host: '127.0.0.1', port });
    const connection = new RedisConnection(socket);
    const timer = setTimeout(() => socket.destroy(new Error(`no connection to port ${port} within ${timeoutMs} ms`)), timeoutMs);
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('error', reject);
        socket.once('close', () => reject(new Error(`connection to port ${port} closed`)));
      });
      if (password !== undefined) {
        const reply = await connection.command('AUTH', password);
        if (reply !== 'OK') throw new Error(`AUTH on port ${port}: ${String(reply)}`);
      }
      return connection;
    } catch (error) {
      socket.destroy();
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Sends one command; resolves with its reply (an error reply included) in the order sent. Waits as
   * long as the server does: for a write held by CLIENT PAUSE, that is the point.
   */
  command(...args: (string | number)[]): Promise<Reply> {
    if (this.closed) return Promise.reject(this.closed);
    const parts = args.map(String);
    const encoded = `*${parts.length}\r\n${parts.map((p) => `$${Buffer.byteLength(p)}\r\n${p}\r\n`).join('')}`;
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.socket.write(encoded);
    });
  }

  /**
   * command(), bounded: when no reply has come within `timeoutMs`, the connection is closed (any later
   * reply would be out of step) and this and every other pending command reject.
   */
  async commandWithin(timeoutMs: number, ...args: (string | number)[]): Promise<Reply> {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new Error(`no reply to ${String(args[0])} within ${timeoutMs} ms`);
        this.socket.destroy(error);
        reject(error);
      }, timeoutMs);
    });
    try {
      return await Promise.race([this.command(...args), expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    this.socket.destroy();
  }

  private fail(error: Error): void {
    this.closed ??= error;
    for (const p of this.pending.splice(0)) p.reject(this.closed);
  }
}
