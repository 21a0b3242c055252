//! Stable sorting through one shared copy of the standard library's sort.
use std::cmp::Ordering;

/// The indices `0..len` in the stable order `cmp` defines between them. Every caller shares
/// this one instance of `sort_by`: each `sort_by` with a comparator of its own compiles another
/// copy of the standard library's sort (about 4 KB) into the WASM.
pub fn stable_order(len: usize, cmp: &dyn Fn(usize, usize) -> Ordering) -> Vec<usize> {
    let mut order: Vec<usize> = (0..len).collect();
    order.sort_by(|&a, &b| cmp(a, b));
    order
}

/// Sorts `items` stably by `cmp`, through [`stable_order`].
pub fn sort_by<T>(items: &mut Vec<T>, cmp: impl Fn(&T, &T) -> Ordering) {
    let order = stable_order(items.len(), &|a, b| cmp(&items[a], &items[b]));
    let mut slots: Vec<Option<T>> = std::mem::take(items).into_iter().map(Some).collect();
    items.extend(order.into_iter().filter_map(|i| slots[i].take()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_like_the_standard_librarys_stable_sort() {
        let pairs: Vec<(u32, usize)> = [5, 3, 5, 1, 3, 9, 0, 5, 1]
            .into_iter()
            .enumerate()
            .map(|(i, k)| (k, i))
            .collect();
        let mut ours = pairs.clone();
        sort_by(&mut ours, |a, b| a.0.cmp(&b.0));
        let mut std_sorted = pairs.clone();
        std_sorted.sort_by_key(|p| p.0);
        assert_eq!(ours, std_sorted);
        // Equal keys keep their order.
        assert_eq!(&ours[..2], &[(0, 6), (1, 3)]);
        let mut descending = pairs;
        sort_by(&mut descending, |a, b| b.0.cmp(&a.0));
        assert_eq!(descending[0], (9, 5));
        assert_eq!(&descending[1..4], &[(5, 0), (5, 2), (5, 7)]);
    }

    #[test]
    fn an_empty_or_single_list_stays_as_it_is() {
        let mut empty: Vec<u8> = Vec::new();
        sort_by(&mut empty, |a, b| a.cmp(b));
        assert!(empty.is_empty());
        assert_eq!(stable_order(1, &|_, _| Ordering::Greater), vec![0]);
    }
}
