/**
 * Defaults, limits and per-packet costs of the UDP/IPv4 stack (src/net). Every one is an option
 * of `UdpStack`.
 */

/** The interface's static address, 10.0.0.1 (the task's test network 10.0.0.0/24). */
export const DEFAULT_LOCAL_IP = "10.0.0.1";
/** Prefix length of the interface's subnet: /24. */
export const DEFAULT_PREFIX_LEN = 24;
/** The link peer's address, 10.0.0.2 (net-nic's TrafficGenerator default source address). */
export const DEFAULT_PEER_IP = "10.0.0.2";
/** The link peer's MAC, 02:00:00:00:00:02 (net-nic's TrafficGenerator default source MAC). */
export const DEFAULT_PEER_MAC = "02:00:00:00:00:02";

/**
 * Receive buffer of a socket in bytes of skb truesize: Linux's net.core.rmem_default = 212992
 * (SK_RMEM_MAX, include/net/sock.h: 256 * (sizeof(struct sk_buff) + 256) rounded). A datagram
 * that would push the queue past it is dropped and counted (UDP RcvbufErrors).
 */
export const DEFAULT_RCVBUF = 212_992;
/** Smallest SO_RCVBUF Linux accepts: SOCK_MIN_RCVBUF = 2048 + sizeof(struct sk_buff) ~ 2304. */
export const MIN_RCVBUF = 2304;

/** First port of the ephemeral range an unbound socket gets on sendto: Linux ip_local_port_range 32768. */
export const EPHEMERAL_PORT_FIRST = 32768;
/** Last port of the ephemeral range: Linux ip_local_port_range 60999. */
export const EPHEMERAL_PORT_LAST = 60999;

/** Most open sockets of the stack (a bound on the socket table, like a small RLIMIT_NOFILE). */
export const MAX_SOCKETS = 1024;

/**
 * Per-packet costs of the stack, in cycles. There is no published per-function figure for a
 * simulated stack, so these are LABELLED ESTIMATES, chosen from an end-to-end bracket: a
 * single-threaded Linux UDP receiver on a 2 GHz Xeon handled a few hundred thousand 32-byte
 * datagrams per second with recvfrom (blog.cloudflare.com/how-to-receive-a-million-packets),
 * i.e. 2-3 us per packet for driver, stack, syscall and copy together. We attribute about
 * 0.5 us at 3 GHz to the protocol work alone (route/neighbour lookup and header build on
 * send, header validation and socket lookup/queueing on receive); the driver, the syscall
 * crossing, the copies and the checksum are charged separately by their own mechanics.
 */
export interface StackCosts {
  /** udp_sendmsg + ip_output + neigh_output up to dev_queue_xmit: 1500 cycles (estimate, see above). */
  readonly stackTxPerPacket: number;
  /** ip_rcv + udp_rcv + socket lookup + enqueue: 1500 cycles (estimate, see above). */
  readonly stackRxPerPacket: number;
  /** recvfrom's dequeue and skb free, apart from the copy: 300 cycles (estimate: a few cache lines and a free). */
  readonly stackRecvmsgPerPacket: number;
}

/** The default stack costs (estimates; see StackCosts). */
export const DEFAULT_STACK_COSTS: StackCosts = Object.freeze({
  stackTxPerPacket: 1500,
  stackRxPerPacket: 1500,
  stackRecvmsgPerPacket: 300,
});
