import Foundation

/// How long a standing decision lasts, as the operator writes it: `90s`, `10m`, `2h`, or bare
/// seconds; from 1 second to a day.
public enum StandingDuration {
    public static func seconds(parsing text: String) -> Int? {
        guard let last = text.last, text.utf8.count <= 8 else { return nil }
        let (digits, unit): (Substring, Int) =
            switch last {
            case "s": (text.dropLast(), 1)
            case "m": (text.dropLast(), 60)
            case "h": (text.dropLast(), 3600)
            default: (Substring(text), 1)
            }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let count = Int(digits) else {
            return nil
        }
        let seconds = count * unit
        guard seconds >= 1, Double(seconds) <= StandingDecision.longest else { return nil }
        return seconds
    }
}
