// One call to a scoring endpoint: POST a JSON body, read a JSON answer, with a timeout per attempt and jittered retries of passing failures.
import { SluiceError } from '@sluice/crds/errors';
import { messageOf } from '../error-message.js';
import { retried } from '../kafka/retry.js';

/** A scoring call that failed for good (after its retries, or at once for an answer retrying cannot change); the message is the dead letter's reason. */
export class ScoreCallError extends SluiceError {
  override readonly code = 'SLUICE_E_SCORE_CALL';
}

/** HTTP answers worth repeating unchanged: the server is overloaded, restarting or timed the request out. */
const RETRIED_STATUS = new Set([408, 429]);

/** How much of an error answer's body a reason quotes. */
const BODY_QUOTED = 200;

export interface ScoringClientOptions {
  url: string;
  headers?: Readonly<Record<string, string>>;
  /** Milliseconds one attempt may take. */
  timeout: number;
  /** Attempts after the first. */
  retries: number;
  /** Milliseconds before the first retry, doubled for each next one (with jitter). */
  retryBackoff: number;
}

/** The URL as a reason may show it: no user name or password, no query string (which often carries an API key). */
export function shownUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return '(an invalid URL)';
  }
}

export class ScoringClient {
  readonly #options: ScoringClientOptions;
  /** The URL fetch is given: without credentials, which fetch refuses in a URL and which go into the authorization header. */
  readonly #url: string;
  readonly #shown: string;
  readonly #headers: Record<string, string>;

  constructor(options: ScoringClientOptions) {
    this.#options = options;
    this.#shown = shownUrl(options.url);
    const url = new URL(options.url);
    const credentials = url.username === '' ? undefined : `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    url.username = '';
    url.password = '';
    this.#url = url.toString();
    this.#headers = {
      'content-type': 'application/json',
      accept: 'application/json',
      ...(credentials === undefined ? {} : { authorization: `Basic ${Buffer.from(credentials).toString('base64')}` }),
      ...options.headers,
    };
  }

  /** POSTs `body` as JSON and resolves with the parsed JSON answer; rejects with a ScoreCallError whose message names the URL and why. */
  async call(body: unknown): Promise<unknown> {
    const payload = JSON.stringify(body);
    const { retries, retryBackoff } = this.#options;
    try {
      return await retried(() => this.#attempt(payload), { retries, initialMs: retryBackoff, maxMs: Math.max(retryBackoff, 10_000) });
    } catch (error) {
      const tries = error instanceof ScoreCallError && error.retriable ? `, after ${retries + 1} attempts` : '';
      throw new ScoreCallError(`score call to ${this.#shown} failed${tries}: ${messageOf(error)}`, { cause: error });
    }
  }

  async #attempt(payload: string): Promise<unknown> {
    const { timeout } = this.#options;
    let response: Response;
    try {
      response = await fetch(this.#url, { method: 'POST', headers: this.#headers, body: payload, signal: AbortSignal.timeout(timeout) });
    } catch (error) {
      const reason =
        error instanceof DOMException && error.name === 'TimeoutError' ? `no answer within ${timeout} ms` : this.#withoutUrl(connectionFailure(error));
      throw new ScoreCallError(reason, { retriable: true });
    }
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      // The body timed out or the connection dropped half-way: as passing as a failed connect.
      throw new ScoreCallError(`the answer broke off: ${this.#withoutUrl(connectionFailure(error))}`, { retriable: true });
    }
    if (!response.ok) {
      const retriable = response.status >= 500 || RETRIED_STATUS.has(response.status);
      throw new ScoreCallError(`HTTP ${response.status}: ${quoted(text)}`, { retriable });
    }
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new ScoreCallError(`HTTP ${response.status} with a body that is not JSON: ${quoted(text)}`);
    }
  }

  /** A reason never quotes the URL as given: its query string may hold a key. */
  #withoutUrl(reason: string): string {
    return reason.replaceAll(this.#url, this.#shown).replaceAll(this.#options.url, this.#shown);
  }
}

/** fetch's "fetch failed" hides the reason (ECONNREFUSED, ENOTFOUND) in its cause. */
function connectionFailure(error: unknown): string {
  const cause = error instanceof Error ? (error.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  if (cause !== undefined && typeof cause.code === 'string') return `${messageOf(error)} (${cause.code})`;
  return messageOf(error);
}

function quoted(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat === '') return '(empty body)';
  return flat.length > BODY_QUOTED ? `${JSON.stringify(flat.slice(0, BODY_QUOTED))}… (${flat.length} characters)` : JSON.stringify(flat);
}
