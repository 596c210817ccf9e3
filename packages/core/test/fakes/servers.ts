/**
 * Whole-server fakes: each one answers the routes its server registers (read from that server's source, cited
 * per fake), so a plain URL to it is probed as it would be in the wild, and its model endpoints replay the wire
 * formats in `wire.ts` from one script of turns.
 */
import { decode, encode } from '../../src/harmony/api.js';
import type { FakeHandler, FakeReply, RecordedRequest } from './server.js';
import {
  CHAT_FLAVORS,
  type ChatFlavor,
  chatCompletions,
  type FakeTurn,
  harmonyCompletion,
  ollamaChat,
  ollamaGenerate,
  pieces,
  responsesApi,
  scripted,
  TurnQueue,
  vllmCompletions,
} from './wire.js';

const NOT_FOUND: FakeReply = {
  status: 404,
  json: { error: { code: 404, message: 'File Not Found', type: 'not_found_error' } },
};

/** Routes GETs from a table and POSTs to model handlers; anything else is 404 as the server's router answers. */
function router(get: Record<string, unknown>, post: Record<string, FakeHandler>): FakeHandler {
  return (req) => {
    if (req.method === 'GET' && req.path in get) return { status: 200, json: get[req.path] };
    if (req.method === 'POST' && req.path in post) return post[req.path]!(req);
    return NOT_FOUND;
  };
}

export interface ServerFake {
  name: string;
  handler: FakeHandler;
}

// ---------------------------------------------------------------- llama.cpp

/**
 * llama-server, from ggml-org/llama.cpp tools/server:
 *  - server.cpp route table: GET /health, /props, /models, /v1/models and /api/tags (all three `routes.get_models`:
 *    one body with an Ollama-style `models` list and an OpenAI-style `data` list), POST /completion(s),
 *    /v1/completions, /chat/completions, /v1/chat/completions, /api/chat (OpenAI chat format), /v1/responses.
 *    There is no /api/generate and no /api/version.
 *  - server-task.cpp `to_json_non_oaicompat` (native /completion): `content`, `tokens` (with `return_tokens`),
 *    `stop`, `stop_type` (eos/limit/word), `tokens_predicted`, `tokens_evaluated`. The end-of-generation token
 *    that stopped it (`<|return|>`/`<|call|>` are EOG for gpt-oss) is in neither `content` nor `tokens`.
 *  - `to_json_oaicompat` (/v1/completions): `text` only; special tokens are rendered only with `--special`
 *    (`accept_special_token`), so Harmony markup is lost there.
 *  - common/chat.cpp `common_chat_msgs_parse_oaicompat`: past reasoning is read only from `reasoning_content`;
 *    answers carry `reasoning_content`.
 *  - server-common.cpp `convert_responses_to_chatcmpl`: assistant `message` items must have `output_text` parts
 *    (a string becomes `input_text` and is rejected: "'type' must be 'output_text'"); a `reasoning` item needs
 *    `content[0].text` and is merged into the next function call as `reasoning_content`.
 */
export function llamaCppServer(script: readonly FakeTurn[], model = 'gpt-oss-20b-mxfp4.gguf'): ServerFake {
  const turns = new TurnQueue(script);
  const models = {
    models: [
      {
        name: model,
        model,
        modified_at: '',
        size: '',
        digest: '',
        type: 'model',
        capabilities: ['completion'],
      },
    ],
    object: 'list',
    data: [{ id: model, object: 'model', created: 0, owned_by: 'llamacpp', meta: { n_ctx_train: 131072 } }],
  };
  const chatFlavor = CHAT_FLAVORS.llamacpp;
  const chatPaths = ['/v1/chat/completions', '/chat/completions', '/api/chat'];
  const chat = chatCompletions(chatFlavor, turns, chatPaths);
  const completion = scripted(
    turns,
    (t, req) => {
      const ids = encode(harmonyCompletion(t).text, { allowSpecial: true });
      const prompt = req.body.prompt as number[];
      const stopType = t.finish === 'length' ? 'limit' : 'eos';
      const final = {
        index: 0,
        content: req.body.stream ? '' : plainText(ids),
        tokens: req.body.stream ? [] : req.body.return_tokens ? ids : [],
        id_slot: 0,
        stop: true,
        model,
        tokens_predicted: ids.length + 1,
        tokens_evaluated: prompt.length,
        stop_type: stopType,
        stopping_word: '',
        tokens_cached: 0,
      };
      if (!req.body.stream) return { status: 200, json: final };
      const parts: unknown[] = [];
      for (let i = 0; i < ids.length; i += 2) {
        const chunk = ids.slice(i, i + 2);
        parts.push({
          index: 0,
          content: plainText(chunk),
          tokens: req.body.return_tokens ? chunk : [],
          stop: false,
          id_slot: 0,
        });
      }
      return { sse: [...parts, final], done: false };
    },
    ['/completion', '/completions'],
  );
  const oaiCompletions = scripted(
    turns,
    (t, req) => {
      // Without --special the Harmony markup is not rendered into text.
      const text = plainText(encode(harmonyCompletion(t).text, { allowSpecial: true }));
      return {
        status: 200,
        json: {
          choices: [
            { text, index: 0, logprobs: null, finish_reason: t.finish === 'length' ? 'length' : 'stop' },
          ],
          object: 'text_completion',
          model: req.body.model,
          usage: { completion_tokens: 10, prompt_tokens: 10, total_tokens: 20 },
        },
      };
    },
    ['/v1/completions'],
  );
  const responses = (req: RecordedRequest): FakeReply | Promise<FakeReply> => {
    for (const item of (req.body.input as Record<string, unknown>[]) ?? []) {
      if (item.role === 'assistant' && item.type === 'message') {
        const parts = Array.isArray(item.content)
          ? (item.content as { type?: string }[])
          : [{ type: 'input_text' }];
        if (parts.some((p) => p.type !== 'output_text'))
          return {
            status: 400,
            json: {
              error: { code: 400, message: "'type' must be 'output_text'", type: 'invalid_request_error' },
            },
          };
      }
      if (item.type === 'reasoning' && !(Array.isArray(item.content) && item.content.length))
        return {
          status: 400,
          json: {
            error: { code: 400, message: "item['content'] is not an array", type: 'invalid_request_error' },
          },
        };
    }
    return responsesApi(turns, ['/v1/responses'])(req);
  };
  const post: Record<string, FakeHandler> = {
    '/completion': completion,
    '/completions': completion,
    '/v1/completions': oaiCompletions,
    '/v1/responses': responses,
  };
  for (const p of chatPaths) post[p] = chat;
  return {
    name: 'llama.cpp',
    handler: router(
      {
        '/health': { status: 'ok' },
        '/props': {
          default_generation_settings: { n_ctx: 131072, params: { n_predict: -1 } },
          total_slots: 1,
          model_path: `/models/${model}`,
          chat_template: '{# gpt-oss template #}',
          modalities: { vision: false, audio: false },
          build_info: 'b6500-0123abcd',
        },
        '/models': models,
        '/v1/models': models,
        '/api/tags': models,
      },
      post,
    ),
  };
}

