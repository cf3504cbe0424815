//! Bar charts as inline SVG, drawn at build time for the report pages (no script: they work
//! from `file://`); each page puts a table of the same figures beside its chart.

use crate::output::markdown::escape;
use std::fmt::Write;

/// A vertical bar chart as inline SVG, `w` units wide; `series` share the x labels, values may be missing.
/// The y axis runs from 0 to `axis.0` with a gridline every `axis.1` (whole numbers, see
/// [`count_axis`]); each bar carries its value, written by `label`. The same figures are in
/// the table next to the chart, for screen readers and for reading exact values.
pub fn bar_chart(
    w: f64,
    title: &str,
    labels: &[String],
    series: &[(String, Vec<Option<f64>>)],
    axis: (f64, f64),
    label: &dyn Fn(f64) -> String,
) -> String {
    let (h, left, bottom, top) = (250.0, 44.0, 46.0, 24.0);
    let plot_w = w - left - 10.0;
    let plot_h = h - bottom - top;
    let n = labels.len().max(1) as f64;
    let group_w = plot_w / n;
    let bar_w = (group_w * 0.8 / series.len().max(1) as f64).min(48.0);
    let (max, step) = axis;
    let max = if max > 0.0 { max } else { 1.0 };
    let id = format!(
        "c{:x}",
        title.len() * 7919 + labels.len() * 31 + series.len()
    );
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg class=\"chart\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-labelledby=\"{id}\"><title id=\"{id}\">{}</title>",
        escape(title)
    );
    let ticks = (max / step).round().max(1.0) as i64;
    for i in 0..=ticks {
        let v = step * i as f64;
        let y = top + plot_h - plot_h * v / max;
        let _ = write!(
            s,
            "<line class=\"axis\" x1=\"{left}\" y1=\"{y:.1}\" x2=\"{}\" y2=\"{y:.1}\"/><text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            w - 10.0,
            left - 4.0,
            y + 4.0,
            v.round() as i64
        );
    }
    for (gi, group) in labels.iter().enumerate() {
        let gx = left + group_w * gi as f64 + (group_w - bar_w * series.len() as f64) / 2.0;
        for (si, (name, values)) in series.iter().enumerate() {
            if let Some(Some(v)) = values.get(gi) {
                let bh = plot_h * (v / max).clamp(0.0, 1.0);
                let x = gx + bar_w * si as f64;
                let text = label(*v);
                let _ = write!(
                    s,
                    "<rect class=\"b{si}\" x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{bh:.1}\"><title>{} · {}: {}</title></rect><text class=\"value\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                    top + plot_h - bh,
                    (bar_w - 2.0).max(1.0),
                    escape(group),
                    escape(name),
                    escape(&text),
                    x + (bar_w - 2.0).max(1.0) / 2.0,
                    top + plot_h - bh - 4.0,
                    escape(&text)
                );
            }
        }
        // A label wider than its group (about 6.5 units a character) goes on two lines,
        // broken at the space nearest its middle.
        let cx = left + group_w * (gi as f64 + 0.5);
        let y = h - bottom + 16.0;
        let wide = group.chars().count() as f64 * 6.5 > group_w;
        let middle = group.len() / 2;
        let split = group
            .match_indices(' ')
            .map(|(i, _)| i)
            .min_by_key(|i| i.abs_diff(middle));
        match split.filter(|_| wide) {
            Some(i) => {
                let _ = write!(
                    s,
                    "<text x=\"{cx:.1}\" y=\"{y:.1}\" text-anchor=\"middle\"><tspan x=\"{cx:.1}\">{}</tspan><tspan x=\"{cx:.1}\" dy=\"14\">{}</tspan></text>",
                    escape(&group[..i]),
                    escape(&group[i + 1..])
                );
            }
            None => {
                let _ = write!(
                    s,
                    "<text x=\"{cx:.1}\" y=\"{y:.1}\" text-anchor=\"middle\">{}</text>",
                    escape(group)
                );
            }
        }
    }
    if series.len() > 1 {
        // Up to 150 units a legend entry, less when the entries would not fit in one line.
        let entry = (150.0f64).min((w - left - 10.0) / series.len() as f64);
        for (si, (name, _)) in series.iter().enumerate() {
            let x = left + entry * si as f64;
            let _ = write!(
                s,
                "<rect class=\"b{si}\" x=\"{x}\" y=\"{}\" width=\"12\" height=\"12\"/><text x=\"{}\" y=\"{}\">{}</text>",
                h - 16.0,
                x + 16.0,
                h - 6.0,
                escape(name)
            );
        }
    }
    s.push_str("</svg>");
    s
}

/// The y axis of a chart of counts: (top, step), the step a whole 1, 2 or 5 times a power of
/// ten, at most five steps, and the top the first step at or above `max` (at least 1).
pub fn count_axis(max: f64) -> (f64, f64) {
    let max = max.max(1.0);
    let mut step = 1.0;
    loop {
        for m in [1.0, 2.0, 5.0] {
            if (max / (m * step)).ceil() <= 5.0 {
                let s = m * step;
                return ((max / s).ceil() * s, s);
            }
        }
        step *= 10.0;
    }
}

#[cfg(test)]
mod tests {
    use super::count_axis;

    #[test]
    fn count_axes_have_whole_steps() {
        assert_eq!(count_axis(0.0), (1.0, 1.0));
        assert_eq!(count_axis(3.0), (3.0, 1.0));
        assert_eq!(count_axis(7.0), (8.0, 2.0));
        assert_eq!(count_axis(10.0), (10.0, 2.0));
        assert_eq!(count_axis(23.0), (25.0, 5.0));
        assert_eq!(count_axis(51.0), (60.0, 20.0));
        assert_eq!(count_axis(1234.0), (1500.0, 500.0));
    }
}
