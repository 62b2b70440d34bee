import FerryCore
import Foundation

/// A bar chart of days, each bar stacked from several series (applications, or successes and failures), drawn as
/// SVG by the `_chart` template: bars and labels are positioned here, colours come from the stylesheet by series
/// (`series-0` …), each segment carries a `<title>` with its numbers, and the legend and a table say the same in
/// words, so nothing is told by colour alone.
struct StackedBarChart: Sendable {
    /// One series: its name and its value on each day.
    struct Series: Sendable {
        var name: String
        var values: [Int]
        /// Its colour (`series-N`), when not its position's.
        var style: String? = nil
        /// What each day's segment says, when not `name, day: value`.
        var titles: [String]? = nil
        /// What the table says for each day, when not `values`.
        var tableValues: [Int]? = nil
    }

    struct Segment: Sendable {
        var x: String
        var y: String
        var width: String
        var height: String
        var style: String
        var title: String
    }

    struct AxisLabel: Sendable {
        var x: String
        var y: String
        var text: String
    }

    struct LegendEntry: Sendable {
        var name: String
        var style: String
        var total: Int
    }

    struct TableRow: Sendable {
        var day: String
        var values: [Int]
        var total: Int
    }

    /// What the chart shows, said once for screen readers and as its caption.
    var caption: String
    var id: String
    var width = 720
    var height = 220
    var segments: [Segment] = []
    var dayLabels: [AxisLabel] = []
    var valueLabels: [AxisLabel] = []
    var gridLines: [AxisLabel] = []
    var legend: [LegendEntry] = []
    var seriesNames: [String] = []
    var rows: [TableRow] = []
    var isEmpty: Bool
    /// Whether sums mean something (counts do, latencies do not).
    var showTotals: Bool

    static let left = 44.0
    static let bottom = 22.0
    static let top = 8.0

    /// A chart of `days` (midnight UTC each, oldest first) with `series` values, one per day each.
    init(id: String, caption: String, days: [Date], series: [Series], showTotals: Bool = true) {
        self.id = id
        self.caption = caption
        self.showTotals = showTotals
        let totals = days.indices.map { day in
            series.reduce(0) { $0 + ($1.values.indices.contains(day) ? $1.values[day] : 0) }
        }
        isEmpty = totals.allSatisfy { $0 == 0 }
        let peak = Self.niceCeiling(totals.max() ?? 0)
        let plotWidth = Double(width) - Self.left - 4
        let plotHeight = Double(height) - Self.bottom - Self.top
        let slot = days.isEmpty ? plotWidth : plotWidth / Double(days.count)
        let barWidth = max(1, slot * 0.78)
        for (index, day) in days.enumerated() {
            var stacked = 0
            let x = Self.left + Double(index) * slot + (slot - barWidth) / 2
            let dayText = Timestamp.formatDay(day)
            for (seriesIndex, entry) in series.enumerated() {
                let value = entry.values.indices.contains(index) ? entry.values[index] : 0
                guard value > 0 else { continue }
                let y0 = Self.top + plotHeight * (1 - Double(stacked) / Double(peak))
                stacked += value
                let y1 = Self.top + plotHeight * (1 - Double(stacked) / Double(peak))
                segments.append(
                    Segment(
                        x: Self.number(x), y: Self.number(y1), width: Self.number(barWidth),
                        height: Self.number(max(0.5, y0 - y1)), style: entry.style ?? "series-\(seriesIndex % 8)",
                        title: entry.titles.flatMap { $0.indices.contains(index) ? $0[index] : nil }
                            ?? "\(entry.name), \(dayText): \(value)"))
            }
        }
        let every = max(1, days.count / 7)
        for (index, day) in days.enumerated() where (days.count - 1 - index) % every == 0 {
            dayLabels.append(
                AxisLabel(
                    x: Self.number(Self.left + (Double(index) + 0.5) * slot), y: Self.number(Double(height) - 6),
                    text: String(Timestamp.formatDay(day).dropFirst(5))))
        }
        for fraction in [0.0, 0.5, 1.0] {
            let y = Self.top + plotHeight * (1 - fraction)
            let label = AxisLabel(
                x: Self.number(Self.left - 6), y: Self.number(y + 4), text: String(Int(Double(peak) * fraction)))
            valueLabels.append(label)
            gridLines.append(AxisLabel(x: Self.number(Double(width) - 4), y: Self.number(y), text: ""))
        }
        legend = series.enumerated().map { index, entry in
            LegendEntry(name: entry.name, style: entry.style ?? "series-\(index % 8)", total: entry.values.reduce(0, +))
        }
        seriesNames = series.map(\.name)
        rows = days.enumerated().reversed().map { index, day in
            TableRow(
                day: Timestamp.formatDay(day),
                values: series.map { entry in
                    let values = entry.tableValues ?? entry.values
                    return values.indices.contains(index) ? values[index] : 0
                }, total: totals[index])
        }
    }

    /// The `count` UTC days ending with today's, oldest first.
    static func days(_ count: Int, endingAt now: Date) -> [Date] {
        let today = Timestamp.parseDay(Timestamp.formatDay(now)) ?? now
        return (0..<count).reversed().map { today.addingTimeInterval(-Double($0) * 86_400) }
    }

    /// 1, 2 or 5 times a power of ten, at least `value` (and at least 1).
    static func niceCeiling(_ value: Int) -> Int {
        var magnitude = 1
        while true {
            for step in [1, 2, 5] where step * magnitude >= value { return step * magnitude }
            magnitude *= 10
        }
    }

    static func number(_ value: Double) -> String {
        String(format: "%.1f", value)
    }
}
