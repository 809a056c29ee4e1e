/**
 * PCI and PCI Express register offsets and bits, with their spec names.
 *
 * Sources (see /work/shared/reference/hardware.md section 4): Linux
 * include/uapi/linux/pci_regs.h for header offsets, Command/Status bits, BAR encoding and
 * capability layouts; include/linux/pci-ecam.h for ECAM shifts; arch/x86/pci/direct.c for the
 * CF8/CFC mechanism. PM register bits follow the PCI Bus Power Management Interface Spec 1.2
 * as mirrored in pci_regs.h (PCI_PM_*).
 */

// ---- Configuration space sizes (pci_regs.h: PCI_CFG_SPACE_SIZE, PCI_CFG_SPACE_EXP_SIZE) ----
/** Conventional PCI configuration space per function. */
export const PCI_CFG_SPACE_SIZE = 0x100;
/** PCI Express configuration space per function. */
export const PCI_CFG_SPACE_EXP_SIZE = 0x1000;
/** First byte after the standardized type-0 header; capabilities are laid out from here. */
export const PCI_STD_HEADER_SIZEOF = 0x40;

// ---- Type-0 header offsets (hardware.md 4.2) ----
export const PCI_VENDOR_ID = 0x00;
export const PCI_DEVICE_ID = 0x02;
export const PCI_COMMAND = 0x04;
export const PCI_STATUS = 0x06;
export const PCI_REVISION_ID = 0x08;
/** Class code: prog-if at 0x09, subclass at 0x0A, base class at 0x0B. */
export const PCI_CLASS_PROG = 0x09;
export const PCI_CLASS_DEVICE = 0x0a;
export const PCI_CACHE_LINE_SIZE = 0x0c;
export const PCI_LATENCY_TIMER = 0x0d;
export const PCI_HEADER_TYPE = 0x0e;
export const PCI_BIST = 0x0f;
export const PCI_BASE_ADDRESS_0 = 0x10;
export const PCI_BASE_ADDRESS_5 = 0x24;
export const PCI_CARDBUS_CIS = 0x28;
export const PCI_SUBSYSTEM_VENDOR_ID = 0x2c;
export const PCI_SUBSYSTEM_ID = 0x2e;
export const PCI_ROM_ADDRESS = 0x30;
export const PCI_CAPABILITY_LIST = 0x34;
export const PCI_INTERRUPT_LINE = 0x3c;
export const PCI_INTERRUPT_PIN = 0x3d;
export const PCI_MIN_GNT = 0x3e;
export const PCI_MAX_LAT = 0x3f;
/** Number of BAR slots in a type-0 header. */
export const PCI_NUM_BARS = 6;

// ---- Header type (hardware.md 4.2) ----
export const PCI_HEADER_TYPE_NORMAL = 0x00;
export const PCI_HEADER_TYPE_BRIDGE = 0x01;
/** Header type bit 7: the device implements more than one function. */
export const PCI_HEADER_TYPE_MFD = 0x80;

// ---- Command register bits (hardware.md 4.3) ----
export const PCI_COMMAND_IO = 0x001;
export const PCI_COMMAND_MEMORY = 0x002;
export const PCI_COMMAND_MASTER = 0x004;
export const PCI_COMMAND_SPECIAL = 0x008;
export const PCI_COMMAND_INVALIDATE = 0x010;
export const PCI_COMMAND_VGA_PALETTE = 0x020;
export const PCI_COMMAND_PARITY = 0x040;
export const PCI_COMMAND_WAIT = 0x080;
export const PCI_COMMAND_SERR = 0x100;
export const PCI_COMMAND_FAST_BACK = 0x200;
export const PCI_COMMAND_INTX_DISABLE = 0x400;
/**
 * Command bits this model lets software write (as QEMU's pci.c: IO, MEMORY, MASTER,
 * INTX_DISABLE, plus PARITY and SERR). Special cycles, MWI, VGA snoop, stepping and fast
 * back-to-back are hardwired to 0, which the spec permits for functions without them.
 */
