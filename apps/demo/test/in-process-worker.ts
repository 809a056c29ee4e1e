// A stand-in for the Bun Worker of `bench --mode both` under Node (which has no global Worker):
// the same worker-side handler (`benchServer`), in this thread, with every message structured-
// cloned and delivered on a later task, as postMessage does.
import type { UdpBenchmarkOptions, UdpBenchmarkResult } from "@side-kernel/side-host";
import { runUdpBenchmark } from "@side-kernel/side-host";
import {
  type BenchMode,
  type BenchReply,
  type BenchRequest,
  benchServer,
  type WorkerLike,
} from "../src/commands/mode-workers.js";

/** An in-process worker, and what happened to it. */
export interface InProcessWorker extends WorkerLike {
  readonly mode: BenchMode;
  /** Requests received, in order. */
  readonly requests: BenchRequest[];
  /** Replies posted, in order. */
  readonly replies: BenchReply[];
  terminated: boolean;
  /** Fires the worker's error event (a script that failed), as a Worker does. */
  fail(message: string): void;
}

/**
 * Makes in-process workers (`createWorker` of `ModeWorkers` / `benchCommand`); `workers` lists
 * those made. `run` (default `runUdpBenchmark`) runs a request on the worker side.
 */
export function inProcessWorkers(
  run: (options: UdpBenchmarkOptions) => UdpBenchmarkResult = runUdpBenchmark,
): { workers: InProcessWorker[]; create: (mode: BenchMode) => InProcessWorker } {
  const workers: InProcessWorker[] = [];
  const create = (mode: BenchMode): InProcessWorker => {
    const later = (f: () => void) => setTimeout(f, 0);
    const w: InProcessWorker = {
      mode,
      requests: [],
      replies: [],
      terminated: false,
      onmessage: null,
      onerror: null,
      postMessage(message) {
        if (w.terminated) return;
        const request = structuredClone(message);
        later(() => {
          if (!w.terminated) {
            w.requests.push(request);
            serve(request);
          }
        });
      },
      terminate() {
        w.terminated = true;
      },
      fail(message) {
        later(() => w.onerror?.({ message }));
      },
    };
    const serve = benchServer((reply) => {
      const data = structuredClone(reply);
      w.replies.push(data);
      later(() => {
        if (!w.terminated) w.onmessage?.({ data });
      });
    }, run);
    workers.push(w);
    return w;
  };
  return { workers, create };
}
