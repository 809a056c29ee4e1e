/** @side-kernel/driver-e1000: not built yet; see README.md. */
export const PACKAGE_STATUS = "planned" as const;
