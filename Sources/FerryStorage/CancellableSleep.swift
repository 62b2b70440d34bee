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
