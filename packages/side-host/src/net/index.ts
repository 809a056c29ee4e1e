/** The UDP/IPv4 stack: public surface of src/net. */
export {
  DEFAULT_LOCAL_IP,
  DEFAULT_PEER_IP,
  DEFAULT_PEER_MAC,
  DEFAULT_PREFIX_LEN,
  DEFAULT_RCVBUF,
  DEFAULT_STACK_COSTS,
  EPHEMERAL_PORT_FIRST,
  EPHEMERAL_PORT_LAST,
  MAX_SOCKETS,
  MIN_RCVBUF,
  type StackCosts,
} from "./limits.js";
export { type StackCounters, UdpSocket, UdpStack, type UdpStackOptions, type UserAccess } from "./stack.js";
export { type Sleeper, WaitQueue } from "./wait.js";
