//! Sorting for `qsort`: an in-place heapsort driven by index callbacks, so it
//! needs no allocation and is O(n log n) on every input (no quadratic case
//! an adversarial comparator could trigger).
#![forbid(unsafe_code)]

use core::cmp::Ordering;

/// Sorts `count` elements ascending, given `compare(i, j)` and `swap(i, j)`.
pub fn heap_sort(count: usize, mut compare: impl FnMut(usize, usize) -> Ordering, mut swap: impl FnMut(usize, usize)) {
    if count < 2 {
        return;
    }
    let sift_down = |mut root: usize, end: usize, compare: &mut dyn FnMut(usize, usize) -> Ordering, swap: &mut dyn FnMut(usize, usize)| loop {
        let mut child = 2 * root + 1;
        if child >= end {
            break;
        }
        if child + 1 < end && compare(child, child + 1) == Ordering::Less {
            child += 1;
        }
        if compare(root, child) == Ordering::Less {
            swap(root, child);
            root = child;
        } else {
            break;
        }
    };
    for start in (0..count / 2).rev() {
        sift_down(start, count, &mut compare, &mut swap);
    }
    for end in (1..count).rev() {
        swap(0, end);
        sift_down(0, end, &mut compare, &mut swap);
    }
}

/// Binary search for `bsearch`: index of an element comparing equal.
pub fn binary_search(count: usize, mut compare_with_key: impl FnMut(usize) -> Ordering) -> Option<usize> {
    let (mut low, mut high) = (0usize, count);
    while low < high {
        let middle = low + (high - low) / 2;
        match compare_with_key(middle) {
            Ordering::Equal => return Some(middle),
            Ordering::Less => low = middle + 1,
            Ordering::Greater => high = middle,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;
    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]
        #[test]
        fn sorts_like_std(values in proptest::collection::vec(proptest::num::i32::ANY, 0..200)) {
            let mut ours = values.clone();
            let cell = core::cell::RefCell::new(&mut ours);
            heap_sort(values.len(), |i, j| { let v = cell.borrow(); v[i].cmp(&v[j]) }, |i, j| cell.borrow_mut().swap(i, j));
            let mut expected = values.clone();
            expected.sort();
            proptest::prop_assert_eq!(&ours, &expected);
            for (index, value) in expected.iter().enumerate() {
                let found = binary_search(expected.len(), |m| expected[m].cmp(value)).unwrap();
                proptest::prop_assert_eq!(expected[found], expected[index]);
            }
            proptest::prop_assert_eq!(binary_search(0, |_| Ordering::Equal), None);
        }
    }
    #[test]
    fn empty_and_single() {
        let mut calls: Vec<(usize, usize)> = Vec::new();
        heap_sort(1, |_, _| Ordering::Equal, |i, j| calls.push((i, j)));
        assert!(calls.is_empty());
    }
}
