/**
 * PDF → text with pdf.js (`pdfjs-dist` legacy build: runs on Node 20, needs no network, no canvas for text).
 */
import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs';

export interface PdfText {
  title: string;
  text: string;
}

/** Extracts the text of a PDF, page by page (pages separated by a blank line). */
export async function pdfToText(data: Uint8Array, maxPages = 500): Promise<PdfText> {
  const doc = await getDocument({
    data: new Uint8Array(data), // pdf.js takes ownership of the buffer it is given
    isEvalSupported: false,
    disableFontFace: true,
    useSystemFonts: false,
    verbosity: 0,
  }).promise;
  try {
    const info = (await doc.getMetadata()).info as { Title?: unknown } | undefined;
    const pages: string[] = [];
    for (let n = 1; n <= Math.min(doc.numPages, maxPages); n++) {
      const page = await doc.getPage(n);
      const content = await page.getTextContent();
      let s = '';
      for (const item of content.items) {
        if ('str' in item) s += item.str + (item.hasEOL ? '\n' : '');
      }
      pages.push(s.trim());
      page.cleanup();
    }
    return { title: typeof info?.Title === 'string' ? info.Title : '', text: pages.join('\n\n') };
  } finally {
    await doc.destroy();
  }
}
