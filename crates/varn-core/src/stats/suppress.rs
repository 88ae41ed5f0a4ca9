//! Which figures of an answer may be shown: the one rule that keeps a person from being counted
//! out of the statistics, for the JSON, the CSV and the page alike.
//!
//! An answer is a table of cells, and groups of cells that add up to another cell: a list and
//! its *unanswered* row add up to the reports, reported and not reported too, the months too,
//! the campaign and the rest too, the reasons add up to those not reported, and a count such
//! as *of a sexual character* and the rest of the reports (a cell that is never shown) add up
//! to the reports. Each cell holds its count over the whole period and the part of it from the
//! period's first and from its last month: what an answer one month shorter at either end
//! would differ by.
//!
//! - **Primary.** A cell is hidden when any of the three is 1 or 2. So neither the answer nor
//!   its difference to an answer a month shorter shows a count a person could be picked out by.
//! - **Complementary.** In every group whose sum is shown, a hidden cell never stands alone
//!   (else it is the sum minus the others), the hidden cells are never all ones (a hidden cell
//!   is never 0, so that would give them away), and their first and last months' parts do not
//!   add up to 1 or 2. A group whose sum is hidden hides at least one of its cells (else the
//!   sum is theirs). More cells are hidden, smallest first, until all of that holds; when no
//!   cell can do it, the sum is hidden, which its own groups then answer for.
//!
//! A hidden cell is shown as hidden, whatever its count: a reader cannot tell a small count
//! from one hidden to protect it.

use super::MIN_SHOWN;

/// A cell's count over the period and in its first and last month.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Over the whole period.
    pub all: u64,
    /// In its first month.
    pub first: u64,
    /// In its last month.
    pub last: u64,
}

impl Tally {
    /// One more in a month that is the period's first and/or its last.
    pub fn add(&mut self, first: bool, last: bool) {
        self.all += 1;
        self.first += u64::from(first);
        self.last += u64::from(last);
    }

    fn plus(self, o: Tally) -> Tally {
        Tally {
            all: self.all + o.all,
            first: self.first + o.first,
            last: self.last + o.last,
        }
    }

    fn minus(self, o: Tally) -> Tally {
        Tally {
            all: self.all.saturating_sub(o.all),
            first: self.first.saturating_sub(o.first),
            last: self.last.saturating_sub(o.last),
        }
    }
}

/// 1 or 2: a count a person could be picked out by.
fn small(n: u64) -> bool {
    n > 0 && n < MIN_SHOWN
}

/// A cell of a [`Table`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cell(usize);

/// The cells of one answer and the groups that add up.
#[derive(Debug, Default)]
pub struct Table {
    cells: Vec<Tally>,
    groups: Vec<(Cell, Vec<Cell>)>,
}

/// Which cells may be shown, once the rule has run.
#[derive(Debug)]
pub struct Shown {
    cells: Vec<Tally>,
    hidden: Vec<bool>,
}

impl Shown {
    /// The cell's count over the period, when it may be shown.
    pub fn get(&self, c: Cell) -> Option<u64> {
        (!self.hidden[c.0]).then_some(self.cells[c.0].all)
    }
}

impl Table {
    /// An empty table.
    pub fn new() -> Table {
        Table::default()
    }

    /// A new cell.
    pub fn cell(&mut self, t: Tally) -> Cell {
        self.cells.push(t);
        Cell(self.cells.len() - 1)
    }

    /// `parts` add up to `total` (each counted thing in exactly one of them).
    pub fn group(&mut self, total: Cell, parts: Vec<Cell>) {
        debug_assert_eq!(
            parts
                .iter()
                .fold(Tally::default(), |s, p| s.plus(self.cells[p.0])),
            self.cells[total.0],
            "the parts must add up to the total"
        );
        self.groups.push((total, parts));
    }

    /// `part` and a cell that is never shown (the rest) add up to `total`.
    pub fn share(&mut self, total: Cell, part: Cell) {
        let rest = self.cell(self.cells[total.0].minus(self.cells[part.0]));
        self.group(total, vec![part, rest]);
    }

    /// Runs the rule.
    pub fn solve(self) -> Shown {
        let mut hidden: Vec<bool> = self
            .cells
            .iter()
            .map(|t| small(t.all) || small(t.first) || small(t.last))
            .collect();
        // Each round hides one more cell, so this ends.
        while let Some(c) = self.next_to_hide(&hidden) {
            hidden[c.0] = true;
        }
        Shown {
            cells: self.cells,
            hidden,
        }
    }

