import LinearRegex

/// One compiled subschema: a boolean schema or the keywords of an object schema, and where it is in the document.
struct SchemaNode: Sendable {
    enum Body: Sendable {
        case always(Bool)
        case keywords(Keywords)
    }

    var body: Body
    /// The JSON Pointer of the subschema in the document.
    var location: String
}

/// A compiled `pattern`, with its source for messages.
struct CompiledPattern: Sendable {
    let source: String
    let regex: LinearRegex
}

/// The keywords of one object schema that Ferry evaluates; the indices name other nodes of the same schema.
struct Keywords: Sendable {
    var reference: Int?
    var types: Set<String>?
    var enumValues: [JSONInstance]?
    var constValue: JSONInstance?
    var multipleOf: Double?
    var maximum: Double?
    var exclusiveMaximum: Double?
    var minimum: Double?
    var exclusiveMinimum: Double?
    var maxLength: Int?
    var minLength: Int?
    var pattern: CompiledPattern?
    var prefixItems: [Int] = []
    var items: Int?
    var contains: Int?
    var minContains = 1
    var maxContains: Int?
    var maxItems: Int?
    var minItems: Int?
    var uniqueItems = false
    var properties: [String: Int] = [:]
    var patternProperties: [(pattern: CompiledPattern, node: Int)] = []
    var additionalProperties: Int?
    var propertyNames: Int?
    var required: [String] = []
    var dependentRequired: [(property: String, required: [String])] = []
    var dependentSchemas: [(property: String, node: Int)] = []
    var maxProperties: Int?
    var minProperties: Int?
    var allOf: [Int] = []
    var anyOf: [Int]?
    var oneOf: [Int]?
    var not: Int?
    var ifSchema: Int?
    var thenSchema: Int?
    var elseSchema: Int?
    var unevaluatedItems: Int?
    var unevaluatedProperties: Int?

    /// The subschemas applied to the same instance as this one (where a loop would never end).
    var inPlace: [Int] {
        var nodes = allOf + (anyOf ?? []) + (oneOf ?? []) + dependentSchemas.map(\.node)
        for node in [reference, not, ifSchema, thenSchema, elseSchema] { if let node { nodes.append(node) } }
        return nodes
    }
}

/// Turns a schema document into `SchemaNode`s: checks every keyword's value against the 2020-12 meta-schema's
/// rules, compiles patterns, and resolves `$ref`s once the whole document is known.
struct SchemaCompiler {
    static let draft = "https://json-schema.org/draft/2020-12/schema"
    static let typeNames: Set<String> = ["null", "boolean", "object", "array", "number", "string", "integer"]

    let limits: Schema.Limits
    private(set) var nodes: [SchemaNode] = []
    /// Nodes already compiled, by their document pointer (a `$ref` may point to any of them).
    private var nodeAtPointer: [String: Int] = [:]
    /// Schema resources by absolute URI (`$id`), and anchors by resource URI + "#" + name: document pointers.
    private var resources: [String: String] = [:]
    private var anchors: [String: String] = [:]
    private var pendingReferences: [(node: Int, reference: String, base: String, location: String)] = []
    private var document: JSONInstance = .null

    init(limits: Limits) {
        self.limits = limits
    }

    typealias Limits = Schema.Limits

    mutating func compile(_ document: JSONInstance) throws(SchemaError) -> Int {
        self.document = document
        if case .object(let members) = document, let declared = members["$schema"] {
            guard case .string(let uri) = declared, uri == Self.draft || uri == Self.draft + "#" else {
                throw SchemaError(location: "/$schema", reason: "only draft 2020-12 (\(Self.draft)) is supported")
            }
        }
        let root = try compileSubschema(document, at: "", base: "", depth: 0)
        var index = 0
        while index < pendingReferences.count {
            let pending = pendingReferences[index]
            index += 1
            let target = try resolve(pending.reference, base: pending.base, location: pending.location)
            if case .keywords(var keywords) = nodes[pending.node].body {
                keywords.reference = target
                nodes[pending.node].body = .keywords(keywords)
            }
        }
        try refuseInPlaceLoops()
        return root
    }

    // MARK: Subschemas

