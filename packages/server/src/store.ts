import type { ConversationStore, Message } from '@harmonia/core';

/** What the server keeps about one stored response besides its Harmony history. */
export interface StoredResponseMeta {
  id: string;
  /** The response object as returned (for `GET /v1/responses/{id}`). */
  response: Record<string, unknown>;
  /** Function calls the client must answer: call id → recipient (`functions.name`) and channel. */
  calls: Record<string, { recipient: string; channel: string }>;
  /** Tool session (python kernel, browser context) shared by the whole `previous_response_id` chain. */
  session: string;
}

export interface StoredResponse {
  meta: StoredResponseMeta;
  /** The whole conversation up to and including this response, reasoning included (never shown to clients). */
  messages: Message[];
}

/** The first message of a stored response's record: its metadata as JSON (never rendered to the model). */
const META_NAME = 'harmonia.response';

/**
 * Responses kept in a `ConversationStore`: one record per response (id = response id) holding a metadata
 * message, then the full Harmony history. A shared store (a database) makes `previous_response_id` work across
 * replicas; each response is written once, in one append, so concurrent continuations never interleave.
 */
export class ResponseStore {
  constructor(readonly conversations: ConversationStore) {}

  async save(meta: StoredResponseMeta, messages: readonly Message[]): Promise<void> {
    const head: Message = {
      role: 'system',
      name: META_NAME,
      content: [{ type: 'text', text: JSON.stringify(meta) }],
    };
    await this.conversations.append(meta.id, [head, ...messages]);
  }

  async load(id: string): Promise<StoredResponse | null> {
    const rec = await this.conversations.load(id);
    const head = rec?.messages[0];
    if (!rec || !head || head.name !== META_NAME) return null;
    const text = head.content[0]?.type === 'text' ? head.content[0].text : '';
    try {
      return { meta: JSON.parse(text) as StoredResponseMeta, messages: rec.messages.slice(1) };
    } catch {
      return null;
    }
  }
}
