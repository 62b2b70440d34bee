import FerryCore
import Foundation

/// The stored form of string maps (labels, metadata, target headers): compact JSON text with sorted keys.
/// Shared by both backends so they store byte-identical text.
public enum StoredJSON {
    /// JSON text of `map`, keys sorted.
    public static func text(_ map: [String: String]) -> String {
        String(decoding: JSONValue.object(map.mapValues(JSONValue.string)).encoded(), as: UTF8.self)
    }

    /// The map stored as `text`, or `nil` when the text is not a JSON object of strings.
    public static func map(_ text: String) -> [String: String]? {
        try? JSONDecoder().decode([String: String].self, from: Data(text.utf8))
    }
}
