/**
 * One request/response pair of the fake server: its record, its cancellable
 * delays and the detection of a client that goes away early.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { RecordedRequest } from './types.js';

export class Exchange {
  readonly record: RecordedRequest;
  readonly response: ServerResponse;
  #ended = false;
  #closedByServer = false;
  #timer: NodeJS.Timeout | undefined;
  #wake: ((elapsed: boolean) => void) | undefined;
  readonly #onAbort: (record: RecordedRequest) => void;

  /**
   * @param onEnd called once when the response closes, for whatever reason.
   * @param onAbort called when the client closed before the response ended.
   */
  constructor(
    request: IncomingMessage,
    response: ServerResponse,
    record: RecordedRequest,
    onEnd: (exchange: Exchange) => void,
    onAbort: (record: RecordedRequest) => void,
  ) {
    this.record = record;
    this.response = response;
    this.#onAbort = onAbort;
    response.once('finish', () => {
      record.completed = true;
    });
    // The client's FIN ('end') comes a loop turn or more before 'close': listen
    // to both so that an abort is noticed as early as possible. Node's server
    // gives up on the request at 'end' too (it does not allow half-open sockets).
    const socket = request.socket;
    const onSocketEnd = () => this.#noticeClientGone();
    socket.once('end', onSocketEnd);
    response.once('close', () => {
      socket.off('end', onSocketEnd);
      this.#noticeClientGone();
      this.#end();
      onEnd(this);
    });
  }

  /** True once the response closed or the server gave up on it: stop writing. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Waits `ms`; resolves `false` instead if the exchange ends first. */
  wait(ms: number): Promise<boolean> {
    if (this.#ended) return Promise.resolve(false);
    if (!(ms > 0)) return Promise.resolve(true);
    return new Promise((resolve) => {
      this.#wake = resolve;
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#wake = undefined;
        resolve(true);
      }, ms);
    });
  }

  /** Destroys the connection on purpose (a cut, or the server closing): not an abort. */
  destroy(): void {
    this.#closedByServer = true;
    this.#end();
    this.response.destroy();
  }

  /** Resets the connection on purpose (a TCP RST rather than a close): not an abort. */
  reset(): void {
    this.#closedByServer = true;
    this.#end();
    const socket = this.response.socket;
    if (socket) socket.resetAndDestroy();
    else this.response.destroy();
  }

  #noticeClientGone(): void {
    if (this.record.aborted || this.#closedByServer || this.response.writableFinished) return;
    this.record.aborted = true;
    this.record.abortedAt = performance.now();
    this.#end();
    this.#onAbort(this.record);
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.(false);
  }
}
