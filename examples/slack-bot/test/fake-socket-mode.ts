/**
 * A fake of Slack's Socket Mode side, written from @slack/socket-mode 3.1.0's client
 * (dist/src/SocketModeClient.js): `retrieveWSSURL()` calls the Web API method `apps.connections.open` with the
 * app-level token and connects to the `url` it returns; `onWebSocketMessage()` waits for `{"type":"hello"}` before
 * `start()` resolves, emits `events_api` envelopes by `payload.event.type`, and `ack()` sends back
 * `{"envelope_id", "payload"}` (`send()`). The envelope fields are the ones that function reads:
 * `envelope_id`, `type`, `payload`, `accepts_response_payload`, `retry_attempt`, `retry_reason`.
 * The client pings every 5 s and expects pongs; `ws` answers pings by itself.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';

export interface FakeSocketMode {
  /** The URL `apps.connections.open` returns. */
  url: string;
  /** App-level tokens the Web API fake saw on `apps.connections.open`, for the test to check. */
  connected(): number;
  /** Sends an Events API envelope to every connected client; resolves when it is acknowledged. */
  sendEvent(event: Record<string, unknown>): Promise<void>;
  acks: string[];
  close(): Promise<void>;
}

export async function startFakeSocketMode(): Promise<FakeSocketMode> {
  const server: Server = createServer();
  const wss = new WebSocketServer({ server });
  const sockets = new Set<WebSocket>();
  const acks: string[] = [];
  const waiting = new Map<string, () => void>();
  let n = 0;
  wss.on('connection', (ws) => {
    sockets.add(ws);
    ws.on('close', () => sockets.delete(ws));
    ws.on('message', (data) => {
      const msg = JSON.parse(data.toString()) as { envelope_id?: string };
      if (msg.envelope_id) {
        acks.push(msg.envelope_id);
        waiting.get(msg.envelope_id)?.();
      }
    });
    ws.send(
      JSON.stringify({
        type: 'hello',
        num_connections: sockets.size,
        debug_info: { host: 'fake-socket-mode', approximate_connection_time: 18060 },
        connection_info: { app_id: 'A1' },
      }),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `ws://127.0.0.1:${port}/link/?ticket=fake`,
    connected: () => sockets.size,
    acks,
    sendEvent(event) {
      const envelope_id = `env-${++n}`;
      const acked = new Promise<void>((resolve) => waiting.set(envelope_id, resolve));
      const envelope = {
        envelope_id,
        type: 'events_api',
        accepts_response_payload: false,
        retry_attempt: 0,
        retry_reason: '',
        payload: {
          token: 'verification-token',
          team_id: 'T1',
          api_app_id: 'A1',
          type: 'event_callback',
          event_id: `Ev${n}`,
          event_time: Math.floor(Date.now() / 1000),
          event,
        },
      };
      for (const ws of sockets) ws.send(JSON.stringify(envelope));
      return acked;
    },
    close: async () => {
      for (const ws of sockets) ws.terminate();
      wss.close();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
