//! `%verify`: the report's tables (inputs, on chain, cells) and its one-line failure.

use crate::status::InputStatus;
use crate::verify::{CellStatus, VerifyReport};
use kelp_magic::{Item, MagicResult, html_escape};
use std::collections::BTreeSet;

impl MagicResult for VerifyReport {
    const SCHEMA: &'static str = "provenance.verify";
    fn text(&self) -> String {
        self.to_text()
    }
    /// The same table, preformatted.
    fn html(&self) -> Option<String> {
        Some(format!("<pre>{}</pre>", html_escape(&self.to_text())))
    }
}

impl VerifyReport {
    /// Why the notebook is not verified, in one line (`None` when it is): `%verify` prints the
    /// table ([`VerifyReport::to_text`]) and fails with this.
    pub fn failure(&self) -> Option<String> {
        if self.ok {
            return None;
        }
        let n = self.cells.iter().filter(|c| matches!(c.status, CellStatus::Differs { .. })).count();
        let gone =
            self.chain.iter().filter(|f| !matches!(f.status, InputStatus::Ok | InputStatus::NotChecked { .. })).count();
        let chain =
            if gone > 0 { format!(", {gone} recorded transaction(s)/asset(s) changed or gone") } else { String::new() };
        Some(format!("%verify: {} is not reproduced ({n} cell(s) differ{chain}; see the table above)", self.notebook))
    }

    /// The input, chain and cell tables and the verdict.
    pub fn to_text(&self) -> String {
        let mut t = String::new();
        if !self.inputs.is_empty() {
            t += "inputs:\n";
        }
        for i in &self.inputs {
            t += &status_line(&i.input, &i.status, &i.dependents, "used by");
        }
        if !self.chain.is_empty() {
            t += "on chain:\n";
        }
        for f in &self.chain {
            t += &status_line(&f.fact, &f.status, &f.cells, "recorded by");
        }
        t += "cell  result          source\n";
        let (mut rep, mut diff, mut skip) = (0, 0, 0);
        for c in &self.cells {
            match &c.status {
                CellStatus::Reproduced => {
                    rep += 1;
                    t += &format!("{:>4}  reproduced      {}\n", c.cell, c.source);
                }
                CellStatus::Differs { what } => {
                    diff += 1;
                    t += &format!("{:>4}  DIFFERS         {}\n", c.cell, c.source);
                    for w in what {
                        t += &format!("                        {w}\n");
                    }
                }
                CellStatus::NotCheckable { why } => {
                    skip += 1;
                    t += &format!("{:>4}  not checkable   {}\n                        {why}\n", c.cell, c.source);
                }
            }
        }
        let bad = |s: &InputStatus| matches!(s, InputStatus::Changed { .. } | InputStatus::Missing { .. });
        let changed = self.inputs.iter().filter(|i| bad(&i.status)).count()
            + self.chain.iter().filter(|f| bad(&f.status)).count();
        t += &format!(
            "{}: {rep} reproduced, {diff} differ, {skip} not checkable, {changed} input(s) changed or missing (re-run {:.1} s)\n",
            if self.ok { "verified" } else { "NOT verified" },
            self.rerun_seconds
        );
        t
    }
}

/// One line of the inputs or chain table: status, what, why, and the cells concerned.
fn status_line(item: &Item, status: &InputStatus, cells: &BTreeSet<usize>, rel: &str) -> String {
    let deps = if cells.is_empty() {
        String::new()
    } else {
        format!(" — {rel} cell{} {}", if cells.len() > 1 { "s" } else { "" }, join(cells))
    };
    match status {
        InputStatus::Ok => format!("  ok            {}\n", item.label()),
        InputStatus::Changed { detail } => format!("  CHANGED       {}: {detail}{deps}\n", item.label()),
        InputStatus::Missing { detail } => format!("  MISSING       {}: {detail}{deps}\n", item.label()),
        InputStatus::NotChecked { reason } => format!("  not checked   {}: {reason}\n", item.label()),
    }
}

fn join(cells: &BTreeSet<usize>) -> String {
    cells.iter().map(usize::to_string).collect::<Vec<_>>().join(", ")
}
