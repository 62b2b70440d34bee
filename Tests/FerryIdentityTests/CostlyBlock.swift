/// A check that costs 8 million expression evaluations (and never holds): what a hostile client could append to a
/// token to make the authorizer outrun its time budget.
enum CostlyBlock {
    static var source: String {
        let list = "[" + (0..<200).map(String.init).joined(separator: ",") + "]"
        return "check if \(list).any($x -> \(list).any($y -> \(list).any($z -> $x + $y + $z == -1)));"
    }
}
