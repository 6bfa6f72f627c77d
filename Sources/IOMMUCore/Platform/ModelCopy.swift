/// A part of the model that `ModelCopy` can copy: the machine, its drivers and memory, the
/// iommufd and its objects, domains and page tables.
public protocol ModelCopyable: AnyObject {
    /// A new object with this one's state. References the initializer needs (`let` ones,
    /// which only ever point at objects older than this one) are copied at once through
    /// `copier`; the others are filled in `copier.later`, so that references that lead back
    /// to this object find its copy.
    func makeCopy(in copier: ModelCopy) -> Self
}

/// One deep copy of a model (`Session.fork()`): every original object gets exactly one copy,
/// and every reference between originals becomes a reference between their copies, so the
/// copy's object graph has the original's shape and the two then change apart.
///
/// Tables keyed by an object's identity (`ObjectIdentifier`) are re-keyed by the copy's
/// identity in `copier.rekeyed` once every object is copied; a key whose object is not part
/// of the model any more (a freed domain's tag) is left out.
public final class ModelCopy {
    /// The copy of each original, by the original's identity (originals stay alive, held by
    /// the model being copied, so no identity is reused while copying).
    private var copies: [ObjectIdentifier: AnyObject] = [:]
    private var pending: [() -> Void] = []
    private var rekeying: [() -> Void] = []

    private init() {}

    /// Runs `body` with a fresh copier, then fills every deferred reference and re-keys every
    /// identity-keyed table; returns what `body` returned, complete.
    public static func copying<Result>(_ body: (ModelCopy) -> Result) -> Result {
        let copier = ModelCopy()
        let result = body(copier)
        copier.finish()
        return result
    }

    /// The copy of `original`, made on first use.
    public func copy<T: ModelCopyable>(_ original: T) -> T {
        let key = ObjectIdentifier(original)
        if let made = copies[key] { return unsafeDowncast(made, to: T.self) }
        let made = original.makeCopy(in: self)
        copies[key] = made
        return made
    }

    /// Runs `body` once every copy the current ones need exists (references that may lead
    /// back to the object being copied).
    public func later(_ body: @escaping () -> Void) { pending.append(body) }

    /// `table` with each key replaced by the identity of its object's copy: usable in a
    /// `later` body, as the result is assigned after every object is copied.
    public func rekey<Value>(_ table: [ObjectIdentifier: Value], into assign: @escaping ([ObjectIdentifier: Value]) -> Void) {
        rekeying.append { [unowned self] in
            var rekeyed: [ObjectIdentifier: Value] = [:]
            for (key, value) in table { if let copy = identifier(key) { rekeyed[copy] = value } }
            assign(rekeyed)
        }
    }

    /// The identity of the copy of the object with identity `original`; nil when that object
    /// was not copied. Only complete after the `later` bodies ran (in `rekey` bodies).
    public func identifier(_ original: ObjectIdentifier) -> ObjectIdentifier? {
        copies[original].map(ObjectIdentifier.init)
    }

    /// Runs `body` after every `later` body, when `identifier(_:)` knows every copy.
    public func whenComplete(_ body: @escaping () -> Void) { rekeying.append(body) }

    private func finish() {
        while !pending.isEmpty {
            let batch = pending
            pending = []
            for body in batch { body() }
        }
        for body in rekeying { body() }
        rekeying = []
    }
}
