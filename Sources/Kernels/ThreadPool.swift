import CPrefetch
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A persistent pool of worker threads for data-parallel kernels; the calling thread works as thread 0.
///
/// Workers are created once. Between jobs each worker spins for a short while (so that the back-to-back jobs of a
/// forward pass start in well under a microsecond) and then parks on a condition variable, so an idle pool costs no
/// CPU. A job is published by bumping a generation counter (release); workers acquire it, run their share, and
/// count down a pending counter that the caller spins on (yielding the CPU when the wait gets long, in case a worker
/// was descheduled on a busy machine).
///
/// - Important: one job at a time: call `run`/`parallelFor` from a single thread at a time, and never from inside a
///   job (a nested call is a programmer error and traps).
public final class ThreadPool: @unchecked Sendable {
  /// The number of threads that run a job, the caller included.
  public let threadCount: Int

  /// The number of online CPUs (at least 1): the default pool size.
  public static var defaultThreadCount: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

  /// How many polls a worker spins before parking by default (tens of microseconds on a 3 GHz core).
  public static let defaultSpinPolls = 20_000
  private let spinPolls: Int

  private let generation = Atomic<Int>(0)
  private let pending = Atomic<Int>(0)
  private let shuttingDown = Atomic<Bool>(false)
  private let busy = Atomic<Bool>(false)
  private let nextChunk = Atomic<Int>(0)
  private var job: ((Int) -> Void)? = nil
  private var mutex = pthread_mutex_t()
  private var condition = pthread_cond_t()
  private var threads: [pthread_t] = []

  /// Starts `threads - 1` workers.
  /// - Parameters:
  ///   - threads: the total number of threads including the caller (values below 1 mean 1).
  ///   - spinPolls: how long an idle worker polls for the next job before parking (0: park at once).
  public init(threads: Int = ThreadPool.defaultThreadCount, spinPolls: Int = ThreadPool.defaultSpinPolls) {
    threadCount = max(1, threads)
    self.spinPolls = max(0, spinPolls)
    pthread_mutex_init(&mutex, nil)
    pthread_cond_init(&condition, nil)
    for index in 1..<threadCount {
      let context = Unmanaged.passRetained(WorkerContext(pool: self, index: index)).toOpaque()
      var thread = pthread_t()
      let rc = pthread_create(
        &thread, nil,
        { raw in
          let context = Unmanaged<WorkerContext>.fromOpaque(raw!).takeRetainedValue()
          context.pool.workerLoop(index: context.index)
          return nil
        }, context)
      precondition(rc == 0, "ThreadPool: pthread_create failed (\(rc))")
      self.threads.append(thread)
    }
  }

  deinit {
    shuttingDown.store(true, ordering: .sequentiallyConsistent)
    generation.add(1, ordering: .sequentiallyConsistent)
    pthread_mutex_lock(&mutex)
    pthread_cond_broadcast(&condition)
    pthread_mutex_unlock(&mutex)
    for t in threads { pthread_join(t, nil) }
    pthread_cond_destroy(&condition)
    pthread_mutex_destroy(&mutex)
  }

  /// Runs `body(thread)` once on each of the `threadCount` threads (thread 0 is the caller) and returns when all
  /// have finished.
  public func run(_ body: (_ thread: Int, _ threadCount: Int) -> Void) {
    let n = threadCount
    if n == 1 {
      body(0, 1)
      return
    }
    precondition(
      !busy.exchange(true, ordering: .acquiring), "ThreadPool: nested or concurrent run (one job at a time)")
    withoutActuallyEscaping(body) { body in
      job = { body($0, n) }
      pending.store(n - 1, ordering: .relaxed)
      generation.add(1, ordering: .sequentiallyConsistent)
      pthread_mutex_lock(&mutex)
      pthread_cond_broadcast(&condition)
      pthread_mutex_unlock(&mutex)
      body(0, n)
      var polls = 0
      while pending.load(ordering: .acquiring) != 0 {
        polls += 1
        if polls < 4096 { Self.pause() } else { sched_yield() }
      }
      job = nil
    }
    busy.store(false, ordering: .releasing)
  }

  /// Runs `body(chunk, thread)` for every chunk in `0..<chunks`, handing chunks out dynamically (an atomic counter):
  /// a thread that falls behind, for instance because the OS descheduled it on a busy machine, does fewer chunks
  /// instead of holding everyone up. Chunks are claimed in increasing order.
  public func runDynamic(chunks: Int, _ body: (_ chunk: Int, _ thread: Int) -> Void) {
    if chunks <= 0 { return }
    if threadCount == 1 || chunks == 1 {
      for c in 0..<chunks { body(c, 0) }
      return
    }
    nextChunk.store(0, ordering: .relaxed)
    run { thread, _ in
      while true {
        let c = nextChunk.wrappingAdd(1, ordering: .relaxed).oldValue
        if c >= chunks { break }
        body(c, thread)
      }
    }
  }

