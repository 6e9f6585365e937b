/// `--scanners auto`: one worker per core the sidecar may use. In a container that is the CPU
/// quota of its cgroup (`cpu.max`, cgroup v2), not the host's core count: a sidecar limited to one
/// core of a 64-core host gains nothing from 64 workers but their memory.
public enum AutomaticScannerCount {
    /// - Parameters:
    ///   - coreCount: the cores the process sees.
    ///   - cpuMax: the contents of `/sys/fs/cgroup/cpu.max` (`"max 100000"` or `"200000 100000"`),
    ///     or nil when there is none.
    public static func count(coreCount: Int, cpuMax: String?) -> Int {
        let cores = max(1, coreCount)
        guard let cpuMax else { return cores }
        let fields = cpuMax.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard fields.count == 2, let quota = Int(fields[0]), let period = Int(fields[1]), quota > 0, period > 0 else {
            return cores
        }
        // A quota of 1.5 cores still runs two workers' scans in parallel part of the time.
        let quotaCores = (quota + period - 1) / period
        return max(1, min(cores, quotaCores))
    }
}
