import FerryAPI
import FerryCore
import FerryDelivery
import FerryIdentity
import FerryStorage
import Foundation
import Hummingbird

/// An application's subscriptions: the list (with enable/disable in one click), the form that creates or edits one,
/// its secret, and a test send through the real signer, target guard and HTTP client. Each page and change is
/// authorized as the API's route for it (`subscription:list`, `:get`, `:create` with the `labels` fact, `:edit` and
/// `:delete` with the `subscription_id` fact); a test send needs `subscription:edit`, since it sends to the target.
extension Dashboard {
    func addSubscriptionRoutes(to group: RouterGroup<FerryRequestContext>) {
        let base = "organizations/:organization_id/applications/:application_id/subscriptions"
        group.get(RouterPath(base)) { request, context in
            await rendering(context) { try await subscriptionList(request, context) }
        }
        group.get(RouterPath(base + "/new")) { request, context in
            await rendering(context) {
                try await inApplication(request, context, .subscriptionCreate) { scope in
                    try await subscriptionForm(scope, fields: SubscriptionFields(enabled: true), errors: [])
                }
            }
        }
        group.post(RouterPath(base)) { request, context in
            await rendering(context) { try await createSubscription(request, context) }
        }
        group.get(RouterPath(base + "/:subscription_id")) { request, context in
            await rendering(context) { try await subscriptionPage(request, context) }
        }
        group.post(RouterPath(base + "/:subscription_id")) { request, context in
            await rendering(context) { try await saveSubscription(request, context) }
        }
        group.post(RouterPath(base + "/:subscription_id/enabled")) { request, context in
            await rendering(context) { try await setSubscriptionEnabled(request, context) }
        }
        group.post(RouterPath(base + "/:subscription_id/delete")) { request, context in
            await rendering(context) { try await deleteSubscription(request, context) }
        }
        group.get(RouterPath(base + "/:subscription_id/secret")) { request, context in
            await rendering(context) { try await subscriptionSecret(request, context) }
        }
        group.post(RouterPath(base + "/:subscription_id/test")) { request, context in
            await rendering(context) { try await testSend(request, context) }
        }
    }

    // MARK: List

    private func subscriptionList(_ request: Request, _ context: FerryRequestContext) async throws -> Response {
        try await inApplication(request, context, .subscriptionList) { scope in
            let subscriptions = try await store.subscriptions(applicationID: scope.application.id)
            let rows = subscriptions.map { subscription in
                SubscriptionRow(
                    subscription, applicationPath: scope.path,
                    canEdit: may(
                        scope, .subscriptionEdit, facts: [AuthorizationRequest.subscriptionID(subscription.id)]))
            }
            return applicationPage(
                "subscriptions", scope, tab: "subscriptions", notice: Notice.of(request),
                SubscriptionsPage(
                    subscriptions: rows,
                    hasSubscriptions: !rows.isEmpty, newPath: scope.path + "/subscriptions/new",
                    canCreate: may(scope, .subscriptionCreate)))
        }
    }

    // MARK: Create and edit

    private func createSubscription(_ request: Request, _ context: FerryRequestContext) async throws -> Response {
        try await posted(
            request, context,
            authorization: { form in
                let labels = SubscriptionForm.of(form).map { FormLines.pairs($0.labels ?? "", separator: "=").values }
                return (.subscriptionCreate, [AuthorizationRequest.labels(labels ?? [:])])
            }
        ) { scope, posted in
            let form = SubscriptionForm.of(posted) ?? SubscriptionForm()
            let fields = SubscriptionFields(form)
            do {
                let draft = try form.submission(applicationID: scope.application.id).validated(
                    targetPolicy: targetPolicy)
                let subscription = try await store.createSubscription(draft, secret: UUID())
                return Self.redirect(
                    to: scope.path + "/subscriptions/" + subscription.id.lowercased, notice: .subscriptionCreated)
            } catch let error as DomainError {
                return try await subscriptionForm(scope, fields: fields, errors: FormErrors.messages(error))
            } catch let error as FormErrors {
                return try await subscriptionForm(scope, fields: fields, errors: error.messages)
            }
        }
    }

