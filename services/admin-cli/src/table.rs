//! Plain-text tables: columns padded to their widest cell, so output lines up in a terminal.

/// Renders `rows` under `header`, two spaces between columns, no trailing spaces.
pub(crate) fn render(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|cell| cell.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> =
            cells.iter().zip(&widths).map(|(cell, width)| format!("{cell:<width$}", width = *width)).collect();
        padded.join("  ").trim_end().to_owned()
    };
    let mut lines = vec![line(header.to_vec())];
    lines.extend(rows.iter().map(|row| line(row.iter().map(String::as_str).collect())));
    if rows.is_empty() {
        lines.push("(none)".to_owned());
    }
    lines.join("\n")
}

/// Key-value lines for a single record.
pub(crate) fn pairs(rows: &[(&str, String)]) -> String {
    let width = rows.iter().map(|(key, _)| key.chars().count()).max().unwrap_or(0);
    rows.iter().map(|(key, value)| format!("{key:<width$}  {value}")).collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up_on_the_widest_cell() {
        let text = render(&["id", "name"], &[vec!["1".into(), "alice".into()], vec!["1234".into(), "b".into()]]);
        assert_eq!(text, "id    name\n1     alice\n1234  b");
    }

    #[test]
    fn an_empty_table_says_so() {
        assert_eq!(render(&["id"], &[]), "id\n(none)");
    }
}