    /// A cell that must be hidden for some group to hold, if any.
    fn next_to_hide(&self, hidden: &[bool]) -> Option<Cell> {
        for (total, parts) in &self.groups {
            let hid: Vec<Cell> = parts.iter().copied().filter(|p| hidden[p.0]).collect();
            let mass = hid
                .iter()
                .fold(Tally::default(), |s, p| s.plus(self.cells[p.0]));
            let total_hidden = hidden[total.0];
            let holds = if total_hidden {
                !hid.is_empty()
            } else {
                hid.is_empty()
                    || (hid.len() > 1
                        && mass.all > hid.len() as u64
                        && !small(mass.first)
                        && !small(mass.last))
            };
            if holds {
                continue;
            }
            // The smallest shown cell that helps: one with a part in the month that is short.
            let helps = |t: &Tally| {
                t.all > 0
                    && (!small(mass.first) || t.first > 0)
                    && (!small(mass.last) || t.last > 0)
            };
            let next = parts
                .iter()
                .copied()
                .filter(|p| !hidden[p.0] && helps(&self.cells[p.0]))
                .min_by_key(|p| self.cells[p.0].all);
            match next {
                Some(p) => return Some(p),
                None if !total_hidden => return Some(*total),
                // A hidden sum with no cell left to hide adds up to 0: nothing to protect.
                None => continue,
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(all: u64) -> Tally {
        Tally {
            all,
            first: 0,
            last: 0,
        }
    }

    /// A table of one group: a total and its parts (counts over the period, no edge parts).
    fn one_group(parts: &[u64]) -> (Shown, Cell, Vec<Cell>) {
        let mut table = Table::new();
        let total = table.cell(t(parts.iter().sum()));
        let cells: Vec<Cell> = parts.iter().map(|&n| table.cell(t(n))).collect();
        table.group(total, cells.clone());
        (table.solve(), total, cells)
    }

    fn shown(s: &Shown, cells: &[Cell]) -> Vec<Option<u64>> {
        cells.iter().map(|&c| s.get(c)).collect()
    }

    #[test]
    fn a_small_cell_is_hidden_with_the_next_smallest_beside_it() {
        let (s, total, cells) = one_group(&[10, 1, 0, 5, 7]);
        assert_eq!(s.get(total), Some(23));
        assert_eq!(shown(&s, &cells), [Some(10), None, Some(0), None, Some(7)]);
    }

    #[test]
    fn nothing_is_hidden_when_nothing_is_small() {
        let (s, total, cells) = one_group(&[10, 0, 3]);
        assert_eq!(s.get(total), Some(13));
        assert_eq!(shown(&s, &cells), [Some(10), Some(0), Some(3)]);
    }

    #[test]
    fn hidden_cells_that_could_only_be_ones_take_another() {
        // Two ones: hidden together they add up to 2, so both would be 1.
        let (s, _, cells) = one_group(&[1, 1, 4, 9]);
        assert_eq!(shown(&s, &cells), [None, None, None, Some(9)]);
    }

    #[test]
    fn a_lone_count_with_nothing_to_hide_beside_it_hides_the_sum() {
        let (s, total, cells) = one_group(&[0, 1, 0]);
        assert_eq!(s.get(total), None);
        assert_eq!(shown(&s, &cells), [Some(0), None, Some(0)]);
    }

    #[test]
    fn a_hidden_sum_hides_one_of_its_parts() {
        let mut table = Table::new();
        let total = table.cell(t(2));
        let a = table.cell(t(0));
        let b = table.cell(t(2));
        table.group(total, vec![a, b]);
        let s = table.solve();
        assert_eq!((s.get(total), s.get(a), s.get(b)), (None, Some(0), None));

        // A sum hidden by another group: its parts follow.
        let mut table = Table::new();
        let all = table.cell(t(9));
        let yes = table.cell(t(1));
        let no = table.cell(t(8));
        table.group(all, vec![yes, no]);
        let why_a = table.cell(t(4));
        let why_b = table.cell(t(4));
        table.group(no, vec![why_a, why_b]);
        let s = table.solve();
        assert_eq!((s.get(yes), s.get(no)), (None, None));
        assert_eq!(
            [s.get(why_a), s.get(why_b)]
                .iter()
                .filter(|c| c.is_none())
                .count(),
            1,
            "a sum that is hidden is not the sum of what is shown"
        );
    }

    #[test]
    fn a_month_at_either_end_is_never_a_difference_of_one_or_two() {
        // 12 in all, 1 of them in the last month: the answer a month shorter has 11.
        let mut table = Table::new();
        let total = table.cell(Tally {
            all: 12,
            first: 3,
            last: 1,
        });
        let a = table.cell(Tally {
            all: 8,
            first: 3,
            last: 1,
        });
        let b = table.cell(Tally {
            all: 4,
            first: 0,
            last: 0,
        });
        table.group(total, vec![a, b]);
        let s = table.solve();
        assert_eq!(
            (s.get(total), s.get(a), s.get(b)),
            (None, None, Some(4)),
            "only the sum itself can hide the one report of the last month"
        );

        // Four in the last month, one of them in the first cell: the neighbour with a part in
        // that month is hidden with it, not the smaller cell without one.
        let mut table = Table::new();
        let total = table.cell(Tally {
            all: 30,
            first: 0,
            last: 4,
        });
        let parts: Vec<Cell> = [(8, 1), (3, 0), (19, 3)]
            .iter()
            .map(|&(all, last)| {
                table.cell(Tally {
                    all,
                    first: 0,
                    last,
                })
            })
            .collect();
        table.group(total, parts.clone());
        let s = table.solve();
        assert_eq!(s.get(total), Some(30));
        assert_eq!(shown(&s, &parts), [None, Some(3), None]);
    }

    #[test]
    fn a_share_hides_the_count_when_the_rest_is_small() {
        // 9 of 10: the one that is not is the total minus the 9.
        let mut table = Table::new();
        let total = table.cell(t(10));
        let sexual = table.cell(t(9));
        table.share(total, sexual);
        let s = table.solve();
        assert_eq!((s.get(total), s.get(sexual)), (Some(10), None));
    }
}
