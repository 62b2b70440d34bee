import LinearRegex

/// What evaluating a subschema against a value found: the first failure, or, when it passed, which of the value's
/// properties and items it evaluated (the annotations `unevaluatedProperties` and `unevaluatedItems` read).
struct Evaluation {
    var failure: ValidationFailure?
    var properties: Set<String> = []
    /// Items `0..<itemPrefix` were evaluated (by `prefixItems`), all of them when `allItems` (by `items` or
    /// `unevaluatedItems`), and those `contains` matched.
    var itemPrefix = 0
    var allItems = false
    var containedItems: Set<Int> = []

    static let passed = Evaluation()

    static func failed(_ failure: ValidationFailure) -> Evaluation {
        Evaluation(failure: failure)
    }

    var isValid: Bool { failure == nil }

    mutating func absorb(_ other: Evaluation) {
        properties.formUnion(other.properties)
        itemPrefix = max(itemPrefix, other.itemPrefix)
        allItems = allItems || other.allItems
        containedItems.formUnion(other.containedItems)
    }
}

/// Evaluates compiled nodes against an instance, counting evaluations against the schema's limit.
struct SchemaEvaluator {
    let nodes: [SchemaNode]
    let maxEvaluations: Int
    let patterns: PatternBudget
    private var evaluations = 0

    init(nodes: [SchemaNode], maxEvaluations: Int, patterns: PatternBudget) {
        self.nodes = nodes
        self.maxEvaluations = maxEvaluations
        self.patterns = patterns
    }

    mutating func evaluate(_ index: Int, _ instance: JSONInstance, at location: InstanceLocation) -> Evaluation {
        let node = nodes[index]
        evaluations += 1
        guard evaluations <= maxEvaluations else {
            return .failed(
                failure(
                    node, "", location,
                    "validating this value takes more than \(maxEvaluations) subschema evaluations"))
        }
        switch node.body {
        case .always(true):
            return .passed
        case .always(false):
            return .failed(failure(node, "", location, "no value is allowed here", keyword: "false"))
        case .keywords(let keywords):
            return evaluate(keywords, of: node, instance, at: location)
        }
    }

    private func failure(
        _ node: SchemaNode, _ path: String, _ location: InstanceLocation, _ message: String, keyword: String? = nil
    ) -> ValidationFailure {
        let name = keyword ?? String(path.split(separator: "/").first ?? "")
        return ValidationFailure(
            instanceLocation: location.pointer, keywordLocation: node.location + (path.isEmpty ? "" : "/" + path),
            keyword: name, message: message)
    }

    private mutating func evaluate(
        _ keywords: Keywords, of node: SchemaNode, _ instance: JSONInstance, at location: InstanceLocation
    ) -> Evaluation {
        var result = Evaluation()
        if let reference = keywords.reference {
            let referenced = evaluate(reference, instance, at: location)
            guard referenced.isValid else { return referenced }
            result.absorb(referenced)
        }
        if let failure = checkAssertions(keywords, of: node, instance, at: location) {
            return .failed(failure)
        }
        switch instance {
        case .array(let elements):
            if let failure = evaluateItems(keywords, of: node, elements, at: location, into: &result) {
                return .failed(failure)
            }
        case .object(let members):
            if let failure = evaluateProperties(keywords, of: node, members, at: location, into: &result) {
                return .failed(failure)
            }
        default:
            break
        }
        if let failure = evaluateApplicators(keywords, of: node, instance, at: location, into: &result) {
            return .failed(failure)
        }
        if let failure = evaluateUnevaluated(keywords, of: node, instance, at: location, into: &result) {
            return .failed(failure)
        }
        return result
    }

    // MARK: Assertions on the value itself