    private mutating func compileSubschema(_ value: JSONInstance, at pointer: String, base: String, depth: Int)
        throws(SchemaError) -> Int
    {
        if let existing = nodeAtPointer[pointer] { return existing }
        guard depth <= limits.maxDepth else {
            throw SchemaError(location: pointer, reason: "subschemas nest more than \(limits.maxDepth) levels deep")
        }
        guard nodes.count < limits.maxSubschemas else {
            throw SchemaError(location: pointer, reason: "the schema has more than \(limits.maxSubschemas) subschemas")
        }
        let index = nodes.count
        nodeAtPointer[pointer] = index
        switch value {
        case .bool(let allowed):
            nodes.append(SchemaNode(body: .always(allowed), location: pointer))
            return index
        case .object(let members):
            nodes.append(SchemaNode(body: .always(true), location: pointer))
            let keywords = try compileKeywords(members, at: pointer, base: base, depth: depth, node: index)
            nodes[index].body = .keywords(keywords)
            return index
        default:
            throw SchemaError(location: pointer, reason: "a schema must be an object or a boolean")
        }
    }

    private mutating func compileKeywords(
        _ members: [String: JSONInstance], at pointer: String, base enclosingBase: String, depth: Int, node: Int
    ) throws(SchemaError) -> Keywords {
        var base = enclosingBase
        if let id = members["$id"] {
            guard case .string(let text) = id, !text.isEmpty else {
                throw SchemaError(location: pointer + "/$id", reason: "$id must be a non-empty string")
            }
            let resolved = URIReference.resolve(text, against: enclosingBase)
            guard !resolved.contains("#") || resolved.hasSuffix("#") else {
                throw SchemaError(location: pointer + "/$id", reason: "$id must not have a fragment")
            }
            base = resolved.hasSuffix("#") ? String(resolved.dropLast()) : resolved
            resources[base] = pointer
        } else if pointer.isEmpty {
            resources[""] = ""
        }
        for keyword in ["$anchor", "$dynamicAnchor"] {
            guard let anchor = members[keyword] else { continue }
            guard case .string(let name) = anchor, Self.isAnchorName(name) else {
                throw SchemaError(location: pointer + "/" + keyword, reason: "\(keyword) must be a plain name")
            }
            anchors[base + "#" + name] = pointer
        }
        if members["$dynamicRef"] != nil {
            throw SchemaError(location: pointer + "/$dynamicRef", reason: "$dynamicRef is not supported")
        }

        var keywords = Keywords()
        var reader = KeywordReader(members: members, pointer: pointer)
        func child(_ value: JSONInstance, _ path: String) throws(SchemaError) -> Int {
            try compileSubschema(value, at: pointer + path, base: base, depth: depth + 1)
        }
        func children(_ keyword: String) throws(SchemaError) -> [Int]? {
            guard let value = members[keyword] else { return nil }
            guard case .array(let elements) = value, !elements.isEmpty else {
                throw SchemaError(location: pointer + "/" + keyword, reason: "\(keyword) must be a non-empty array")
            }
            var compiled: [Int] = []
            for (index, element) in elements.enumerated() {
                compiled.append(try child(element, "/\(keyword)/\(index)"))
            }
            return compiled
        }
        func single(_ keyword: String) throws(SchemaError) -> Int? {
            guard let value = members[keyword] else { return nil }
            return try child(value, "/" + keyword)
        }
        func map(_ keyword: String) throws(SchemaError) -> [(String, Int)]? {
            guard let value = members[keyword] else { return nil }
            guard case .object(let entries) = value else {
                throw SchemaError(location: pointer + "/" + keyword, reason: "\(keyword) must be an object")
            }
            var compiled: [(String, Int)] = []
            for name in entries.keys.sorted() {
                guard let entry = entries[name] else { continue }
                compiled.append((name, try child(entry, "/\(keyword)/" + InstanceLocation.escape(name))))
            }
            return compiled
        }

        if let reference = members["$ref"] {
            guard case .string(let text) = reference else {
                throw SchemaError(location: pointer + "/$ref", reason: "$ref must be a string")
            }
            pendingReferences.append((node, text, base, pointer + "/$ref"))
        }
        if let type = members["type"] {
            keywords.types = try Self.typeSet(type, at: pointer + "/type")
        }
        if let values = members["enum"] {
            guard case .array(let elements) = values else {
                throw SchemaError(location: pointer + "/enum", reason: "enum must be an array")
            }
            keywords.enumValues = elements
        }
        keywords.constValue = members["const"]
        keywords.multipleOf = try reader.number("multipleOf")
        if let divisor = keywords.multipleOf, divisor <= 0 {
            throw SchemaError(location: pointer + "/multipleOf", reason: "multipleOf must be greater than 0")
        }
        keywords.maximum = try reader.number("maximum")
        keywords.exclusiveMaximum = try reader.number("exclusiveMaximum")
        keywords.minimum = try reader.number("minimum")
        keywords.exclusiveMinimum = try reader.number("exclusiveMinimum")
        keywords.maxLength = try reader.count("maxLength")
        keywords.minLength = try reader.count("minLength")
        if let pattern = members["pattern"] {
            keywords.pattern = try compilePattern(pattern, at: pointer + "/pattern")
        }
        keywords.prefixItems = try children("prefixItems") ?? []
        keywords.items = try single("items")
        keywords.contains = try single("contains")
        keywords.minContains = try reader.count("minContains") ?? 1
        keywords.maxContains = try reader.count("maxContains")
        keywords.maxItems = try reader.count("maxItems")
        keywords.minItems = try reader.count("minItems")
        keywords.uniqueItems = try reader.bool("uniqueItems") ?? false
        for (name, node) in try map("properties") ?? [] { keywords.properties[name] = node }
        if let patterns = members["patternProperties"] {
            guard case .object(let entries) = patterns else {
                throw SchemaError(
                    location: pointer + "/patternProperties", reason: "patternProperties must be an object")
            }
            for source in entries.keys.sorted() {
                guard let entry = entries[source] else { continue }
                let path = "/patternProperties/" + InstanceLocation.escape(source)
                let compiled = try compilePattern(.string(source), at: pointer + path)
                keywords.patternProperties.append((compiled, try child(entry, path)))
            }
        }
        keywords.additionalProperties = try single("additionalProperties")
        keywords.propertyNames = try single("propertyNames")
        keywords.required = try reader.names("required") ?? []
        if let dependencies = members["dependentRequired"] {
            guard case .object(let entries) = dependencies else {
                throw SchemaError(
                    location: pointer + "/dependentRequired", reason: "dependentRequired must be an object")
            }
            var nested = KeywordReader(members: entries, pointer: pointer + "/dependentRequired")
            for name in entries.keys.sorted() {
                keywords.dependentRequired.append((name, try nested.names(name) ?? []))
            }
        }
        keywords.dependentSchemas = try map("dependentSchemas") ?? []
        keywords.maxProperties = try reader.count("maxProperties")
        keywords.minProperties = try reader.count("minProperties")
        keywords.allOf = try children("allOf") ?? []
        keywords.anyOf = try children("anyOf")
        keywords.oneOf = try children("oneOf")
        keywords.not = try single("not")
        keywords.ifSchema = try single("if")
        keywords.thenSchema = try single("then")
        keywords.elseSchema = try single("else")
        keywords.unevaluatedItems = try single("unevaluatedItems")
        keywords.unevaluatedProperties = try single("unevaluatedProperties")
        // Subschemas only reachable through a reference: compiled now so their anchors and ids are known.
        _ = try map("$defs")
        return keywords
    }

