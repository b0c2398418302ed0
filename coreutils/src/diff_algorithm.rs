//! The comparison under diff: lines as equivalence classes, GNU diff's
//! discarding of lines that cannot match, Myers' O(ND) middle-snake
//! search (the structure of GNU's diffseq.h, without its speed
//! heuristics, which only apply to very large inputs), and GNU's boundary
//! shifting that slides changes to where a reader expects them. The
//! result is the list of changes; `tools::diff` prints them.
#![forbid(unsafe_code)]

use alloc::collections::BTreeMap;
use alloc::vec;
use alloc::vec::Vec;

/// A change: `deleted` lines of the first file from `first`, and
/// `inserted` lines of the second from `second` (0-based).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Change {
    pub first: usize,
    pub second: usize,
    pub deleted: usize,
    pub inserted: usize,
}

/// Equivalence classes (from 1) of the two files' lines, equal lines
/// getting the same class.
pub fn classes<T: Ord + Clone>(a: &[T], b: &[T]) -> (Vec<usize>, Vec<usize>) {
    let mut table: BTreeMap<T, usize> = BTreeMap::new();
    let mut classify = |lines: &[T]| -> Vec<usize> {
        lines
            .iter()
            .map(|line| {
                let next = table.len() + 1;
                *table.entry(line.clone()).or_insert(next)
            })
            .collect()
    };
    let first = classify(a);
    let second = classify(b);
    (first, second)
}

/// GNU's discard_confusing_lines: lines with no match in the other file
/// are changes for certain and are left out of the search; lines with very
/// many matches are left out when they sit inside such runs. Returns, per
/// file, the kept lines' indexes; the discarded ones are marked in `changed`.
fn discard_confusing_lines(equivalences: [&[usize]; 2], changed: &mut [Vec<bool>; 2]) -> [Vec<usize>; 2] {
    let classes = equivalences.iter().flat_map(|list| list.iter()).max().map_or(0, |maximum| maximum + 1);
    let mut counts = [vec![0usize; classes], vec![0usize; classes]];
    for (file, list) in equivalences.iter().enumerate() {
        for &class in list.iter() {
            counts[file][class] += 1;
        }
    }
    let mut discards = [vec![0u8; equivalences[0].len()], vec![0u8; equivalences[1].len()]];
    for file in 0..2 {
        let end = equivalences[file].len();
        let mut many = 5usize;
        let mut tem = end / 64;
        loop {
            tem >>= 2;
            if tem == 0 {
                break;
            }
            many *= 2;
        }
        for index in 0..end {
            let matches = counts[1 - file][equivalences[file][index]];
            if matches == 0 {
                discards[file][index] = 1;
            } else if matches > many {
                discards[file][index] = 2;
            }
        }
    }
    for discard in discards.iter_mut() {
        let end = discard.len();
        let mut i = 0;
        while i < end {
            if discard[i] == 2 {
                discard[i] = 0;
            } else if discard[i] != 0 {
                let mut j = i;
                let mut provisional = 0usize;
                while j < end {
                    if discard[j] == 0 {
                        break;
                    }
                    if discard[j] == 2 {
                        provisional += 1;
                    }
                    j += 1;
                }
                while j > i && discard[j - 1] == 2 {
                    j -= 1;
                    discard[j] = 0;
                    provisional -= 1;
                }
                let length = j - i;
                if provisional * 4 > length {
                    while j > i {
                        j -= 1;
                        if discard[j] == 2 {
                            discard[j] = 0;
                        }
                    }
                } else {
                    let mut minimum = 1usize;
                    let mut tem = length >> 2;
                    loop {
                        tem >>= 2;
                        if tem == 0 {
                            break;
                        }
                        minimum <<= 1;
                    }
                    minimum += 1;
                    let mut consecutive = 0usize;
                    let mut k = 0isize;
                    while (k as usize) < length {
                        let position = i + k as usize;
                        if discard[position] != 2 {
                            consecutive = 0;
                        } else {
                            consecutive += 1;
                            if minimum == consecutive {
                                k -= consecutive as isize;
                            } else if minimum < consecutive {
                                discard[position] = 0;
                            }
                        }
                        k += 1;
                    }
                    let mut consecutive = 0usize;
                    for k in 0..length {
                        if k >= 8 && discard[i + k] == 1 {
                            break;
                        }
                        if discard[i + k] == 2 {
                            consecutive = 0;
                            discard[i + k] = 0;
                        } else if discard[i + k] == 0 {
                            consecutive = 0;
                        } else {
                            consecutive += 1;
                        }
                        if consecutive == 3 {
                            break;
                        }
                    }
                    i += length - 1;
                    let mut consecutive = 0usize;
                    for k in 0..length {
                        if k >= 8 && discard[i - k] == 1 {
                            break;
                        }
                        if discard[i - k] == 2 {
                            consecutive = 0;
                            discard[i - k] = 0;
                        } else if discard[i - k] == 0 {
                            consecutive = 0;
                        } else {
                            consecutive += 1;
                        }
                        if consecutive == 3 {
                            break;
                        }
                    }
                }
            }
            i += 1;
        }
    }
    let mut kept = [Vec::new(), Vec::new()];
    for file in 0..2 {
        for index in 0..equivalences[file].len() {
            if discards[file][index] == 0 {
                kept[file].push(index);
            } else {
                changed[file][index] = true;
            }
        }
    }
    kept
}

