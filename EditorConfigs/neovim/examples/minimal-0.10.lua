-- Neovim 0.10+ without the codegen_lsp module: vim.lsp.start reuses one client per root directory.
vim.api.nvim_create_autocmd('FileType', {
  pattern = { 'python', 'c', 'cpp', 'rust', 'go', 'javascript', 'typescript', 'lua' },
  callback = function(args)
    vim.lsp.start({
      name = 'codegen-lsp',
      cmd = { 'codegen-lsp', 'lsp' },
      root_dir = vim.fs.root(args.buf, { '.git' }) or vim.fn.getcwd(),
      init_options = { model = 'qwen2.5-coder-0.5b' },
    }, { bufnr = args.buf })
  end,
})

vim.api.nvim_create_autocmd('LspAttach', {
  callback = function(args)
    local client = vim.lsp.get_client_by_id(args.data.client_id)
    if not client or client.name ~= 'codegen-lsp' then
      return
    end
    -- Completion menu: <C-x><C-o>; on 0.11+ vim.lsp.completion.enable(true, client.id, args.buf) autotriggers it.
    vim.bo[args.buf].omnifunc = 'v:lua.vim.lsp.omnifunc'
    -- Ghost text is built in from 0.12 (see inline-0.12.lua); on 0.10/0.11 use the codegen_lsp module.
    vim.keymap.set('n', '<leader>cg', function()
      local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
      -- client:request on 0.11+ (the dot form is deprecated there), client.request on 0.10.
      local request = vim.fn.has('nvim-0.11') == 1 and function(...)
        return client:request(...)
      end or client.request
      request('workspace/executeCommand', {
        command = 'codegen-lsp.generateCode',
        arguments = { { uri = params.textDocument.uri, position = params.position } },
      }, nil, args.buf)
    end, { buffer = args.buf, desc = 'codegen-lsp: generate code' })
  end,
})
