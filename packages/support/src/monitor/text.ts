/** Text handling shared by the monitor's training and scoring: words, sentences. */

/** Stop words: dropped from content words. */
export const STOP: ReadonlySet<string> = new Set(
  (
    'a an and are as at be been but by can could did do does doing for from had has have he her here him his how i ' +
    'if in into is it its just let me more most my no nor not of off on once only or other our out over own same she ' +
    'should so some such than that the their them then there these they this those through to too under until up ' +
    'very was we were what when where which while who whom why will with would you your yours also any all each ' +
    'few both again further about above after before below between during against am s t don now get got us'
  ).split(' '),
);

/** Lower-cased content words (stop words dropped, simple plural stripping), for overlap and word vectors. */
export function words(text: string): string[] {
  return (text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [])
    .filter((w) => w.length > 1 && !STOP.has(w))
    .map((w) => (w.length > 4 && w.endsWith('s') && !w.endsWith('ss') ? w.slice(0, -1) : w));
}

/** Citations, links and markup removed: what a sentence says, not how it is formatted. */
export function plain(text: string): string {
  return text
    .replace(/\[faq:[^\]\s]+\]/g, ' ')
    .replace(/https?:\/\/\S+/g, ' ')
    .replace(/[`*_#>|]/g, ' ');
}

/** Splits text into sentences (and lines); each with at least one letter. */
export function sentences(text: string): string[] {
  return text
    .split(/(?<=[.!?])\s+|\n+/)
    .map((s) => s.trim())
    .filter((s) => /\p{L}/u.test(s));
}

/** FNV-1a, for hashed n-gram features; `h` continues a hash (`fnv1a(b, fnv1a(a))` = `fnv1a(a + b)`). */
export function fnv1a(s: string, h = 0x811c9dc5): number {
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

const WORD = /[\p{L}\p{N}]+/gu;

/** How many content words `words(text)` would return, without building them. */
export function countWords(text: string): number {
  let n = 0;
  WORD.lastIndex = 0;
  for (let m = WORD.exec(text); m; m = WORD.exec(text)) {
    const w = m[0];
    if (w.length > 1 && !STOP.has(w.toLowerCase())) n++;
  }
  return n;
}
