// Smoke test of the BUILT package under node, bun and deno: plain JS, throws on failure.
import { E1000_ID_TABLE, e1000Driver, eepromChecksum, mtaHash, txDescLower } from "@side-kernel/driver-e1000";

const required = [
  "e1000_init_module",
  "e1000_exit_module",
  "e1000_probe",
  "e1000_remove",
  "e1000_open",
  "e1000_close",
  "e1000_xmit_frame",
  "e1000_set_rx_mode",
  "e1000_set_mac",
  "e1000_intr",
  "e1000_clean",
  "e1000_watchdog",
];
if (e1000Driver.name !== "e1000") throw new Error(`module name ${e1000Driver.name}`);
for (const name of [...required, e1000Driver.init, e1000Driver.exit]) {
  if (typeof e1000Driver.entryPoints[name] !== "function") throw new Error(`entry point ${name} missing`);
}
if (!E1000_ID_TABLE.some((e) => e.vendor === 0x8086 && e.device === 0x100e))
  throw new Error("no 8086:100E in the id table");
for (const e of E1000_ID_TABLE) {
  if (!Number.isInteger(e.vendor) || !Number.isInteger(e.device) || typeof e.name !== "string")
    throw new Error(`bad id table entry ${JSON.stringify(e)}`);
}
const words = new Array(64).fill(0);
words[63] = 0xbaba;
if (eepromChecksum(words) !== 0xbaba) throw new Error("checksum");
if (mtaHash([1, 0, 0x5e, 0, 0, 0xfb]) !== 0xfb0) throw new Error("mta hash");
if (txDescLower(60, 0x0b000000) !== 0x0b00003c) throw new Error("descriptor");
console.log("driver-e1000 ok");