    private func compilePattern(_ value: JSONInstance, at location: String) throws(SchemaError) -> CompiledPattern {
        guard case .string(let source) = value else {
            throw SchemaError(location: location, reason: "a pattern must be a string")
        }
        guard source.unicodeScalars.count <= limits.maxPatternLength else {
            throw SchemaError(location: location, reason: "the pattern is longer than \(limits.maxPatternLength)")
        }
        do {
            return CompiledPattern(source: source, regex: try LinearRegex(source))
        } catch {
            throw SchemaError(
                location: location,
                reason:
                    "the pattern \(source) is outside the supported syntax (no look-around, back-references or flags)"
            )
        }
    }

    // MARK: References

    private mutating func resolve(_ reference: String, base: String, location: String) throws(SchemaError) -> Int {
        let absolute = URIReference.resolve(reference, against: base)
        let resource: String
        let fragment: String
        if let hash = absolute.firstIndex(of: "#") {
            resource = String(absolute[..<hash])
            fragment = String(absolute[absolute.index(after: hash)...])
        } else {
            resource = absolute
            fragment = ""
        }
        guard let resourcePointer = resources[resource] else {
            throw SchemaError(location: location, reason: "\(reference) is not within this schema")
        }
        let targetPointer: String
        if fragment.isEmpty {
            targetPointer = resourcePointer
        } else if fragment.hasPrefix("/") {
            guard let decoded = URIReference.percentDecoded(fragment) else {
                throw SchemaError(location: location, reason: "\(reference) is not a valid JSON Pointer")
            }
            targetPointer = resourcePointer + decoded
        } else {
            guard let anchored = anchors[resource + "#" + fragment] else {
                throw SchemaError(location: location, reason: "no $anchor \(fragment) in this schema")
            }
            targetPointer = anchored
        }
        if let existing = nodeAtPointer[targetPointer] { return existing }
        guard let value = Self.value(at: targetPointer, in: document) else {
            throw SchemaError(location: location, reason: "\(reference) points to nothing in this schema")
        }
        return try compileSubschema(value, at: targetPointer, base: resource, depth: 1)
    }

