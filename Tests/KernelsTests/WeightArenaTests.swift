import KernelsTestSupport
import XCTest

@testable import Kernels

final class WeightArenaTests: XCTestCase {
  func testAllocationsAreAlignedDisjointAndBounded() throws {
    let arena = try XCTUnwrap(WeightArena(capacity: 3 << 20))
    // The usable region starts on a 2 MiB boundary and is rounded up to whole huge pages.
    XCTAssertEqual(Int(bitPattern: arena.base) % WeightArena.hugePageBytes, 0)
    XCTAssertEqual(arena.capacity, 4 << 20)
    let a = try XCTUnwrap(arena.allocate(100))
    let b = try XCTUnwrap(arena.allocate(1000))
    XCTAssertEqual(a, arena.base)
    XCTAssertEqual(Int(bitPattern: b) % 64, 0)
    XCTAssertGreaterThanOrEqual(b - a, 100, "allocations overlap")
    XCTAssertEqual(arena.used, (b - arena.base) + 1000)
    // Writable, and what is written stays.
    a.initializeMemory(as: UInt8.self, repeating: 7, count: 100)
    b.initializeMemory(as: UInt8.self, repeating: 9, count: 1000)
    XCTAssertEqual(a.load(fromByteOffset: 99, as: UInt8.self), 7)
    XCTAssertEqual(b.load(fromByteOffset: 999, as: UInt8.self), 9)
    // Past the capacity: nil, and nothing is taken.
    let used = arena.used
    XCTAssertNil(arena.allocate(arena.capacity))
    XCTAssertEqual(arena.used, used)
    let rest = arena.capacity - (used + 63) / 64 * 64
    XCTAssertNotNil(arena.allocate(rest), "the exact remainder fits")
    XCTAssertNil(arena.allocate(1))
  }

  func testRegroupedIntoCallerMemoryEqualsOwnedCopy() throws {
    let m = TestMatrix.random(.q4_1, rows: 6, cols: 256, seed: 3)
    let (owned, owner) = BlockGroups.regrouped(m.matrix)
    let arena = try XCTUnwrap(WeightArena(capacity: m.matrix.byteCount))
    let dst = try XCTUnwrap(arena.allocate(m.matrix.byteCount))
    let placed = BlockGroups.regrouped(m.matrix, into: dst)
    XCTAssertEqual(placed.packing, .groupsOf4)
    XCTAssertEqual(placed.data, UnsafeRawPointer(dst))
    XCTAssertEqual(memcmp(placed.data, owned.data, m.matrix.byteCount), 0)
    withExtendedLifetime(owner) {}
  }
}