export const PCI_COMMAND_WRITABLE =
  PCI_COMMAND_IO |
  PCI_COMMAND_MEMORY |
  PCI_COMMAND_MASTER |
  PCI_COMMAND_PARITY |
  PCI_COMMAND_SERR |
  PCI_COMMAND_INTX_DISABLE;

// ---- Status register bits (hardware.md 4.3) ----
export const PCI_STATUS_INTERRUPT = 0x0008;
export const PCI_STATUS_CAP_LIST = 0x0010;
export const PCI_STATUS_66MHZ = 0x0020;
export const PCI_STATUS_FAST_BACK = 0x0080;
export const PCI_STATUS_PARITY = 0x0100;
export const PCI_STATUS_DEVSEL_MASK = 0x0600;
export const PCI_STATUS_SIG_TARGET_ABORT = 0x0800;
export const PCI_STATUS_REC_TARGET_ABORT = 0x1000;
export const PCI_STATUS_REC_MASTER_ABORT = 0x2000;
export const PCI_STATUS_SIG_SYSTEM_ERROR = 0x4000;
export const PCI_STATUS_DETECTED_PARITY = 0x8000;
/** Status error bits that are RW1C (write 1 to clear). */
export const PCI_STATUS_RW1C =
  PCI_STATUS_PARITY |
  PCI_STATUS_SIG_TARGET_ABORT |
  PCI_STATUS_REC_TARGET_ABORT |
  PCI_STATUS_REC_MASTER_ABORT |
  PCI_STATUS_SIG_SYSTEM_ERROR |
  PCI_STATUS_DETECTED_PARITY;

// ---- BAR encoding (hardware.md 4.4) ----
export const PCI_BASE_ADDRESS_SPACE_IO = 0x01;
export const PCI_BASE_ADDRESS_SPACE_MEMORY = 0x00;
export const PCI_BASE_ADDRESS_MEM_TYPE_32 = 0x00;
export const PCI_BASE_ADDRESS_MEM_TYPE_1M = 0x02;
export const PCI_BASE_ADDRESS_MEM_TYPE_64 = 0x04;
export const PCI_BASE_ADDRESS_MEM_TYPE_MASK = 0x06;
export const PCI_BASE_ADDRESS_MEM_PREFETCH = 0x08;
/** Address bits of a memory BAR (bits 31:4). */
export const PCI_BASE_ADDRESS_MEM_MASK = 0xfffffff0;
/** Address bits of an I/O BAR (bits 31:2). */
export const PCI_BASE_ADDRESS_IO_MASK = 0xfffffffc;
/** Expansion ROM: bit 0 enables decode; bits 31:11 hold the address. */
export const PCI_ROM_ADDRESS_ENABLE = 0x01;
export const PCI_ROM_ADDRESS_MASK = 0xfffff800;
/** Smallest BAR sizes the encoding allows: 16 bytes memory, 4 bytes I/O; ROM 2 KiB. */
export const PCI_MIN_MEM_BAR_SIZE = 0x10;
export const PCI_MIN_IO_BAR_SIZE = 0x4;
/** PCI Local Bus Spec 3.0 6.2.5.1: an I/O BAR may claim at most 256 bytes. */
export const PCI_MAX_IO_BAR_SIZE = 0x100;
export const PCI_MIN_ROM_SIZE = 0x800;

// ---- Capability IDs (hardware.md 4.5) ----
export const PCI_CAP_ID_PM = 0x01;
export const PCI_CAP_ID_MSI = 0x05;
export const PCI_CAP_ID_PCIX = 0x07;
export const PCI_CAP_ID_VNDR = 0x09;
export const PCI_CAP_ID_EXP = 0x10;
export const PCI_CAP_ID_MSIX = 0x11;
export const PCI_CAP_ID_AF = 0x13;
export const PCI_CAP_ID_EA = 0x14;
/** Capability header: ID at +0, next pointer at +1. */
export const PCI_CAP_LIST_ID = 0;
export const PCI_CAP_LIST_NEXT = 1;
/** First extended capability (PCIe) lives at 0x100; a zero header ends the list. */
export const PCI_EXT_CAP_START = 0x100;

