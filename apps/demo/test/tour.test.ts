import { describe, expect, it } from "vitest";
import { flipPointer } from "../src/commands/tour.js";

describe("tour: a flipped driver pointer", () => {
  it("kills the kernel when the driver runs natively", () => {
    expect(flipPointer("native")).toMatch(
      /-> 0xffff8980[0-9a-f]{8}: the kernel dies: .*Oops in e1000:e1000_xmit_frame at ring 0: #PF .*supervisor write/,
    );
  });

  it("is contained when the driver runs isolated: driver stopped, kernel intact and running", () => {
    expect(flipPointer("isolated")).toMatch(
      /-> 0xffffd100[0-9a-f]{8}: page-fault in e1000_xmit_frame \(user write .*\); driver stopped, kernel intact and still running$/,
    );
  });
});
