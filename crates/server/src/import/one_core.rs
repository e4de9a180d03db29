//! An import keeps to one processor core.
//!
//! An import is one long run of dependent statements against one writer: each waits
//! for the one before. sqlx runs every SQLite connection on a thread of its own, so each
//! statement is handed from the import's task to that thread and back. When the two
//! threads sit on different cores, every hand-over wakes the other core, and on a
//! virtual machine a wake-up across cores costs more than the statement: `perf` put
//! the kernel's task switching at over 40% of a WordPress import. On one core a
//! hand-over is a switch between two threads, and the same import took half the time
//! (BENCHMARKS.md). The import has nothing to run in parallel, and the site being
//! served keeps every other core.
//!
//! Called before the store opens, so that the connection threads started by then
//! inherit the setting. Where it cannot be set, the import runs as it would have.

/// Confines this thread, and every thread it starts from now on, to the core it is
/// running on.
#[cfg(target_os = "linux")]
pub fn confine() {
    use nix::sched::{CpuSet, sched_getcpu, sched_setaffinity};
    use nix::unistd::Pid;

    let confined = sched_getcpu().and_then(|cpu| {
        let mut set = CpuSet::new();
        set.set(cpu)?;
        sched_setaffinity(Pid::from_raw(0), &set)
    });
    if let Err(e) = confined {
        tracing::debug!("the import runs on every core: {e}");
    }
}

/// Elsewhere the operating system places the threads.
#[cfg(not(target_os = "linux"))]
pub fn confine() {}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use nix::sched::{CpuSet, sched_getaffinity};
    use nix::unistd::Pid;

    fn cores() -> Vec<usize> {
        let set = sched_getaffinity(Pid::from_raw(0)).expect("affinity");
        (0..CpuSet::count())
            .filter(|&cpu| set.is_set(cpu).unwrap_or(false))
            .collect()
    }

    #[test]
    fn the_thread_and_the_threads_it_starts_keep_to_one_core() {
        // On a thread of its own, so the test harness keeps its cores.
        std::thread::spawn(|| {
            super::confine();
            let mine = cores();
            let started = std::thread::spawn(cores).join().expect("thread");
            assert_eq!(mine.len(), 1, "{mine:?}");
            assert_eq!(started, mine);
        })
        .join()
        .expect("thread");
    }
}