/** Text as llama-server renders it without `--special`: Harmony's special tokens are dropped. */
const plainText = (ids: number[]): string => decode(ids).replace(/<\|[a-z_]+\|>/g, '');

// ---------------------------------------------------------------- vLLM

/**
 * vLLM's OpenAI server, from vllm-project/vllm vllm/entrypoints/openai/api_server.py: GET /health, /version
 * (`show_version`: `{"version": ...}`), /v1/models (`show_available_models`), POST /v1/completions
 * (serving_completion.py: `return_token_ids` → `token_ids`, the stop id in `stop_reason`), /v1/chat/completions
 * (serving_chat.py; reasoning in `reasoning`; `parse_chat_input_to_harmony_message` reads `reasoning` back),
 * /v1/responses. No /props, no /api/*.
 */
export function vllmServer(script: readonly FakeTurn[], model = 'openai/gpt-oss-20b'): ServerFake {
  const turns = new TurnQueue(script);
  return {
    name: 'vLLM',
    handler: router(
      {
        '/health': {},
        '/version': { version: '0.11.0' },
        '/v1/models': {
          object: 'list',
          data: [
            { id: model, object: 'model', created: 0, owned_by: 'vllm', root: model, max_model_len: 131072 },
          ],
        },
      },
      {
        '/v1/completions': vllmCompletions(turns),
        '/v1/chat/completions': chatCompletions(CHAT_FLAVORS.vllm, turns),
        '/v1/responses': responsesApi(turns),
      },
    ),
  };
}

// ---------------------------------------------------------------- Ollama

/**
 * Ollama, from ollama/ollama server/routes.go `GenerateRoutes`: GET /api/version, /api/tags (`ListHandler`),
 * POST /api/show, /api/generate (`GenerateHandler`, raw mode), /api/chat (`ChatHandler`), and through
 * middleware/openai.go GET /v1/models, POST /v1/chat/completions (openai/openai.go: `reasoning` ↔ `thinking`).
 * With no `num_ctx` the context is `defaultNumCtx` (4096 under 23 GiB of VRAM) and a longer prompt is cut from the
 * front without an error; the fake records the context each request ran with in `contexts`.
 */
