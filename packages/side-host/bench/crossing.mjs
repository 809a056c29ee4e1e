// Host cost of one kernel call from driver code: a tiny driver's probe calls
// pci_read_config_word (a checked service, not answered at ring 3) and stores the result, N
// times. Natively that is a direct call; isolated, each is a SIDE crossing (gate, two flushing
// CR3 switches, checked-call layer, TLB refills). Prints ns of CPU time per call, the best of
// three rounds, for each mode. Build first (npx tsup).
//
//   node bench/crossing.mjs [calls]        (or bun)
import { GFP_KERNEL, PciDeviceId, PciDriver } from "@side-kernel/kservice";
import { Kernel, Machine } from "../dist/index.js";

const calls = Number(process.argv[2] ?? 200_000);
const result = {};

function module(mode) {
  function probe(k, pdev) {
    const buf = k.kzalloc(64, GFP_KERNEL);
    let best = Number.POSITIVE_INFINITY;
    for (let round = 0; round < 3; round++) {
      const c0 = process.cpuUsage();
      for (let i = 0; i < calls; i++) {
        k.pci_read_config_word(pdev, 0, buf);
        k.store32(buf + 8, i);
      }
      const c = process.cpuUsage(c0);
      best = Math.min(best, ((c.user + c.system) * 1e3) / calls);
    }
    result[mode] = Math.round(best);
    k.kfree(buf);
    return -19; // -ENODEV: nothing to keep
  }
  function init(k) {
    const mod = k.kzalloc(PciDriver.SIZE + 2 * PciDeviceId.SIZE + 8, GFP_KERNEL);
    const ids = mod + PciDriver.SIZE;
    const name = ids + 2 * PciDeviceId.SIZE;
    k.store8(name, 0x78); // "x"
    k.store32(ids + PciDeviceId.vendor, 0x8086);
    k.store32(ids + PciDeviceId.device, 0x100e);
    k.store32(ids + PciDeviceId.subvendor, 0xffffffff);
    k.store32(ids + PciDeviceId.subdevice, 0xffffffff);
    k.storePtr(mod + PciDriver.name, name);
    k.storePtr(mod + PciDriver.idTable, ids);
    k.storePtr(mod + PciDriver.probe, k.fn("probe"));
    k.storePtr(mod + PciDriver.remove, k.fn("remove"));
    return k.pci_register_driver(mod);
  }
  function exit(k, drv) {
    k.pci_unregister_driver(drv);
    k.kfree(drv);
    return 0;
  }
  return { name: "x", entryPoints: { init, exit, probe, remove: () => 0 }, init: "init", exit: "exit" };
}

for (const mode of ["native", "isolated"]) {
  const kernel = Kernel.boot(new Machine({ peer: "none" }));
  kernel.loadDriver(module(mode), { mode });
}
console.log(JSON.stringify({ calls, nsPerCall: result }));
