-- Headless Neovim session driven by Tests/Editors/run.sh: loads the SHIPPED EditorConfigs/neovim module, opens a
-- Python file, lets the module start the server, edits the buffer and checks completion, inline completion (raw
-- request and the module's ghost text), generate-code and a clean shutdown. One line per check goes to
-- $CODEGEN_EDITORS_RESULTS: `ok nvim: NAME` or `not ok nvim: NAME -- DETAIL`.
local env = function(name, default)
  local value = os.getenv(name)
  if value == nil or value == '' then
    return default
  end
  return value
end

local repo = env('CODEGEN_EDITORS_REPO')
local work = env('CODEGEN_EDITORS_WORK')
local results_path = env('CODEGEN_EDITORS_RESULTS', 'nvim_results.txt')
local api = vim.api
local server_cmd, init_options
local timeout_ms = tonumber(env('CODEGEN_EDITORS_REQUEST_TIMEOUT_MS', '120000'))

local results = assert(io.open(results_path, 'a'))
local function report(ok, name, detail)
  local line = (ok and 'ok' or 'not ok') .. ' nvim: ' .. name
  if not ok and detail then
    line = line .. ' -- ' .. tostring(detail):gsub('\n', ' ')
  end
  results:write(line .. '\n')
  results:flush()
  return ok
end

local function check(condition, name, detail)
  return report(condition and true or false, name, detail)
end

local function parses(path)
  local out = vim.fn.system({ 'python3', '-c', 'import ast, sys; ast.parse(open(sys.argv[1]).read())', path })
  return vim.v.shell_error == 0, out
end

local function buffer_text(bufnr)
  return table.concat(api.nvim_buf_get_lines(bufnr, 0, -1, false), '\n')
end

local function write_and_parse(bufnr, name)
  vim.cmd('silent write!')
  local path = api.nvim_buf_get_name(bufnr)
  local ok, out = parses(path)
  check(ok, name, 'python3 ast.parse failed on ' .. path .. ': ' .. out .. ' -- buffer:\n' .. buffer_text(bufnr))
end

local function response_of(responses, client_id)
  local response = responses and responses[client_id]
  if not response then
    return nil, 'no response from the client'
  end
  local err = response.err or response.error
  if err then
    return nil, vim.inspect(err)
  end
  return response.result, nil
end

local function same_position(a, b)
  return a and b and a.line == b.line and a.character == b.character
end

local exit_status = nil

local function run()
  assert(repo and work, 'CODEGEN_EDITORS_REPO and CODEGEN_EDITORS_WORK must be set (run Tests/Editors/run.sh)')
  server_cmd = vim.fn.json_decode((assert(env('CODEGEN_EDITORS_CMD'), 'CODEGEN_EDITORS_CMD is not set')))
  init_options = vim.fn.json_decode(env('CODEGEN_EDITORS_INIT_OPTIONS', '{}'))
  vim.cmd('filetype on')
  -- The checks put the cursor where it is while typing (after the last character); normal mode needs this.
  vim.o.virtualedit = 'onemore'
  vim.opt.runtimepath:prepend(repo .. '/EditorConfigs/neovim')
  local codegen = require('codegen_lsp')
  codegen.setup({
    cmd = server_cmd,
    init_options = init_options,
    -- ghost_text stays at its default (true): automatic requests only start in insert mode, which the checks
    -- never enter, so no timer races them.
    on_exit = function(code, signal)
      exit_status = { code = code, signal = signal }
    end,
  })

  -- Open a Python file: the FileType autocmd of the shipped module starts the server.
  local path = work .. '/nvim_sample.py'
  vim.cmd('edit ' .. vim.fn.fnameescape(path))
  local bufnr = api.nvim_get_current_buf()
  local attached = vim.wait(60000, function()
    local client = codegen.get_client(bufnr)
    return client ~= nil and client.initialized == true
  end, 50)
  if not check(attached, 'server starts and attaches through the shipped config') then
    return
  end
  local client = codegen.get_client(bufnr)
  local caps = client.server_capabilities or {}
  check(caps.completionProvider ~= nil, 'server advertises completionProvider')
  check(caps.inlineCompletionProvider ~= nil, 'server advertises inlineCompletionProvider')
  local commands = caps.executeCommandProvider and caps.executeCommandProvider.commands or {}
  check(vim.tbl_contains(commands, 'codegen-lsp.generateCode'), 'server advertises codegen-lsp.generateCode',
    vim.inspect(commands))
  local encoding = client.offset_encoding

  -- Configuration change while running (flat keys, as the module sends them).
  codegen.configure({ temperature = 0 })

  -- textDocument/completion in the middle of a word.
  api.nvim_buf_set_lines(bufnr, 0, -1, false, {
    'def add(a, b):',
    '    """Return the sum of a and b."""',
    '    return a',
  })
  api.nvim_win_set_cursor(0, { 3, 12 })
  local cursor = { line = 2, character = 12 }
  local params = vim.lsp.util.make_position_params(0, encoding)
  check(same_position(params.position, cursor), 'cursor maps to the expected LSP position', vim.inspect(params))
  local responses, wait_error = vim.lsp.buf_request_sync(bufnr, 'textDocument/completion', params, timeout_ms)
  local result, err = response_of(responses, client.id)
  if not check(result ~= nil, 'textDocument/completion answers', wait_error or err) then
    return
  end
  local items = result.items or result
  if check(#items > 0, 'completion returns at least one item from the model', vim.inspect(result)) then
    local item = items[1]
    local edit = item.textEdit
    local range = edit and (edit.range or edit.replace)
    local text = edit and edit.newText or item.insertText or item.label
    check(type(text) == 'string' and text:match('%S') ~= nil, 'completion text is not blank', vim.inspect(item))
    check(range ~= nil and same_position(range['end'], cursor)
      and same_position(range.start, { line = 2, character = 11 }),
      'completion textEdit spans the current word up to the cursor', vim.inspect(item))
    if range and text then
      vim.lsp.util.apply_text_edits({ { range = range, newText = text } }, bufnr, encoding)
      local line = api.nvim_buf_get_lines(bufnr, 2, 3, false)[1]
      check(vim.startswith(line, '    return ') and line:find(vim.split(text, '\n')[1], 1, true) ~= nil,
        'completion inserts at the cursor', line)
      write_and_parse(bufnr, 'buffer parses after inserting the completion')
    end
  end

  -- textDocument/inlineCompletion, sent raw (0.7 has no built-in inline completion).
  api.nvim_buf_set_lines(bufnr, 0, -1, false, {
    'def scale(values, factor):',
    '    """Multiply every value by factor."""',
    '    return ',
  })
  api.nvim_win_set_cursor(0, { 3, 11 })
  cursor = { line = 2, character = 11 }
  params = vim.lsp.util.make_position_params(0, encoding)
  params.context = { triggerKind = 1 }
  responses, wait_error = vim.lsp.buf_request_sync(bufnr, 'textDocument/inlineCompletion', params, timeout_ms)
  result, err = response_of(responses, client.id)
  if check(result ~= nil, 'textDocument/inlineCompletion answers', wait_error or err) then
    items = result.items or result
    if check(#items > 0, 'inline completion returns at least one item from the model', vim.inspect(result)) then
      local item = items[1]
      local text = type(item.insertText) == 'table' and item.insertText.value or item.insertText
      check(type(text) == 'string' and text:match('%S') ~= nil, 'inline completion text is not blank', vim.inspect(item))
      check(item.range == nil or (same_position(item.range['end'], cursor) and item.range.start.line == cursor.line
        and item.range.start.character <= cursor.character), 'inline completion range ends at the cursor',
        vim.inspect(item))
      if check(codegen.apply_inline_item(bufnr, client, item), 'shipped module inserts the inline item') then
        local after = api.nvim_buf_get_lines(bufnr, 2, 3, false)[1]
        check(vim.startswith(after, '    return ') and #after > #'    return ', 'inline item is inserted at the cursor',
          after)
        write_and_parse(bufnr, 'buffer parses after inserting the inline completion')
      end
    end
  end

  if vim.fn.has('nvim-0.12') == 1 and vim.lsp.inline_completion then
    check(vim.lsp.inline_completion.is_enabled({ bufnr = bufnr }), 'built-in inline completion is enabled (0.12+)')
  end

  -- The shipped module's own ghost text (typing on 0.7 to 0.11, the `inline` key everywhere): request, render
  -- as an extmark, accept.
  do
    api.nvim_buf_set_lines(bufnr, 0, -1, false, {
      'def greet(name):',
      '    """Return a greeting for name."""',
      '    return ',
    })
    api.nvim_win_set_cursor(0, { 3, 11 })
    local answered = nil
    codegen.request_inline(bufnr, true, function(request_error, answer)
      answered = { err = request_error, items = answer }
    end)
    vim.wait(timeout_ms, function()
      return answered ~= nil
    end, 50)
    check(answered ~= nil and answered.err == nil, 'ghost text request answers',
      answered and vim.inspect(answered.err) or 'timed out')
    local namespace = api.nvim_create_namespace('codegen_lsp_ghost_text')
    local marks = api.nvim_buf_get_extmarks(bufnr, namespace, 0, -1, { details = true })
    check(codegen.ghost_text_visible(bufnr) and #marks == 1, 'ghost text is shown as an extmark at the cursor',
      vim.inspect(marks))
    local before = buffer_text(bufnr)
    if check(codegen.accept(bufnr), 'accepting the ghost text inserts it') then
      check(buffer_text(bufnr) ~= before and #api.nvim_buf_get_extmarks(bufnr, namespace, 0, -1, {}) == 0,
        'buffer changed and the ghost text is gone', buffer_text(bufnr))
      write_and_parse(bufnr, 'buffer parses after accepting the ghost text')
    end
  end

  -- workspace/executeCommand codegen-lsp.generateCode through the module; the server applies the edit.
  api.nvim_buf_set_lines(bufnr, 0, -1, false, {
    'def fibonacci(n):',
    '    """Return the n-th Fibonacci number."""',
    '    ',
  })
  api.nvim_win_set_cursor(0, { 3, 4 })
  local before = buffer_text(bufnr)
  local done = nil
  codegen.generate({
    bufnr = bufnr,
    on_done = function(command_error, command_result)
      done = { err = command_error, result = command_result }
    end,
  })
  vim.wait(timeout_ms * 2, function()
    return done ~= nil
  end, 50)
  if check(done ~= nil and done.err == nil, 'generate-code answers', done and vim.inspect(done.err) or 'timed out') then
    local answer = done.result or {}
    check(answer.applied == true, 'generate-code reports the edit as applied', vim.inspect(answer))
    check(type(answer.text) == 'string' and answer.text:match('%S') ~= nil, 'generate-code returns text',
      vim.inspect(answer))
    local after = buffer_text(bufnr)
    if check(after ~= before, 'generate-code changed the buffer through workspace/applyEdit', after) then
      local first = type(answer.text) == 'string' and vim.trim(vim.split(vim.trim(answer.text), '\n')[1]) or ''
      check(first ~= '' and after:find(first, 1, true) ~= nil, 'the buffer holds the generated text',
        'text: ' .. vim.inspect(answer.text) .. ' buffer: ' .. after)
      write_and_parse(bufnr, 'buffer parses after generate-code')
    end
  end

  -- Clean shutdown: shutdown request, exit notification, exit status 0.
  vim.lsp.stop_client(client.id)
  vim.wait(30000, function()
    return exit_status ~= nil
  end, 50)
  check(exit_status ~= nil and exit_status.code == 0 and exit_status.signal == 0,
    'server exits with status 0 after shutdown', vim.inspect(exit_status))
end

local ok, failure = xpcall(run, debug.traceback)
if not ok then
  report(false, 'test script error', failure)
end
results:close()
vim.cmd('qall!')
