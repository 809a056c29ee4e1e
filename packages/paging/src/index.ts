/** @side-kernel/paging: not built yet; see README.md. */
export const PACKAGE_STATUS = "planned" as const;
