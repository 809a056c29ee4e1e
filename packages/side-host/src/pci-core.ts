/**
 * PCI services over the bus: `struct pci_dev` objects built at boot from firmware enumeration,
 * pci_register_driver (id-table matching, probe through the driver's function pointer),
 * enable/disable, regions, bus mastering, BAR mappings (pci_ioremap_bar: uncached, PCD|PWT, in
 * ioremap space), resource helpers, config reads, drvdata and save/restore of the header.
 */
import {
  AddrMap,
  EBUSY,
  EINVAL,
  IORESOURCE_IO,
  IORESOURCE_MEM,
  IORESOURCE_MEM_64,
  IORESOURCE_PREFETCH,
  PCI_ANY_ID,
  PCI_NUM_RESOURCES,
  PciDev,
  PciDeviceId,
  PciDriver,
  Resource,
} from "@side-kernel/kservice";
import { PAGE_SIZE } from "@side-kernel/paging";
import {
  type EnumeratedFunction,
  formatBdf,
  PCI_COMMAND,
  PCI_COMMAND_IO,
  PCI_COMMAND_MASTER,
  PCI_COMMAND_MEMORY,
} from "@side-kernel/pci";
import type { DriverInstance } from "./driver.js";
import { hex, hexAddr, KernelBug } from "./errors.js";
import type { Kernel } from "./kernel.js";

/** Longest C string the kernel reads from a driver (a driver name). */
const MAX_NAME = 64;
/** Longest id table the kernel walks before calling it unterminated. */
const MAX_ID_ENTRIES = 256;
/** Bytes of the configuration header saved by pci_save_state (the type-0 header). */
const SAVED_HEADER_BYTES = 64;
/** Linux's default DMA mask for a pci_dev: 32 bits (drivers/pci/probe.c). */
const DEFAULT_DMA_MASK = 0xffff_ffff;

/** The kernel's own view of one PCI function (the truth; the pci_dev in memory is a copy). */
export interface PciDevRecord {
  readonly ptr: number;
  readonly fn: EnumeratedFunction;
  readonly name: string;
  readonly starts: number[];
  readonly lens: number[];
  readonly flags: number[];
  enabled: boolean;
  driver: PciDriverRecord | null;
  drvdata: number;
  dmaMask: number;
  /** Owner instance id of each BAR's region (0 = free). */
  readonly regionOwner: number[];
  saved: Uint32Array | null;
}

/** A registered `struct pci_driver`. */
export interface PciDriverRecord {
  readonly ptr: number;
  readonly owner: DriverInstance;
  readonly name: string;
  readonly idTable: number;
  readonly probe: number;
  readonly remove: number;
  readonly devices: PciDevRecord[];
}

interface IoMapping {
  readonly pages: number;
  readonly owner: number;
  readonly pdev: number;
}

/** PCI core. */
export class PciCore {
  private readonly devices = new AddrMap<PciDevRecord>();
  private readonly drivers = new Map<number, PciDriverRecord>();
  private readonly iomaps = new Map<number, IoMapping>();
  /** Offset of dmaMask in struct pci_dev (for the kernel's mirror writes). */
  readonly dmaMaskOffset = PciDev.dmaMask;

  constructor(private readonly kn: Kernel) {}

  /** Build a pci_dev in kernel memory for every enumerated function (at boot). */
  buildDevices(): void {
    const mmu = this.kn.mmu;
    for (const fn of this.kn.machine.pciFunctions) {
      const ptr = this.kn.heap.alloc(PciDev.SIZE, 0, true, "kernel");
      const starts: number[] = new Array(PCI_NUM_RESOURCES).fill(0);
      const lens: number[] = new Array(PCI_NUM_RESOURCES).fill(0);
      const flags: number[] = new Array(PCI_NUM_RESOURCES).fill(0);
      for (const bar of fn.bars) {
        if (bar.address === null || bar.index >= PCI_NUM_RESOURCES) continue;
        starts[bar.index] = bar.address;
        lens[bar.index] = bar.size;
        flags[bar.index] =
          bar.kind === "io"
            ? IORESOURCE_IO
            : IORESOURCE_MEM |
              (bar.kind === "mem64" ? IORESOURCE_MEM_64 : 0) |
              (bar.prefetchable ? IORESOURCE_PREFETCH : 0);
      }
      const rec: PciDevRecord = {
        ptr,
        fn,
        name: `0000:${formatBdf(fn.bdf)}`,
        starts,
        lens,
        flags,
        enabled: false,
        driver: null,
        drvdata: 0,
        dmaMask: DEFAULT_DMA_MASK,
        regionOwner: new Array(PCI_NUM_RESOURCES).fill(0),
        saved: null,
      };
      mmu.store16(ptr + PciDev.vendor, fn.vendorId);
      mmu.store16(ptr + PciDev.device, fn.deviceId);
      mmu.store16(ptr + PciDev.subsystemVendor, fn.subsystemVendorId);
      mmu.store16(ptr + PciDev.subsystemDevice, fn.subsystemId);
      mmu.store32(ptr + PciDev.class, fn.classCode);
      mmu.store8(ptr + PciDev.revision, fn.revision);
      mmu.store32(ptr + PciDev.irq, fn.irq ?? 0);
      mmu.store16(ptr + PciDev.devfn, (fn.device << 3) | fn.fn);
      mmu.store8(ptr + PciDev.bus, fn.bus);
      mmu.store64(ptr + PciDev.dmaMask, DEFAULT_DMA_MASK);
      for (let i = 0; i < PCI_NUM_RESOURCES; i++) {
        const r = ptr + PciDev.resource + i * PciDev.RESOURCE_SIZE;
        mmu.store64(r + Resource.start, starts[i]);
        mmu.store64(r + Resource.end, lens[i] > 0 ? starts[i] + lens[i] - 1 : 0);
        mmu.store64(r + Resource.flags, flags[i]);
      }
      this.devices.set(ptr, rec);
    }
  }

