//! The threads a `RedisStore`'s blocking calls run on: one pool per store (see `NativeStore::redis`).
//!
//! - A call is queued and taken by an idle thread; a thread is started only when none is idle, up to
//!   `max_threads`, and exits after `idle_exit` without work, so an idle process holds none.
//! - Calls are taken in order, except that a call submitted with [`Order::First`] (the end of a claim whose
//!   handler ran) goes ahead of every [`Order::InTurn`] call (new claims, checks): a stream of new deliveries
//!   on a slow Redis must not keep the handlers that ran from being recorded. A call that waited in the
//!   queue longer than `queue_deadline` (the store's timeout) is handed [`Turn::TooLate`] and must answer
//!   without calling Redis: while Redis hangs, every thread is blocked for up to the timeout, and the calls
//!   behind them are answered instead of piling up.
//! - Every job is called exactly once: [`Turn::Run`] or [`Turn::TooLate`] on a pool thread, or
//!   [`Turn::NoThread`] on the caller's thread when no thread could be started and none is running.
//! - A job is the call, which returns its answer ([`Answer`], settling the promise). A thread counts
//!   itself free between the two, so the next call, made as soon as the answer is seen, finds it free
//!   instead of starting another thread.
//!
//! Plain `std`: nothing here knows napi, so the unit tests below run it with short times.

use std::collections::VecDeque;
use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// How a job is run.
pub(crate) enum Turn {
    /// On a pool thread, within the queue deadline: make the call.
    Run,
    /// On a pool thread, after waiting longer than the queue deadline: answer without making the call.
    TooLate,
    /// On the submitting thread: no thread could be started and none is running to take the job.
    NoThread(io::Error),
}

/// Where a submitted call joins the queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Order {
    /// Behind every queued call.
    InTurn,
    /// Ahead of every queued [`Order::InTurn`] call, behind the earlier `First` ones.
    First,
}

/// The call; it returns the answer, given once the thread counts itself free again.
pub(crate) type Job = Box<dyn FnOnce(Turn) -> Answer + Send>;

/// A call's answer to its caller (settling its promise).
pub(crate) type Answer = Box<dyn FnOnce() + Send>;

/// A bounded set of threads started on demand. Dropping it lets its threads finish the queue and exit.
pub(crate) struct Pool {
    shared: Arc<Shared>,
}

struct Shared {
    /// Every thread's name (at most 15 bytes: Linux's `comm` keeps no more).
    name: &'static str,
    max_threads: usize,
    idle_exit: Duration,
    queue_deadline: Duration,
    state: Mutex<State>,
    /// Signalled when a job is queued for an idle thread, and when the pool is dropped.
    work: Condvar,
    /// A test's stand-in for an operating system that refuses new threads.
    #[cfg(test)]
    refuse_threads: std::sync::atomic::AtomicBool,
}

