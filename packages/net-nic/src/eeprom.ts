/**
 * The 82540EM's 64-word Microwire EEPROM: its image and the bit-bang state machine behind EECD
 * (hardware.md 5.8; QEMU e1000_eeprom_template, set_eecd/get_eecd).
 */
import {
  EECD_CS,
  EECD_DI,
  EECD_DO,
  EECD_GNT,
  EECD_LATCHED,
  EECD_PRES,
  EECD_REQ,
  EECD_SK,
  EEPROM_ADDR_BITS,
  EEPROM_CHECKSUM_WORD,
  EEPROM_OPCODE_BITS,
  EEPROM_READ_OPCODE,
  EEPROM_SUM,
  EEPROM_WORDS,
} from "./regs.js";

/** QEMU's EEPROM template (words 0-2 get the MAC, 11/13 the device ID, 0x3F the checksum). */
const EEPROM_TEMPLATE: readonly number[] = [
  0x0000, 0x0000, 0x0000, 0x0000, 0xffff, 0x0000, 0x0000, 0x0000, 0x3000, 0x1000, 0x6403, 0x100e, 0x8086,
  0x100e, 0x8086, 0x3040, 0x0008, 0x2000, 0x7e14, 0x0048, 0x1000, 0x00d8, 0x0000, 0x2700, 0x6cc9, 0x3150,
  0x0722, 0x040b, 0x0984, 0x0000, 0xc000, 0x0706, 0x1008, 0x0000, 0x0f04, 0x7fff, 0x4d01, 0xffff, 0xffff,
  0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0x0100, 0x4000, 0x121c, 0xffff,
  0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0x0000,
];
/** Word indexes that hold the device ID (11, 13) per QEMU e1000x_core_prepare_eeprom. */
const EEPROM_DEVICE_ID_WORDS = [11, 13];
/** Number of bits software shifts in before data comes out: opcode + address. */
const EEPROM_COMMAND_BITS = EEPROM_OPCODE_BITS + EEPROM_ADDR_BITS;
const EEPROM_ADDR_MASK = (1 << EEPROM_ADDR_BITS) - 1;
const WORD_BITS = 16;

/**
 * Build the EEPROM image for `mac` (6 bytes) and `deviceId`: QEMU's template, MAC in words 0-2
 * (byte 0 in the low byte of word 0), device ID in words 11 and 13, and word 0x3F chosen so that
 * the 16-bit sum of all words is 0xBABA. Throws a RangeError when `mac` is not 6 bytes.
 */
export function buildEepromImage(mac: Uint8Array, deviceId: number): Uint16Array {
  if (mac.length !== 6) throw new RangeError(`EEPROM image: MAC must be 6 bytes, got ${mac.length}`);
  const words = new Uint16Array(EEPROM_WORDS);
  for (let i = 0; i < EEPROM_WORDS; i++) words[i] = EEPROM_TEMPLATE[i];
  for (let i = 0; i < 3; i++) words[i] = mac[2 * i] | (mac[2 * i + 1] << 8);
  for (const w of EEPROM_DEVICE_ID_WORDS) words[w] = deviceId;
  let sum = 0;
  for (let i = 0; i < EEPROM_CHECKSUM_WORD; i++) sum = (sum + words[i]) & 0xffff;
  words[EEPROM_CHECKSUM_WORD] = (EEPROM_SUM - sum) & 0xffff;
  return words;
}

/** The Microwire FSM state (JSON-able for snapshots). */
export interface MicrowireState {
  latched: number;
  bitnumIn: number;
  bitnumOut: number;
  valIn: number;
  reading: boolean;
}

/**
 * Microwire EEPROM bit-bang interface. Software drives SK/CS/DI through EECD writes and reads DO:
 * CS rising edge resets; each SK rising edge shifts DI in; after opcode + 6 address bits, a READ
 * opcode (110b) starts output at address * 16; SK falling edges advance the output bit, MSB first.
 * GNT follows REQ (real 82540 arbitration; QEMU always grants), PRES is always set.
 */
export class MicrowireEeprom {
  /** The 64 data words. */
  readonly words: Uint16Array;
  private latched = 0;
  private bitnumIn = 0;
  private bitnumOut = 0;
  private valIn = 0;
  private reading = false;

  /** Wrap an EEPROM image (not copied). */
  constructor(words: Uint16Array) {
    this.words = words;
  }

  /** Return the bus interface to idle (device reset); the data words are kept. */
  reset(): void {
    this.latched = 0;
    this.bitnumIn = 0;
    this.bitnumOut = 0;
    this.valIn = 0;
    this.reading = false;
  }

  /** Handle a write of `value` to EECD. Never throws. */
  write(value: number): void {
    const old = this.latched;
    this.latched = value & EECD_LATCHED;
    if ((value & EECD_CS) === 0) return;
    if ((value ^ old) & EECD_CS) {
      this.valIn = 0;
      this.bitnumIn = 0;
      this.bitnumOut = 0;
      this.reading = false;
    }
    if (((value ^ old) & EECD_SK) === 0) return;
    if ((value & EECD_SK) === 0) {
      this.bitnumOut++;
      return;
    }
    this.valIn = ((this.valIn << 1) | (value & EECD_DI ? 1 : 0)) & 0xffff;
    if (++this.bitnumIn === EEPROM_COMMAND_BITS && !this.reading) {
      this.bitnumOut = (this.valIn & EEPROM_ADDR_MASK) * WORD_BITS - 1;
      this.reading = ((this.valIn >> EEPROM_ADDR_BITS) & 7) === EEPROM_READ_OPCODE;
    }
  }

  /** The value an EECD read returns: latched bits, PRES, GNT if REQ, and DO. */
  read(): number {
    let v = this.latched | EECD_PRES;
    if (v & EECD_REQ) v |= EECD_GNT;
    if (!this.reading) return v | EECD_DO;
    const word = this.words[(this.bitnumOut >> 4) & EEPROM_ADDR_MASK];
    if ((word >> ((this.bitnumOut & 0xf) ^ 0xf)) & 1) v |= EECD_DO;
    return v;
  }

  /** The FSM state as a plain object. */
  snapshot(): MicrowireState {
    return {
      latched: this.latched,
      bitnumIn: this.bitnumIn,
      bitnumOut: this.bitnumOut,
      valIn: this.valIn,
      reading: this.reading,
    };
  }

  /** Restore the FSM state from `snapshot()` output. */
  restore(s: MicrowireState): void {
    this.latched = s.latched;
    this.bitnumIn = s.bitnumIn;
    this.bitnumOut = s.bitnumOut;
    this.valIn = s.valIn;
    this.reading = s.reading;
  }
}