  /// Splits `0..<n` into `threadCount` contiguous ranges of nearly equal size and runs `body` on each in parallel
  /// (empty ranges are skipped).
  public func parallelFor(_ n: Int, _ body: (Range<Int>) -> Void) {
    if n <= 0 { return }
    if threadCount == 1 || n == 1 {
      body(0..<n)
      return
    }
    run { thread, count in
      let r = ThreadPool.chunk(n, thread, count)
      if !r.isEmpty { body(r) }
    }
  }

  /// Like `parallelFor`, with chunk boundaries rounded to multiples of `granularity` (e.g. to keep tiles whole).
  public func parallelFor(_ n: Int, granularity: Int, _ body: (Range<Int>) -> Void) {
    let g = max(1, granularity)
    let units = (n + g - 1) / g
    parallelFor(units) { r in
      let lower = r.lowerBound * g
      let upper = min(n, r.upperBound * g)
      if lower < upper { body(lower..<upper) }
    }
  }

  /// The `index`-th of `count` near-equal contiguous chunks of `0..<n`.
  @inline(__always)
  public static func chunk(_ n: Int, _ index: Int, _ count: Int) -> Range<Int> {
    let base = n / count
    let extra = n % count
    let lower = index * base + min(index, extra)
    return lower..<(lower + base + (index < extra ? 1 : 0))
  }

  /// A polling step. (`_mm_pause` is declared but not defined for Swift's importer, so a poll is a plain load.)
  @inline(__always)
  static func pause() {}

  /// Runs the published job. Not inlined, so that every reference the worker took to the job is released before
  /// it reports completion (the job's closure must not outlive `run`'s `withoutActuallyEscaping`).
  @inline(never)
  private func runJob(_ index: Int) {
    job?(index)
  }

  private func workerLoop(index: Int) {
    var seen = 0
    while true {
      var polls = 0
      while generation.load(ordering: .acquiring) == seen {
        polls += 1
        if polls < spinPolls {
          Self.pause()
          continue
        }
        pthread_mutex_lock(&mutex)
        while generation.load(ordering: .sequentiallyConsistent) == seen {
          pthread_cond_wait(&condition, &mutex)
        }
        pthread_mutex_unlock(&mutex)
      }
      seen = generation.load(ordering: .acquiring)
      if shuttingDown.load(ordering: .acquiring) { return }
      runJob(index)
      pending.subtract(1, ordering: .releasing)
    }
  }
}

/// What a worker thread needs: its pool and index (passed through `pthread_create`'s context pointer).
private final class WorkerContext {
  unowned(unsafe) let pool: ThreadPool
  let index: Int
  init(pool: ThreadPool, index: Int) {
    self.pool = pool
    self.index = index
  }
}

/// A reusable barrier for the threads of one pool job: `wait()` returns once all `parties` threads have called it.
///
/// It spins (the threads of a decode step meet every few microseconds, far too often for a futex), and yields the
/// CPU after a while, in case the thread it waits for was descheduled on a busy machine.
public final class SpinBarrier: @unchecked Sendable {
  /// The number of threads that meet at each `wait`.
  public let parties: Int
  private let arrived = Atomic<Int>(0)
  private let phase = Atomic<Int>(0)

  /// Whether the spin loop runs `pause` between polls (the default; benchmarks compare the two).
  public let pauses: Bool

  public init(parties: Int, pauses: Bool = true) {
    precondition(parties >= 1, "SpinBarrier: at least one party")
    self.parties = parties
    self.pauses = pauses
  }

  /// Blocks until every party has arrived at this barrier (the barrier then resets for the next use).
  /// Memory written by any party before its `wait` is visible to every party after theirs.
  @inline(__always)
  public func wait() {
    if parties == 1 { return }
    let current = phase.load(ordering: .acquiring)
    if arrived.wrappingAdd(1, ordering: .acquiringAndReleasing).newValue == parties {
      // The last to arrive: the others only poll `phase` until it moves, so `arrived` can be reset first.
      arrived.store(0, ordering: .relaxed)
      phase.store(current &+ 1, ordering: .releasing)
      return
    }
    var polls = 0
    let pause = pauses
    while phase.load(ordering: .acquiring) == current {
      polls += 1
      if pause { cg_pause() }
      if polls >= 1 << 16 { sched_yield() }
    }
  }
}