struct State {
    /// Jobs no thread has taken yet, with the time each was queued: the [`Order::First`] ones at the front.
    queue: VecDeque<(Instant, Job)>,
    /// How many of the queue's front jobs were submitted [`Order::First`].
    first: usize,
    /// Threads running (busy or free).
    threads: usize,
    /// Threads that will take the next queued job without a new thread: waiting for one, answering the
    /// call they made, or just started (for the job that started them).
    free: usize,
    /// The pool was dropped: threads exit once the queue is empty.
    closed: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Jobs run outside the lock and nothing panics while it is held, so a poisoned state is consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Pool {
    pub(crate) fn new(
        name: &'static str,
        max_threads: usize,
        idle_exit: Duration,
        queue_deadline: Duration,
    ) -> Pool {
        Pool {
            shared: Arc::new(Shared {
                name,
                max_threads: max_threads.max(1),
                idle_exit,
                queue_deadline,
                state: Mutex::new(State {
                    queue: VecDeque::new(),
                    first: 0,
                    threads: 0,
                    free: 0,
                    closed: false,
                }),
                work: Condvar::new(),
                #[cfg(test)]
                refuse_threads: std::sync::atomic::AtomicBool::new(false),
            }),
        }
    }

    /// The most threads this pool runs at once.
    pub(crate) fn max_threads(&self) -> usize {
        self.shared.max_threads
    }

    /// Queues `job` for a free thread (at the place `order` says), starting one if none is free and the cap
    /// allows. When no thread can be started and none is running, `job` is called (and answers) here with
    /// [`Turn::NoThread`].
    pub(crate) fn submit(&self, order: Order, job: Job) {
        let shared = &self.shared;
        let mut state = shared.lock();
        let at = match order {
            Order::InTurn => state.queue.len(),
            Order::First => {
                state.first += 1;
                state.first - 1
            }
        };
        state.queue.insert(at, (Instant::now(), job));
        if state.free >= state.queue.len() {
            shared.work.notify_one();
            return;
        }
        if state.threads >= shared.max_threads {
            // Taken by the first thread that is free, within the store's timeout.
            return;
        }
        // Started with the lock held, so the job queued above is still at `at` if it fails.
        match spawn(shared) {
            Ok(()) => {
                state.threads += 1;
                state.free += 1;
            }
            // A running thread takes the job once it is free.
            Err(_) if state.threads > 0 => {}
            Err(error) => {
                let (_, job) = state.queue.remove(at).expect("the job queued above");
                if order == Order::First {
                    state.first -= 1;
                }
                drop(state);
                job(Turn::NoThread(error))();
            }
        }
    }

    /// How many threads are running, for the tests.
    #[cfg(test)]
    fn threads(&self) -> usize {
        self.shared.lock().threads
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.work.notify_all();
    }
}

fn spawn(shared: &Arc<Shared>) -> io::Result<()> {
    #[cfg(test)]
    if shared.refuse_threads.load(std::sync::atomic::Ordering::SeqCst) {
        return Err(io::Error::other("no more threads (test)"));
    }
    let shared = Arc::clone(shared);
    std::thread::Builder::new().name(shared.name.to_owned()).spawn(move || work(&shared)).map(drop)
}

/// A pool thread: runs queued jobs in order, waits up to `idle_exit` for more, then exits.
fn work(shared: &Shared) {
    let mut state = shared.lock();
    loop {
        if let Some((queued, job)) = state.queue.pop_front() {
            state.first = state.first.saturating_sub(1);
            state.free -= 1;
            drop(state);
            let turn = if queued.elapsed() > shared.queue_deadline { Turn::TooLate } else { Turn::Run };
            // A job catches its own panics; these keep the thread, and the counts, right if one did not.
            let answer = catch_unwind(AssertUnwindSafe(move || job(turn)));
            shared.lock().free += 1;
            if let Ok(answer) = answer {
                let _ = catch_unwind(AssertUnwindSafe(answer));
            }
            state = shared.lock();
            continue;
        }
        if state.closed {
            break;
        }
        let (woken, wait) = shared
            .work
            .wait_timeout_while(state, shared.idle_exit, |state| state.queue.is_empty() && !state.closed)
            .unwrap_or_else(PoisonError::into_inner);
        state = woken;
        if wait.timed_out() && state.queue.is_empty() {
            break;
        }
    }
    state.threads -= 1;
    state.free -= 1;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::mpsc;
    use std::thread::ThreadId;

    const LONG: Duration = Duration::from_secs(60);

    /// What one job saw.
    #[derive(Debug)]
    struct Ran {
        thread: ThreadId,
        name: Option<String>,
        too_late: bool,
    }

    /// A job whose call waits for `gate` (if any), and whose answer reports what it saw on `done`.
    fn job(done: &mpsc::Sender<Ran>, gate: Option<Arc<(Mutex<bool>, Condvar)>>) -> Job {
        let done = done.clone();
        Box::new(move |turn| {
            let too_late = match turn {
                Turn::Run => false,
                Turn::TooLate => true,
                Turn::NoThread(error) => panic!("no thread: {error}"),
            };
            if let Some(gate) = gate {
                let (open, opened) = &*gate;
                let mut open = open.lock().unwrap();
                while !*open {
                    open = opened.wait(open).unwrap();
                }
            }
            let current = std::thread::current();
            let ran = Ran { thread: current.id(), name: current.name().map(str::to_owned), too_late };
            Box::new(move || {
                let _ = done.send(ran);
            })
        })
    }

    fn gate() -> Arc<(Mutex<bool>, Condvar)> {
        Arc::new((Mutex::new(false), Condvar::new()))
    }

    fn open(gate: &(Mutex<bool>, Condvar)) {
        *gate.0.lock().unwrap() = true;
        gate.1.notify_all();
    }

    fn receive(done: &mpsc::Receiver<Ran>) -> Ran {
        done.recv_timeout(Duration::from_secs(10)).expect("a job ran within 10 s")
    }

    /// Waits until `predicate` holds, failing after 10 s.
    fn eventually(what: &str, predicate: impl Fn() -> bool) {
        let end = Instant::now() + Duration::from_secs(10);
        while !predicate() {
            assert!(Instant::now() < end, "{what}: still not true after 10 s");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn sequential_calls_reuse_one_named_thread() {
        let pool = Pool::new("anchor-test", 8, LONG, LONG);
        let (done, results) = mpsc::channel();
        let mut threads = HashSet::new();
        for _ in 0..200 {
            // Submitted as soon as the last answer is seen: the thread counted itself free before it.
            pool.submit(Order::InTurn, job(&done, None));
            let ran = receive(&results);
            assert!(!ran.too_late);
            assert_eq!(ran.name.as_deref(), Some("anchor-test"));
            threads.insert(ran.thread);
        }
        assert_eq!(threads.len(), 1, "200 sequential calls ran on {} threads", threads.len());
        assert_eq!(pool.threads(), 1);
    }

    #[test]
    fn no_more_threads_than_the_cap_and_every_queued_call_runs() {
        let pool = Pool::new("anchor-test", 3, LONG, LONG);
        let (done, results) = mpsc::channel();
        let gate = gate();
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        for _ in 0..20 {
            let (running, most, inner) =
                (Arc::clone(&running), Arc::clone(&most), job(&done, Some(gate.clone())));
            pool.submit(
                Order::InTurn,
                Box::new(move |turn| {
                    most.fetch_max(running.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
                    let answer = inner(turn);
                    running.fetch_sub(1, Ordering::SeqCst);
                    answer
                }),
            );
            assert!(pool.threads() <= 3);
        }
        eventually("three calls run", || running.load(Ordering::SeqCst) == 3);
        assert_eq!(pool.threads(), 3);
        assert_eq!(pool.shared.lock().queue.len(), 17);
        open(&gate);
        let ran: Vec<Ran> = (0..20).map(|_| receive(&results)).collect();
        assert!(ran.iter().all(|ran| !ran.too_late));
        assert_eq!(ran.iter().map(|ran| ran.thread).collect::<HashSet<_>>().len(), 3);
        assert_eq!(most.load(Ordering::SeqCst), 3);
        assert_eq!(pool.threads(), 3);
    }

    #[test]
    fn a_call_that_waited_longer_than_the_deadline_is_too_late_and_the_next_one_runs() {
        let deadline = Duration::from_millis(100);
        let pool = Pool::new("anchor-test", 1, LONG, deadline);
        let (done, results) = mpsc::channel();
        let gate = gate();
        pool.submit(Order::InTurn, job(&done, Some(gate.clone())));
        eventually("the first call runs", || pool.shared.lock().queue.is_empty());
        pool.submit(Order::InTurn, job(&done, None));
        std::thread::sleep(deadline * 3);
        open(&gate);
        assert!(!receive(&results).too_late, "the first call");
        assert!(receive(&results).too_late, "the call queued behind it for 3 deadlines");
        // A call queued behind one that holds the thread for less than the deadline still runs.
        let gate = self::gate();
        pool.submit(Order::InTurn, job(&done, Some(gate.clone())));
        eventually("the third call runs", || pool.shared.lock().queue.is_empty());
        pool.submit(Order::InTurn, job(&done, None));
        std::thread::sleep(deadline / 4);
        open(&gate);
        assert!(!receive(&results).too_late);
        assert!(!receive(&results).too_late, "waited a quarter of the deadline");
    }

    #[test]
    fn idle_threads_exit_after_the_idle_time_and_come_back_on_demand() {
        let pool = Pool::new("anchor-test", 4, Duration::from_millis(300), LONG);
        let (done, results) = mpsc::channel();
        let gate = gate();
        for _ in 0..4 {
            pool.submit(Order::InTurn, job(&done, Some(gate.clone())));
        }
        assert_eq!(pool.threads(), 4);
        open(&gate);
        for _ in 0..4 {
            receive(&results);
        }
        // Idle, not gone: they wait out the idle time first.
        assert_eq!(pool.threads(), 4);
        eventually("every thread exited", || pool.threads() == 0);
        pool.submit(Order::InTurn, job(&done, None));
        assert!(!receive(&results).too_late);
        assert_eq!(pool.threads(), 1);
    }

    #[test]
    fn a_thread_that_cannot_start_hands_the_call_back_unless_another_will_take_it() {
        let pool = Pool::new("anchor-test", 4, LONG, LONG);
        pool.shared.refuse_threads.store(true, Ordering::SeqCst);
        let (handed, back) = mpsc::channel();
        pool.submit(
            Order::InTurn,
            Box::new(move |turn| {
                let no_thread = matches!(turn, Turn::NoThread(_));
                Box::new(move || {
                    let _ = handed.send(no_thread);
                })
            }),
        );
        assert!(back.try_recv().expect("called before submit returned"), "with Turn::NoThread");
        assert_eq!((pool.threads(), pool.shared.lock().queue.len()), (0, 0));
        // With one thread running, a call that finds no new thread waits for it instead.
        pool.shared.refuse_threads.store(false, Ordering::SeqCst);
        let (done, results) = mpsc::channel();
        let gate = gate();
        pool.submit(Order::InTurn, job(&done, Some(gate.clone())));
        pool.shared.refuse_threads.store(true, Ordering::SeqCst);
        pool.submit(Order::InTurn, job(&done, None));
        assert_eq!(pool.threads(), 1);
        open(&gate);
        let (first, second) = (receive(&results), receive(&results));
        assert_eq!(first.thread, second.thread);
    }

    #[test]
    fn a_panicking_job_leaves_the_thread_working() {
        let pool = Pool::new("anchor-test", 1, LONG, LONG);
        pool.submit(Order::InTurn, Box::new(|_| panic!("a call that panics")));
        pool.submit(Order::InTurn, Box::new(|_| Box::new(|| panic!("an answer that panics"))));
        let (done, results) = mpsc::channel();
        pool.submit(Order::InTurn, job(&done, None));
        assert!(!receive(&results).too_late);
        assert_eq!(pool.threads(), 1);
        assert_eq!(pool.shared.lock().free, 1);
    }

    #[test]
    fn a_dropped_pool_finishes_its_queue_and_its_threads_exit_without_waiting_out_the_idle_time() {
        let pool = Pool::new("anchor-test", 2, LONG, LONG);
        let shared = Arc::clone(&pool.shared);
        let (done, results) = mpsc::channel();
        let gate = gate();
        for _ in 0..4 {
            pool.submit(Order::InTurn, job(&done, Some(gate.clone())));
        }
        drop(pool);
        open(&gate);
        for _ in 0..4 {
            receive(&results);
        }
        eventually("both threads exited", || shared.lock().threads == 0);
    }

    #[test]
    fn calls_submitted_first_go_ahead_of_those_in_turn_and_keep_their_own_order() {
        let pool = Pool::new("anchor-test", 1, LONG, LONG);
        let (done, results) = mpsc::channel();
        let gate = gate();
        pool.submit(Order::InTurn, job(&done, Some(gate.clone())));
        eventually("the first call runs", || pool.shared.lock().queue.is_empty());
        let order = Arc::new(Mutex::new(Vec::new()));
        for (name, submitted) in [
            ("claim 1", Order::InTurn),
            ("end 1", Order::First),
            ("claim 2", Order::InTurn),
            ("end 2", Order::First),
        ] {
            let order = Arc::clone(&order);
            pool.submit(
                submitted,
                Box::new(move |_| {
                    order.lock().unwrap().push(name);
                    Box::new(|| {})
                }),
            );
        }
        assert_eq!(pool.shared.lock().first, 2);
        open(&gate);
        receive(&results);
        eventually("every call ran", || order.lock().unwrap().len() == 4);
        assert_eq!(*order.lock().unwrap(), ["end 1", "end 2", "claim 1", "claim 2"]);
        assert_eq!(pool.shared.lock().first, 0);
    }
}
