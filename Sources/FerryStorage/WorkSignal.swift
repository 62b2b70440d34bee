import Synchronization

/// Wakes waiting delivery workers when new work may be due; a signal that arrives while nobody waits is kept
/// for the next waiter, so no wake-up is lost between a worker's empty claim and its wait.
public final class WorkSignal: Sendable {
    private struct State {
        var generation = 0
        var pending = false
        var nextWaiterID = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var cancelledBeforeWaiting: Set<Int> = []
    }

    private let state = Mutex(State())

    public init() {}

    /// How many times new work was announced (`signal()`); a worker that found nothing to claim compares it
    /// later to learn whether work may have come since.
    public var generation: Int { state.withLock { $0.generation } }

    /// Announces that new work may be due: wakes every waiter, or remembers the signal for the next one.
    public func signal() {
        wake(announcingWork: true)
    }

    /// Wakes every waiter (or the next one) without announcing new work: a worker's own delivery finished and
    /// freed a slot.
    public func wake() {
        wake(announcingWork: false)
    }

    private func wake(announcingWork: Bool) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            if announcingWork { state.generation += 1 }
            if state.waiters.isEmpty {
                state.pending = true
                return []
            }
            let waiters = Array(state.waiters.values)
            state.waiters = [:]
            return waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Waits for a signal (returning at once if one is pending) or until `timeout` passes.
    public func wait(timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.wait() }
            group.addTask { await CancellableSleep.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }

    /// Waits for a signal; returns early if the task is cancelled.
    public func wait() async {
        let id = state.withLock { state -> Int in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.pending {
                        state.pending = false
                        return true
                    }
                    if state.cancelledBeforeWaiting.remove(id) != nil { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                if let waiter = state.waiters.removeValue(forKey: id) { return waiter }
                state.cancelledBeforeWaiting.insert(id)
                return nil
            }
            waiter?.resume()
        }
    }
}
