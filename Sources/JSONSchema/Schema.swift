/// A JSON Schema (draft 2020-12, the core and validation vocabularies) compiled once and then checked against
/// many instances. `format` is an annotation only, as the draft's default is; `$ref` resolves within the document
/// (JSON Pointer fragments, `$anchor`s and embedded `$id`s); `pattern` and `patternProperties` run on a
/// linear-time regular-expression engine. Schema-level limits (`Schema.Limits`) keep a hostile schema from stalling
/// whoever validates with it.
public struct Schema: Sendable {
    /// Bounds on what a schema may be and cost.
    public struct Limits: Sendable, Equatable {
        /// Most bytes of the schema's JSON text (`init(parsing:)`).
        public var maxBytes: Int
        /// Deepest nesting of subschemas.
        public var maxDepth: Int
        /// Most subschemas in the whole document.
        public var maxSubschemas: Int
        /// Longest `pattern` (in Unicode scalars).
        public var maxPatternLength: Int
        /// Most subschema evaluations one validation may make; an instance that needs more is refused (a schema
        /// whose references fan out can otherwise ask for exponentially many).
        public var maxEvaluations: Int
        /// Most steps the regular-expression machine may take over all the patterns of one validation (linear in
        /// each string, but a long pattern over a long string still multiplies); an instance that needs more is
        /// refused. Ten million steps take tens of milliseconds.
        public var maxPatternSteps: Int

        public init(
            maxBytes: Int = 64 * 1024, maxDepth: Int = 32, maxSubschemas: Int = 2_000, maxPatternLength: Int = 1_000,
            maxEvaluations: Int = 100_000, maxPatternSteps: Int = 10_000_000
        ) {
            self.maxBytes = maxBytes
            self.maxDepth = maxDepth
            self.maxSubschemas = maxSubschemas
            self.maxPatternLength = maxPatternLength
            self.maxEvaluations = maxEvaluations
            self.maxPatternSteps = maxPatternSteps
        }
    }

    let root: Int
    let nodes: [SchemaNode]
    let limits: Limits

    /// Compiles `document`; throws `SchemaError` naming the first problem and where it is.
    public init(_ document: JSONInstance, limits: Limits = Limits()) throws(SchemaError) {
        var compiler = SchemaCompiler(limits: limits)
        root = try compiler.compile(document)
        nodes = compiler.nodes
        self.limits = limits
    }

    /// Parses and compiles a schema's JSON text.
    public init(parsing bytes: [UInt8], limits: Limits = Limits()) throws(SchemaError) {
        guard bytes.count <= limits.maxBytes else {
            throw SchemaError(location: "", reason: "the schema is larger than \(limits.maxBytes) bytes")
        }
        let document: JSONInstance
        do {
            document = try JSONInstance(parsing: bytes, maxDepth: limits.maxDepth * 4)
        } catch {
            throw SchemaError(location: "", reason: error.description)
        }
        try self.init(document, limits: limits)
    }

    /// The first way `instance` fails the schema, or nil when it conforms.
    public func firstFailure(of instance: JSONInstance) -> ValidationFailure? {
        var evaluator = SchemaEvaluator(
            nodes: nodes, maxEvaluations: limits.maxEvaluations,
            patterns: PatternBudget(limit: limits.maxPatternSteps))
        return evaluator.evaluate(root, instance, at: InstanceLocation()).failure
    }

    /// Whether `instance` conforms.
    public func validates(_ instance: JSONInstance) -> Bool {
        firstFailure(of: instance) == nil
    }
}

/// A schema that cannot be used, and where in it (a JSON Pointer) the problem is.
public struct SchemaError: Error, Sendable, Equatable, CustomStringConvertible {
    public var location: String
    public var reason: String

    public var description: String { location.isEmpty ? reason : "at \(location): \(reason)" }
}

/// How an instance fails: where in it (`instanceLocation`, a JSON Pointer), which keyword of which subschema
/// (`keywordLocation`, the pointer of the keyword in the schema as evaluated, through any `$ref`), and why.
public struct ValidationFailure: Sendable, Equatable, CustomStringConvertible {
    public var instanceLocation: String
    public var keywordLocation: String
    public var keyword: String
    public var message: String

    public init(instanceLocation: String, keywordLocation: String, keyword: String, message: String) {
        self.instanceLocation = instanceLocation
        self.keywordLocation = keywordLocation
        self.keyword = keyword
        self.message = message
    }

    public var description: String {
        let place = instanceLocation.isEmpty ? "the instance" : instanceLocation
        return keyword.isEmpty ? "\(place): \(message)" : "\(place): \(message) (\(keyword))"
    }
}

/// Builds JSON Pointers (RFC 6901) as the evaluation descends.
struct InstanceLocation {
    private(set) var pointer = ""

    func appending(_ token: String) -> InstanceLocation {
        var next = self
        next.pointer += "/" + Self.escape(token)
        return next
    }

    func appending(_ index: Int) -> InstanceLocation {
        var next = self
        next.pointer += "/\(index)"
        return next
    }

    static func escape(_ token: String) -> String {
        guard token.contains("~") || token.contains("/") else { return token }
        return token.replacing("~", with: "~0").replacing("/", with: "~1")
    }
}
