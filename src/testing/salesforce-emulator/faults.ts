import type { ServerResponse } from 'node:http';

/** A fault to inject into matching requests. */
export interface EmulatorFaultSpec {
  /** HTTP method to match (any when omitted). */
  method?: string;
  /**
   * Path to match: a string matches when the request path contains it (so `'/sobjects/Contact'`
   * matches every API version); a RegExp is tested against the path. Any path when omitted.
   */
  path?: string | RegExp;
  /** How many matching requests fail before the fault is used up. @default 1 */
  times?: number;
  /**
   * Status to answer with. When omitted the request is only delayed (`delayMs`) or dropped
   * (`drop`) and otherwise handled normally.
   */
  status?: number;
  /**
   * Body to answer with: objects are sent as JSON, strings as-is. Defaults to the Salesforce
   * error body for the status (e.g. 401 → `INVALID_SESSION_ID`, 503 → `SERVER_UNAVAILABLE`).
   */
  body?: unknown;
  /** Extra response headers. */
  headers?: Record<string, string>;
  /** Wait this long (ms) before answering. */
  delayMs?: number;
  /** Destroy the socket without answering (the client sees a connection reset). */
  drop?: boolean;
  /**
   * Apply the fault after the request was processed: the write lands in the org, then the answer
   * is delayed, replaced by `status`, or lost (`drop`) — the client cannot tell whether it
   * happened. Only requests answered in one piece can be faulted this way.
   * @default false
   */
  after?: boolean;
  /**
   * With `delayMs` before processing: read the whole request first, then wait, then process it
   * even if the client has gone meanwhile — a server applying a write it received but had not
   * processed yet, so the write lands after the client gave up on it. Only for requests whose
   * handler reads the body in one piece (REST, Composite; not streamed Bulk uploads).
   * @default false
   */
  received?: boolean;
}

/** A registered fault; `remaining` counts down as requests hit it. */
export interface EmulatorFault extends EmulatorFaultSpec {
  readonly id: number;
  remaining: number;
  /** How many requests this fault has affected so far. */
  hits: number;
  /**
   * How many of those requests the client gave up on: the connection closed before the answer was
   * sent (a cancelled request, a timeout). Not counted for `drop`, which closes it itself.
   */
  disconnects: number;
}

/** Test control for injecting failures (`emulator.faults`). */
export interface EmulatorFaults {
  /** Registers a fault; it applies to the next `times` matching requests. */
  add(spec: EmulatorFaultSpec): EmulatorFault;
  /** Removes one fault (by the object `add` returned) or every fault. */
  clear(fault?: EmulatorFault): void;
  /** Faults that still have remaining uses. */
  list(): EmulatorFault[];
}

/** Counts in `fault.disconnects` a client that closes the connection before the answer was sent. */
export function watchDisconnect(fault: EmulatorFault, res: ServerResponse): void {
  res.once('close', () => {
    if (!res.writableFinished && !fault.drop) fault.disconnects += 1;
  });
}

/** Default Salesforce-shaped error bodies by status, used when a fault gives no body. */
export function defaultFaultBody(status: number): unknown {
  switch (status) {
    case 400:
      return [
        { message: 'unable to obtain exclusive access to this record', errorCode: 'UNABLE_TO_LOCK_ROW' },
      ];
    case 401:
      return [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }];
    case 403:
      return [{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }];
    case 404:
      return [{ message: 'The requested resource does not exist', errorCode: 'NOT_FOUND' }];
    case 500:
      return [{ message: 'An unexpected error occurred.', errorCode: 'UNKNOWN_EXCEPTION' }];
    case 503:
      return [{ message: 'Server is unavailable.', errorCode: 'SERVER_UNAVAILABLE' }];
    default:
      return [{ message: `Injected fault (HTTP ${status})`, errorCode: 'UNKNOWN_EXCEPTION' }];
  }
}

/** The emulator's fault table. */
export class FaultTable implements EmulatorFaults {
  private faults: EmulatorFault[] = [];
  private nextId = 1;

  add(spec: EmulatorFaultSpec): EmulatorFault {
    const times = spec.times ?? 1;
    if (!(times > 0)) throw new RangeError('faults.add: times must be a positive number');
    const fault: EmulatorFault = { ...spec, id: this.nextId++, remaining: times, hits: 0, disconnects: 0 };
    this.faults.push(fault);
    return fault;
  }

  clear(fault?: EmulatorFault): void {
    this.faults = fault ? this.faults.filter((f) => f.id !== fault.id) : [];
  }

  list(): EmulatorFault[] {
    return this.faults.filter((f) => f.remaining > 0);
  }

  /** Consumes one use of the first fault matching the request in this phase (before or after processing). */
  take(method: string, path: string, phase: 'before' | 'after' = 'before'): EmulatorFault | undefined {
    const after = phase === 'after';
    const fault = this.faults.find(
      (f) => f.remaining > 0 && (f.after === true) === after && matches(f, method, path),
    );
    if (!fault) return undefined;
    fault.remaining -= 1;
    fault.hits += 1;
    if (fault.remaining <= 0) this.faults = this.faults.filter((f) => f.id !== fault.id);
    return fault;
  }
}

function matches(fault: EmulatorFault, method: string, path: string): boolean {
  if (fault.method !== undefined && fault.method.toUpperCase() !== method) return false;
  if (fault.path === undefined) return true;
  if (typeof fault.path === 'string') return path.includes(fault.path);
  fault.path.lastIndex = 0;
  return fault.path.test(path);
}