    private func saveSubscription(_ request: Request, _ context: FerryRequestContext) async throws -> Response {
        let id = try subscriptionID(context)
        return try await posted(
            request, context, authorization: { _ in (.subscriptionEdit, [AuthorizationRequest.subscriptionID(id)]) }
        ) { scope, posted in
            guard let subscription = try await liveSubscription(id, in: scope) else { return notFound(scope) }
            let form = SubscriptionForm.of(posted) ?? SubscriptionForm()
            do {
                // The form has no relay or retry fields: what the API set there stays.
                var submission = try form.submission(applicationID: scope.application.id)
                submission.isRelayed = subscription.isRelayed
                var draft = try submission.validated(targetPolicy: targetPolicy)
                draft.retry = subscription.retry
                guard let saved = try await store.replaceSubscription(id: id, with: draft) else {
                    return notFound(scope)
                }
                if let change = OperationalEvent.stateChange(from: subscription, to: saved) {
                    await operationalEvents.emit(change)
                }
                return Self.redirect(to: scope.path + "/subscriptions/" + id.lowercased, notice: .subscriptionSaved)
            } catch let error as DomainError {
                return try await subscriptionForm(
                    scope, fields: SubscriptionFields(form), errors: FormErrors.messages(error), editing: subscription)
            } catch let error as FormErrors {
                return try await subscriptionForm(
                    scope, fields: SubscriptionFields(form), errors: error.messages, editing: subscription)
            }
        }
    }

    private func subscriptionPage(_ request: Request, _ context: FerryRequestContext) async throws -> Response {
        let id = try subscriptionID(context)
        return try await inApplication(
            request, context, .subscriptionGet, facts: [AuthorizationRequest.subscriptionID(id)]
        ) { scope in
            guard let subscription = try await liveSubscription(id, in: scope) else { return notFound(scope) }
            return try await subscriptionForm(
                scope, fields: SubscriptionFields(subscription, masked: !mayEdit(scope, id)), errors: [],
                editing: subscription, notice: Notice.of(request))
        }
    }

    /// The subscription form: empty for a new one, or `editing`'s page with its facts and actions; read-only for a
    /// person who may not change it.
    private func subscriptionForm(
        _ scope: ApplicationScope, fields: SubscriptionFields, errors: [String], editing: Subscription? = nil,
        notice: String? = nil, testSend: TestSendView? = nil
    ) async throws -> Response {
        let known = try await store.eventTypes(applicationID: scope.application.id).map(\.name)
        var fields = fields
        fields.offer(eventTypes: known)
        let editable = editing.map { mayEdit(scope, $0.id) } ?? true
        let summary = editing.map { subscription in
            SubscriptionSummary(
                subscription, applicationPath: scope.path, canEdit: editable,
                canDelete: may(
                    scope, .subscriptionDelete, facts: [AuthorizationRequest.subscriptionID(subscription.id)]),
                canTest: editable && oneOffDelivery != nil)
        }
        let page = SubscriptionPage(
            heading: editing.map { SubscriptionRow.name(of: $0) } ?? "New subscription",
            action: editing.map { scope.path + "/subscriptions/" + $0.id.lowercased } ?? scope.path + "/subscriptions",
            submitLabel: editing == nil ? "Create subscription" : "Save changes", errors: errors,
            hasErrors: !errors.isEmpty, fields: fields, readOnly: !editable, subscription: summary,
            eventTypesPath: scope.path + "/event_types", testSend: testSend)
        return applicationPage(
            "subscription", scope, tab: "subscriptions", notice: notice, page,
            status: errors.isEmpty ? .ok : .unprocessableContent)
    }

    // MARK: Actions

    private func setSubscriptionEnabled(_ request: Request, _ context: FerryRequestContext) async throws -> Response {
        let id = try subscriptionID(context)
        return try await posted(
            request, context, authorization: { _ in (.subscriptionEdit, [AuthorizationRequest.subscriptionID(id)]) }
        ) { scope, posted in
            let form = posted.decode(ToggleForm.self)
            guard let enabled = form?.enabled, enabled == "true" || enabled == "false" else {
                return pages.page("error", errorPage(scope.signedIn, Self.badForm), status: .badRequest)
            }
            let before = try await liveSubscription(id, in: scope)
            guard
                let after = try await store.setSubscriptionEnabled(
                    id: id, applicationID: scope.application.id, isEnabled: enabled == "true")
            else { return notFound(scope) }
            if let before, let change = OperationalEvent.stateChange(from: before, to: after) {
                await operationalEvents.emit(change)
            }
            let back =
                form?.from == "list" ? scope.path + "/subscriptions" : scope.path + "/subscriptions/" + id.lowercased
            return Self.redirect(to: back, notice: enabled == "true" ? .subscriptionEnabled : .subscriptionDisabled)
        }
    }