// ---- Power management capability (pci_regs.h PCI_PM_*) ----
export const PCI_PM_PMC = 2;
export const PCI_PM_CTRL = 4;
export const PCI_PM_SIZEOF = 8;
/** PMC version field: 3 = PCI PM spec 1.2. */
export const PCI_PM_CAP_VER_1_2 = 0x0003;
export const PCI_PM_CTRL_STATE_MASK = 0x0003;
export const PCI_PM_CTRL_NO_SOFT_RESET = 0x0008;
export const PCI_PM_CTRL_PME_ENABLE = 0x0100;
export const PCI_PM_CTRL_PME_STATUS = 0x8000;
export const PCI_D0 = 0;
export const PCI_D1 = 1;
export const PCI_D2 = 2;
export const PCI_D3HOT = 3;

// ---- MSI capability (hardware.md 4.6) ----
export const PCI_MSI_FLAGS = 2;
export const PCI_MSI_FLAGS_ENABLE = 0x0001;
/** Multiple Message Capable, log2 of vectors, bits 3:1. */
export const PCI_MSI_FLAGS_QMASK = 0x000e;
/** Multiple Message Enable, log2 of vectors, bits 6:4. */
export const PCI_MSI_FLAGS_QSIZE = 0x0070;
export const PCI_MSI_FLAGS_64BIT = 0x0080;
export const PCI_MSI_FLAGS_MASKBIT = 0x0100;
export const PCI_MSI_ADDRESS_LO = 4;
export const PCI_MSI_ADDRESS_HI = 8;
export const PCI_MSI_DATA_32 = 8;
export const PCI_MSI_MASK_32 = 12;
export const PCI_MSI_PENDING_32 = 16;
export const PCI_MSI_DATA_64 = 12;
export const PCI_MSI_MASK_64 = 16;
export const PCI_MSI_PENDING_64 = 20;

// ---- MSI-X capability (hardware.md 4.7) ----
export const PCI_MSIX_FLAGS = 2;
export const PCI_MSIX_FLAGS_QSIZE = 0x07ff;
export const PCI_MSIX_FLAGS_MASKALL = 0x4000;
export const PCI_MSIX_FLAGS_ENABLE = 0x8000;
export const PCI_MSIX_TABLE = 4;
export const PCI_MSIX_PBA = 8;
export const PCI_MSIX_TABLE_BIR = 0x00000007;
export const PCI_MSIX_TABLE_OFFSET = 0xfffffff8;
export const PCI_CAP_MSIX_SIZEOF = 12;
/** MSI-X table entry: 16 bytes = address low, address high, data, vector control. */
export const PCI_MSIX_ENTRY_SIZE = 16;
export const PCI_MSIX_ENTRY_LOWER_ADDR = 0;
export const PCI_MSIX_ENTRY_UPPER_ADDR = 4;
export const PCI_MSIX_ENTRY_DATA = 8;
export const PCI_MSIX_ENTRY_VECTOR_CTRL = 12;
export const PCI_MSIX_ENTRY_CTRL_MASKBIT = 0x1;
/** The MSI-X spec allows at most 2048 table entries (Table Size is 11 bits). */
export const PCI_MSIX_MAX_ENTRIES = 2048;

