/**
 * An OpenAI-compatible HTTP server over one Harmonia backend: `GET /v1/models`, `POST /v1/responses`,
 * `GET /v1/responses/{id}`, `POST /v1/chat/completions`. Every model name is served by the backend.
 * Plain `node:http`: no framework between the socket and the agent loop.
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type AgentOptions,
  type Backend,
  type BackendChooser,
  type ConversationStore,
  InMemoryConversationStore,
  type ReasoningEffort,
  type ToolNamespace,
} from '@harmonia/core';
import { parseChatRequest, runChat } from './chat.js';
import { ApiError, serverError } from './errors.js';
import { type AgentSettings, parseResponsesRequest, runResponse, type ServedArm } from './responses.js';
import { ResponseStore } from './store.js';
import { isObject, type JsonObject } from './validate.js';

export interface HarmoniaServerOptions {
  backend: Backend | BackendChooser;
  /** Server-side tool namespaces (built-in browser/python, MCP servers), available to every request. */
  tools?: readonly ToolNamespace[];
  /** Where responses are kept for `previous_response_id`; default in memory. Share one across replicas. */
  store?: ConversationStore;
  /** Require `Authorization: Bearer KEY`. */
  apiKey?: string;
  /** Leave reasoning text out of answers (public deployments). Default false. */
  hideReasoning?: boolean;
  /** Names listed by `GET /v1/models` (any name is accepted). Default `['gpt-oss']`. */
  models?: readonly string[];
  /** Reasoning effort when a request sets none. Default `medium`. */
  effort?: ReasoningEffort;
  /** Model calls per request. Default the agent's (10). */
  maxTurns?: number;
  /** Largest request body in bytes. Default 16 MiB. */
  maxBodyBytes?: number;
  /** Guardrails, monitor and other agent options applied to every request. */
  agent?: Omit<AgentOptions, 'backend' | 'tools' | 'instructions' | 'effort' | 'store'>;
  /**
   * Model names with a backend of their own (a router's arms: `20b`, `120b-high` …). A request naming one (or
   * `gpt-oss-120b` / `gpt-oss-20b`, matched by size) is served by it; `auto` and other names go to `backend`.
   */
  arms?: Readonly<Record<string, ServedArm>>;
}

export interface HarmoniaServer {
  /** The underlying `node:http` server. */
  readonly http: Server;
  /** Starts listening; resolves to the base URL (`http://127.0.0.1:PORT`). */
  listen(port?: number, host?: string): Promise<string>;
  close(): Promise<void>;
  /** Handles one request (for embedding in another server). */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const data = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(data),
  });
  res.end(data);
}

function sendError(res: ServerResponse, err: ApiError): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  sendJson(res, err.status, err.body());
}

async function readJson(req: IncomingMessage, limit: number): Promise<JsonObject> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > limit) {
      throw new ApiError(413, `Request body is larger than ${limit} bytes.`, 'invalid_request_error');
    }
    chunks.push(c as Buffer);
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    throw new ApiError(
      400,
      `We could not parse the JSON body of your request (${(err as Error).message}).`,
      'invalid_request_error',
    );
  }
  if (!isObject(body))
    throw new ApiError(400, 'The request body must be a JSON object.', 'invalid_request_error');
  return body;
}

/** Server-sent events: `event: TYPE` + `data: JSON` (Responses), or bare `data:` lines (Chat Completions). */
function startSse(res: ServerResponse): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  res.flushHeaders();
}

function checkKey(req: IncomingMessage, key: string | undefined): void {
  if (!key) return;
  const auth = req.headers.authorization ?? '';
  const given = Buffer.from(auth.startsWith('Bearer ') ? auth.slice(7) : '');
  const want = Buffer.from(key);
  if (given.length !== want.length || !timingSafeEqual(given, want)) {
    throw new ApiError(401, 'Incorrect API key provided.', 'invalid_request_error', null, 'invalid_api_key');
  }
}

/** An abort signal that fires when the client goes away before the answer is complete. */
function disconnectSignal(res: ServerResponse): AbortSignal {
  const ac = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) ac.abort();
  });
  return ac.signal;
}

