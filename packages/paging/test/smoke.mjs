import * as paging from "@side-kernel/paging";

if (paging.PACKAGE_STATUS !== "planned") throw new Error("bad");
console.log("paging ok");
