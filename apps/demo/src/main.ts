/**
 * side-kernel demo CLI: `bun src/main.ts [command]`. Commands dispatch through a table (add
 * new ones there); an unknown command prints usage on stderr and exits with code 2. The
 * process exits with the command's code once it has finished (`bench --mode both` terminates
 * its workers first).
 */
import { benchCommand } from "./commands/bench.js";
import { pagingCommand } from "./commands/paging.js";
import { tourCommand } from "./commands/tour.js";

/** Command table: name -> [one-line description, handler(arguments after the name) returning the exit code, or a promise of it]. */
export const COMMANDS: Record<string, [string, (args: string[]) => number | Promise<number>]> = {
  tour: [
    "the core experiment: paging, native vs isolated on one workload, a flipped driver pointer",
    tourCommand,
  ],
  paging: [
    "address space with kernel and driver regions, accesses at CPL 0 and 3, #PF codes, TLB stats",
    pagingCommand,
  ],
  bench: [
    "UDP benchmark on the e1000: --mode native|isolated|both --direction tx|rx --size 64..1518|all --packets N [--repeat N] [--warmup N] [--json]",
    benchCommand,
  ],
};

/** Usage text listing every command. */
export function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, [desc]]) => `  ${name.padEnd(10)} ${desc}`);
  return `usage: bun src/main.ts [command] [arguments]\n\ncommands (default: tour):\n${lines.join("\n")}`;
}

/** Runs the command named in `argv` (default "tour"); resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  const name = argv[0] ?? "tour";
  const entry = COMMANDS[name];
  if (entry === undefined) {
    console.error(`unknown command: ${name}\n${usage()}`);
    return 2;
  }
  return entry[1](argv.slice(1));
}

if (import.meta.main) process.exit(await main(process.argv.slice(2)));