    private func checkAssertions(
        _ keywords: Keywords, of node: SchemaNode, _ instance: JSONInstance, at location: InstanceLocation
    ) -> ValidationFailure? {
        if let types = keywords.types {
            let name = instance.typeName
            let matches = types.contains(name) || (types.contains("integer") && instance.isInteger)
            if !matches {
                return failure(
                    node, "type", location, "\(name) is not of type \(types.sorted().joined(separator: " or "))")
            }
        }
        if let values = keywords.enumValues, !values.contains(instance) {
            return failure(node, "enum", location, "the value is not one of the enumerated values")
        }
        if let constant = keywords.constValue, constant != instance {
            return failure(node, "const", location, "the value is not the constant")
        }
        switch instance {
        case .number(let number):
            if let divisor = keywords.multipleOf {
                let quotient = number / divisor
                if !quotient.isFinite || quotient.rounded(.towardZero) != quotient {
                    return failure(
                        node, "multipleOf", location, "\(Self.text(number)) is not a multiple of \(Self.text(divisor))")
                }
            }
            if let bound = keywords.maximum, number > bound {
                return failure(node, "maximum", location, "\(Self.text(number)) is greater than \(Self.text(bound))")
            }
            if let bound = keywords.exclusiveMaximum, number >= bound {
                return failure(
                    node, "exclusiveMaximum", location, "\(Self.text(number)) is not less than \(Self.text(bound))")
            }
            if let bound = keywords.minimum, number < bound {
                return failure(node, "minimum", location, "\(Self.text(number)) is less than \(Self.text(bound))")
            }
            if let bound = keywords.exclusiveMinimum, number <= bound {
                return failure(
                    node, "exclusiveMinimum", location, "\(Self.text(number)) is not greater than \(Self.text(bound))")
            }
        case .string(let string):
            if keywords.maxLength != nil || keywords.minLength != nil {
                let length = string.unicodeScalars.count
                if let bound = keywords.maxLength, length > bound {
                    return failure(node, "maxLength", location, "the string is longer than \(bound) characters")
                }
                if let bound = keywords.minLength, length < bound {
                    return failure(node, "minLength", location, "the string is shorter than \(bound) characters")
                }
            }
            if let pattern = keywords.pattern {
                guard let matches = patterns.matches(pattern, string) else {
                    return failure(node, "pattern", location, patterns.exhaustedMessage)
                }
                if !matches {
                    return failure(node, "pattern", location, "the string does not match \(pattern.source)")
                }
            }
        case .array(let elements):
            if let bound = keywords.maxItems, elements.count > bound {
                return failure(node, "maxItems", location, "the array has more than \(bound) items")
            }
            if let bound = keywords.minItems, elements.count < bound {
                return failure(node, "minItems", location, "the array has fewer than \(bound) items")
            }
            if keywords.uniqueItems, Set(elements).count != elements.count {
                return failure(node, "uniqueItems", location, "the array's items are not unique")
            }
        case .object(let members):
            if let bound = keywords.maxProperties, members.count > bound {
                return failure(node, "maxProperties", location, "the object has more than \(bound) properties")
            }
            if let bound = keywords.minProperties, members.count < bound {
                return failure(node, "minProperties", location, "the object has fewer than \(bound) properties")
            }
            for name in keywords.required where members[name] == nil {
                return failure(node, "required", location, "the property \(name) is required")
            }
            for (property, required) in keywords.dependentRequired where members[property] != nil {
                for name in required where members[name] == nil {
                    return failure(
                        node, "dependentRequired/" + InstanceLocation.escape(property), location,
                        "the property \(name) is required when \(property) is present", keyword: "dependentRequired")
                }
            }
        default:
            break
        }
        return nil
    }

    // MARK: Applicators that descend

    private mutating func evaluateItems(
        _ keywords: Keywords, of node: SchemaNode, _ elements: [JSONInstance], at location: InstanceLocation,
        into result: inout Evaluation
    ) -> ValidationFailure? {
        let prefixCount = min(keywords.prefixItems.count, elements.count)
        for index in 0..<prefixCount {
            let evaluation = evaluate(keywords.prefixItems[index], elements[index], at: location.appending(index))
            if let failure = evaluation.failure { return failure }
        }
        result.itemPrefix = max(result.itemPrefix, prefixCount)
        if let items = keywords.items {
            for index in prefixCount..<elements.count {
                let evaluation = evaluate(items, elements[index], at: location.appending(index))
                if let failure = evaluation.failure { return failure }
            }
            result.allItems = true
        }
        if let contains = keywords.contains {
            var matched: Set<Int> = []
            for (index, element) in elements.enumerated()
            where evaluate(contains, element, at: location.appending(index)).isValid {
                matched.insert(index)
            }
            result.containedItems.formUnion(matched)
            if matched.count < keywords.minContains {
                return failure(
                    node, keywords.minContains == 1 ? "contains" : "minContains", location,
                    "fewer than \(keywords.minContains) items match contains")
            }
            if let bound = keywords.maxContains, matched.count > bound {
                return failure(node, "maxContains", location, "more than \(bound) items match contains")
            }
        }
        return nil
    }

    private mutating func evaluateProperties(
        _ keywords: Keywords, of node: SchemaNode, _ members: [String: JSONInstance], at location: InstanceLocation,
        into result: inout Evaluation
    ) -> ValidationFailure? {
        let names = members.keys.sorted()
        for name in names {
            guard let value = members[name] else { continue }
            var covered = false
            if let property = keywords.properties[name] {
                covered = true
                if let failure = evaluate(property, value, at: location.appending(name)).failure { return failure }
            }
            for (pattern, subschema) in keywords.patternProperties {
                guard let matches = patterns.matches(pattern, name) else {
                    return failure(node, "patternProperties", location, patterns.exhaustedMessage)
                }
                guard matches else { continue }
                covered = true
                if let failure = evaluate(subschema, value, at: location.appending(name)).failure { return failure }
            }
            if !covered, let additional = keywords.additionalProperties {
                covered = true
                if let failure = evaluate(additional, value, at: location.appending(name)).failure { return failure }
            }
            if covered { result.properties.insert(name) }
            if let propertyNames = keywords.propertyNames {
                var evaluation = evaluate(propertyNames, .string(name), at: location)
                if var failure = evaluation.failure {
                    failure.message = "the property name \(name): " + failure.message
                    evaluation.failure = failure
                    return failure
                }
            }
        }
        return nil
    }

