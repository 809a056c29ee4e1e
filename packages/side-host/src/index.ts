/** @side-kernel/side-host: not built yet; see README.md. */
export const PACKAGE_STATUS = "planned" as const;
