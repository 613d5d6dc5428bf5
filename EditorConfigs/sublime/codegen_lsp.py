"""codegen-lsp for Sublime Text: the generate-code command (put this file into Packages/User/).

The LSP package's `lsp_execute` expands variables such as `$position` only at the top level of `command_args`,
but `codegen-lsp.generateCode` takes one object `{uri, position | range, instruction?}`; this command builds that
object and hands it to `lsp_execute`. The server inserts the result through workspace/applyEdit.
"""

import sublime
import sublime_plugin

try:
  from LSP.plugin.core.url import filename_to_uri
except ImportError:  # an LSP package without that module: the same formula it uses for file names
  from urllib.parse import urljoin
  from urllib.request import pathname2url

  def filename_to_uri(path):
    return urljoin("file:", pathname2url(path))


def _position(view, point):
  # LSP positions count UTF-16 code units (what codegen-lsp uses unless another encoding is negotiated).
  row, col = view.rowcol_utf16(point)
  return {"line": row, "character": col}


class CodegenLspGenerateCommand(sublime_plugin.TextCommand):
  """Generate code at the cursor, or replacing the first selection; with ask=True, ask for an instruction."""

  def run(self, edit, ask=False):
    if ask:
      self.view.window().show_input_panel("Instruction:", "", self._send, None, None)
    else:
      self._send("")

  def _send(self, instruction):
    view = self.view
    if not view.file_name():
      sublime.status_message("codegen-lsp: save the file first")
      return
    region = view.sel()[0]
    argument = {"uri": filename_to_uri(view.file_name())}
    if region.empty():
      argument["position"] = _position(view, region.b)
    else:
      argument["range"] = {"start": _position(view, region.begin()), "end": _position(view, region.end())}
    if instruction:
      argument["instruction"] = instruction
    sublime.status_message("codegen-lsp: generating…")
    view.run_command("lsp_execute", {
      "session_name": "codegen-lsp",
      "command_name": "codegen-lsp.generateCode",
      "command_args": [argument],
    })
