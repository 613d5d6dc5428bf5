import CodeCompletion
import Foundation
import XCTest

@testable import RepositoryContext

/// A temporary workspace on disk, removed after the test.
final class Workspace {
  let root: String

  init() throws {
    let base = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("codegen-ws-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
    root = base.standardizedFileURL.path
  }

  func write(_ relative: String, _ text: String) throws {
    let url = URL(fileURLWithPath: root + "/" + relative)
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Data(text.utf8).write(to: url)
  }

  func path(_ relative: String) -> String { root + "/" + relative }

  deinit { try? FileManager.default.removeItem(atPath: root) }
}

final class IgnoreRulesTests: XCTestCase {
  func testPatternsOfGitignore() {
    let rules = IgnoreRules(
      text: """
        # comment
        *.log
        build/
        /only_top.txt
        docs/**/*.md
        !keep.log
        data?.py
        [abc]x.py
        """)
    XCTAssertEqual(rules.decision(relativePath: "a.log", isDirectory: false), true)
    XCTAssertEqual(rules.decision(relativePath: "sub/b.log", isDirectory: false), true)
    XCTAssertEqual(rules.decision(relativePath: "keep.log", isDirectory: false), false, "negated")
    XCTAssertEqual(rules.decision(relativePath: "build", isDirectory: true), true)
    XCTAssertNil(rules.decision(relativePath: "build", isDirectory: false), "a trailing slash matches directories")
    XCTAssertEqual(rules.decision(relativePath: "only_top.txt", isDirectory: false), true)
    XCTAssertNil(rules.decision(relativePath: "sub/only_top.txt", isDirectory: false), "anchored to its directory")
    XCTAssertEqual(rules.decision(relativePath: "docs/a/b/c.md", isDirectory: false), true)
    XCTAssertEqual(rules.decision(relativePath: "docs/c.md", isDirectory: false), true, "**/ matches no directory")
    XCTAssertEqual(rules.decision(relativePath: "data1.py", isDirectory: false), true)
    XCTAssertNil(rules.decision(relativePath: "data12.py", isDirectory: false))
    XCTAssertEqual(rules.decision(relativePath: "bx.py", isDirectory: false), true)
    XCTAssertNil(rules.decision(relativePath: "dx.py", isDirectory: false))
    XCTAssertNil(rules.decision(relativePath: "main.py", isDirectory: false))
  }
}

final class FileAnalysisTests: XCTestCase {
  func definitions(_ text: String, _ language: String) -> [String] {
    let spec = WorkspaceIndex.spec(forExtension: language)!
    return FileAnalysis(text: text, spec: spec).definitions.map { "\($0.kind):\($0.name)" }
  }

  func testPythonDefinitionsIgnoreStringsLocalsAndOtherLanguagesKeywords() {
    let text = """
      import os
      from .util import helper, other as renamed
      LIMIT = 10
      name: str = "x"

      class Parser:
          def parse(self, text):
              local = 1  # def commented(): pass
              func = "def not_this(): pass"
              if func is not None:
                  return local
      """
    XCTAssertEqual(
      definitions(text, "py"),
      ["value:LIMIT", "value:name", "type:Parser", "function:parse"])
    let analysis = FileAnalysis(text: text, spec: WorkspaceIndex.spec(forExtension: "py")!)
    XCTAssertEqual(analysis.importedNames, ["os", "util", "helper", "other", "renamed"])
    XCTAssertEqual(analysis.lineCount, 11)
    XCTAssertTrue(analysis.lineIdentifiers[6].contains("parse"))
    XCTAssertFalse(analysis.lineIdentifiers[8].contains("not_this"), "identifiers in strings are not code")
  }

  func testPythonImportInBracketsOverSeveralLines() {
    let text = "from .a import (\n    one,\n    two,\n)\nx = one\n"
    let analysis = FileAnalysis(text: text, spec: WorkspaceIndex.spec(forExtension: "py")!)
    XCTAssertEqual(analysis.importedNames, ["a", "one", "two"])
  }