  /** Free the boot pci_devs (at shutdown). */
  freeDevices(): void {
    for (const rec of this.devices.values()) this.kn.heap.free(rec.ptr, 0, "shutdown", "kernel");
    this.devices.clear();
  }

  /** Number of pci_devs. */
  get deviceCount(): number {
    return this.devices.size;
  }

  /** Every pci_dev record, in BDF order. */
  list(): PciDevRecord[] {
    return [...this.devices.values()];
  }

  /** The pci_dev at bus:device.fn, or undefined. */
  find(bus: number, device: number, fn = 0): PciDevRecord | undefined {
    for (const d of this.devices.values())
      if (d.fn.bus === bus && d.fn.device === device && d.fn.fn === fn) return d;
    return undefined;
  }

  /** The record of pci_dev `ptr`. Throws KernelBug ("unknown pci_dev") for anything else. */
  device(ptr: number, service: string): PciDevRecord {
    const d = this.devices.get(ptr);
    if (d === undefined) throw new KernelBug(service, ptr, `${hexAddr(ptr)} is not a pci_dev`);
    return d;
  }

  private readCString(ptr: number): string {
    if (ptr === 0) return "";
    const mmu = this.kn.mmu;
    let s = "";
    for (let i = 0; i < MAX_NAME; i++) {
      const c = mmu.load8(ptr + i);
      if (c === 0) break;
      s += String.fromCharCode(c);
    }
    return s;
  }

  private matchId(table: number, dev: PciDevRecord): number {
    const mmu = this.kn.mmu;
    const f = dev.fn;
    for (let i = 0; i < MAX_ID_ENTRIES; i++) {
      const e = table + i * PciDeviceId.SIZE;
      const vendor = mmu.load32(e + PciDeviceId.vendor);
      const subvendor = mmu.load32(e + PciDeviceId.subvendor);
      const classMask = mmu.load32(e + PciDeviceId.classMask);
      if (vendor === 0 && subvendor === 0 && classMask === 0) return 0;
      const device = mmu.load32(e + PciDeviceId.device);
      const subdevice = mmu.load32(e + PciDeviceId.subdevice);
      const cls = mmu.load32(e + PciDeviceId.class);
      if (
        (vendor === PCI_ANY_ID || vendor === f.vendorId) &&
        (device === PCI_ANY_ID || device === f.deviceId) &&
        (subvendor === PCI_ANY_ID || subvendor === f.subsystemVendorId) &&
        (subdevice === PCI_ANY_ID || subdevice === f.subsystemId) &&
        ((cls ^ f.classCode) & classMask) === 0
      ) {
        return e;
      }
    }
    throw new KernelBug(
      "pci_register_driver",
      table,
      `id table at ${hexAddr(table)} has no terminating entry`,
    );
  }

  /**
   * pci_register_driver: read the pci_driver, bind every unclaimed matching device and call
   * probe(pdev, id). A failing probe unbinds the device (logged). Returns 0; KernelBug when the
   * same pci_driver is registered twice or the id table is unterminated.
   */
  registerDriver(inst: DriverInstance, drv: number): number {
    if (this.drivers.has(drv))
      throw new KernelBug("pci_register_driver", drv, `pci_driver ${hexAddr(drv)} is already registered`);
    const mmu = this.kn.mmu;
    const rec: PciDriverRecord = {
      ptr: drv,
      owner: inst,
      name: this.readCString(mmu.loadPtr(drv + PciDriver.name)),
      idTable: mmu.loadPtr(drv + PciDriver.idTable),
      probe: mmu.loadPtr(drv + PciDriver.probe),
      remove: mmu.loadPtr(drv + PciDriver.remove),
      devices: [],
    };
    this.drivers.set(drv, rec);
    for (const dev of this.devices.values()) {
      if (dev.driver !== null) continue;
      const id = this.matchId(rec.idTable, dev);
      if (id === 0) continue;
      dev.driver = rec;
      rec.devices.push(dev);
      const rc = inst.call(rec.probe, dev.ptr, id);
      if (rc !== 0) {
        dev.driver = null;
        rec.devices.splice(rec.devices.indexOf(dev), 1);
        this.kn.log.write("err", rec.name, `probe of ${dev.name} failed with error ${rc}`);
      } else {
        this.kn.log.write("info", rec.name, `bound to ${dev.name}`);
      }
    }
    return 0;
  }

