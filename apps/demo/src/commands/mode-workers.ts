/**
 * `bench --mode both` runs each mode in a worker of its own: a separate JS engine instance, so
 * each mode has its own JIT feedback and compiled code. In one process the modes share both,
 * so each can slow the other (BENCHMARKS.md, session 4: isolated/native host ratios of
 * 0.43-0.51 under Bun where one process per mode gave 0.50).
 *
 * The parent side is `ModeWorkers`: one worker per mode, created on the mode's first run and
 * kept until `terminate()`, one run at a time (a run is refused while another is in flight, so
 * the idle worker always waits on a message). The worker side is `benchServer`, which
 * `bench-worker.ts` wires to the worker's messages; it runs `runUdpBenchmark` and posts back
 * the result, whose figures (hostMs, hostPps included) are measured inside the worker. A
 * `UdpBenchmarkResult` is plain data (numbers, strings, plain objects), so it survives the
 * structured clone of `postMessage` unchanged.
 *
 * Protocol, one request at a time per worker:
 *   parent -> worker  { id, options, progress }   options: UdpBenchmarkOptions without onProgress
 *   worker -> parent  { id, type: "progress", done }  about every 1% of the run, if progress
 *                     { id, type: "result", result }
 *                     { id, type: "error", message }
 */
import { runUdpBenchmark, type UdpBenchmarkOptions, type UdpBenchmarkResult } from "@side-kernel/side-host";

/** A benchmark mode; each has its own worker. */
export type BenchMode = UdpBenchmarkOptions["mode"];

/** What the parent posts: one run. */
export interface BenchRequest {
  readonly id: number;
  /** The run's options: plain data (no onProgress: functions do not survive postMessage). */
  readonly options: Omit<UdpBenchmarkOptions, "onProgress">;
  /** Post progress messages (about every 1% of the run). */
  readonly progress: boolean;
}

/** What a worker posts back. */
export type BenchReply =
  | { readonly id: number; readonly type: "progress"; readonly done: number }
  | { readonly id: number; readonly type: "result"; readonly result: UdpBenchmarkResult }
  | { readonly id: number; readonly type: "error"; readonly message: string };

/**
 * The worker side: a handler of requests that runs each with `run` (default
 * `runUdpBenchmark`) and posts progress, then the result or the error, with `post`. A worker
 * serves one mode: the first request's; a request for the other mode gets an error reply.
 */
export function benchServer(
  post: (reply: BenchReply) => void,
  run: (options: UdpBenchmarkOptions) => UdpBenchmarkResult = runUdpBenchmark,
): (request: BenchRequest) => void {
  let mode: BenchMode | undefined;
  return ({ id, options, progress }) => {
    try {
      mode ??= options.mode;
      if (options.mode !== mode)
        throw new Error(`the ${mode} worker got a request for mode ${String(options.mode)}`);
      const result = run({
        ...options,
        onProgress: progress ? (done) => post({ id, type: "progress", done }) : undefined,
      });
      post({ id, type: "result", result });
    } catch (e) {
      post({ id, type: "error", message: e instanceof Error ? e.message : String(e) });
    }
  };
}

/** The part of a web `Worker` that `ModeWorkers` uses (Bun's `Worker` has it; tests fake it). */
export interface WorkerLike {
  postMessage(message: BenchRequest): void;
  onmessage: ((event: { readonly data: BenchReply }) => void) | null;
  /** A script that failed to load or threw outside a run. */
  onerror: ((event: { readonly message?: string }) => void) | null;
  terminate(): void;
}

/** A Bun worker running `bench-worker.ts` (Bun only: Node 20 has no global `Worker`). */
export function bunBenchWorker(): WorkerLike {
  return new Worker(new URL("./bench-worker.ts", import.meta.url)) as unknown as WorkerLike;
}

/** The run in flight. */
interface Pending {
  readonly id: number;
  readonly mode: BenchMode;
  readonly onProgress: ((done: number, total: number) => void) | undefined;
  readonly packets: number;
  readonly resolve: (result: UdpBenchmarkResult) => void;
  readonly reject: (error: Error) => void;
}

/**
 * One worker per mode (from `create`, default `bunBenchWorker`), created on the mode's first
 * run, each used for that mode's runs only, one run at a time. `terminate()` ends them all.
 */
export class ModeWorkers {
  private readonly workers = new Map<BenchMode, WorkerLike>();
  private pending: Pending | null = null;
  private nextId = 1;
  private terminated = false;

  constructor(private readonly create: (mode: BenchMode) => WorkerLike = bunBenchWorker) {}

  /** Workers created so far, by mode. */
  get modes(): BenchMode[] {
    return [...this.workers.keys()];
  }

  /**
   * Runs `options` in its mode's worker. Resolves with the worker's result; rejects with the
   * run's error, when the worker fails, after `terminate()`, or when another run is in flight.
   */
  run(options: UdpBenchmarkOptions): Promise<UdpBenchmarkResult> {
    if (this.terminated) return Promise.reject(new Error("ModeWorkers: terminated"));
    if (this.pending !== null)
      return Promise.reject(
        new Error(`ModeWorkers: a ${this.pending.mode} run is in flight; runs go one at a time`),
      );
    const { onProgress, ...plain } = options;
    const worker = this.worker(options.mode);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending = { id, mode: options.mode, onProgress, packets: options.packets, resolve, reject };
      try {
        worker.postMessage({ id, options: plain, progress: onProgress !== undefined });
      } catch (e) {
        this.settle(id, e instanceof Error ? e : new Error(String(e)));
      }
    });
  }

  /** Terminates every worker; a run in flight is rejected. */
  terminate(): void {
    this.terminated = true;
    for (const w of this.workers.values()) {
      w.onmessage = null;
      w.onerror = null;
      w.terminate();
    }
    this.workers.clear();
    if (this.pending !== null) this.settle(this.pending.id, new Error("ModeWorkers: terminated"));
  }

  private worker(mode: BenchMode): WorkerLike {
    const known = this.workers.get(mode);
    if (known !== undefined) return known;
    const w = this.create(mode);
    w.onmessage = ({ data }) => this.reply(data);
    w.onerror = (event) => {
      const p = this.pending;
      if (p !== null && p.mode === mode)
        this.settle(p.id, new Error(`the ${mode} worker failed: ${event.message ?? "unknown error"}`));
    };
    this.workers.set(mode, w);
    return w;
  }

  private reply(r: BenchReply): void {
    const p = this.pending;
    if (p === null || p.id !== r.id) return;
    if (r.type === "progress") p.onProgress?.(r.done, p.packets);
    else this.settle(r.id, r.type === "result" ? r.result : new Error(r.message));
  }

  private settle(id: number, outcome: UdpBenchmarkResult | Error): void {
    const p = this.pending;
    if (p === null || p.id !== id) return;
    this.pending = null;
    if (outcome instanceof Error) p.reject(outcome);
    else p.resolve(outcome);
  }
}
