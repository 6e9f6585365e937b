import Testing

@testable import Frontend

/// `--scanners auto` follows the container's CPU quota, not the host's cores.
@Suite("automatic scanner count")
struct AutomaticScannerCountTests {
    @Test func followsTheCgroupQuota() {
        #expect(AutomaticScannerCount.count(coreCount: 64, cpuMax: "100000 100000\n") == 1)
        #expect(AutomaticScannerCount.count(coreCount: 64, cpuMax: "150000 100000") == 2, "a part core counts")
        #expect(AutomaticScannerCount.count(coreCount: 2, cpuMax: "800000 100000") == 2, "never more than the cores")
        #expect(AutomaticScannerCount.count(coreCount: 8, cpuMax: "max 100000") == 8, "no quota")
        #expect(AutomaticScannerCount.count(coreCount: 8, cpuMax: nil) == 8, "no cgroup v2")
        #expect(AutomaticScannerCount.count(coreCount: 8, cpuMax: "garbage") == 8)
        #expect(AutomaticScannerCount.count(coreCount: 0, cpuMax: nil) == 1)
    }
}