export function ollamaServer(
  script: readonly FakeTurn[],
  model = 'gpt-oss:20b',
): ServerFake & { contexts: { numCtx: number; promptTokens: number; truncated: boolean }[] } {
  const turns = new TurnQueue(script);
  const contexts: { numCtx: number; promptTokens: number; truncated: boolean }[] = [];
  const generate = ollamaGenerate(turns);
  const chat = ollamaChat(turns);
  const withCtx =
    (h: FakeHandler): FakeHandler =>
    (req) => {
      const opts = (req.body.options ?? {}) as { num_ctx?: number };
      const numCtx = opts.num_ctx ?? 4096;
      const text =
        typeof req.body.prompt === 'string' ? req.body.prompt : JSON.stringify(req.body.messages ?? '');
      const promptTokens = encode(text, { allowSpecial: true }).length;
      contexts.push({ numCtx, promptTokens, truncated: promptTokens > numCtx });
      return h(req);
    };
  const tags = {
    models: [
      {
        name: model,
        model,
        modified_at: '2026-01-01T00:00:00Z',
        size: 13780173839,
        digest: 'aa4295ac10c3',
        details: { format: 'gguf', family: 'gptoss', parameter_size: '20.9B', quantization_level: 'MXFP4' },
      },
    ],
  };
  return {
    name: 'Ollama',
    contexts,
    handler: router(
      {
        '/api/version': { version: '0.12.3' },
        '/api/tags': tags,
        '/api/ps': { models: [] },
        '/v1/models': {
          object: 'list',
          data: [{ id: model, object: 'model', created: 0, owned_by: 'library' }],
        },
      },
      {
        '/api/show': () => ({
          status: 200,
          json: { capabilities: ['completion', 'tools', 'thinking'], details: tags.models[0]!.details },
        }),
        '/api/generate': withCtx(generate),
        '/api/chat': withCtx(chat),
        '/v1/chat/completions': chatCompletions(CHAT_FLAVORS.ollama, turns),
      },
    ),
  };
}

// ---------------------------------------------------------------- LM Studio

/**
 * LM Studio. Closed source: written from its public SDK (lmstudio-ai/lmstudio-js) and its REST/OpenAI-compatibility
 * docs, not from server code. GET /api/v0/models (native REST, `type: 'llm'`, `state`), /v1/models,
 * POST /v1/chat/completions (reasoning separated into `reasoning_content`), /v1/responses.
 */
export function lmStudioServer(script: readonly FakeTurn[], model = 'openai/gpt-oss-20b'): ServerFake {
  const turns = new TurnQueue(script);
  return {
    name: 'LM Studio',
    handler: router(
      {
        '/api/v0/models': {
          object: 'list',
          data: [
            {
              id: model,
              object: 'model',
              type: 'llm',
              publisher: 'openai',
              arch: 'gpt-oss',
              compatibility_type: 'gguf',
              quantization: 'MXFP4',
              state: 'loaded',
              max_context_length: 131072,
            },
            {
              id: 'text-embedding-nomic-embed-text-v1.5',
              object: 'model',
              type: 'embeddings',
              state: 'not-loaded',
            },
          ],
        },
        '/v1/models': {
          object: 'list',
          data: [{ id: model, object: 'model', owned_by: 'organization_owner' }],
        },
      },
      {
        '/v1/chat/completions': chatCompletions(CHAT_FLAVORS.lmstudio, turns),
        '/v1/responses': responsesApi(turns),
      },
    ),
  };
}

// ---------------------------------------------------------------- hosted APIs

/**
 * OpenRouter (hosted, closed source; its API reference): POST /api/v1/chat/completions with `reasoning` and
 * `reasoning_details` on answers; a tool-call turn's `reasoning_details` must come back unchanged. The fake
 * answers HTTP 400 when a tool-call turn comes back without them, as a provider that needs them would.
 */
export function openRouterServer(script: readonly FakeTurn[], model = 'openai/gpt-oss-120b'): ServerFake {
  const turns = new TurnQueue(script);
  const chat = chatCompletions(CHAT_FLAVORS.openrouter, turns, ['/api/v1/chat/completions']);
  return {
    name: 'OpenRouter',
    handler: router(
      { '/api/v1/models': { data: [{ id: model, name: 'OpenAI: gpt-oss-120b' }] } },
      {
        '/api/v1/chat/completions': (req) => {
          const msgs = (req.body.messages ?? []) as Record<string, unknown>[];
          const bad = msgs.find((m) => m.role === 'assistant' && m.tool_calls && !m.reasoning_details);
          if (bad)
            return {
              status: 400,
              json: { error: { code: 400, message: 'reasoning_details missing on a tool-call turn' } },
            };
          return chat(req);
        },
      },
    ),
  };
}

/** Groq (hosted; its API reference and the error it returns): rejects `reasoning` in history with HTTP 400. */
export function groqServer(script: readonly FakeTurn[], model = 'openai/gpt-oss-20b'): ServerFake {
  const turns = new TurnQueue(script);
  return {
    name: 'Groq',
    handler: router(
      { '/openai/v1/models': { object: 'list', data: [{ id: model, object: 'model', owned_by: 'OpenAI' }] } },
      {
        '/openai/v1/chat/completions': chatCompletions(CHAT_FLAVORS.groq, turns, [
          '/openai/v1/chat/completions',
        ]),
      },
    ),
  };
}

/** The OpenAI API's Chat Completions and Responses wire formats (the `openai` SDK's types). */
export function openAiServer(script: readonly FakeTurn[], model = 'gpt-oss-120b'): ServerFake {
  const turns = new TurnQueue(script);
  const flavor: ChatFlavor = { name: 'openai', reasoningField: 'reasoning' };
  return {
    name: 'OpenAI',
    handler: router(
      { '/v1/models': { object: 'list', data: [{ id: model, object: 'model', owned_by: 'openai' }] } },
      { '/v1/chat/completions': chatCompletions(flavor, turns), '/v1/responses': responsesApi(turns) },
    ),
  };
}

export { pieces };