    /// The value at a JSON Pointer (RFC 6901) of the document.
    static func value(at pointer: String, in document: JSONInstance) -> JSONInstance? {
        guard !pointer.isEmpty else { return document }
        guard pointer.hasPrefix("/") else { return nil }
        var current = document
        for rawToken in pointer.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            let token = rawToken.replacing("~1", with: "/").replacing("~0", with: "~")
            switch current {
            case .object(let members):
                guard let next = members[String(token)] else { return nil }
                current = next
            case .array(let elements):
                guard let index = Int(token), index >= 0, index < elements.count,
                    token == "0" || !token.hasPrefix("0")
                else { return nil }
                current = elements[index]
            default:
                return nil
            }
        }
        return current
    }

    /// Refuses subschemas that reach themselves without descending into the instance (`{"$ref": "#"}`, or two
    /// definitions whose `allOf`s name each other): evaluating one would never end.
    private func refuseInPlaceLoops() throws(SchemaError) {
        enum Mark { case unvisited, visiting, done }
        var marks = Array(repeating: Mark.unvisited, count: nodes.count)
        for start in nodes.indices where marks[start] == .unvisited {
            var stack: [(node: Int, next: Int)] = [(start, 0)]
            marks[start] = .visiting
            while let top = stack.last {
                let successors: [Int]
                if case .keywords(let keywords) = nodes[top.node].body {
                    successors = keywords.inPlace
                } else {
                    successors = []
                }
                if top.next < successors.count {
                    stack[stack.count - 1].next += 1
                    let successor = successors[top.next]
                    switch marks[successor] {
                    case .visiting:
                        throw SchemaError(
                            location: nodes[top.node].location,
                            reason: "this subschema applies itself again to the same value, without end")
                    case .unvisited:
                        marks[successor] = .visiting
                        stack.append((successor, 0))
                    case .done:
                        break
                    }
                } else {
                    marks[top.node] = .done
                    stack.removeLast()
                }
            }
        }
    }

    // MARK: Keyword values

    private static func typeSet(_ value: JSONInstance, at location: String) throws(SchemaError) -> Set<String> {
        var names: [String] = []
        switch value {
        case .string(let name): names = [name]
        case .array(let elements):
            guard !elements.isEmpty else { throw SchemaError(location: location, reason: "type must not be empty") }
            for element in elements {
                guard case .string(let name) = element else {
                    throw SchemaError(location: location, reason: "type must name types")
                }
                names.append(name)
            }
        default:
            throw SchemaError(location: location, reason: "type must be a string or an array of strings")
        }
        let set = Set(names)
        guard set.count == names.count, set.isSubset(of: typeNames) else {
            throw SchemaError(
                location: location,
                reason: "type must name distinct types out of \(typeNames.sorted().joined(separator: ", "))")
        }
        return set
    }

    private static func isAnchorName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first.isASCII, first.properties.isAlphabetic || first == "_"
        else { return false }
        return name.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII
                && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar)
                    || "-_.:".unicodeScalars.contains(scalar))
        }
    }
}

