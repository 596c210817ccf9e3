export {
  AddressGuard,
  type AddressPolicy,
  AllowListError,
  BlockedAddressError,
  embeddedIPv4,
  isSpecialAddress,
  parseAllowHosts,
  type ResolvedAddress,
  type Resolver,
  systemResolver,
} from './address.js';
export { CitationStream, type CursorPages, normalizeCitations, type UrlCitation } from './citations.js';
export {
  CHROMIUM_FLAGS,
  ChromiumFetcher,
  type ChromiumFetcherOptions,
  FetchError,
  type FetcherLimits,
} from './fetcher.js';
export { pdfToText } from './pdf.js';
export {
  type BackendCommon,
  BackendError,
  BraveBackend,
  ExaBackend,
  type SearchBackend,
  SearxngBackend,
  type SearxngOptions,
  YouComBackend,
} from './search/backends.js';
export { type LocalBackendOptions, type LocalDocument, LocalSearchBackend } from './search/local.js';
export {
  BrowserSession,
  BrowserUsageError,
  type FindArgs,
  type OpenArgs,
  type SearchArgs,
  type SessionState,
  type ViewResult,
} from './session.js';
export {
  type FindSnippet,
  htmlToPage,
  type PageContents,
  type SearchHit,
  searchResultsPage,
  textToPage,
} from './text.js';
export {
  type BrowserTool,
  type BrowserToolOptions,
  createBrowserTool,
  createSearchBackend,
  SEARCH_BACKENDS,
  type SearchBackendName,
} from './tool.js';
export { findInPage, renderView, type TextTokenizer, wrapLines } from './view.js';
