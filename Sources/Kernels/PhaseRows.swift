import Synchronization

/// How the threads of one pool job share out the rows of each step (phase) of a fused decode step.
public enum RowSchedule: Sendable, Equatable {
  /// Each thread owns a contiguous share of the rows and works through it in chunks from the front; a thread that
  /// finishes its share takes chunks from the back of the others' shares. Each thread thus reads one contiguous run of
  /// memory, the same every token (its look-ahead runs from one chunk into the next), and a thread that falls behind
  /// still does less.
  case stealing
  /// Chunks claimed in order from one shared counter (as `ThreadPool.runDynamic` does).
  case dynamicChunks
  /// One contiguous share of nearly equal size per thread, nothing handed over.
  case staticShares
}

/// The shared state behind `PhaseRows`: one per pool, used by one job at a time.
///
/// - Important: consecutive `forEach` calls of a job must be separated by a `SpinBarrier` wait of all its threads (a
///   phase's counters are reused by the next one).
public final class PhaseRowState: @unchecked Sendable {
  /// Per thread's share: a word `(tag: 32 bits, taken from the front: 16, taken from the back: 16)`, 64 bytes apart.
  /// A tag other than the current phase's means nothing is taken yet.
  fileprivate let cells: UnsafeMutablePointer<Atomic<UInt64>>
  fileprivate static let stride = 8
  /// The allocation `cells` lies in (one stride more, so that `cells` can start on a 64-byte line).
  private let storage: UnsafeMutablePointer<Atomic<UInt64>>
  /// The next chunk of `.dynamicChunks` (chunks are numbered across the phases of a job).
  fileprivate let ticket = Atomic<Int>(0)
  /// Counts jobs (16 bits of every tag), so that a phase of one job never takes the counters of an earlier one as its
  /// own.
  fileprivate var job: UInt64 = 0
  public let threads: Int

  public init(threads: Int) {
    self.threads = max(1, threads)
    let count = (self.threads + 1) * Self.stride
    storage = .allocate(capacity: count)
    for i in 0..<count { (storage + i).initialize(to: Atomic<UInt64>(0)) }
    let misalignment = Int(bitPattern: UnsafeRawPointer(storage)) % 64
    cells = storage + (misalignment == 0 ? 0 : (64 - misalignment) / 8)
  }

  deinit {
    storage.deinitialize(count: (threads + 1) * Self.stride)
    storage.deallocate()
  }

  /// Starts a job: call on the dispatching thread before `ThreadPool.run`.
  public func begin() {
    job = (job &+ 1) & 0xFFFF
    ticket.store(0, ordering: .relaxed)
  }
}

/// One thread's walk through the row ranges of the phases of a job. Every thread of the job makes the same sequence
/// of `forEach` calls (same totals and multiples), with a barrier between consecutive calls.
public struct PhaseRows {
  public let schedule: RowSchedule
  let state: PhaseRowState
  let thread: Int
  let threads: Int
  let chunksPerThread: Int
  private let job: UInt64
  /// The number of `forEach` calls made so far.
  private var phase: UInt64 = 0
  /// `.dynamicChunks`: the number of the first chunk of the next phase.
  private var base = 0

  /// - Parameters:
  ///   - chunksPerThread: about how many chunks each thread's share is cut into (`.stealing`, `.dynamicChunks`).
  public init(_ schedule: RowSchedule, state: PhaseRowState, thread: Int, threads: Int, chunksPerThread: Int = 8) {
    precondition(threads <= state.threads, "PhaseRows: more threads than the state was made for")
    self.schedule = schedule
    self.state = state
    self.thread = thread
    self.threads = threads
    self.chunksPerThread = max(1, chunksPerThread)
    job = state.job
  }

  /// Calls `body` on this thread's ranges of `0..<total` (together, the threads' ranges cover it once); every range
  /// starts at a multiple of `multiple`.
  @inline(__always)
  public mutating func forEach(_ total: Int, multiple: Int, _ body: (Range<Int>) -> Void) {
    defer { phase += 1 }
    if threads == 1 {
      if total > 0 { body(0..<total) }
      return
    }
    switch schedule {
    case .staticShares:
      let r = alignedShare(total, thread, threads, multiple: multiple)
      if !r.isEmpty { body(r) }
    case .dynamicChunks:
      let size = chunkSize(total / threads, multiple)
      let chunks = (total + size - 1) / size
      let end = base + chunks
      while let c = claimTicket(below: end) {
        let lower = (c - base) * size
        body(lower..<min(total, lower + size))
      }
      base = end
    case .stealing:
      let tag = (job << 16 | (phase & 0xFFFF)) << 32
      for k in 0..<threads {
        let owner = (thread + k) % threads
        let share = alignedShare(total, owner, threads, multiple: multiple)
        if share.isEmpty { continue }
        let size = chunkSize(share.count, multiple)
        let chunks = (share.count + size - 1) / size
        precondition(chunks < 1 << 16, "PhaseRows: too many chunks for the 16-bit counters")
        while let c = claim(owner, tag: tag, chunks: chunks, fromBack: k != 0) {
          let lower = share.lowerBound + c * size
          body(lower..<min(share.upperBound, lower + size))
        }
      }
    }
  }

  /// Rows per chunk for a share of `rows`: about `chunksPerThread` chunks, at least 8 rows, a multiple of `multiple`.
  @inline(__always)
  private func chunkSize(_ rows: Int, _ multiple: Int) -> Int {
    let target = max(8, (rows + chunksPerThread - 1) / chunksPerThread)
    return (target + multiple - 1) / multiple * multiple
  }

  @inline(__always)
  private func claimTicket(below end: Int) -> Int? {
    var c = state.ticket.load(ordering: .relaxed)
    while c < end {
      let (exchanged, original) = state.ticket.compareExchange(expected: c, desired: c + 1, ordering: .relaxed)
      if exchanged { return c }
      c = original
    }
    return nil
  }

  /// The next chunk of `owner`'s share, from the front (the owner) or the back (another thread), if any is left.
  @inline(__always)
  private func claim(_ owner: Int, tag: UInt64, chunks: Int, fromBack: Bool) -> Int? {
    let cell = state.cells + owner * PhaseRowState.stride
    var word = cell.pointee.load(ordering: .relaxed)
    while true {
      let current = word & 0xFFFF_FFFF_0000_0000 == tag ? word : tag
      let front = Int(current >> 16 & 0xFFFF)
      let back = Int(current & 0xFFFF)
      if front + back >= chunks { return nil }
      let next = fromBack ? current + 1 : current + (1 << 16)
      let (exchanged, original) = cell.pointee.compareExchange(expected: word, desired: next, ordering: .relaxed)
      if exchanged { return fromBack ? chunks - 1 - back : front }
      word = original
    }
  }
}