    private func deleteSubscription(_ request: Request, _ context: FerryRequestContext) async throws -> Response {
        let id = try subscriptionID(context)
        return try await posted(
            request, context, authorization: { _ in (.subscriptionDelete, [AuthorizationRequest.subscriptionID(id)]) }
        ) { scope, _ in
            guard try await store.deleteSubscription(id: id, applicationID: scope.application.id) else {
                return notFound(scope)
            }
            return Self.redirect(to: scope.path + "/subscriptions", notice: .subscriptionDeleted)
        }
    }

    private func subscriptionSecret(_ request: Request, _ context: FerryRequestContext) async throws -> Response {
        let id = try subscriptionID(context)
        return try await inApplication(
            request, context, .subscriptionGet, facts: [AuthorizationRequest.subscriptionID(id)]
        ) { scope in
            guard let subscription = try await liveSubscription(id, in: scope) else { return notFound(scope) }
            return applicationPage(
                "secret", scope, tab: "subscriptions",
                SecretPage(
                    name: SubscriptionRow.name(of: subscription),
                    subscriptionPath: scope.path + "/subscriptions/" + id.lowercased,
                    secret: subscription.secret.lowercased, standardSecret: subscription.standardWebhooksSecret))
        }
    }

    /// Sends a test event to the subscription's target and shows the request as sent and the answer. Nothing is
    /// stored: the request carries a fresh event id and Ferry's real signatures, so a receiver can check them.
    private func testSend(_ request: Request, _ context: FerryRequestContext) async throws -> Response {
        let id = try subscriptionID(context)
        return try await posted(
            request, context, authorization: { _ in (.subscriptionEdit, [AuthorizationRequest.subscriptionID(id)]) }
        ) { scope, _ in
            guard let subscription = try await liveSubscription(id, in: scope), let oneOffDelivery else {
                return notFound(scope)
            }
            let now = Date()
            let eventID = UUIDv7.make(at: now)
            let payload = JSONValue.object([
                "test": .bool(true),
                "message": .string("A test event sent from Ferry's dashboard"),
                "subscription_id": .string(id.lowercased),
                "sent_at": .string(Timestamp.format(now)),
            ])
            let job = DeliveryJob(
                attemptID: UUID(), claimToken: UUID(), applicationID: scope.application.id, eventID: eventID,
                eventType: subscription.eventTypes.sorted().first ?? "ferry.test.sent",
                payload: payload.encoded(), payloadContentType: PayloadContentType.json.rawValue,
                subscriptionID: id, secret: subscription.secret, target: subscription.target, retryCount: 0,
                signing: subscription.signing)
            let (sent, observation) = await oneOffDelivery.send(job, at: now)
            return try await subscriptionForm(
                scope, fields: SubscriptionFields(subscription, masked: false), errors: [], editing: subscription,
                testSend: TestSendView(request: sent, observation: observation))
        }
    }

    // MARK: Helpers

    private func subscriptionID(_ context: FerryRequestContext) throws -> UUID {
        guard let id = UUID(uuidString: context.parameters.get("subscription_id") ?? "") else { throw Self.notFound }
        return id
    }

    /// The live subscription `id` of the scope's application, or nil.
    private func liveSubscription(_ id: UUID, in scope: ApplicationScope) async throws -> Subscription? {
        guard let subscription = try await store.subscription(id: id),
            subscription.applicationID == scope.application.id
        else { return nil }
        return subscription
    }

    private func mayEdit(_ scope: ApplicationScope, _ id: UUID) -> Bool {
        may(scope, .subscriptionEdit, facts: [AuthorizationRequest.subscriptionID(id)])
    }

    func notFound(_ scope: ApplicationScope) -> Response {
        pages.page("error", errorPage(scope.signedIn, Self.notFound), status: .notFound)
    }

    static var badForm: Problem {
        Problem(
            id: "BadRequest", status: .badRequest, title: "This form is not valid",
            detail: "Reload the page and try again.")
    }
}

