import FerryStorage
import Foundation
import Testing

@Suite struct CancellableSleepTests {
    @Test func sleepsForTheDuration() async {
        let clock = ContinuousClock()
        let elapsed = await clock.measure { await CancellableSleep.sleep(for: .milliseconds(150)) }
        #expect(elapsed >= .milliseconds(150))
        #expect(elapsed < .seconds(5))
    }

    @Test func returnsAtOnceWhenCancelled() async {
        let clock = ContinuousClock()
        let start = clock.now
        let sleeper = Task { await CancellableSleep.sleep(for: .seconds(60)) }
        try? await Task.sleep(for: .milliseconds(50))
        sleeper.cancel()
        await sleeper.value
        #expect(clock.now - start < .seconds(5))
    }

    @Test func returnsAtOnceWhenAlreadyCancelled() async {
        let clock = ContinuousClock()
        let elapsed = await clock.measure {
            let sleeper = Task {
                withUnsafeCurrentTask { $0?.cancel() }
                await CancellableSleep.sleep(for: .seconds(60))
            }
            await sleeper.value
        }
        #expect(elapsed < .seconds(5))
    }
}