export function createHarmoniaServer(options: HarmoniaServerOptions): HarmoniaServer {
  const store = new ResponseStore(options.store ?? new InMemoryConversationStore());
  const settings: AgentSettings = {
    backend: options.backend,
    tools: options.tools ?? [],
    effort: options.effort ?? 'medium',
    hideReasoning: options.hideReasoning ?? false,
    ...(options.maxTurns !== undefined ? { maxTurns: options.maxTurns } : {}),
    ...(options.agent ? { agent: options.agent } : {}),
    ...(options.arms ? { arms: options.arms } : {}),
  };
  const models = options.models?.length
    ? options.models
    : options.arms
      ? ['auto', ...Object.keys(options.arms)]
      : ['gpt-oss'];
  const created = Math.floor(Date.now() / 1000);
  const limit = options.maxBodyBytes ?? 16 * 1024 * 1024;
  const model = (id: string) => ({ id, object: 'model', created, owned_by: 'harmonia' });

  async function responses(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const parsed = await parseResponsesRequest(await readJson(req, limit), store, settings);
    const signal = disconnectSignal(res);
    if (!parsed.stream) {
      const { response, error } = await runResponse(parsed, settings, store, signal, undefined);
      if (error) throw error;
      sendJson(res, 200, response);
      return;
    }
    startSse(res);
    await runResponse(parsed, settings, store, signal, (ev) => {
      if (!res.writableEnded) res.write(`event: ${String(ev.type)}\ndata: ${JSON.stringify(ev)}\n\n`);
    });
    res.end();
  }

  async function chat(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const parsed = parseChatRequest(await readJson(req, limit));
    const signal = disconnectSignal(res);
    if (!parsed.stream) {
      sendJson(res, 200, await runChat(parsed, settings, signal, undefined));
      return;
    }
    startSse(res);
    try {
      await runChat(parsed, settings, signal, (chunk) => {
        if (!res.writableEnded) res.write(`data: ${JSON.stringify(chunk)}\n\n`);
      });
      res.write('data: [DONE]\n\n');
    } catch (err) {
      // Mid-stream failure: an error object the SDKs raise as an APIError.
      if (!res.writableEnded) res.write(`data: ${JSON.stringify(serverError(err).body())}\n\n`);
    }
    res.end();
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const path = url.pathname.replace(/\/+$/, '');
      const route = `${req.method} ${path}`;
      checkKey(req, options.apiKey);
      if (route === 'GET /v1/models') {
        sendJson(res, 200, { object: 'list', data: models.map(model) });
      } else if (req.method === 'GET' && path.startsWith('/v1/models/')) {
        sendJson(res, 200, model(decodeURIComponent(path.slice('/v1/models/'.length))));
      } else if (route === 'POST /v1/responses') {
        await responses(req, res);
      } else if (req.method === 'GET' && path.startsWith('/v1/responses/')) {
        const id = decodeURIComponent(path.slice('/v1/responses/'.length));
        const found = await store.load(id);
        if (!found) {
          throw new ApiError(
            404,
            `Response with id '${id}' not found.`,
            'invalid_request_error',
            'response_id',
            'not_found',
          );
        }
        sendJson(res, 200, found.meta.response);
      } else if (route === 'POST /v1/chat/completions') {
        await chat(req, res);
      } else {
        throw new ApiError(
          404,
          `Unknown request URL: ${req.method} ${path}.`,
          'invalid_request_error',
          null,
          'unknown_url',
        );
      }
    } catch (err) {
      sendError(res, serverError(err));
    }
  }

  const http = createServer((req, res) => void handle(req, res));
  http.keepAliveTimeout = 65_000;
  return {
    http,
    handle,
    listen(port = 8000, host = '127.0.0.1') {
      return new Promise((resolve, reject) => {
        http.once('error', reject);
        http.listen(port, host, () => {
          http.off('error', reject);
          const a = http.address() as AddressInfo;
          resolve(`http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`);
        });
      });
    },
    close() {
      return new Promise((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      });
    },
  };
}
