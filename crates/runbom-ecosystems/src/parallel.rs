//! Work spread over every available core, for the few places where one command's answer waits
//! on many independent, unequal pieces of I/O-bound work (RECORDs to read, loaded files to hash).

use std::sync::atomic::{AtomicUsize, Ordering};

/// `work` applied to each of `items` on every available core; the results keep the items'
/// order. Each thread takes the next item until none is left: items differ in cost by orders of
/// magnitude (a RECORD of 5 lines or of 5,000), so equal shares of items are far from equal
/// shares of work. The calling thread works too, so one thread fewer is spawned.
pub fn map_ordered<T: Sync, R: Send>(items: &[T], work: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let take = || {
        let mut done = Vec::new();
        loop {
            let index = next.fetch_add(1, Ordering::Relaxed);
            let Some(item) = items.get(index) else {
                return done;
            };
            done.push((index, work(item)));
        }
    };
    let workers = std::thread::available_parallelism().map_or(1, usize::from);
    let mut done = std::thread::scope(|scope| {
        let helpers: Vec<_> = (1..workers.min(items.len()))
            .map(|_| scope.spawn(take))
            .collect();
        let mut done = take();
        for helper in helpers {
            done.extend(
                helper
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            );
        }
        done
    });
    done.sort_unstable_by_key(|(index, _)| *index);
    done.into_iter().map(|(_, result)| result).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_order_of_the_items_whatever_thread_did_each() {
        let items: Vec<u64> = (0..1000).collect();
        let squares = map_ordered(&items, |&n| {
            if n % 97 == 0 {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            n * n
        });
        assert_eq!(squares, items.iter().map(|n| n * n).collect::<Vec<_>>());
        assert!(map_ordered(&[] as &[u8], |&b| b).is_empty());
    }
}