  func testSwiftDefinitionsAtTheirLevels() {
    let text = """
      let globalLimit = 3
      struct Point {
        var x: Int
        func moved(by d: Int) -> Point {
          let local = x + d
          return Point(x: local)
        }
      }
      protocol Shape {}
      """
    XCTAssertEqual(
      definitions(text, "swift"), ["value:globalLimit", "type:Point", "function:moved", "type:Shape"])
  }

  func testCFunctionsAtFileLevel() {
    let text = """
      #define MAX_SIZE 10
      struct node { int v; };
      static int count_nodes(struct node *n) {
        if (n) { return helper(n); }
        return 0;
      }
      """
    XCTAssertEqual(definitions(text, "c"), ["value:MAX_SIZE", "type:node", "function:count_nodes"])
  }
}

final class WorkspaceIndexTests: XCTestCase {
  func makeWorkspace() throws -> Workspace {
    let ws = try Workspace()
    try ws.write(
      "pkg/util.py",
      """
      def make_str(value):
          \"\"\"Converts a value into a string.\"\"\"
          if isinstance(value, bytes):
              return value.decode("utf-8")
          return str(value)


      class Stream:
          def __init__(self, path, mode="r"):
              self.path = path

          def read_all(self):
              return open(self.path).read()
      """)
    try ws.write(
      "pkg/core.py",
      """
      from .util import make_str, Stream


      def run(args):
          name = make_str(args[0])
          return name
      """)
    try ws.write(
      "pkg/similar.py",
      """
      def handle_request(request, session, retries):
          response = session.send(request, timeout=retries)
          return response
      """)
    try ws.write(".gitignore", "ignored/\n")
    try ws.write("ignored/skip.py", "def hidden_function(): pass\n")
    try ws.write("node_modules/lib.js", "function fromDependency() {}\n")
    try ws.write("pkg/binary.py", "def bin(): pass\n\u{0}\u{0}")
    try ws.write("pkg/big.py", String(repeating: "x = 1\n", count: 200))
    try ws.write("README.md", "# not code\n")
    return ws
  }

  func testBuildSkipsIgnoredBinaryLargeAndUnknownFiles() throws {
    let ws = try makeWorkspace()
    var limits = IndexLimits()
    limits.maxFileBytes = 1000
    let index = WorkspaceIndex(limits: limits)
    index.build(root: ws.root)
    XCTAssertTrue(index.contains(path: ws.path("pkg/util.py")))
    XCTAssertTrue(index.contains(path: ws.path("pkg/core.py")))
    XCTAssertFalse(index.contains(path: ws.path("ignored/skip.py")), ".gitignore")
    XCTAssertFalse(index.contains(path: ws.path("node_modules/lib.js")), "dependencies")
    XCTAssertFalse(index.contains(path: ws.path("pkg/binary.py")), "binary")
    XCTAssertFalse(index.contains(path: ws.path("pkg/big.py")), "over maxFileBytes")
    XCTAssertFalse(index.contains(path: ws.path("README.md")))
    let stats = index.stats
    XCTAssertEqual(stats.files, 3)
    XCTAssertEqual(stats.skippedFiles, 2)
    XCTAssertFalse(stats.truncated)
  }

  func testMaxFilesStopsTheWalk() throws {
    let ws = try makeWorkspace()
    var limits = IndexLimits()
    limits.maxFiles = 2
    let index = WorkspaceIndex(limits: limits)
    index.build(root: ws.root)
    XCTAssertEqual(index.stats.files, 2)
    XCTAssertTrue(index.stats.truncated)
  }

  func query(_ ws: Workspace, _ file: String, prefix: String, suffix: String = "\n") -> RetrievalQuery {
    RetrievalQuery(path: ws.path(file), languageId: "python", prefix: prefix, suffix: suffix)
  }

