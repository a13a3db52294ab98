//! The table engine: kubectl-style columns (upper-case headers, no borders, three spaces
//! apart), printed whole or a page at a time with widths that carry over.

use comfy_table::{CellAlignment, ColumnConstraint, Table, Width, presets};

/// kubectl-style table: upper-case headers, no borders, columns three spaces apart.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    table_paged(headers, rows, &mut Vec::new())
}

/// A table printed a page at a time: `widths` carries the column widths of the pages already
/// printed, so later pages line up with earlier ones (a column only ever grows).
pub fn table_paged(headers: &[&str], rows: &[Vec<String>], widths: &mut Vec<u16>) -> String {
    let mut t = Table::new();
    t.load_style(presets::NOTHING);
    t.set_header(headers.iter().copied());
    for row in rows {
        t.add_row(row.iter().map(String::as_str));
    }
    let last = headers.len().saturating_sub(1);
    let content = t.column_max_content_widths();
    widths.resize(content.len(), 0);
    for (w, c) in widths.iter_mut().zip(&content) {
        *w = (*w).max(*c);
    }
    for (i, col) in t.column_iter_mut().enumerate() {
        col.set_padding((0, if i == last { 0 } else { 3 }));
        col.set_cell_alignment(CellAlignment::Left);
        col.set_constraint(ColumnConstraint::LowerBoundary(Width::Fixed(widths[i])));
    }
    let mut out = String::new();
    for line in t.lines() {
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_have_no_borders_and_align_columns() {
        let out = table(
            &["NAME", "TRACING"],
            &[
                vec!["iris".into(), "on".into()],
                vec!["fraud-graph".into(), "off".into()],
            ],
        );
        assert_eq!(
            out,
            "NAME          TRACING\niris          on\nfraud-graph   off\n"
        );
    }
}
