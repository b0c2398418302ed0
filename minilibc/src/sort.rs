//! Sorting for `qsort`: a stable merge sort over raw element bytes (what
//! glibc's qsort does too, so equal elements keep their order and outputs
//! match), and an in-place heapsort used when no scratch memory is
//! available. Both are O(n log n) on every input.
#![forbid(unsafe_code)]

use core::cmp::Ordering;

/// Sorts `count` elements ascending, given `compare(i, j)` and `swap(i, j)`.
pub fn heap_sort(count: usize, mut compare: impl FnMut(usize, usize) -> Ordering, mut swap: impl FnMut(usize, usize)) {
    if count < 2 {
        return;
    }
    let sift_down = |mut root: usize,
                     end: usize,
                     compare: &mut dyn FnMut(usize, usize) -> Ordering,
                     swap: &mut dyn FnMut(usize, usize)| loop {
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

const RUN: usize = 8;

fn swap_elements(data: &mut [u8], size: usize, first: usize) {
    let (left, right) = data[first * size..(first + 2) * size].split_at_mut(size);
    left.swap_with_slice(right);
}

/// Stable sort of `data`, a sequence of `size`-byte elements, using
/// `scratch` (the same length as `data`).
pub fn merge_sort(
    data: &mut [u8],
    size: usize,
    scratch: &mut [u8],
    compare: &mut impl FnMut(&[u8], &[u8]) -> Ordering,
) {
    if size == 0 || data.len() != scratch.len() {
        return;
    }
    let count = data.len() / size;
    for run_start in (0..count).step_by(RUN) {
        let run_end = (run_start + RUN).min(count);
        for index in run_start + 1..run_end {
            let mut position = index;
            while position > run_start
                && compare(&data[(position - 1) * size..position * size], &data[position * size..(position + 1) * size])
                    == Ordering::Greater
            {
                swap_elements(data, size, position - 1);
                position -= 1;
            }
        }
    }
    let mut width = RUN;
    let mut sorted_in_data = true;
    while width < count {
        let (source, target): (&[u8], &mut [u8]) = if sorted_in_data { (data, scratch) } else { (scratch, data) };
        for start in (0..count).step_by(2 * width) {
            let middle = (start + width).min(count);
            let end = (start + 2 * width).min(count);
            let (mut left, mut right, mut output) = (start, middle, start);
            while left < middle && right < end {
                let take_right =
                    compare(&source[right * size..(right + 1) * size], &source[left * size..(left + 1) * size])
                        == Ordering::Less;
                let from = if take_right { &mut right } else { &mut left };
                target[output * size..(output + 1) * size].copy_from_slice(&source[*from * size..(*from + 1) * size]);
                *from += 1;
                output += 1;
            }
            target[output * size..(output + middle - left) * size].copy_from_slice(&source[left * size..middle * size]);
            output += middle - left;
            target[output * size..(output + end - right) * size].copy_from_slice(&source[right * size..end * size]);
        }
        sorted_in_data = !sorted_in_data;
        width *= 2;
    }
    if !sorted_in_data {
        data.copy_from_slice(scratch);
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
    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]
        #[test]
        fn merge_sort_is_stable(keys in proptest::collection::vec(0u8..20, 0..300)) {
            // Element = (key, original index); sort by key only.
            let mut data: Vec<u8> = keys.iter().enumerate().flat_map(|(i, k)| [*k, (i >> 8) as u8, i as u8]).collect();
            let mut scratch = alloc::vec![0u8; data.len()];
            merge_sort(&mut data, 3, &mut scratch, &mut |a, b| a[0].cmp(&b[0]));
            let mut expected: Vec<(u8, usize)> = keys.iter().copied().zip(0..).collect();
            expected.sort_by_key(|e| e.0);
            let got: Vec<(u8, usize)> = data.chunks(3).map(|c| (c[0], ((c[1] as usize) << 8) | c[2] as usize)).collect();
            proptest::prop_assert_eq!(got, expected);
        }
    }

    #[test]
    fn empty_and_single() {
        let mut calls: Vec<(usize, usize)> = Vec::new();
        heap_sort(1, |_, _| Ordering::Equal, |i, j| calls.push((i, j)));
        assert!(calls.is_empty());
    }
}