  func testRetrievalGivesDefinitionsOfNamesNearTheCursorAndSignaturesOfImports() throws {
    let ws = try makeWorkspace()
    let index = WorkspaceIndex()
    index.build(root: ws.root)
    let filler = (0..<10).map { "X\($0) = \($0)\n" }.joined()
    let prefix =
      "from .util import make_str, Stream\n" + filler + "\ndef run(args):\n    name = make_str(args[0])\n    s = "
    let snippets = index.retrieve(query(ws, "pkg/core.py", prefix: prefix))
    guard case .definition(let name) = snippets.first?.kind else { return XCTFail("\(snippets)") }
    XCTAssertEqual(name, "make_str")
    XCTAssertEqual(snippets.first?.displayPath, "pkg/util.py")
    XCTAssertTrue(snippets.first!.text.hasPrefix("def make_str(value):\n"), snippets.first!.text)
    XCTAssertTrue(snippets.first!.text.contains("return str(value)"))
    // `Stream` is imported but not used near the cursor: its signature and its constructor's.
    let signatures = snippets.first { if case .signatures = $0.kind { true } else { false } }
    XCTAssertEqual(signatures?.text, "class Stream:\n    def __init__(self, path, mode=\"r\"):\n")
    // Nothing of the current file itself.
    XCTAssertFalse(snippets.contains { $0.path == ws.path("pkg/core.py") })
    XCTAssertTrue(snippets.allSatisfy { !$0.reason.isEmpty })
  }

  func testNamesDefinedInTheCurrentFileAreNotLookedUp() throws {
    let ws = try makeWorkspace()
    let index = WorkspaceIndex()
    index.build(root: ws.root)
    let prefix = "def make_str(v):\n    return v\n\nx = make_str(1)\n"
    let snippets = index.retrieve(query(ws, "pkg/other.py", prefix: prefix))
    XCTAssertFalse(snippets.contains { $0.kind == .definition(name: "make_str") })
  }

  func testSimilarWindowsByBM25() throws {
    let ws = try makeWorkspace()
    let index = WorkspaceIndex()
    index.build(root: ws.root)
    let prefix = "def retry(request, session, retries):\n    response = session.send(request"
    let snippets = index.retrieve(query(ws, "pkg/new.py", prefix: prefix))
    let similar = snippets.filter { if case .similar = $0.kind { true } else { false } }
    XCTAssertEqual(similar.first?.displayPath, "pkg/similar.py", "\(snippets.map(\.reason))")
  }

  func testUpdateAndRemoveKeepTheIndexCurrent() throws {
    let ws = try makeWorkspace()
    let index = WorkspaceIndex()
    index.build(root: ws.root)
    let prefix = "x = brand_new_helper("
    XCTAssertTrue(index.retrieve(query(ws, "pkg/core.py", prefix: prefix)).isEmpty)
    index.update(path: ws.path("pkg/util.py"), text: "def brand_new_helper(a):\n    return a\n", languageId: "python")
    let found = index.retrieve(query(ws, "pkg/core.py", prefix: prefix))
    XCTAssertEqual(found.first?.kind, .definition(name: "brand_new_helper"))
    // The retrieved text comes from the open document when the editor has it.
    let open = index.retrieve(query(ws, "pkg/core.py", prefix: prefix)) { path in
      path == ws.path("pkg/util.py") ? "def brand_new_helper(a, b):\n    return a\n" : nil
    }
    XCTAssertEqual(open.first?.text, "def brand_new_helper(a, b):\n    return a\n")
    index.remove(path: ws.path("pkg/util.py"))
    XCTAssertTrue(index.retrieve(query(ws, "pkg/core.py", prefix: prefix)).isEmpty)
    XCTAssertEqual(index.stats.files, 3)
    // Many re-indexings of the same file: the counts stay those of one.
    for k in 0..<50 { index.update(path: ws.path("pkg/a.py"), text: "def f\(k)():\n    pass\n") }
    XCTAssertEqual(index.stats.files, 4)
    XCTAssertEqual(index.stats.definitions, 4, "run, handle_request, big.py's x (once) and the last f")
  }

