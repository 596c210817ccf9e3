import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What a fake endpoint answers. */
export type FakeReply =
  | { status: number; json: unknown }
  | { sse: unknown[]; named?: boolean; done?: boolean; hang?: boolean }
  | { ndjson: unknown[]; hang?: boolean };

export interface RecordedRequest {
  method: string;
  path: string;
  body: Record<string, unknown>;
}

export type FakeHandler = (req: RecordedRequest) => FakeReply | Promise<FakeReply>;

/** A local HTTP server on 127.0.0.1 that records requests and replays a wire format. */
export class FakeServer {
  readonly requests: RecordedRequest[] = [];
  private server: Server | undefined;
  url = '';

  constructor(private readonly handler: FakeHandler) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const rec: RecordedRequest = {
      method: req.method ?? 'GET',
      path: (req.url ?? '/').split('?')[0]!,
      body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    };
    this.requests.push(rec);
    let reply: FakeReply;
    try {
      reply = await this.handler(rec);
    } catch (err) {
      reply = { status: 500, json: { error: { message: (err as Error).message } } };
    }
    if ('json' in reply) {
      res.writeHead(reply.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(reply.json));
    } else if ('sse' in reply) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      for (const ev of reply.sse) {
        const type = (ev as { type?: string }).type;
        if (reply.named && type) res.write(`event: ${type}\n`);
        res.write(`data: ${JSON.stringify(ev)}\n\n`);
      }
      if (reply.hang) return; // a model that stalls mid-answer: the connection stays open
      if (reply.done !== false) res.write('data: [DONE]\n\n');
      res.end();
    } else {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      for (const line of reply.ndjson) res.write(`${JSON.stringify(line)}\n`);
      if (reply.hang) return;
      res.end();
    }
  }
}