/// The search state: the kept lines' classes, and the two diagonal vectors.
struct Search<'a> {
    x: &'a [usize],
    y: &'a [usize],
    forward: Vec<isize>,
    backward: Vec<isize>,
    offset: isize,
    deleted: Vec<bool>,
    inserted: Vec<bool>,
}

impl Search<'_> {
    fn equal(&self, x: isize, y: isize) -> bool {
        self.x[x as usize] == self.y[y as usize]
    }

    fn forward_at(&self, diagonal: isize) -> isize {
        self.forward[(diagonal + self.offset) as usize]
    }

    fn set_forward(&mut self, diagonal: isize, value: isize) {
        let index = (diagonal + self.offset) as usize;
        self.forward[index] = value;
    }

    fn backward_at(&self, diagonal: isize) -> isize {
        self.backward[(diagonal + self.offset) as usize]
    }

    fn set_backward(&mut self, diagonal: isize, value: isize) {
        let index = (diagonal + self.offset) as usize;
        self.backward[index] = value;
    }

    /// GNU's diag(): the midpoint of an optimal path from (xoff, yoff) to (xlim, ylim).
    fn middle(&mut self, xoff: isize, xlim: isize, yoff: isize, ylim: isize) -> (isize, isize) {
        let dmin = xoff - ylim;
        let dmax = xlim - yoff;
        let fmid = xoff - yoff;
        let bmid = xlim - ylim;
        let (mut fmin, mut fmax, mut bmin, mut bmax) = (fmid, fmid, bmid, bmid);
        let odd = (fmid - bmid) & 1 != 0;
        self.set_forward(fmid, xoff);
        self.set_backward(bmid, xlim);
        loop {
            if fmin > dmin {
                fmin -= 1;
                self.set_forward(fmin - 1, -1);
            } else {
                fmin += 1;
            }
            if fmax < dmax {
                fmax += 1;
                self.set_forward(fmax + 1, -1);
            } else {
                fmax -= 1;
            }
            let mut d = fmax;
            while d >= fmin {
                let low = self.forward_at(d - 1);
                let high = self.forward_at(d + 1);
                let x0 = if low < high { high } else { low + 1 };
                let (mut x, mut y) = (x0, x0 - d);
                while x < xlim && y < ylim && self.equal(x, y) {
                    x += 1;
                    y += 1;
                }
                self.set_forward(d, x);
                if odd && bmin <= d && d <= bmax && self.backward_at(d) <= x {
                    return (x, y);
                }
                d -= 2;
            }
            if bmin > dmin {
                bmin -= 1;
                self.set_backward(bmin - 1, isize::MAX);
            } else {
                bmin += 1;
            }
            if bmax < dmax {
                bmax += 1;
                self.set_backward(bmax + 1, isize::MAX);
            } else {
                bmax -= 1;
            }
            let mut d = bmax;
            while d >= bmin {
                let low = self.backward_at(d - 1);
                let high = self.backward_at(d + 1);
                let x0 = if low < high { low } else { high - 1 };
                let (mut x, mut y) = (x0, x0 - d);
                while xoff < x && yoff < y && self.equal(x - 1, y - 1) {
                    x -= 1;
                    y -= 1;
                }
                self.set_backward(d, x);
                if !odd && fmin <= d && d <= fmax && x <= self.forward_at(d) {
                    return (x, y);
                }
                d -= 2;
            }
        }
    }

    /// GNU's compareseq(), on the kept lines.
    fn compare(&mut self, mut xoff: isize, mut xlim: isize, mut yoff: isize, mut ylim: isize) {
        while xoff < xlim && yoff < ylim && self.equal(xoff, yoff) {
            xoff += 1;
            yoff += 1;
        }
        while xoff < xlim && yoff < ylim && self.equal(xlim - 1, ylim - 1) {
            xlim -= 1;
            ylim -= 1;
        }
        if xoff == xlim {
            for y in yoff..ylim {
                self.inserted[y as usize] = true;
            }
        } else if yoff == ylim {
            for x in xoff..xlim {
                self.deleted[x as usize] = true;
            }
        } else {
            let (xmid, ymid) = self.middle(xoff, xlim, yoff, ylim);
            self.compare(xoff, xmid, yoff, ymid);
            self.compare(xmid, xlim, ymid, ylim);
        }
    }
}