  func testSelectorKeepsTheContextWhileTypingNearby() throws {
    let ws = try makeWorkspace()
    let selector = ContextSelector(index: WorkspaceIndex())
    selector.index.build(root: ws.root)
    func request(_ prefix: String) -> CompletionRequest {
      CompletionRequest(
        documentID: "doc", fileName: ws.path("pkg/core.py"), languageId: "python", prefix: prefix, suffix: "\n")
    }
    var first = request("from .util import make_str\n\ndef run(args):\n    name = make_str(args[0])\n    y = ")
    let (snippets, kept) = selector.addContext(to: &first, path: ws.path("pkg/core.py"))
    XCTAssertFalse(kept)
    XCTAssertFalse(snippets.isEmpty)
    XCTAssertEqual(first.repositoryName, (ws.root as NSString).lastPathComponent)
    XCTAssertEqual(first.contextFileName, "pkg/core.py")
    XCTAssertEqual(first.contextDocuments.first?.name, "pkg/util.py")
    var second = request(first.prefix + "1")
    XCTAssertTrue(selector.addContext(to: &second, path: ws.path("pkg/core.py")).kept)
    XCTAssertEqual(second.contextDocuments, first.contextDocuments)
    // A newly used name with a definition elsewhere changes the context.
    var third = request(first.prefix + "handle_request(")
    XCTAssertFalse(selector.addContext(to: &third, path: ws.path("pkg/core.py")).kept)
    XCTAssertTrue(third.contextDocuments.contains { $0.reason?.contains("handle_request") == true })
  }

  func testWorkspaceContextIndexesInTheBackgroundAndPicksUpChanges() throws {
    let ws = try makeWorkspace()
    let context = WorkspaceContext()
    context.setWorkspaceFolders([ws.root])
    let deadline = Date().addingTimeInterval(30)
    while context.index.stats.files < 4 && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
    XCTAssertEqual(context.index.stats.files, 4)
    // An open document's text is indexed before the next request of another document.
    context.documentChanged(path: ws.path("pkg/extra.py"), languageId: "python", text: "def extra_thing():\n  pass\n")
    var request = CompletionRequest(
      documentID: "doc", fileName: ws.path("pkg/core.py"), languageId: "python", prefix: "v = extra_thing(",
      suffix: "\n")
    let notes = context.addContext(to: &request, path: ws.path("pkg/core.py")) { _ in nil }
    XCTAssertTrue(notes.contains { $0.contains("definition of `extra_thing`") }, "\(notes)")
    // A file written on disk and reported as changed.
    try ws.write("pkg/later.py", "def later_helper():\n    pass\n")
    context.fileChanged(path: ws.path("pkg/later.py"))
    while !context.index.contains(path: ws.path("pkg/later.py")) && Date() < deadline {
      Thread.sleep(forTimeInterval: 0.01)
    }
    XCTAssertTrue(context.index.contains(path: ws.path("pkg/later.py")))
    try FileManager.default.removeItem(atPath: ws.path("pkg/later.py"))
    context.fileChanged(path: ws.path("pkg/later.py"))
    while context.index.contains(path: ws.path("pkg/later.py")) && Date() < deadline {
      Thread.sleep(forTimeInterval: 0.01)
    }
    XCTAssertFalse(context.index.contains(path: ws.path("pkg/later.py")))
  }
}

final class IdentifierTests: XCTestCase {
  func testIdentifiersOfAnUnfinishedLine() {
    let spec = WorkspaceIndex.spec(forExtension: "py")!
    XCTAssertEqual(identifiers("v = extra_thing(", spec: spec), ["extra_thing"])
    XCTAssertEqual(identifiers("value = extra_thing", spec: spec), ["value", "extra_thing"])
  }
}