// ---- PCI Express capability (hardware.md 4.8) ----
export const PCI_EXP_FLAGS = 2;
export const PCI_EXP_FLAGS_VERS_2 = 0x0002;
/** Device/port type field, bits 7:4; 0 = PCI Express endpoint. */
export const PCI_EXP_TYPE_ENDPOINT = 0x0;
export const PCI_EXP_DEVCAP = 4;
export const PCI_EXP_DEVCAP_FLR = 0x10000000;
export const PCI_EXP_DEVCTL = 8;
export const PCI_EXP_DEVCTL_CERE = 0x0001;
export const PCI_EXP_DEVCTL_NFERE = 0x0002;
export const PCI_EXP_DEVCTL_FERE = 0x0004;
export const PCI_EXP_DEVCTL_URRE = 0x0008;
export const PCI_EXP_DEVCTL_RELAX_EN = 0x0010;
export const PCI_EXP_DEVCTL_PAYLOAD = 0x00e0;
export const PCI_EXP_DEVCTL_EXT_TAG = 0x0100;
export const PCI_EXP_DEVCTL_NOSNOOP_EN = 0x0800;
export const PCI_EXP_DEVCTL_READRQ = 0x7000;
/** Max_Read_Request_Size encoding 2 = 512 bytes, the PCIe reset default. */
export const PCI_EXP_DEVCTL_READRQ_512B = 0x2000;
export const PCI_EXP_DEVCTL_BCR_FLR = 0x8000;
export const PCI_EXP_DEVSTA = 10;
/** Device Status error bits 3:0 (correctable, non-fatal, fatal, unsupported request) are RW1C. */
export const PCI_EXP_DEVSTA_ERRORS = 0x000f;
export const PCI_EXP_DEVSTA_TRPND = 0x0020;
export const PCI_EXP_LNKCAP = 12;
export const PCI_EXP_LNKCTL = 16;
export const PCI_EXP_LNKSTA = 18;
/** Link speed 1 = 2.5 GT/s (bits 3:0); width x1 (bits 9:4 = 1). */
export const PCI_EXP_LNK_SPEED_2_5GT = 0x0001;
export const PCI_EXP_LNK_WIDTH_X1 = 0x0010;
/** Link Control bits this model lets software write: ASPM control (1:0), RCB (3), CCC (6), ES (7). */
export const PCI_EXP_LNKCTL_WRITABLE = 0x00cb;
export const PCI_EXP_DEVCAP2 = 36;
export const PCI_EXP_DEVCTL2 = 40;
/** Size of a version-2 PCIe capability structure. */
export const PCI_CAP_EXP_ENDPOINT_SIZEOF_V2 = 0x3c;

// ---- Access mechanisms (hardware.md 4.1) ----
/** Legacy configuration mechanism #1: address port and data port. */
export const PCI_CONF1_ADDRESS_PORT = 0xcf8;
export const PCI_CONF1_DATA_PORT = 0xcfc;
/** CONFIG_ADDRESS bit 31 enables the configuration cycle. */
export const PCI_CONF1_ENABLE = 0x80000000;
export const PCI_CONF1_BUS_SHIFT = 16;
export const PCI_CONF1_DEV_SHIFT = 11;
export const PCI_CONF1_FN_SHIFT = 8;
export const PCI_CONF1_REG_MASK = 0xfc;
/** ECAM address = base + (bus << 20 | dev << 15 | fn << 12 | reg) (pci-ecam.h). */
export const PCIE_ECAM_BUS_SHIFT = 20;
export const PCIE_ECAM_DEV_SHIFT = 15;
export const PCIE_ECAM_FUN_SHIFT = 12;
export const PCIE_ECAM_REG_MASK = 0xfff;

// ---- Topology ----
export const PCI_MAX_BUSES = 256;
export const PCI_MAX_DEVICES = 32;
export const PCI_MAX_FUNCTIONS = 8;
/** Interrupt pin values: 0 = none, 1..4 = INTA..INTD. */
export const PCI_INTERRUPT_PIN_NONE = 0;
export const PCI_INTERRUPT_PIN_INTA = 1;
export const PCI_INTERRUPT_PIN_INTD = 4;
