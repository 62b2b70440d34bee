import Synchronization

/// Runs work against a time limit and returns at the limit whether or not the work has finished. A task group
/// cannot do that: it waits for every child, so a child stuck in a call that ignores cancellation (a blocking
/// `getaddrinfo`, a peer that never answers) would hold the caller past its deadline. Here the work runs in an
/// unstructured task that is cancelled, not awaited, when time runs out; it must not act on the world once
/// cancelled (check `Task.isCancelled` before any side effect).
public enum Deadline {
    /// The work's result, or nil when `timeout` passed first or the caller was cancelled.
    public static func run<Value: Sendable>(
        within timeout: Duration, _ work: @escaping @Sendable () async -> Value
    ) async -> Value? {
        let race = Race<Value>()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                race.start(continuation: continuation, timeout: timeout, work: work)
            }
        } onCancel: {
            race.finish(with: nil)
        }
    }
}

/// One run of `Deadline.run`: whichever of the work, the timer and the caller's cancellation comes first resumes
/// the caller, exactly once, and cancels the other two.
private final class Race<Value: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<Value?, Never>?
        var finished = false
        var work: Task<Void, Never>?
        var timer: Task<Void, Never>?
    }

    private let state = Mutex(State())

    func start(
        continuation: CheckedContinuation<Value?, Never>, timeout: Duration,
        work: @escaping @Sendable () async -> Value
    ) {
        let alreadyFinished = state.withLock { state in
            if state.finished { return true }
            state.continuation = continuation
            return false
        }
        if alreadyFinished {
            continuation.resume(returning: nil)
            return
        }
        let workTask = Task { [self] in finish(with: await work()) }
        let timerTask = Task { [self] in
            await CancellableSleep.sleep(for: timeout)
            if !Task.isCancelled { finish(with: nil) }
        }
        let cancelNow = state.withLock { state in
            state.work = workTask
            state.timer = timerTask
            return state.finished
        }
        if cancelNow {
            workTask.cancel()
            timerTask.cancel()
        }
    }

    func finish(with value: Value?) {
        let (continuation, work, timer) = state.withLock {
            state -> (CheckedContinuation<Value?, Never>?, Task<Void, Never>?, Task<Void, Never>?) in
            if state.finished { return (nil, nil, nil) }
            state.finished = true
            defer { state.continuation = nil }
            return (state.continuation, state.work, state.timer)
        }
        work?.cancel()
        timer?.cancel()
        continuation?.resume(returning: value)
    }
}
