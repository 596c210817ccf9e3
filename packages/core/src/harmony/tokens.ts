/** Special token ids of o200k_harmony (`src/tiktoken_ext/public_encodings.rs` in openai/harmony). */
export const Tok = {
  startoftext: 199998,
  endoftext: 199999,
  return: 200002,
  constrain: 200003,
  channel: 200005,
  start: 200006,
  end: 200007,
  message: 200008,
  call: 200012,
} as const;

/** Tokens that end a message for the parser: `<|return|>`, `<|call|>`, `<|end|>`. */
export const STOP_TOKENS: readonly number[] = [Tok.return, Tok.call, Tok.end];
/** Tokens to sample with: `<|return|>`, `<|call|>` (the model writes `<|end|>` between its own messages). */
export const STOP_TOKENS_FOR_ASSISTANT_ACTIONS: readonly number[] = [Tok.return, Tok.call];

/** First id after the o200k_base mergeable ranks (0..199997); every id from here is special. */
export const FIRST_SPECIAL_ID = 199998;
/** Last id of o200k_harmony (`<|reserved_201088|>`; the model itself samples only up to 201087). */
export const LAST_SPECIAL_ID = 201088;
/** Number of ids the vocabulary defines (0..201088). */
export const VOCAB_SIZE = LAST_SPECIAL_ID + 1;

const NAMED: ReadonlyMap<number, string> = new Map([
  [Tok.startoftext, '<|startoftext|>'],
  [Tok.endoftext, '<|endoftext|>'],
  [Tok.return, '<|return|>'],
  [Tok.constrain, '<|constrain|>'],
  [Tok.channel, '<|channel|>'],
  [Tok.start, '<|start|>'],
  [Tok.end, '<|end|>'],
  [Tok.message, '<|message|>'],
  [Tok.call, '<|call|>'],
]);

/** `true` for every special id of o200k_harmony (199998..201088), reserved ones included. */
export function isSpecialToken(id: number): boolean {
  return Number.isInteger(id) && id >= FIRST_SPECIAL_ID && id <= LAST_SPECIAL_ID;
}

/** The text of a special id (`<|start|>`, `<|reserved_200014|>`), or `undefined` if `id` is not special. */
export function specialTokenText(id: number): string | undefined {
  if (!isSpecialToken(id)) return undefined;
  return NAMED.get(id) ?? `<|reserved_${id}|>`;
}

let specialIds: Map<string, number> | undefined;
/** The id of a special token text (`<|start|>` → 200006), or `undefined`. */
export function specialTokenId(text: string): number | undefined {
  if (!specialIds) {
    specialIds = new Map();
    for (let id = FIRST_SPECIAL_ID; id <= LAST_SPECIAL_ID; id++)
      specialIds.set(specialTokenText(id) as string, id);
  }
  return specialIds.get(text);
}

/** Whether `id` ends a message for the parser (`<|return|>`, `<|call|>`, `<|end|>`). */
export function isStopToken(id: number): boolean {
  return id === Tok.end || id === Tok.return || id === Tok.call;
}