  /** pci_unregister_driver: remove(pdev) for every bound device, then forget the driver. KernelBug if not registered. */
  unregisterDriver(inst: DriverInstance, drv: number): void {
    const rec = this.drivers.get(drv);
    if (rec === undefined || rec.owner !== inst) {
      throw new KernelBug(
        "pci_unregister_driver",
        drv,
        `pci_driver ${hexAddr(drv)} is not registered by ${inst.name}`,
      );
    }
    for (const dev of [...rec.devices]) {
      if (rec.remove !== 0) inst.call(rec.remove, dev.ptr);
      dev.driver = null;
      dev.drvdata = 0;
    }
    rec.devices.length = 0;
    this.drivers.delete(drv);
  }

  private command(dev: PciDevRecord, set: number, clear: number): void {
    const bus = this.kn.machine.bus;
    const v = bus.configRead(dev.fn.bdf, PCI_COMMAND, 2);
    bus.configWrite(dev.fn.bdf, PCI_COMMAND, 2, (v | set) & ~clear & 0xffff);
  }

  /** pci_enable_device: Command IO|MEM decode on. Returns 0. */
  enable(pdev: number): number {
    const dev = this.device(pdev, "pci_enable_device");
    this.command(dev, PCI_COMMAND_IO | PCI_COMMAND_MEMORY, 0);
    dev.enabled = true;
    return 0;
  }