/// GNU's shift_boundaries: slides each run of changes as far back as it
/// merges with earlier runs, then forward as far as possible, then back to
/// line up with a run in the other file. `changed` vectors have a false
/// sentinel at each end (index 0 and len + 1).
fn shift_boundaries(equivalences: [&[usize]; 2], changed: &mut [Vec<bool>; 2]) {
    for (file, equivalence) in equivalences.iter().enumerate() {
        let (first, second) = changed.split_at_mut(1);
        let (this, other) = if file == 0 { (&mut first[0], &second[0]) } else { (&mut second[0], &first[0]) };
        let end = equivalence.len();
        // Indexes into `this`/`other` are line + 1 (the sentinels).
        let changed_at = |vector: &Vec<bool>, line: isize| vector[(line + 1) as usize];
        let mut i: isize = 0;
        let mut j: isize = 0;
        let i_end = end as isize;
        loop {
            while i < i_end && !changed_at(this, i) {
                while changed_at(other, j) {
                    j += 1;
                }
                j += 1;
                i += 1;
            }
            if i == i_end {
                break;
            }
            let mut start = i;
            i += 1;
            while changed_at(this, i) {
                i += 1;
            }
            while changed_at(other, j) {
                j += 1;
            }
            let mut corresponding;
            loop {
                let run_length = i - start;
                while start > 0 && equivalence[(start - 1) as usize] == equivalence[(i - 1) as usize] {
                    start -= 1;
                    this[(start + 1) as usize] = true;
                    i -= 1;
                    this[(i + 1) as usize] = false;
                    while changed_at(this, start - 1) {
                        start -= 1;
                    }
                    j -= 1;
                    while changed_at(other, j) {
                        j -= 1;
                    }
                }
                corresponding = if changed_at(other, j - 1) { i } else { i_end };
                while i != i_end && equivalence[start as usize] == equivalence[i as usize] {
                    this[(start + 1) as usize] = false;
                    start += 1;
                    this[(i + 1) as usize] = true;
                    i += 1;
                    while changed_at(this, i) {
                        i += 1;
                    }
                    j += 1;
                    while changed_at(other, j) {
                        j += 1;
                        corresponding = i;
                    }
                }
                if run_length == i - start {
                    break;
                }
            }
            while corresponding < i {
                start -= 1;
                this[(start + 1) as usize] = true;
                i -= 1;
                this[(i + 1) as usize] = false;
                j -= 1;
                while changed_at(other, j) {
                    j -= 1;
                }
            }
        }
    }
}

