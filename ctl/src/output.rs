//! Output formats (`-o table|wide|json|yaml`), tables, and time formatting.

use std::time::SystemTime;

use clap::ValueEnum;
use comfy_table::{
    Cell, CellAlignment, ColumnConstraint, ContentLineStyle, LineStyle, Table, TableStyle, presets,
};
use serde::Serialize;

/// `-o`: how to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Columns for people.
    Table,
    /// More columns.
    Wide,
    Json,
    Yaml,
}

/// Print `value` as JSON or YAML; `false` when `format` is a table format.
pub fn print_structured<T: Serialize>(format: Format, value: &T) -> anyhow::Result<bool> {
    match format {
        Format::Json => {
            println!("{}", serde_json::to_string_pretty(value)?);
            Ok(true)
        }
        Format::Yaml => {
            print!("{}", to_yaml(value)?);
            Ok(true)
        }
        Format::Table | Format::Wide => Ok(false),
    }
}

/// `+---+` borders around the header and the table, like calicoctl and BIRD-era tools.
const CALICOCTL_STYLE: TableStyle = TableStyle::new()
    .top_border(LineStyle::new('+', '-', '+', '+'))
    .header_lines(ContentLineStyle::new('|', '|', '|'))
    .header_separator(LineStyle::new('+', '-', '+', '+'))
    .content_lines(ContentLineStyle::new('|', '|', '|'))
    .bottom_border(LineStyle::new('+', '-', '+', '+'));

/// YAML with timestamps quoted (as kubectl prints them), so that YAML 1.1 readers such as
/// PyYAML keep them strings, as in the JSON.
pub fn to_yaml<T: Serialize>(value: &T) -> Result<String, serde_yaml::Error> {
    let text = serde_yaml::to_string(value)?;
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        match line.split_once(": ") {
            Some((key, scalar)) if humantime::parse_rfc3339(scalar).is_ok() => {
                out.push_str(&format!("{key}: '{scalar}'"));
            }
            _ => out.push_str(line),
        }
        out.push('\n');
    }
    Ok(out)
}

/// A `calicoctl node status` style table: ASCII borders, centered headers.
pub fn boxed_table(headers: &[&str]) -> Table {
    let mut table = Table::new();
    table.load_style(CALICOCTL_STYLE);
    table.set_header(
        headers
            .iter()
            .map(|h| Cell::new(h).set_alignment(CellAlignment::Center)),
    );
    table
}

/// A `kubectl get` style table: no borders, columns three spaces apart.
pub fn plain_table(headers: &[&str]) -> Table {
    let mut table = Table::new();
    table.load_style(presets::NOTHING);
    table.set_header(headers.iter().copied());
    for column in table.column_iter_mut() {
        column.set_padding((0, 3));
        column.set_constraint(ColumnConstraint::ContentWidth);
    }
    table
}

/// A table as text, trailing spaces removed from every line.
pub fn render(table: &Table) -> String {
    let mut out = String::new();
    for line in table.lines() {
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// RFC 3339 UTC with seconds, e.g. `2026-11-21T08:01:02Z`.
pub fn rfc3339(time: SystemTime) -> String {
    humantime::format_rfc3339_seconds(time).to_string()
}

/// A protobuf timestamp as RFC 3339, `None` when absent or out of range.
pub fn timestamp(time: Option<&prost_types::Timestamp>) -> Option<String> {
    let time = SystemTime::try_from(*time?).ok()?;
    Some(rfc3339(time))
}

/// `5m12s` since `time` (whole seconds), like kubectl's AGE.
pub fn age(time: Option<&prost_types::Timestamp>, now: SystemTime) -> String {
    let Some(time) = time.and_then(|t| SystemTime::try_from(*t).ok()) else {
        return String::new();
    };
    let seconds = now.duration_since(time).map_or(0, |d| d.as_secs());
    humantime::format_duration(std::time::Duration::from_secs(seconds))
        .to_string()
        .replace(' ', "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_quotes_timestamps_and_keeps_them_strings() {
        let value =
            serde_json::json!({"peers": [{"since": "2026-11-21T08:05:44Z", "state": "Idle"}]});
        let text = to_yaml(&value).unwrap();
        assert!(text.contains("- since: '2026-11-21T08:05:44Z'\n"), "{text}");
        let back: serde_json::Value = serde_yaml::from_str(&text).unwrap();
        assert_eq!(back, value);
    }

    #[test]
    fn boxed_tables_use_plus_and_dash_borders() {
        let mut table = boxed_table(&["A", "B"]);
        table.add_row(vec!["1", "2"]);
        let text = render(&table);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 5);
        assert_eq!(lines[0], lines[2]);
        assert_eq!(lines[0], lines[4]);
        assert!(lines[0].starts_with("+---") && !text.contains('='));
    }
}