/// Reads keyword values of the forms the meta-schema gives them.
private struct KeywordReader {
    let members: [String: JSONInstance]
    let pointer: String

    func number(_ keyword: String) throws(SchemaError) -> Double? {
        guard let value = members[keyword] else { return nil }
        guard case .number(let number) = value else {
            throw SchemaError(location: pointer + "/" + keyword, reason: "\(keyword) must be a number")
        }
        return number
    }

    /// A non-negative integer (`2.0` counts as one, as the meta-schema's `integer` type allows).
    func count(_ keyword: String) throws(SchemaError) -> Int? {
        guard let value = members[keyword] else { return nil }
        guard case .number(let number) = value, value.isInteger, number >= 0 else {
            throw SchemaError(location: pointer + "/" + keyword, reason: "\(keyword) must be a non-negative integer")
        }
        return number >= Double(Int32.max) ? Int(Int32.max) : Int(number)
    }

    func bool(_ keyword: String) throws(SchemaError) -> Bool? {
        guard let value = members[keyword] else { return nil }
        guard case .bool(let flag) = value else {
            throw SchemaError(location: pointer + "/" + keyword, reason: "\(keyword) must be a boolean")
        }
        return flag
    }

    /// An array of distinct strings.
    mutating func names(_ keyword: String) throws(SchemaError) -> [String]? {
        guard let value = members[keyword] else { return nil }
        let failure = SchemaError(
            location: pointer + "/" + keyword, reason: "\(keyword) must be an array of distinct strings")
        guard case .array(let elements) = value else { throw failure }
        var names: [String] = []
        for element in elements {
            guard case .string(let name) = element else { throw failure }
            names.append(name)
        }
        guard Set(names).count == names.count else { throw failure }
        return names
    }
}

/// Just enough of RFC 3986 reference resolution for `$id` and `$ref` within one document.
enum URIReference {
    static func resolve(_ reference: String, against base: String) -> String {
        if hasScheme(reference) { return reference }
        let baseWithoutFragment =
            base.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first
            .map(String.init) ?? ""
        if reference.hasPrefix("#") || reference.isEmpty { return baseWithoutFragment + reference }
        if reference.hasPrefix("//") {
            guard let colon = baseWithoutFragment.firstIndex(of: ":") else { return reference }
            return String(baseWithoutFragment[...colon]) + reference
        }
        if reference.hasPrefix("/") {
            guard let authorityEnd = authorityEnd(of: baseWithoutFragment) else { return reference }
            return String(baseWithoutFragment[..<authorityEnd]) + reference
        }
        guard let lastSlash = baseWithoutFragment.lastIndex(of: "/") else { return reference }
        return String(baseWithoutFragment[...lastSlash]) + reference
    }

    /// `%XX` escapes replaced by their bytes, read as UTF-8; nil when an escape or the result is malformed.
    static func percentDecoded(_ text: String) -> String? {
        guard text.contains("%") else { return text }
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let byte = utf8.popFirst() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard utf8.count >= 2, let high = hexValue(utf8.removeFirst()), let low = hexValue(utf8.removeFirst())
            else {
                return nil
            }
            bytes.append(high << 4 | low)
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private static func hasScheme(_ text: String) -> Bool {
        guard let colon = text.firstIndex(of: ":"), colon != text.startIndex else { return false }
        return text[..<colon].allSatisfy { $0.isLetter || $0.isNumber || "+-.".contains($0) }
            && text.first?.isLetter == true
    }

    /// Where the path of an absolute URI starts (after `scheme://authority`).
    private static func authorityEnd(of uri: String) -> String.Index? {
        guard let schemeEnd = uri.firstRange(of: "://") else { return nil }
        return uri[schemeEnd.upperBound...].firstIndex(of: "/") ?? uri.endIndex
    }
}
