import Testing

@testable import Biscuit

/// Origins and trust as block sets: the bit mask for the first 63 blocks and the authorizer, the set for any
/// other block, and both together, against the same operations on `Set<Int>`.
@Suite struct OriginTests {
    static let samples: [Set<Int>] = [
        [], [0], [0, Origin.authorizer], [1, 2], [62], [63], [64, 0], [200, Origin.authorizer], [0, 1, 62, 63, 500],
        [Origin.authorizer],
    ]

    @Test func unionAndSubsetAgreeWithSetsOfBlockIDs() {
        for left in Self.samples {
            for right in Self.samples {
                let union = BlockSet(left).union(BlockSet(right))
                #expect(union == BlockSet(left.union(right)), "\(left) ∪ \(right)")
                #expect(
                    BlockSet(left).isSubset(of: BlockSet(right)) == left.isSubset(of: right), "\(left) ⊆ \(right)")
                #expect(
                    TrustedOrigins.defaults.accepts(Origin(left)) == left.isSubset(of: [0, Origin.authorizer]),
                    "\(left) trusted by default")
            }
        }
    }

    @Test func previousScopeTrustsEveryEarlierBlockBeyondTheMask() {
        let trust = TrustedOrigins.from([.previous], defaults: .defaults, block: 70, keyBlocks: [:])
        #expect(trust.accepts(Origin(Set(0...70))))
        #expect(trust.accepts(Origin([Origin.authorizer, 65])))
        #expect(!trust.accepts(Origin([71])))
    }

    @Test func threadCPUBudgetStillStopsALongRun() {
        var slow = try? Authorizer(
            """
            v(0); v(1); v(2); v(3); v(4); v(5); v(6); v(7); v(8); v(9); v(10); v(11); v(12); v(13); v(14); v(15);
            check if v($a), v($b), v($c), v($d), v($e), v($f), $a + $b + $c + $d + $e + $f < 0;
            allow if true;
            """)
        slow?.limits = RunLimits(maxFacts: 1000, maxIterations: 100, maxTime: .milliseconds(20), timeSource: .threadCPU)
        let started = ContinuousClock.now
        #expect(throws: BiscuitError(.runLimit(.timeout))) { try slow?.authorize() }
        #expect(ContinuousClock.now - started < .seconds(5))
    }
}
