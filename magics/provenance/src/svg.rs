//! The provenance graph as a picture: inputs (left) → cells (middle) → outputs (right), a box
//! each; lines for reads and writes, curves on the cells' left for cell-to-cell dependencies.
//! Plain SVG, no fonts or scripts; shown in `%provenance`'s HTML and written by `--svg FILE`.

use crate::graph::Graph;
use kelp_magic::{Item, html_escape};

const ROW: f64 = 28.0;
const W: f64 = 220.0;
const X_IN: f64 = 10.0;
const X_CELL: f64 = 330.0;
const X_OUT: f64 = 570.0;

fn y(i: usize) -> f64 {
    36.0 + i as f64 * ROW
}

fn clip(s: &str) -> String {
    if s.chars().count() > 34 { format!("{}…", s.chars().take(33).collect::<String>()) } else { s.to_string() }
}

fn node(x: f64, yy: f64, fill: &str, label: &str) -> String {
    format!(
        r##"<rect x="{x}" y="{:.0}" width="{W}" height="20" rx="4" fill="{fill}" stroke="#555"/><text x="{:.0}" y="{:.0}">{}</text>"##,
        yy - 14.0,
        x + 4.0,
        yy,
        html_escape(&clip(label))
    )
}

fn line(x1: f64, y1: f64, x2: f64, y2: f64, color: &str) -> String {
    format!(r#"<line x1="{x1:.0}" y1="{:.0}" x2="{x2:.0}" y2="{:.0}" stroke="{color}"/>"#, y1 - 4.0, y2 - 4.0)
}

impl Graph {
    /// The graph as an SVG document.
    pub fn to_svg(&self) -> String {
        let outputs: Vec<(usize, Item)> =
            self.outputs().into_iter().filter(|(_, i)| !matches!(i, Item::Tx { .. })).collect();
        let rows = self.inputs.len().max(self.cells.len()).max(outputs.len()).max(1);
        let height = y(rows) + 4.0;
        let cell_y = |c: usize| self.cells.iter().position(|n| n.cell == c).map(y);
        let mut v = format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="800" height="{height:.0}" font-family="monospace" font-size="11"><text x="{X_IN}" y="14">inputs</text><text x="{X_CELL}" y="14">cells</text><text x="{X_OUT}" y="14">outputs</text>"#
        );
        for (i, input) in self.inputs.iter().enumerate() {
            v += &node(X_IN, y(i), "#e8f1fb", &input.item.label());
            for cy in input.cells.iter().filter_map(|c| cell_y(*c)) {
                v += &line(X_IN + W, y(i), X_CELL, cy, "#4a7");
            }
        }
        for (i, c) in self.cells.iter().enumerate() {
            let what = c.records.first().map(crate::graph::what).unwrap_or_default();
            v += &node(X_CELL, y(i), "#fdf3e1", &format!("{}: {what}", c.cell));
            for dy in c.depends_on.iter().filter_map(|d| cell_y(*d)) {
                let (a, b) = (dy - 4.0, y(i) - 4.0);
                v += &format!(
                    r##"<path d="M{X_CELL} {a:.0} C{:.0} {a:.0} {:.0} {b:.0} {X_CELL} {b:.0}" fill="none" stroke="#c84"/>"##,
                    X_CELL - 40.0,
                    X_CELL - 40.0
                );
            }
        }
        for (i, (c, item)) in outputs.iter().enumerate() {
            v += &node(X_OUT, y(i), "#eef7ec", &item.label());
            if let Some(cy) = cell_y(*c) {
                v += &line(X_CELL + W, cy, X_OUT, y(i), "#47a");
            }
        }
        v + "</svg>"
    }
}
