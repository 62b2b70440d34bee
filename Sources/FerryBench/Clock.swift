import Foundation

/// Wall-clock nanoseconds since 1970: the time base shared by the load generator (in each event's payload)
/// and the receiver (on arrival), both on the same machine.
public enum WallClock {
    public static func nanoseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
    }
}