/// The subscription form's fields as posted.
struct SubscriptionForm: Decodable {
    var description: String?
    var method: String?
    var url: String?
    var eventTypes: [String]?
    var labels: String?
    var headers: String?
    var metadata: String?
    var enabled: String?

    enum CodingKeys: String, CodingKey {
        case description, method, url, labels, headers, metadata, enabled
        case eventTypes = "event_types"
    }

    init() {}

    static func of(_ form: PostedForm) -> SubscriptionForm? { form.decode(SubscriptionForm.self) }

    /// The submission these fields make, as the API's JSON body would (FerryCore's rules then check it), or the
    /// lines of the text areas that are not `key=value` (`Name: value` for headers).
    func submission(applicationID: UUID) throws(FormErrors) -> SubscriptionSubmission {
        let labels = FormLines.pairs(self.labels ?? "", separator: "=")
        let headers = FormLines.pairs(self.headers ?? "", separator: ":")
        let metadata = FormLines.pairs(self.metadata ?? "", separator: "=")
        let problems =
            labels.problems.map { "Labels: " + $0 } + headers.problems.map { "Headers: " + $0 }
            + metadata.problems.map { "Metadata: " + $0 }
        if !problems.isEmpty { throw FormErrors(messages: problems) }
        let description = (self.description ?? "").trimmingCharacters(in: .whitespaces)
        return SubscriptionSubmission(
            applicationID: applicationID, isEnabled: enabled != nil, eventTypes: eventTypes ?? [],
            description: description.isEmpty ? nil : description, metadata: metadata.values, labels: labels.values,
            labelKey: nil, labelValue: nil, targetMethod: method ?? "POST",
            targetURL: (url ?? "").trimmingCharacters(in: .whitespaces), targetHeaders: headers.values)
    }
}

/// A form with the enable/disable button's value and the page to go back to (`list` or the subscription's own).
struct ToggleForm: Decodable {
    var enabled: String
    var from: String?
}

/// Text areas holding one `key=value` (or `Name: value`) per line.
enum FormLines {
    /// The pairs of `text`, and what is wrong with the lines that are not one (empty lines are skipped).
    static func pairs(_ text: String, separator: Character) -> (values: [String: String], problems: [String]) {
        var values: [String: String] = [:]
        var problems: [String] = []
        for (number, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
            .enumerated()
        {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            guard let index = line.firstIndex(of: separator) else {
                problems.append("line \(number + 1) is not `key\(separator == ":" ? ": " : "=")value`.")
                continue
            }
            let key = line[..<index].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: index)...].trimmingCharacters(in: .whitespaces)
            if key.isEmpty {
                problems.append("line \(number + 1) has no name before `\(separator)`.")
            } else if values[key] != nil {
                problems.append("`\(key)` is given twice.")
            } else {
                values[key] = value
            }
        }
        return (values, problems)
    }

    /// `pairs` as lines, by key.
    static func text(_ pairs: [String: String], separator: String) -> String {
        pairs.sorted { $0.key < $1.key }.map { $0.key + separator + $0.value }.joined(separator: "\n")
    }
}

/// What a form's submission got wrong, in sentences a person reads next to the form.
struct FormErrors: Error {
    var messages: [String]

    /// The sentences of a refused submission: one per broken field rule (named as the form names the field), or
    /// the problem's own explanation.
    static func messages(_ error: DomainError) -> [String] {
        guard case .validation(let errors) = error else { return [Problem(error).detail] }
        return sentences(errors, path: "").sorted()
    }

    private static func sentences(_ errors: ValidationErrors, path: String) -> [String] {
        errors.fields.flatMap { name, field -> [String] in
            let path = path.isEmpty ? name : path + "." + name
            switch field {
            case .nested(let nested): return sentences(nested, path: path)
            case .issues(let issues):
                return issues.map { issue in
                    (fieldNames[path] ?? path) + ": "
                        + (issue.message ?? issue.code.replacingOccurrences(of: "-", with: " "))
                        + "."
                }
            }
        }
    }

    static let fieldNames = [
        "description": "Name", "event_types": "Event types", "labels": "Labels", "metadata": "Metadata",
        "target.url": "URL", "target.method": "Method", "target.headers": "Headers", "name": "Name",
        "service": "Service", "resource_type": "Resource type", "verb": "Verb", "first_name": "First name",
        "last_name": "Last name", "email": "E-mail address", "payload_schema": "Payload schema",
    ]
}
