/**
 * The worker of one `bench --mode both` mode (see mode-workers.ts): a JS engine instance of
 * its own, which runs the runs its parent posts, one at a time, and posts back progress and
 * the results. Bun only (`new Worker(new URL("./bench-worker.ts", import.meta.url))`).
 */
import { type BenchRequest, benchServer } from "./mode-workers.js";

declare var self: Worker;

const serve = benchServer((reply) => self.postMessage(reply));
self.onmessage = (event: MessageEvent<BenchRequest>) => serve(event.data);
