import Biscuit
import Foundation

/// `biscuit-interop`: drives the Swift Biscuit library from other processes (the Python interop and differential
/// tests). Reads one JSON request per line on stdin, answers one JSON object per line on stdout.
///
/// Requests: `{"op": "keypair", "algorithm": "ed25519"}`, `{"op": "build", "root_private": …, "source": …,
/// "root_key_id": n?, "next_algorithm": …?}`, `{"op": "append", "token": …, "source": …}`, `{"op": "seal",
/// "token": …}`, `{"op": "append_third_party", "token": …, "third_private": …, "source": …}`, `{"op":
/// "authorize", "token": …?, "root_public": …?, "authorizer": …, "max_facts": n?, "max_iterations": n?,
/// "max_time_ms": n?}`, `{"op": "inspect", "token": …, "root_public": …}`, `{"op": "time_authorize", "token": …,
/// "root_public": …, "authorizer": …, "iterations": n}`. Every answer has `"ok": true` or
/// `"ok": false, "error": kind, "message": …`.
struct InteropTool {
    func handle(_ request: [String: Any]) throws -> [String: Any] {
        switch request["op"] as? String {
        case "keypair":
            let algorithm: Algorithm = request["algorithm"] as? String == "secp256r1" ? .secp256r1 : .ed25519
            let key = PrivateKey(generating: algorithm)
            return ["private": key.secretText, "public": key.publicKey.description]
        case "build":
            let root = try PrivateKey(string(request, "root_private"))
            let token = try Biscuit.build(
                rootKey: root, source: string(request, "source"),
                rootKeyID: (request["root_key_id"] as? Int).map(UInt32.init),
                nextKeyAlgorithm: algorithm(request["next_algorithm"]))
            return ["token": try token.base64()]
        case "append":
            let token = try UnverifiedBiscuit(base64: string(request, "token"))
            return ["token": try token.appending(source: string(request, "source")).base64()]
        case "seal":
            let token = try Biscuit(
                base64: string(request, "token"), rootKey: try PublicKey(string(request, "root_public")))
            return ["token": try token.sealed().base64()]
        case "append_third_party":
            let token = try Biscuit(
                base64: string(request, "token"), rootKey: try PublicKey(string(request, "root_public")))
            let third = try PrivateKey(string(request, "third_private"))
            let block = try token.thirdPartyRequest().createBlock(signingKey: third, source: string(request, "source"))
            return ["token": try token.appending(block).base64()]
        case "authorize":
            return try authorize(request)
        case "time_authorize":
            return try timeAuthorize(request)
        case "inspect":
            let token = try Biscuit(
                base64: string(request, "token"), rootKey: try PublicKey(string(request, "root_public")))
            return [
                "revocation_ids": token.revocationIDs, "blocks": token.blocks.map(\.content.description),
                "sealed": token.isSealed, "external_keys": token.blocks.map { $0.externalKey?.description ?? "" },
            ]
        default:
            throw BiscuitError(.format, "unknown op")
        }
    }

    private func authorize(_ request: [String: Any]) throws -> [String: Any] {
        var limits = RunLimits(maxTime: .seconds(5))
        if let facts = request["max_facts"] as? Int { limits.maxFacts = facts }
        if let iterations = request["max_iterations"] as? Int { limits.maxIterations = iterations }
        if let milliseconds = request["max_time_ms"] as? Int { limits.maxTime = .milliseconds(milliseconds) }
        let authorizer = try Authorizer(string(request, "authorizer"), limits: limits)
        var answer: [String: Any] = [:]
        do {
            let result: Authorization
            if let text = request["token"] as? String {
                let token = try Biscuit(base64: text, rootKey: try PublicKey(string(request, "root_public")))
                answer["revocation_ids"] = token.revocationIDs
                result = try authorizer.authorize(token)
            } else {
                result = try authorizer.authorize()
            }
            answer["outcome"] = "allow:\(result.policyIndex)"
        } catch let error as BiscuitError {
            answer["outcome"] = Self.outcome(error)
            answer["message"] = error.message
        }
        return answer
    }

    /// Parses, verifies and authorizes the token `iterations` times; answers the mean time in microseconds.
    private func timeAuthorize(_ request: [String: Any]) throws -> [String: Any] {
        let text = try string(request, "token")
        let root = try PublicKey(string(request, "root_public"))
        let authorizer = try Authorizer(string(request, "authorizer"), limits: RunLimits(maxTime: .seconds(1)))
        let iterations = request["iterations"] as? Int ?? 1000
        var policy = -1
        let started = ContinuousClock.now
        for _ in 0..<iterations {
            policy = try authorizer.authorize(try Biscuit(base64: text, rootKey: root)).policyIndex
        }
        let elapsed = ContinuousClock.now - started
        let microseconds = Double(elapsed.components.seconds) * 1e6 + Double(elapsed.components.attoseconds) / 1e12
        return ["microseconds": microseconds / Double(iterations), "policy": policy]
    }

    /// The outcome in the form the tests compare: `allow:N`, `refused:<policy>;<checks>`, or `error:<kind>`.
    static func outcome(_ error: BiscuitError) -> String {
        switch error.kind {
        case .unauthorized:
            guard let failure = error.authorization else { return "refused" }
            let policy =
                switch failure.matchedPolicy {
                case .allow(let index)?: "allow:\(index)"
                case .deny(let index)?: "deny:\(index)"
                case nil: "none"
                }
            let checks = failure.failedChecks.map { "\($0.block.map(String.init) ?? "authorizer"):\($0.index)" }
            return "refused:\(policy);" + checks.joined(separator: ",")
        case .execution: return "error:execution"
        case .runLimit: return "error:limit"
        default: return "error:\(error.kind)"
        }
    }

    private func string(_ request: [String: Any], _ key: String) throws -> String {
        guard let value = request[key] as? String else { throw BiscuitError(.format, "missing \(key)") }
        return value
    }

    private func algorithm(_ value: Any?) -> Algorithm {
        value as? String == "secp256r1" ? .secp256r1 : .ed25519
    }
}

let tool = InteropTool()
while let line = readLine(strippingNewline: true) {
    var answer: [String: Any]
    do {
        guard let request = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw BiscuitError(.format, "not a JSON object")
        }
        answer = try tool.handle(request)
        answer["ok"] = true
    } catch let error as BiscuitError {
        answer = ["ok": false, "error": "\(error.kind)", "message": error.message]
    } catch {
        answer = ["ok": false, "error": "other", "message": "\(error)"]
    }
    let data = (try? JSONSerialization.data(withJSONObject: answer, options: [.sortedKeys])) ?? Data("{}".utf8)
    FileHandle.standardOutput.write(data + Data("\n".utf8))
}
