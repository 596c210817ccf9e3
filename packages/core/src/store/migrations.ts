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
  {
    // json keeps the text as written: stored and cached messages read back identically, nothing is re-encoded
    // on the way in or out, and \u0000 in a message (tool output) is accepted, which jsonb refuses.
    // harmonia_append is the whole append in one call (one round trip, one statement, atomic on its own), and
    // harmonia_load a conversation in one call; PL/pgSQL keeps their plans per connection (planning was about
    // half of each one's cost).
    // The conversation upsert reserves the sequence numbers and holds the row lock to the commit, so concurrent
    // appends to one conversation get consecutive, non-overlapping numbers. Reply count and state move together
    // (as stateAfter in the store): an answer at the end waits for the user, a user message reopens; escalated
    // and closed tickets keep their state. Returns the ticket row as it now is.
    version: 3,
    name: 'message bodies as json; harmonia_append, harmonia_load',
    sql: `
ALTER TABLE messages ALTER COLUMN body TYPE json USING body::json;
CREATE FUNCTION harmonia_append(
  p_id text, p_count integer, p_bodies json, p_roles text[], p_channels text[], p_recipients text[],
  p_tools text[], p_replies integer, p_state text, p_answered boolean, p_asked boolean)
RETURNS TABLE (start integer, created_at timestamptz, updated_at timestamptz, state text, replies integer,
  close_reason text, closed_at timestamptz, escalation_summary text, escalated_by text,
  escalated_at timestamptz, has_notes boolean)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  WITH c AS (
    INSERT INTO conversations AS v (id, message_count) VALUES (p_id, p_count)
    ON CONFLICT (id) DO UPDATE SET message_count = v.message_count + p_count, updated_at = now()
    RETURNING v.message_count - p_count AS start, v.created_at, v.updated_at
  ), m AS (
    INSERT INTO messages (conversation_id, seq, role, channel, recipient, body)
    SELECT p_id, c.start + e.ord - 1, p_roles[e.ord], p_channels[e.ord], p_recipients[e.ord], e.body
      FROM c, json_array_elements(p_bodies) WITH ORDINALITY AS e(body, ord)
  ), u AS (
    INSERT INTO tool_usage (conversation_id, seq, tool)
    SELECT p_id, c.start + p_count, tool FROM c, unnest(p_tools) AS tool
  ), t AS (
    INSERT INTO tickets AS k (conversation_id, replies, state) VALUES (p_id, p_replies, p_state)
    ON CONFLICT (conversation_id) DO UPDATE SET replies = k.replies + p_replies,
      state = CASE WHEN k.state IN ('closed', 'escalated') THEN k.state
                   WHEN p_answered THEN 'waiting' WHEN p_asked THEN 'open' ELSE k.state END
    RETURNING k.state, k.replies, k.close_reason, k.closed_at, k.escalation_summary, k.escalated_by,
              k.escalated_at
  )
  SELECT c.start, c.created_at, c.updated_at, t.state, t.replies, t.close_reason, t.closed_at,
         t.escalation_summary, t.escalated_by, t.escalated_at,
         EXISTS (SELECT 1 FROM ticket_notes n WHERE n.conversation_id = p_id)
    FROM c, t;
END
$$;
CREATE FUNCTION harmonia_load(p_id text)
RETURNS TABLE (created_at timestamptz, updated_at timestamptz, message_count integer, state text,
  replies integer, close_reason text, closed_at timestamptz, escalation_summary text, escalated_by text,
  escalated_at timestamptz, messages text, notes json)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  SELECT c.created_at, c.updated_at, c.message_count, t.state, t.replies, t.close_reason, t.closed_at,
         t.escalation_summary, t.escalated_by, t.escalated_at,
         (SELECT '[' || coalesce(string_agg(m.body::text, ',' ORDER BY m.seq), '') || ']' FROM messages m
           WHERE m.conversation_id = c.id),
         (SELECT coalesce(json_agg(json_build_object('author', n.author, 'text', n.body, 'at', n.created_at)
                  ORDER BY n.id), '[]'::json) FROM ticket_notes n WHERE n.conversation_id = c.id)
    FROM conversations c JOIN tickets t ON t.conversation_id = c.id WHERE c.id = p_id;
END
$$;
`,
  },
];

/** A migration's statements: split at semicolons that end a line, except inside $$-quoted bodies. */
export function migrationStatements(sql: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (const part of sql.split(/(\$\$)/)) {
    if (part === '$$') quoted = !quoted;
    if (quoted || part === '$$') {
      cur += part;
      continue;
    }
    const pieces = part.split(/;\s*\n/);
    cur += pieces[0];
    for (const piece of pieces.slice(1)) {
      out.push(cur);
      cur = piece;
    }
  }
  out.push(cur);
  return out.map((s) => s.trim()).filter(Boolean);
}
