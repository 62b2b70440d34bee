import NIOCore
import NIOPosix

/// Sleeping that lets go of its timer as soon as it is cancelled. A cancelled `Task.sleep` keeps its timer, and
/// the task behind it, until the original deadline; Ferry's timeouts (request bodies, deliveries, DNS, idle
/// waits) last seconds and are nearly always cancelled early, so under load thousands of dead timers piled up.
/// These timers run on NIO's shared event loops, where cancelling one removes it.
public enum CancellableSleep {
    /// Returns after `duration`, or at once when the calling task is (or already was) cancelled.
    public static func sleep(for duration: Duration) async {
        let (seconds, attoseconds) = duration.components
        let nanoseconds =
            max(0, min(seconds, Int64.max / 1_000_000_000 - 1)) * 1_000_000_000
            + max(0, attoseconds / 1_000_000_000)
        let scheduled = MultiThreadedEventLoopGroup.singleton.any().scheduleTask(in: .nanoseconds(nanoseconds)) {}
        await withTaskCancellationHandler {
            _ = try? await scheduled.futureResult.get()
        } onCancel: {
            scheduled.cancel()
        }
    }
}

/// Runs `operation` for at most `limit`: its result, or `nil` when the limit came first (the operation is then
/// cancelled, and this returns once it has stopped).
public func withTimeLimit<T: Sendable>(_ limit: Duration, _ operation: @escaping @Sendable () async -> T) async -> T? {
    await withTaskGroup(of: T?.self) { group in
        group.addTask { await operation() }
        group.addTask {
            await CancellableSleep.sleep(for: limit)
            return nil
        }
        let first = await group.next() ?? nil
        group.cancelAll()
        return first
    }
}
