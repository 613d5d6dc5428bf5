--- codegen-lsp for Neovim 0.7 and newer: starts `codegen-lsp lsp`, shows ghost text, runs generate-code.
---
--- Usage (any version from 0.7):
---   vim.opt.runtimepath:append('/path/to/codegen-lsp/EditorConfigs/neovim')
---   require('codegen_lsp').setup({ init_options = { model = 'qwen2.5-coder-0.5b' } })
---
--- How the server is started depends on the version:
---   0.7 to 0.9   vim.lsp.start_client + vim.lsp.buf_attach_client (one client per root directory)
---   0.10+        vim.lsp.start (reuses the client of the same name and root)
--- Ghost text:
---   0.12+        the built-in vim.lsp.inline_completion (enabled for the attached buffers)
---   0.7 to 0.11  a small extmark renderer in this file that sends textDocument/inlineCompletion itself
local M = {}

local api = vim.api

local function has(version)
  return vim.fn.has('nvim-' .. version) == 1
end

--- Defaults; `setup(opts)` merges `opts` over them (deeply).
M.defaults = {
  name = 'codegen-lsp',
  --- The command line; add '--model', 'smollm2-135m' or '--log-level', 'debug' here if you like.
  cmd = { 'codegen-lsp', 'lsp' },
  filetypes = {
    'python', 'c', 'cpp', 'rust', 'go', 'java', 'javascript', 'typescript', 'javascriptreact',
    'typescriptreact', 'lua', 'swift', 'ruby', 'php', 'sh', 'bash', 'zsh', 'kotlin', 'scala', 'cs', 'haskell',
  },
  --- Files or directories that mark the project root (the nearest one upwards wins; else the file's directory).
  root_markers = { '.git', '.hg', 'Package.swift', 'pyproject.toml', 'Cargo.toml', 'go.mod', 'package.json' },
  --- Sent as `initializationOptions`; every key of Protocol/configuration.schema.json is accepted (flat).
  init_options = {},
  --- Ghost text while typing (debounced); with false it only appears on the `inline` key.
  ghost_text = true,
  debounce_ms = 300,
  --- Buffer-local keys; set one to false to leave it unmapped.
  keys = {
    inline = '<M-\\>', -- insert: ask for ghost text now
    accept = '<Tab>', -- insert: accept the ghost text (a plain <Tab> when there is none)
    complete = '<C-Space>', -- insert: the completion menu (omnifunc, textDocument/completion)
    generate = '<leader>cg', -- normal/visual: generate code at the cursor or for the selection
    instruct = '<leader>ci', -- normal/visual: the same, asking for an instruction first
  },
  --- Extra callbacks, called after this module's own.
  on_attach = nil,
  on_exit = nil,
}

M.options = nil

local function client_request(client, method, params, handler, bufnr)
  if has('0.11') then
    return client:request(method, params, handler, bufnr)
  end
  return client.request(method, params, handler, bufnr)
end

local function client_cancel(client, id)
  if has('0.11') then
    return client:cancel_request(id)
  end
  return client.cancel_request(id)
end

local function client_notify(client, method, params)
  if has('0.11') then
    return client:notify(method, params)
  end
  return client.notify(method, params)
end

local function notify(message, level)
  vim.notify('codegen-lsp: ' .. message, level or vim.log.levels.INFO)
end

--- The codegen-lsp client attached to `bufnr` (0 or nil for the current buffer), or nil.
function M.get_client(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and api.nvim_get_current_buf() or bufnr
  local name = (M.options or M.defaults).name
  local clients = vim.lsp.get_clients and vim.lsp.get_clients({ bufnr = bufnr, name = name })
    or vim.lsp.buf_get_clients(bufnr)
  for _, client in pairs(clients) do
    if client.name == name then
      return client
    end
  end
  return nil
end

-- Positions -------------------------------------------------------------------------------------------------

--- The byte column of an LSP position (which counts in the client's offset encoding).
local function byte_col(bufnr, position, encoding)
  local line = api.nvim_buf_get_lines(bufnr, position.line, position.line + 1, false)[1] or ''
  if encoding == 'utf-8' then
    return math.min(position.character, #line)
  end
  local ok, col
  if has('0.11') then
    ok, col = pcall(vim.str_byteindex, line, encoding, position.character, false)
  else
    ok, col = pcall(vim.str_byteindex, line, position.character, encoding == 'utf-16')
  end
  return ok and col or #line
end

--- The LSP position of the cursor in `win`.
local function cursor_position(win, bufnr, encoding)
  local cursor = api.nvim_win_get_cursor(win)
  local row = cursor[1] - 1
  return { line = row, character = vim.lsp.util.character_offset(bufnr, row, cursor[2], encoding) }
end

local function item_text(item)
  local text = item.insertText
  if type(text) == 'table' then -- StringValue (a snippet): keep the text, drop tabstops and placeholders
    text = (text.value or ''):gsub('%${%d+:([^}]*)}', '%1'):gsub('%$%d+', '')
  end
  return text or ''
end

-- Inline completion (ghost text) for 0.7 to 0.11 ---------------------------------------------------------------

local namespace = api.nvim_create_namespace('codegen_lsp_ghost_text')
local ghost = {} -- bufnr -> { item, client_id, row, col, tick }
local in_flight = {} -- bufnr -> { client, id }
local timers = {} -- bufnr -> uv timer

--- Removes the ghost text of `bufnr`.
function M.dismiss(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and api.nvim_get_current_buf() or bufnr
  if api.nvim_buf_is_valid(bufnr) then
    api.nvim_buf_clear_namespace(bufnr, namespace, 0, -1)
  end
  ghost[bufnr] = nil
end

--- True while ghost text is shown in `bufnr`.
function M.ghost_text_visible(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and api.nvim_get_current_buf() or bufnr
  return ghost[bufnr] ~= nil
end

local function show(bufnr, client, item, row, col)
  M.dismiss(bufnr)
  local line = api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ''
  local text = item_text(item)
  -- Text between the start of the item's range and the cursor is already typed: show only the rest.
  if item.range and item.range.start.line == row then
    local start = byte_col(bufnr, item.range.start, client.offset_encoding)
    local typed = line:sub(start + 1, col)
    if text:sub(1, #typed) == typed then
      text = text:sub(#typed + 1)
    end
  end
  if text == '' then
    return
  end
  local lines = vim.split(text, '\n', { plain = true })
  local extmark = { virt_text = { { lines[1], 'Comment' } }, hl_mode = 'combine' }
  if col >= #line then
    extmark.virt_text_pos = 'overlay'
  elseif has('0.10') then
    extmark.virt_text_pos = 'inline'
  else
    extmark.virt_text_pos = 'eol'
  end
  if #lines > 1 then
    extmark.virt_lines = {}
    for index = 2, #lines do
      table.insert(extmark.virt_lines, { { lines[index], 'Comment' } })
    end
  end
  api.nvim_buf_set_extmark(bufnr, namespace, row, math.min(col, #line), extmark)
  ghost[bufnr] = { item = item, client_id = client.id, row = row, col = col, tick = api.nvim_buf_get_changedtick(bufnr) }
end

--- Asks the server for ghost text at the cursor and shows the first item.
--- @param bufnr number|nil buffer (default: current)
--- @param invoked boolean|nil true when the user asked (triggerKind Invoked), else Automatic
--- @param callback function|nil called with (err, items) once the answer arrived (also when it is stale)
function M.request_inline(bufnr, invoked, callback)
  bufnr = (bufnr == nil or bufnr == 0) and api.nvim_get_current_buf() or bufnr
  local client = M.get_client(bufnr)
  local win = vim.fn.bufwinid(bufnr)
  if not client or win == -1 then
    if callback then
      callback('no codegen-lsp client or window for this buffer', nil)
    end
    return
  end
  local previous = in_flight[bufnr]
  if previous then
    client_cancel(previous.client, previous.id)
    in_flight[bufnr] = nil
  end
  local cursor = api.nvim_win_get_cursor(win)
  local tick = api.nvim_buf_get_changedtick(bufnr)
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(bufnr) },
    position = cursor_position(win, bufnr, client.offset_encoding),
    context = { triggerKind = invoked and 1 or 2 },
  }
  local ok, id = client_request(client, 'textDocument/inlineCompletion', params, function(err, result)
    if in_flight[bufnr] and in_flight[bufnr].id == id then
      in_flight[bufnr] = nil
    end
    local items = result and (result.items or result) or {}
    if not err and items[1] and api.nvim_buf_is_valid(bufnr) and api.nvim_buf_get_changedtick(bufnr) == tick then
      local now = api.nvim_win_is_valid(win) and api.nvim_win_get_cursor(win) or {}
      if now[1] == cursor[1] and now[2] == cursor[2] then
        show(bufnr, client, items[1], cursor[1] - 1, cursor[2])
      end
    end
    if callback then
      callback(err, items)
    end
  end, bufnr)
  if ok then
    in_flight[bufnr] = { client = client, id = id }
  end
end

--- Inserts an inline completion item (replacing its range, or at the cursor) and moves the cursor after it.
--- @return boolean true when something was inserted
function M.apply_inline_item(bufnr, client, item)
  bufnr = (bufnr == nil or bufnr == 0) and api.nvim_get_current_buf() or bufnr
  local win = vim.fn.bufwinid(bufnr)
  local text = item_text(item)
  if text == '' or win == -1 then
    return false
  end
  local encoding = client.offset_encoding
  local range = item.range
  if not range then
    local here = cursor_position(win, bufnr, encoding)
    range = { start = here, ['end'] = here }
  end
  local start_row, start_col = range.start.line, byte_col(bufnr, range.start, encoding)
  vim.lsp.util.apply_text_edits({ { range = range, newText = text } }, bufnr, encoding)
  local lines = vim.split(text, '\n', { plain = true })
  local end_col = (#lines == 1 and start_col or 0) + #lines[#lines]
  api.nvim_win_set_cursor(win, { start_row + #lines, end_col })
  if item.command then
    client_request(client, 'workspace/executeCommand', item.command, function() end, bufnr)
  end
  return true
end

--- Accepts the ghost text shown in `bufnr`; false when there is none.
function M.accept(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and api.nvim_get_current_buf() or bufnr
  local shown = ghost[bufnr]
  if not shown then
    return false
  end
  M.dismiss(bufnr)
  local client = vim.lsp.get_client_by_id(shown.client_id)
  if not client or api.nvim_buf_get_changedtick(bufnr) ~= shown.tick then
    return false
  end
  return M.apply_inline_item(bufnr, client, shown.item)
end

local function schedule_ghost_text(bufnr)
  local timer = timers[bufnr]
  if not timer then
    timer = vim.loop.new_timer()
    timers[bufnr] = timer
  end
  timer:stop()
  timer:start(M.options.debounce_ms, 0, vim.schedule_wrap(function()
    if api.nvim_buf_is_valid(bufnr) and api.nvim_get_current_buf() == bufnr and api.nvim_get_mode().mode:sub(1, 1) == 'i' then
      M.request_inline(bufnr, false)
    end
  end))
end

--- Dismisses the module's ghost text when the cursor moves away; with `auto`, also requests it while typing.
local function attach_ghost_text(bufnr, auto)
  local group = api.nvim_create_augroup('codegen_lsp_ghost_text_' .. bufnr, { clear = true })
  if auto then
    api.nvim_create_autocmd('TextChangedI', {
      group = group,
      buffer = bufnr,
      callback = function()
        M.dismiss(bufnr)
        schedule_ghost_text(bufnr)
      end,
    })
  end
  api.nvim_create_autocmd({ 'CursorMovedI', 'InsertLeave', 'BufLeave' }, {
    group = group,
    buffer = bufnr,
    callback = function(args)
      local shown = ghost[bufnr]
      if shown and args.event == 'CursorMovedI' then
        local cursor = api.nvim_win_get_cursor(0)
        if cursor[1] - 1 == shown.row and cursor[2] == shown.col then
          return
        end
      end
      M.dismiss(bufnr)
    end,
  })
  api.nvim_create_autocmd('BufWipeout', {
    group = group,
    buffer = bufnr,
    callback = function()
      if timers[bufnr] then
        timers[bufnr]:stop()
        timers[bufnr]:close()
        timers[bufnr] = nil
      end
      ghost[bufnr] = nil
    end,
  })
end

-- Generate code ----------------------------------------------------------------------------------------------

--- Runs `codegen-lsp.generateCode`; the server inserts the result with workspace/applyEdit.
--- @param opts table { bufnr?, instruction?, range? (an LSP range; default: the cursor), on_done?(err, result) }
function M.generate(opts)
  opts = opts or {}
  local bufnr = (opts.bufnr == nil or opts.bufnr == 0) and api.nvim_get_current_buf() or opts.bufnr
  local client = M.get_client(bufnr)
  if not client then
    notify('no codegen-lsp client is attached to this buffer', vim.log.levels.ERROR)
    if opts.on_done then
      opts.on_done('no client', nil)
    end
    return
  end
  local argument = { uri = vim.uri_from_bufnr(bufnr) }
  if opts.range then
    argument.range = opts.range
  else
    argument.position = cursor_position(vim.fn.bufwinid(bufnr), bufnr, client.offset_encoding)
  end
  if opts.instruction and opts.instruction ~= '' then
    argument.instruction = opts.instruction
  end
  notify('generating…')
  local params = { command = 'codegen-lsp.generateCode', arguments = { argument } }
  client_request(client, 'workspace/executeCommand', params, function(err, result)
    if err then
      notify('generate-code failed: ' .. (err.message or vim.inspect(err)), vim.log.levels.ERROR)
    elseif type(result) == 'table' and result.applied then
      notify('inserted generated code')
    else
      notify('nothing was inserted', vim.log.levels.WARN)
    end
    if opts.on_done then
      opts.on_done(err, result)
    end
  end, bufnr)
end

--- The LSP range of the last visual selection of `bufnr` (whole lines for a linewise selection).
function M.selection_range(bufnr, client)
  local first = api.nvim_buf_get_mark(bufnr, '<')
  local last = api.nvim_buf_get_mark(bufnr, '>')
  if vim.fn.visualmode() == 'V' then
    return { start = { line = first[1] - 1, character = 0 }, ['end'] = { line = last[1], character = 0 } }
  end
  return vim.lsp.util.make_given_range_params(first, last, bufnr, client.offset_encoding).range
end

local function generate_command(args)
  local bufnr = api.nvim_get_current_buf()
  local client = M.get_client(bufnr)
  if not client then
    notify('no codegen-lsp client is attached to this buffer', vim.log.levels.ERROR)
    return
  end
  M.generate({
    bufnr = bufnr,
    instruction = args.args,
    range = args.range > 0 and M.selection_range(bufnr, client) or nil,
  })
end

-- Attach -----------------------------------------------------------------------------------------------------

local function map(modes, lhs, rhs, bufnr, desc, expr)
  if lhs then
    vim.keymap.set(modes, lhs, rhs, { buffer = bufnr, desc = desc, expr = expr, silent = true })
  end
end

local function on_attach(client, bufnr)
  local keys = M.options.keys
  vim.bo[bufnr].omnifunc = 'v:lua.vim.lsp.omnifunc'
  map('i', keys.complete, '<C-x><C-o>', bufnr, 'codegen-lsp: completion menu')
  map({ 'n', 'x' }, keys.generate, ':CodegenGenerate<CR>', bufnr, 'codegen-lsp: generate code')
  map({ 'n', 'x' }, keys.instruct, function()
    local instruction = vim.fn.input('Instruction: ')
    local visual = api.nvim_get_mode().mode:match('^[vV\22]') ~= nil
    if visual then
      api.nvim_feedkeys(api.nvim_replace_termcodes('<Esc>', true, false, true), 'nx', false)
    end
    M.generate({ bufnr = bufnr, instruction = instruction, range = visual and M.selection_range(bufnr, client) or nil })
  end, bufnr, 'codegen-lsp: generate code from an instruction')

  local accept_key = keys.accept and api.nvim_replace_termcodes(keys.accept, true, false, true)
  if has('0.12') and vim.lsp.inline_completion then
    -- Neovim's own ghost text while typing; the `inline` key shows the module's (an explicit request).
    vim.lsp.inline_completion.enable(M.options.ghost_text, { bufnr = bufnr })
    attach_ghost_text(bufnr, false)
    map('i', keys.inline, function()
      M.request_inline(bufnr, true)
    end, bufnr, 'codegen-lsp: ghost text now')
    map('i', keys.accept, function()
      if vim.lsp.inline_completion.get() then
        return ''
      end
      if M.ghost_text_visible(bufnr) then
        vim.schedule(function()
          M.accept(bufnr)
        end)
        return ''
      end
      return accept_key
    end, bufnr, 'codegen-lsp: accept ghost text', true)
  else
    attach_ghost_text(bufnr, M.options.ghost_text)
    map('i', keys.inline, function()
      M.request_inline(bufnr, true)
    end, bufnr, 'codegen-lsp: ghost text now')
    map('i', keys.accept, function()
      if not M.accept(bufnr) then
        -- 'i': before any keys typed after this one, so the fallback <Tab> lands where it was typed.
        api.nvim_feedkeys(accept_key, 'ni', false)
      end
    end, bufnr, 'codegen-lsp: accept ghost text')
  end
  if M.options.on_attach then
    M.options.on_attach(client, bufnr)
  end
end

local function find_root(bufnr)
  local path = api.nvim_buf_get_name(bufnr)
  local dir = path ~= '' and vim.fn.fnamemodify(path, ':p:h') or vim.fn.getcwd()
  for _, marker in ipairs(M.options.root_markers) do
    local hit = vim.fn.finddir(marker, dir .. ';')
    if hit == '' then
      hit = vim.fn.findfile(marker, dir .. ';')
    end
    if hit ~= '' then
      return vim.fn.fnamemodify(vim.fn.fnamemodify(hit, ':p'):gsub('/$', ''), ':h')
    end
  end
  return dir
end

--- The client configuration `setup` uses: for vim.lsp.start, vim.lsp.start_client or vim.lsp.config.
function M.client_config(root_dir)
  local capabilities = vim.lsp.protocol.make_client_capabilities()
  capabilities.textDocument.inlineCompletion = capabilities.textDocument.inlineCompletion
    or { dynamicRegistration = false }
  return {
    name = M.options.name,
    cmd = M.options.cmd,
    root_dir = root_dir,
    init_options = M.options.init_options,
    capabilities = capabilities,
    on_attach = on_attach,
    on_exit = function(code, signal, client_id)
      if M.options.on_exit then
        M.options.on_exit(code, signal, client_id)
      end
    end,
  }
end

local started = {} -- root -> client id (0.7 to 0.9)

--- Starts (or reuses) the client for `bufnr` and attaches the buffer; returns the client id.
function M.start(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and api.nvim_get_current_buf() or bufnr
  local root = find_root(bufnr)
  local config = M.client_config(root)
  if has('0.10') then
    return vim.lsp.start(config, { bufnr = bufnr })
  end
  local id = started[root]
  if not id or not vim.lsp.get_client_by_id(id) then
    id = vim.lsp.start_client(config)
    started[root] = id
  end
  if id then
    vim.lsp.buf_attach_client(bufnr, id)
  end
  return id
end

--- Sends new settings (workspace/didChangeConfiguration, flat keys) to every running codegen-lsp client.
function M.configure(settings)
  for _, client in pairs(vim.lsp.get_clients and vim.lsp.get_clients() or vim.lsp.get_active_clients()) do
    if client.name == M.options.name then
      client_notify(client, 'workspace/didChangeConfiguration', { settings = settings })
    end
  end
end

--- Merges `opts` over the defaults, starts the server for the configured filetypes, defines the commands.
function M.setup(opts)
  M.options = vim.tbl_deep_extend('force', {}, M.defaults, opts or {})
  local group = api.nvim_create_augroup('codegen_lsp', { clear = true })
  api.nvim_create_autocmd('FileType', {
    group = group,
    pattern = M.options.filetypes,
    callback = function(args)
      if vim.bo[args.buf].buftype == '' then
        M.start(args.buf)
      end
    end,
  })
  api.nvim_create_user_command('CodegenGenerate', generate_command, {
    nargs = '*',
    range = true,
    desc = 'codegen-lsp: generate code at the cursor or for the selection; arguments are an instruction',
  })
  api.nvim_create_user_command('CodegenInline', function()
    M.request_inline(0, true)
  end, { desc = 'codegen-lsp: ask for ghost text now' })
  api.nvim_create_user_command('CodegenLog', function()
    vim.cmd('edit ' .. vim.fn.fnameescape(require('vim.lsp.log').get_filename()))
  end, { desc = 'codegen-lsp: open the LSP log (server stderr is logged there)' })
  -- Buffers that are already open (setup called late) get the server too.
  for _, bufnr in ipairs(api.nvim_list_bufs()) do
    if api.nvim_buf_is_loaded(bufnr) and vim.tbl_contains(M.options.filetypes, vim.bo[bufnr].filetype) then
      M.start(bufnr)
    end
  end
end

return M