    // MARK: Applicators in place

    private mutating func evaluateApplicators(
        _ keywords: Keywords, of node: SchemaNode, _ instance: JSONInstance, at location: InstanceLocation,
        into result: inout Evaluation
    ) -> ValidationFailure? {
        for subschema in keywords.allOf {
            let evaluation = evaluate(subschema, instance, at: location)
            guard evaluation.isValid else { return evaluation.failure }
            result.absorb(evaluation)
        }
        if let branches = keywords.anyOf {
            var anyPassed = false
            for branch in branches {
                let evaluation = evaluate(branch, instance, at: location)
                if evaluation.isValid {
                    anyPassed = true
                    result.absorb(evaluation)
                }
            }
            if !anyPassed { return failure(node, "anyOf", location, "the value matches none of anyOf's schemas") }
        }
        if let branches = keywords.oneOf {
            var passed: [Evaluation] = []
            for branch in branches {
                let evaluation = evaluate(branch, instance, at: location)
                if evaluation.isValid { passed.append(evaluation) }
            }
            guard passed.count == 1 else {
                return failure(
                    node, "oneOf", location,
                    passed.isEmpty
                        ? "the value matches none of oneOf's schemas"
                        : "the value matches \(passed.count) of oneOf's schemas, not exactly one")
            }
            result.absorb(passed[0])
        }
        if let negated = keywords.not, evaluate(negated, instance, at: location).isValid {
            return failure(node, "not", location, "the value matches the schema of not")
        }
        if let condition = keywords.ifSchema {
            let evaluation = evaluate(condition, instance, at: location)
            if evaluation.isValid {
                result.absorb(evaluation)
                if let then = keywords.thenSchema {
                    let outcome = evaluate(then, instance, at: location)
                    guard outcome.isValid else { return outcome.failure }
                    result.absorb(outcome)
                }
            } else if let otherwise = keywords.elseSchema {
                let outcome = evaluate(otherwise, instance, at: location)
                guard outcome.isValid else { return outcome.failure }
                result.absorb(outcome)
            }
        }
        if case .object(let members) = instance {
            for (property, subschema) in keywords.dependentSchemas where members[property] != nil {
                let evaluation = evaluate(subschema, instance, at: location)
                guard evaluation.isValid else { return evaluation.failure }
                result.absorb(evaluation)
            }
        }
        return nil
    }

    /// `unevaluatedItems` and `unevaluatedProperties`, after everything else of the schema (and of the schemas
    /// it applied in place) said what it evaluated.
    private mutating func evaluateUnevaluated(
        _ keywords: Keywords, of node: SchemaNode, _ instance: JSONInstance, at location: InstanceLocation,
        into result: inout Evaluation
    ) -> ValidationFailure? {
        switch instance {
        case .array(let elements):
            guard let unevaluated = keywords.unevaluatedItems, !result.allItems else { return nil }
            for index in result.itemPrefix..<max(result.itemPrefix, elements.count)
            where !result.containedItems.contains(index) {
                if let failure = evaluate(unevaluated, elements[index], at: location.appending(index)).failure {
                    return failure
                }
            }
            result.allItems = true
        case .object(let members):
            guard let unevaluated = keywords.unevaluatedProperties else { return nil }
            for name in members.keys.sorted() where !result.properties.contains(name) {
                guard let value = members[name] else { continue }
                if let failure = evaluate(unevaluated, value, at: location.appending(name)).failure { return failure }
                result.properties.insert(name)
            }
        default:
            break
        }
        return nil
    }

    /// A number as a message shows it: integers without a fractional part.
    static func text(_ number: Double) -> String {
        if number.rounded(.towardZero) == number, abs(number) < 1e15 { return String(Int64(number)) }
        return String(number)
    }
}

/// The regular-expression steps one validation may still take (`Schema.Limits.maxPatternSteps`), shared by all
/// its patterns.
final class PatternBudget {
    private struct Exhausted: Error {}

    let limit: Int
    private var used = 0

    init(limit: Int) {
        self.limit = limit
    }

    var exhaustedMessage: String { "matching the patterns takes more than \(limit) steps on this value" }

    /// Whether the pattern matches somewhere in `text`; nil when the budget ran out first.
    func matches(_ pattern: CompiledPattern, _ text: String) -> Bool? {
        guard used <= limit else { return nil }
        do {
            return try pattern.regex.matches(in: text) { () throws(Exhausted) in
                self.used += LinearRegex.stepsPerCheck
                if self.used > self.limit { throw Exhausted() }
            }
        } catch {
            return nil
        }
    }
}
