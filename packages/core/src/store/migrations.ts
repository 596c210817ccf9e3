/**
 * The store's schema, one SQL dialect (PostgreSQL) for the embedded store (PGlite) and a PostgreSQL server.
 * Migrations are append-only: never edit a shipped one, add the next version.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'conversations, messages, tickets, usage, leases, claims',
    sql: `
CREATE TABLE conversations (
  id            text PRIMARY KEY,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  message_count integer NOT NULL DEFAULT 0
);
CREATE TABLE messages (
  conversation_id text NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  seq             integer NOT NULL,
  role            text NOT NULL,
  channel         text,
  recipient       text,
  body            jsonb NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (conversation_id, seq)
);
CREATE TABLE tickets (
  conversation_id    text PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,
  state              text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'waiting', 'escalated', 'closed')),
  replies            integer NOT NULL DEFAULT 0,
  close_reason       text,
  closed_at          timestamptz,
  escalation_summary text,
  escalated_by       text,
  escalated_at       timestamptz
);
CREATE TABLE ticket_notes (
  id              bigserial PRIMARY KEY,
  conversation_id text NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  author          text NOT NULL,
  body            text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ticket_notes_conversation ON ticket_notes (conversation_id);
CREATE TABLE tool_usage (
  id              bigserial PRIMARY KEY,
  conversation_id text NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  seq             integer NOT NULL,
  tool            text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tool_usage_conversation ON tool_usage (conversation_id);
CREATE TABLE token_usage (
  id                   bigserial PRIMARY KEY,
  conversation_id      text NOT NULL,
  turn_id              text NOT NULL,
  backend              text NOT NULL,
  effort               text NOT NULL,
  prompt_tokens        integer NOT NULL,
  completion_tokens    integer NOT NULL,
  cached_prompt_tokens integer NOT NULL,
  model_calls          integer NOT NULL,
  created_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX token_usage_conversation ON token_usage (conversation_id);
CREATE TABLE conversation_leases (
  conversation_id text PRIMARY KEY,
  owner           text NOT NULL,
  expires_at      timestamptz NOT NULL
);
CREATE TABLE message_claims (
  key        text PRIMARY KEY,
  claimed_at timestamptz NOT NULL DEFAULT now()
);
`,
  },
  {
    version: 2,
    name: 'conversation generations (resets)',
    sql: `
CREATE TABLE conversation_generations (
  id         text PRIMARY KEY,
  generation integer NOT NULL
);
`,
  },
];
