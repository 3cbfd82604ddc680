//! Figures for people: times in the unit that suits them, ratios as
//! "faster" or "slower", bars as they were set.

use super::report::Bar;

/// A unit of the rows, split into a time scale and what it is per
/// ("ms/run" → milliseconds, "run"); `None` for units that are no time
/// ("× ideal").
fn time_unit(unit: &str) -> Option<(f64, &str)> {
    let (scale, per) = unit.split_once('/').unwrap_or((unit, ""));
    let seconds = match scale.trim() {
        "ns" => 1e-9,
        "µs" | "us" => 1e-6,
        "ms" => 1e-3,
        "s" => 1.0,
        _ => return None,
    };
    Some((seconds, per.trim()))
}

/// What a unit is per ("run", "item"), or the whole unit when it is no
/// time ("× ideal"); empty for a plain time.
pub(crate) fn per(unit: &str) -> &str {
    match time_unit(unit) {
        Some((_, per)) => per,
        None => unit,
    }
}

/// `value` in `unit`, humanised: "512 ms", "1.02 s", "4.12 ns"; a unit that
/// is no time is written after three significant digits ("1.23 × ideal").
pub(crate) fn value(value: f64, unit: &str) -> String {
    match time_unit(unit) {
        Some((scale, _)) => seconds(value * scale),
        None => format!("{} {unit}", significant(value)),
    }
}

/// A duration in seconds with three significant digits in s, ms, µs or ns.
pub(crate) fn seconds(s: f64) -> String {
    const UNITS: [(f64, &str); 4] = [(1e-9, "ns"), (1e-6, "µs"), (1e-3, "ms"), (1.0, "s")];
    // Judged on the rounded figure, so 999.7 ms reads "1.00 s".
    let a = round3(s.abs());
    let i = UNITS
        .iter()
        .rposition(|&(scale, _)| a >= scale)
        .unwrap_or(0);
    format!("{} {}", significant(s / UNITS[i].0), UNITS[i].1)
}

/// Milliseconds, humanised.
pub(crate) fn ms(ms: f64) -> String {
    seconds(ms / 1e3)
}

/// Three significant digits (at most), no exponent: 512, 51.2, 5.12, 0.512.
pub(crate) fn significant(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let magnitude = round3(v.abs()).log10().floor() as i32;
    let decimals = (2 - magnitude).clamp(0, 6) as usize;
    format!("{v:.decimals$}")
}

/// `v` (positive) rounded to three significant digits.
fn round3(v: f64) -> f64 {
    if v == 0.0 || !v.is_finite() {
        return v;
    }
    let unit = 10f64.powi(v.log10().floor() as i32 - 2);
    (v / unit).round() * unit
}

/// A factor: "1.98×", "18.6×", "186×".
pub(crate) fn times(factor: f64) -> String {
    format!("{}×", significant(factor))
}

/// A time ratio (corun / peer) as people say it: "1.98× faster",
/// "1.37× slower", "as fast" (within half a percent).
pub(crate) fn speed(ratio: f64) -> String {
    if (ratio - 1.0).abs() < 0.005 {
        "as fast".to_owned()
    } else if ratio < 1.0 {
        format!("{} faster", times(1.0 / ratio))
    } else {
        format!("{} slower", times(ratio))
    }
}

/// The spread of a figure around its median as "±3%" (the wider side),
/// or "" when there is none.
pub(crate) fn spread(relative: f64) -> String {
    if relative <= 0.0 {
        String::new()
    } else if relative < 0.01 {
        "±<1%".to_owned()
    } else {
        format!("±{:.0}%", relative * 100.0)
    }
}

/// A ratio bar as it was set: below 1 a speedup ("≥1.9×"), else a
/// ceiling on the time ratio ("≤1.05×").
pub(crate) fn ratio_bar(max: f64) -> String {
    if max < 1.0 {
        format!("≥{}×", trim(1.0 / max))
    } else {
        format!("≤{}×", trim(max))
    }
}

/// A bar as it was set: a ratio bar as [`ratio_bar`], a target as a
/// ceiling in the row's `unit` ("≤65.0 ms").
pub(crate) fn bar(bar: &Bar, unit: &str) -> String {
    match bar {
        Bar::Ratio { max } => ratio_bar(*max),
        Bar::Target { max, .. } => format!("≤{}", value(*max, unit)),
    }
}

/// A bar's number with no trailing zeros, to three decimals: 1.9, 1.05, 100.
pub(crate) fn trim(v: f64) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// `s` cut to at most `width` characters, an ellipsis marking the cut.
pub(crate) fn fit(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        s.to_owned()
    } else {
        let mut cut: String = s.chars().take(width.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}

/// `text` broken into lines of at most `width` characters at spaces.
pub(crate) fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_take_the_unit_that_suits_them() {
        assert_eq!(value(512.3, "ms/run"), "512 ms");
        assert_eq!(value(1020.0, "ms/run"), "1.02 s");
        assert_eq!(value(4.123, "ns/emit"), "4.12 ns");
        assert_eq!(value(0.248, "ns/item"), "0.248 ns");
        assert_eq!(value(42_100.0, "ns/task"), "42.1 µs");
        assert_eq!(value(12.0, "µs late"), "12.0 µs late");
        assert_eq!(value(1.234, "× ideal"), "1.23 × ideal");
        assert_eq!(ms(999.7), "1.00 s");
        assert_eq!(ms(56.04), "56.0 ms");
    }

    #[test]
    fn units_say_what_they_are_per() {
        assert_eq!(per("ms/run"), "run");
        assert_eq!(per("ns/round trip"), "round trip");
        assert_eq!(per("ms"), "");
        assert_eq!(per("× ideal"), "× ideal");
    }

    #[test]
    fn ratios_read_as_speed() {
        assert_eq!(speed(0.505), "1.98× faster");
        assert_eq!(speed(1.37), "1.37× slower");
        assert_eq!(speed(1.002), "as fast");
        assert_eq!(speed(1.0 / 186.0), "186× faster");
        assert_eq!(speed(1.0 / 18.64), "18.6× faster");
    }

    #[test]
    fn bars_read_as_set() {
        assert_eq!(ratio_bar(1.0 / 1.9), "≥1.9×");
        assert_eq!(ratio_bar(1.05), "≤1.05×");
        assert_eq!(ratio_bar(1.1), "≤1.1×");
        assert_eq!(spread(0.031), "±3%");
        assert_eq!(spread(0.0), "");
        assert_eq!(spread(0.004), "±<1%");
    }

    #[test]
    fn long_text_is_cut_and_wrapped() {
        assert_eq!(fit("ThreadPoolExecutor(32)", 10), "ThreadPoo…");
        assert_eq!(fit("short", 10), "short");
        assert_eq!(wrap("a bb ccc dddd", 6), ["a bb", "ccc", "dddd"]);
    }
}
