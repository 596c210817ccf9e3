/**
 * Incremental UTF-8 decoding with the exact semantics of openai-harmony's streaming parser (v0.0.5+): bytes are
 * buffered across tokens, the valid prefix is emitted at once, a definitely-invalid sequence becomes one U+FFFD
 * (Rust `Utf8Error::error_len`), and the bytes after it are looked at again only when the next chunk arrives.
 */
import { bytesToText } from './tokenizer.js';

const FFFD = '\uFFFD';
const lossy = new TextDecoder('utf-8');

interface Validation {
  validUpTo: number;
  /** `undefined`: the buffer is valid; `null`: it ends in an incomplete sequence; a number: invalid sequence length. */
  errorLen: number | null | undefined;
}

const isCont = (b: number | undefined): boolean => b !== undefined && b >= 0x80 && b <= 0xbf;

/** Rust `core::str::from_utf8` validation: where the valid prefix ends and how the error is classified. */
export function validateUtf8(buf: Uint8Array, len: number = buf.length): Validation {
  let i = 0;
  while (i < len) {
    const b = buf[i] as number;
    if (b < 0x80) {
      i++;
      continue;
    }
    const need = (k: number): number | undefined => (i + k < len ? buf[i + k] : undefined);
    if (b >= 0xc2 && b <= 0xdf) {
      const b1 = need(1);
      if (b1 === undefined) return { validUpTo: i, errorLen: null };
      if (!isCont(b1)) return { validUpTo: i, errorLen: 1 };
      i += 2;
    } else if (b >= 0xe0 && b <= 0xef) {
      const b1 = need(1);
      if (b1 === undefined) return { validUpTo: i, errorLen: null };
      const ok =
        (b === 0xe0 && b1 >= 0xa0 && b1 <= 0xbf) ||
        (b >= 0xe1 && b <= 0xec && isCont(b1)) ||
        (b === 0xed && b1 >= 0x80 && b1 <= 0x9f) ||
        (b >= 0xee && b <= 0xef && isCont(b1));
      if (!ok) return { validUpTo: i, errorLen: 1 };
      const b2 = need(2);
      if (b2 === undefined) return { validUpTo: i, errorLen: null };
      if (!isCont(b2)) return { validUpTo: i, errorLen: 2 };
      i += 3;
    } else if (b >= 0xf0 && b <= 0xf4) {
      const b1 = need(1);
      if (b1 === undefined) return { validUpTo: i, errorLen: null };
      const ok =
        (b === 0xf0 && b1 >= 0x90 && b1 <= 0xbf) ||
        (b >= 0xf1 && b <= 0xf3 && isCont(b1)) ||
        (b === 0xf4 && b1 >= 0x80 && b1 <= 0x8f);
      if (!ok) return { validUpTo: i, errorLen: 1 };
      const b2 = need(2);
      if (b2 === undefined) return { validUpTo: i, errorLen: null };
      if (!isCont(b2)) return { validUpTo: i, errorLen: 2 };
      const b3 = need(3);
      if (b3 === undefined) return { validUpTo: i, errorLen: null };
      if (!isCont(b3)) return { validUpTo: i, errorLen: 3 };
      i += 4;
    } else {
      return { validUpTo: i, errorLen: 1 };
    }
  }
  return { validUpTo: len, errorLen: undefined };
}

/** Streaming decoder: `push(bytes)` returns the text that became final (possibly `''`), `flush()` the rest. */
export class Utf8StreamDecoder {
  private buf = new Uint8Array(16);
  private len = 0;

  /** Bytes held back, waiting for the rest of a character. */
  get pending(): number {
    return this.len;
  }

  push(bytes: Uint8Array): string {
    if (this.len + bytes.length > this.buf.length) {
      const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + bytes.length));
      next.set(this.buf.subarray(0, this.len));
      this.buf = next;
    }
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
    const v = validateUtf8(this.buf, this.len);
    let out = '';
    let drop = v.validUpTo;
    if (v.validUpTo > 0) out = lossy.decode(this.buf.subarray(0, v.validUpTo));
    if (typeof v.errorLen === 'number') {
      out += FFFD;
      drop += v.errorLen;
    }
    if (drop > 0) {
      this.buf.copyWithin(0, drop, this.len);
      this.len -= drop;
    }
    return out;
  }

  /** Ends the stream: whatever is held back, decoded lossily (each invalid sequence as U+FFFD). */
  flush(): string {
    if (this.len === 0) return '';
    const s = bytesToText(this.buf.subarray(0, this.len));
    this.len = 0;
    return s;
  }

  reset(): void {
    this.len = 0;
  }
}