  /** pci_disable_device: decode and bus mastering off (a warning if it was not enabled). */
  disable(pdev: number): void {
    const dev = this.device(pdev, "pci_disable_device");
    if (!dev.enabled) this.kn.log.write("warn", dev.name, "disabling already-disabled device");
    this.command(dev, 0, PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    dev.enabled = false;
  }

  /** pci_set_master: Command.BusMaster on. */
  setMaster(pdev: number): void {
    this.command(this.device(pdev, "pci_set_master"), PCI_COMMAND_MASTER, 0);
  }

  /** pci_select_bars: bitmask of BARs whose flags intersect `flags`. */
  selectBars(pdev: number, flags: number): number {
    const dev = this.device(pdev, "pci_select_bars");
    let mask = 0;
    for (let i = 0; i < PCI_NUM_RESOURCES; i++) if ((dev.flags[i] & flags) !== 0) mask |= 1 << i;
    return mask;
  }

  /** pci_request_selected_regions: claim the BARs in `bars`; -EBUSY (nothing claimed) if one is taken. */
  requestRegions(inst: DriverInstance, pdev: number, bars: number): number {
    const dev = this.device(pdev, "pci_request_selected_regions");
    for (let i = 0; i < PCI_NUM_RESOURCES; i++) {
      if ((bars & (1 << i)) !== 0 && dev.lens[i] > 0 && dev.regionOwner[i] !== 0) {
        this.kn.log.write(
          "err",
          dev.name,
          `BAR ${i} region already claimed by ${this.kn.ownerName(dev.regionOwner[i])}`,
        );
        return -EBUSY;
      }
    }
    for (let i = 0; i < PCI_NUM_RESOURCES; i++) {
      if ((bars & (1 << i)) !== 0 && dev.lens[i] > 0) dev.regionOwner[i] = inst.id;
    }
    return 0;
  }

  /** pci_release_selected_regions. KernelBug when a selected region is not held by the caller. */
  releaseRegions(inst: DriverInstance, pdev: number, bars: number): void {
    const dev = this.device(pdev, "pci_release_selected_regions");
    for (let i = 0; i < PCI_NUM_RESOURCES; i++) {
      if ((bars & (1 << i)) !== 0 && dev.lens[i] > 0 && dev.regionOwner[i] !== inst.id) {
        throw new KernelBug(
          "pci_release_selected_regions",
          bars,
          `BAR ${i} of ${dev.name} is not held by ${inst.name}`,
        );
      }
    }
    for (let i = 0; i < PCI_NUM_RESOURCES; i++) if ((bars & (1 << i)) !== 0) dev.regionOwner[i] = 0;
  }

  /**
   * pci_ioremap_bar: map memory BAR `bar` uncached (PCD|PWT), supervisor, NX, in ioremap space
   * (plus a guard page). Returns the linear address, or 0 (logged) for a BAR that is not memory.
   */
  ioremapBar(inst: DriverInstance, pdev: number, bar: number): number {
    const dev = this.device(pdev, "pci_ioremap_bar");
    if ((dev.flags[bar] & IORESOURCE_MEM) === 0 || dev.lens[bar] === 0) {
      this.kn.log.write("warn", dev.name, `pci_ioremap_bar: BAR ${bar} is not a memory BAR`);
      return 0;
    }
    const pages = Math.ceil(dev.lens[bar] / PAGE_SIZE);
    const va = this.kn.vmalloc.alloc(pages + 1);
    if (va === 0) return 0;
    const start = dev.starts[bar];
    for (let i = 0; i < pages; i++) {
      this.kn.space.map(va + i * PAGE_SIZE, start + i * PAGE_SIZE, PAGE_SIZE, {
        writable: true,
        noExecute: true,
        cacheDisable: true,
        writeThrough: true,
        global: true,
      });
    }
    this.iomaps.set(va, { pages, owner: inst.id, pdev });
    return va;
  }

  /** iounmap. KernelBug for an address pci_ioremap_bar did not return or another owner's. */
  iounmap(inst: DriverInstance, va: number): void {
    const m = this.iomaps.get(va);
    if (m === undefined) throw new KernelBug("iounmap", va, `${hexAddr(va)} is not an ioremap mapping`);
    if (m.owner !== inst.id)
      throw new KernelBug("iounmap", va, `mapping ${hexAddr(va)} belongs to ${this.kn.ownerName(m.owner)}`);
    for (let i = 0; i < m.pages; i++) {
      this.kn.space.unmap(va + i * PAGE_SIZE);
      this.kn.mmu.invlpg(va + i * PAGE_SIZE);
    }
    this.kn.vmalloc.free(va, "iounmap");
    this.iomaps.delete(va);
  }

  /** pci_resource_start / len / flags. */
  resource(pdev: number, bar: number, what: "start" | "len" | "flags"): number {
    const dev = this.device(pdev, `pci_resource_${what}`);
    return what === "start" ? dev.starts[bar] : what === "len" ? dev.lens[bar] : dev.flags[bar];
  }

  /** pci_read_config_word: *val = config[where]; 0, or -EINVAL for an odd offset. */
  readConfigWord(pdev: number, where: number, val: number): number {
    const dev = this.device(pdev, "pci_read_config_word");
    if ((where & 1) !== 0) return -EINVAL;
    this.kn.mmu.store16(val, this.kn.machine.bus.configRead(dev.fn.bdf, where, 2));
    return 0;
  }

  /** pci_set_drvdata (mirrored into pci_dev->driver_data). */
  setDrvdata(pdev: number, data: number): void {
    const dev = this.device(pdev, "pci_set_drvdata");
    dev.drvdata = data;
    this.kn.mmu.store64(pdev + PciDev.driverData, data);
  }

  /** pci_get_drvdata (the kernel's copy). */
  getDrvdata(pdev: number): number {
    return this.device(pdev, "pci_get_drvdata").drvdata;
  }

  /** pci_save_state: snapshot the 64-byte header. Returns 0. */
  saveState(pdev: number): number {
    const dev = this.device(pdev, "pci_save_state");
    const saved = new Uint32Array(SAVED_HEADER_BYTES / 4);
    for (let i = 0; i < saved.length; i++) saved[i] = this.kn.machine.bus.configRead(dev.fn.bdf, i * 4, 4);
    dev.saved = saved;
    return 0;
  }

  /** pci_restore_state: write the saved header back, highest dword first (as Linux); a warning without a save. */
  restoreState(pdev: number): void {
    const dev = this.device(pdev, "pci_restore_state");
    if (dev.saved === null) {
      this.kn.log.write("warn", dev.name, "pci_restore_state without pci_save_state");
      return;
    }
    for (let i = dev.saved.length - 1; i >= 1; i--)
      this.kn.machine.bus.configWrite(dev.fn.bdf, i * 4, 4, dev.saved[i]);
  }

  /** Devices whose IRQ is `irq` and that are bound to `inst`'s drivers (for ownership checks). */
  ownsIrq(inst: DriverInstance, irq: number): boolean {
    for (const d of this.devices.values()) if (d.driver?.owner === inst && d.fn.irq === irq) return true;
    return false;
  }

  /** Name used in dev_err lines. */
  devName(pdev: number): string {
    const dev = this.devices.get(pdev);
    return dev ? `${dev.driver?.name ?? "pci"} ${dev.name}` : `pci_dev ${hex(pdev)}`;
  }
}