/// The changes that turn lines of classes `a` into `b`. Identical leading
/// and trailing lines take no part except the `horizon` nearest the
/// differences (GNU's find_identical_ends, whose horizon is the number of
/// context lines printed): they change which lines count as matching
/// many others, and so which of several minimal answers is chosen.
pub fn compare(a: &[usize], b: &[usize], minimal: bool, horizon: usize) -> Vec<Change> {
    let mut prefix = 0;
    while prefix < a.len() && prefix < b.len() && a[prefix] == b[prefix] {
        prefix += 1;
    }
    let mut suffix = 0;
    while suffix < a.len() - prefix && suffix < b.len() - prefix && a[a.len() - 1 - suffix] == b[b.len() - 1 - suffix] {
        suffix += 1;
    }
    let prefix = prefix.saturating_sub(horizon);
    let suffix = suffix.saturating_sub(horizon);
    let middle_a = &a[prefix..a.len() - suffix];
    let middle_b = &b[prefix..b.len() - suffix];
    let mut middle_changed = [vec![false; middle_a.len()], vec![false; middle_b.len()]];
    let kept = if minimal {
        [(0..middle_a.len()).collect(), (0..middle_b.len()).collect()]
    } else {
        discard_confusing_lines([middle_a, middle_b], &mut middle_changed)
    };
    let mut changed = [vec![false; a.len()], vec![false; b.len()]];
    for (file, middle) in middle_changed.iter().enumerate() {
        for (index, &flag) in middle.iter().enumerate() {
            changed[file][prefix + index] = flag;
        }
    }
    let kept: [Vec<usize>; 2] =
        [kept[0].iter().map(|&index| index + prefix).collect(), kept[1].iter().map(|&index| index + prefix).collect()];
    let x: Vec<usize> = kept[0].iter().map(|&index| a[index]).collect();
    let y: Vec<usize> = kept[1].iter().map(|&index| b[index]).collect();
    let size = x.len() + y.len() + 3;
    let mut search = Search {
        x: &x,
        y: &y,
        forward: vec![0; size],
        backward: vec![0; size],
        offset: y.len() as isize + 1,
        deleted: vec![false; x.len()],
        inserted: vec![false; y.len()],
    };
    search.compare(0, x.len() as isize, 0, y.len() as isize);
    for (position, &index) in kept[0].iter().enumerate() {
        if search.deleted[position] {
            changed[0][index] = true;
        }
    }
    for (position, &index) in kept[1].iter().enumerate() {
        if search.inserted[position] {
            changed[1][index] = true;
        }
    }
    // With sentinels for the boundary shifting.
    let mut padded = [Vec::with_capacity(a.len() + 2), Vec::with_capacity(b.len() + 2)];
    for (vector, flags) in padded.iter_mut().zip(&changed) {
        vector.push(false);
        vector.extend_from_slice(flags);
        vector.push(false);
    }
    shift_boundaries([a, b], &mut padded);
    let mut changes = Vec::new();
    let (mut i, mut j) = (0usize, 0usize);
    while i < a.len() || j < b.len() {
        if padded[0][i + 1] || padded[1][j + 1] {
            let (first, second) = (i, j);
            while padded[0][i + 1] {
                i += 1;
            }
            while padded[1][j + 1] {
                j += 1;
            }
            changes.push(Change { first, second, deleted: i - first, inserted: j - second });
        }
        i += 1;
        j += 1;
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn run(a: &str, b: &str) -> Vec<Change> {
        let a: Vec<char> = a.chars().collect();
        let b: Vec<char> = b.chars().collect();
        let (x, y) = classes(&a, &b);
        compare(&x, &y, false, 0)
    }

    /// Applies the changes to `a`, which must give `b`.
    fn apply(a: &[usize], b: &[usize], changes: &[Change]) -> Vec<usize> {
        let mut out = Vec::new();
        let mut position = 0;
        for change in changes {
            out.extend_from_slice(&a[position..change.first]);
            out.extend_from_slice(&b[change.second..change.second + change.inserted]);
            position = change.first + change.deleted;
        }
        out.extend_from_slice(&a[position..]);
        out
    }

    fn lcs(a: &[usize], b: &[usize]) -> usize {
        let mut table = vec![vec![0usize; b.len() + 1]; a.len() + 1];
        for i in (0..a.len()).rev() {
            for j in (0..b.len()).rev() {
                table[i][j] = if a[i] == b[j] { table[i + 1][j + 1] + 1 } else { table[i + 1][j].max(table[i][j + 1]) };
            }
        }
        table[0][0]
    }

    #[test]
    fn simple_changes() {
        assert_eq!(run("abc", "abc"), []);
        assert_eq!(run("abc", "abxc"), [Change { first: 2, second: 2, deleted: 0, inserted: 1 }]);
        assert_eq!(run("abc", "ac"), [Change { first: 1, second: 1, deleted: 1, inserted: 0 }]);
        assert_eq!(run("abc", "axc"), [Change { first: 1, second: 1, deleted: 1, inserted: 1 }]);
        assert_eq!(run("", "ab"), [Change { first: 0, second: 0, deleted: 0, inserted: 2 }]);
    }

    #[test]
    fn boundaries_shift_as_gnu_diff_shifts_them() {
        // An inserted "xa" after "a x": GNU reports the run at its end.
        assert_eq!(run("ab", "aab"), [Change { first: 1, second: 1, deleted: 0, inserted: 1 }]);
        assert_eq!(run("axb", "axaxb"), [Change { first: 2, second: 2, deleted: 0, inserted: 2 }]);
    }

    proptest! {
        #[test]
        fn changes_rebuild_the_second_file_minimally(a in "[abc]{0,14}", b in "[abc]{0,14}", minimal: bool) {
            let a: Vec<char> = a.chars().collect();
            let b: Vec<char> = b.chars().collect();
            let (x, y) = classes(&a, &b);
            let changes = compare(&x, &y, minimal, 0);
            prop_assert_eq!(apply(&x, &y, &changes), y.clone());
            let edits: usize = changes.iter().map(|change| change.deleted + change.inserted).sum();
            // Minimal: every line not in a longest common subsequence is an edit. (Without
            // `minimal`, discarding lines with many matches may cost a few, as in GNU's diff.)
            let least = x.len() + y.len() - 2 * lcs(&x, &y);
            if minimal {
                prop_assert_eq!(edits, least);
            } else {
                prop_assert!(edits >= least);
            }
        }
    }
}
