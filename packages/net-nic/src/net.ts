/**
 * The seam between a NIC (or any traffic peer) and the wire, after QEMU's NetClientInfo: a client
 * answers `canReceive`, takes frames with `receive`, hears `linkStatusChanged`, and sends through
 * the `NetBackend` a link hands it. Frames are Ethernet frames without FCS.
 */

/** What a client sends through: the near end of a link. */
export interface NetBackend {
  /**
   * Send `length` bytes of `frame` (no FCS) onto the wire. The backend copies what it keeps, so
   * the caller may reuse `frame` at once. Never throws.
   */
  send(frame: Uint8Array, length: number): void;
  /**
   * The wire's speed in bit/s, for a sender that paces itself (the E1000's TX FIFO drains at this
   * rate). Optional: a backend without it is taken as 1 Gbit/s, the 82540EM's STATUS speed.
   */
  readonly bitsPerSecond?: number;
}

/** A NIC or traffic peer attached to a link. */
export interface NetClient {
  /** Whether the client takes frames off the wire at all now (link up, receiver enabled). */
  canReceive(): boolean;
  /**
   * A frame arrives: `length` bytes of `frame` (no FCS), valid only during the call. Returns true
   * if the client consumed it (accepted or deliberately dropped), false if it refused it.
   */
  receive(frame: Uint8Array, length: number): boolean;
  /** The far end came up (true) or went away (false). */
  linkStatusChanged(up: boolean): void;
  /** The link hands the client its backend (null when disconnected). */
  attachBackend(backend: NetBackend | null): void;
}
