import Testing

@testable import Biscuit

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Random blocks appended to a token, as anyone holding it can: whatever they hold, authorization must end (in
/// success, refusal, an execution error or a limit) without crashing and without overrunning its time limit by more
/// than a small factor. The overrun is measured in the authorizing thread's CPU time (authorization is synchronous),
/// which counts the work done whatever else the machine runs at the same time.
@Suite struct RandomBlockTests {
    /// Fixed, so that a failure names a block that can be generated again.
    static let seed: UInt64 = 0x5EED_B15C
    static let blocks = 200
    static let limits = RunLimits(maxFacts: 1000, maxIterations: 100, maxTime: .milliseconds(10))
    static let allowedOverrun = 5

    @Test func randomAppendedBlocksNeverCrashOrOverrunTheLimit() throws {
        let root = PrivateKey(generating: .ed25519)
        let authority = try Biscuit.build(rootKey: root, source: RandomBlockSource.authority)
        let authorizer = try Authorizer("allow if true;", limits: Self.limits)
        var source = RandomBlockSource(seed: Self.seed)
        var outcomes: [String: Int] = [:]
        for index in 0..<Self.blocks {
            let block = source.block()
            let token: Biscuit
            do {
                let appended = try authority.appending(source: block)
                token = try Biscuit(bytes: try appended.serialized(), rootKey: root.publicKey)
            } catch {
                Issue.record("block \(index) of seed \(Self.seed) does not build: \(error)\n\(block.prefix(300))")
                continue
            }
            let started = Self.threadCPUTime()
            let outcome: String
            do {
                _ = try authorizer.authorize(token)
                outcome = "allowed"
            } catch {
                outcome = "\(error.kind)"
            }
            let elapsed = Self.threadCPUTime() - started
            outcomes[outcome, default: 0] += 1
            #expect(
                elapsed < Self.limits.maxTime * Self.allowedOverrun,
                "block \(index) of seed \(Self.seed) took \(elapsed) of CPU (\(outcome)):\n\(block.prefix(300))")
        }
        // The blocks reached every ending, the time limit included.
        let timeouts = outcomes["\(BiscuitError.Kind.runLimit(.timeout))", default: 0]
        #expect(outcomes["allowed", default: 0] > 0 && timeouts > 0, "\(outcomes)")
        #expect(outcomes["\(BiscuitError.Kind.execution)", default: 0] > 0, "\(outcomes)")
    }

    /// CPU time the calling thread has used.
    static func threadCPUTime() -> Duration {
        var now = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
        return .seconds(now.tv_sec) + .nanoseconds(now.tv_nsec)
    }
}
