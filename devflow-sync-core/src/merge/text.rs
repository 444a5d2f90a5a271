//! Line-based three-way merge of long text.

use std::ops::Range;

use similar::{Algorithm, DiffTag, capture_diff_slices};

/// One change of one side against the base: base lines `base` become `lines`.
#[derive(Clone, Debug)]
struct Hunk<'a> {
    base: Range<usize>,
    lines: &'a [&'a str],
}

/// The lines of `text`, each keeping its line break, so joining them gives `text` back.
fn lines(text: &str) -> Vec<&str> {
    text.split_inclusive('\n').collect()
}

/// The changes turning `base` into `side`, neighbouring edits merged into one hunk.
///
/// Positions are recomputed from the operations' lengths rather than taken from their
/// indices, and the result is checked: if the hunks do not rebuild `side`, one hunk
/// replacing everything is returned, which can only make a merge more cautious.
fn hunks<'a>(base: &[&str], side: &'a [&'a str]) -> Vec<Hunk<'a>> {
    let mut out: Vec<Hunk<'a>> = Vec::new();
    let (mut old_pos, mut new_pos) = (0, 0);
    // Where the last hunk's lines start in `side`.
    let mut side_start = 0;
    for op in capture_diff_slices(Algorithm::Myers, base, side) {
        let (tag, old, new) = op.as_tag_tuple();
        let old = old_pos..old_pos + old.len();
        let new = new_pos..new_pos + new.len();
        (old_pos, new_pos) = (old.end, new.end);
        if tag == DiffTag::Equal || (old.is_empty() && new.is_empty()) {
            continue;
        }
        match out.last_mut() {
            Some(last)
                if last.base.end == old.start && side_start + last.lines.len() == new.start =>
            {
                last.base.end = old.end;
                last.lines = &side[side_start..new.end];
            }
            _ => {
                side_start = new.start;
                out.push(Hunk {
                    base: old,
                    lines: &side[new],
                });
            }
        }
    }
    if old_pos != base.len() || new_pos != side.len() || !rebuilds(base, side, &out) {
        return vec![Hunk {
            base: 0..base.len(),
            lines: side,
        }];
    }
    out
}

/// Whether applying `hunks` to `base` gives `side`.
fn rebuilds(base: &[&str], side: &[&str], hunks: &[Hunk<'_>]) -> bool {
    let mut rebuilt: Vec<&str> = Vec::with_capacity(side.len());
    let mut pos = 0;
    for hunk in hunks {
        if hunk.base.start < pos || hunk.base.end > base.len() {
            return false;
        }
        rebuilt.extend_from_slice(&base[pos..hunk.base.start]);
        rebuilt.extend_from_slice(hunk.lines);
        pos = hunk.base.end;
    }
    rebuilt.extend_from_slice(&base[pos..]);
    rebuilt == side
}

/// Whether two hunks touch the same base lines in a way that has no single right
/// order: overlapping replaced ranges, two insertions at one point, or an insertion
/// strictly inside the other's range.
fn overlaps(a: &Range<usize>, b: &Range<usize>) -> bool {
    match (a.is_empty(), b.is_empty()) {
        (false, false) => a.start < b.end && b.start < a.end,
        (true, true) => a.start == b.start,
        (true, false) => b.start < a.start && a.start < b.end,
        (false, true) => a.start < b.start && b.start < a.end,
    }
}

/// Appends lines, putting a line break after a previous last line that had none (one
/// side's final line can end up in the middle of the merged text).
fn push_lines(out: &mut String, lines: &[&str]) {
    for line in lines {
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(line);
    }
}

/// The text of base lines `range` with `side`'s hunks inside it applied.
fn rewrite(base: &[&str], range: &Range<usize>, side: &[Hunk<'_>], out: &mut String) {
    let mut pos = range.start;
    for hunk in side {
        push_lines(out, &base[pos..hunk.base.start]);
        push_lines(out, hunk.lines);
        pos = hunk.base.end;
    }
    push_lines(out, &base[pos..range.end]);
}

/// The base lines where both sides made different, overlapping edits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Overlap {
    /// The 1-based first base line of the clash.
    pub(crate) line: usize,
}

/// Merges `local` and `remote` edits of `base` line by line: edits to different lines
/// are both kept; identical edits are kept once; different edits to the same lines are
/// an overlap, reported with the first such line.
pub(crate) fn merge_lines(base: &str, local: &str, remote: &str) -> Result<String, Overlap> {
    let base_lines = lines(base);
    let local_lines = lines(local);
    let remote_lines = lines(remote);
    let ours = hunks(&base_lines, &local_lines);
    let theirs = hunks(&base_lines, &remote_lines);

    let mut out = String::with_capacity(base.len().max(local.len()).max(remote.len()));
    let (mut i, mut j, mut pos) = (0, 0, 0);
    while i < ours.len() || j < theirs.len() {
        // Start a cluster at whichever next hunk comes first in the base; at one start,
        // an insertion comes before a replacement of the lines after it.
        let take_ours = match (ours.get(i), theirs.get(j)) {
            (Some(a), Some(b)) => {
                (a.base.start, !a.base.is_empty()) <= (b.base.start, !b.base.is_empty())
            }
            (Some(_), None) => true,
            _ => false,
        };
        let (first_i, first_j) = (i, j);
        let mut range = if take_ours {
            i += 1;
            ours[first_i].base.clone()
        } else {
            j += 1;
            theirs[first_j].base.clone()
        };
        // Grow the cluster while a hunk of either side overlaps it.
        loop {
            if let Some(a) = ours.get(i).filter(|a| overlaps(&a.base, &range)) {
                range = range.start.min(a.base.start)..range.end.max(a.base.end);
                i += 1;
            } else if let Some(b) = theirs.get(j).filter(|b| overlaps(&b.base, &range)) {
                range = range.start.min(b.base.start)..range.end.max(b.base.end);
                j += 1;
            } else {
                break;
            }
        }
        push_lines(&mut out, &base_lines[pos..range.start]);
        let (ours_here, theirs_here) = (&ours[first_i..i], &theirs[first_j..j]);
        if theirs_here.is_empty() {
            rewrite(&base_lines, &range, ours_here, &mut out);
        } else if ours_here.is_empty() {
            rewrite(&base_lines, &range, theirs_here, &mut out);
        } else {
            let mut a = String::new();
            let mut b = String::new();
            rewrite(&base_lines, &range, ours_here, &mut a);
            rewrite(&base_lines, &range, theirs_here, &mut b);
            if a != b {
                return Err(Overlap {
                    line: range.start + 1,
                });
            }
            push_lines(&mut out, &[a.as_str()]);
        }
        pos = range.end;
    }
    push_lines(&mut out, &base_lines[pos..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str =
        "# Checkout\n\nIntro line.\n\n## Steps\n1. Add to cart\n2. Pay\n\n## Notes\nNone yet.\n";

    #[test]
    fn edits_to_different_lines_both_survive() {
        let local = BASE.replace("Intro line.", "Intro line, revised by the host.");
        let remote = BASE.replace("None yet.", "Remote added a note.");
        let merged = merge_lines(BASE, &local, &remote).unwrap();
        assert!(merged.contains("Intro line, revised by the host."));
        assert!(merged.contains("Remote added a note."));
        assert!(!merged.contains("None yet."));
    }

    #[test]
    fn insertions_and_deletions_at_different_places_merge() {
        let local = BASE.replace("2. Pay\n", "2. Pay\n3. Get a receipt\n");
        let remote = BASE.replace("Intro line.\n\n", "");
        let merged = merge_lines(BASE, &local, &remote).unwrap();
        assert_eq!(
            merged,
            "# Checkout\n\n## Steps\n1. Add to cart\n2. Pay\n3. Get a receipt\n\n## Notes\nNone yet.\n"
        );
    }

    #[test]
    fn adjacent_line_edits_merge() {
        let local = BASE.replace("1. Add to cart", "1. Add items to cart");
        let remote = BASE.replace("2. Pay", "2. Pay by card");
        let merged = merge_lines(BASE, &local, &remote).unwrap();
        assert!(merged.contains("1. Add items to cart\n2. Pay by card\n"));
    }

    #[test]
    fn overlapping_edits_are_reported_with_the_line() {
        let local = BASE.replace("2. Pay", "2. Pay online");
        let remote = BASE.replace("2. Pay", "2. Pay in store");
        let err = merge_lines(BASE, &local, &remote).unwrap_err();
        assert_eq!(err.line, 7);
    }

    #[test]
    fn two_insertions_at_one_point_overlap_unless_equal() {
        let local = BASE.replace("## Notes\n", "## Notes\nLocal.\n");
        let remote = BASE.replace("## Notes\n", "## Notes\nRemote.\n");
        assert!(merge_lines(BASE, &local, &remote).is_err());
        assert_eq!(merge_lines(BASE, &local, &local).unwrap(), local);
    }

    #[test]
    fn identical_edits_are_kept_once() {
        let both = BASE.replace("Intro line.", "Same edit.");
        assert_eq!(merge_lines(BASE, &both, &both).unwrap(), both);
    }

    #[test]
    fn insertion_before_a_replaced_line_keeps_both_in_order() {
        let base = "a\nb\nc\n";
        let local = "a\nB\nc\n";
        let remote = "a\nnew\nb\nc\n";
        assert_eq!(merge_lines(base, local, remote).unwrap(), "a\nnew\nB\nc\n");
        assert_eq!(merge_lines(base, remote, local).unwrap(), "a\nnew\nB\nc\n");
    }

    #[test]
    fn hunks_rebuild_the_side_they_came_from() {
        // A case where the diff's own indices are not in order.
        let base = lines("beta\nbeta\neps\n");
        let side = lines("eps\nzetaalpha\neps\nalpha\nalpha\n");
        let h = hunks(&base, &side);
        assert!(rebuilds(&base, &side, &h));
        assert_eq!(
            merge_lines(
                "beta\nbeta\neps\n",
                "edit0\nbeta\neps\n",
                "eps\nzetaalpha\neps\nalpha\nalpha\n"
            )
            .unwrap_err(),
            Overlap { line: 1 }
        );
    }

    #[test]
    fn a_final_line_without_break_is_not_glued_to_what_follows() {
        assert_eq!(
            merge_lines("alpha\n", "zeta", "alpha\nedit\n").unwrap(),
            "zeta\nedit\n"
        );
    }

    #[test]
    fn missing_final_newline_is_preserved() {
        let base = "a\nb\nc";
        assert_eq!(merge_lines(base, "A\nb\nc", "a\nb\nC").unwrap(), "A\nb\nC");
    }

    #[test]
    fn empty_base_with_two_different_texts_overlaps() {
        assert!(merge_lines("", "one\n", "two\n").is_err());
        assert_eq!(merge_lines("", "", "two\n").unwrap(), "two\n");
    }
}
