-- Neovim 0.7 to 0.9 without the codegen_lsp module: vim.lsp.start_client + vim.lsp.buf_attach_client.
-- Gives the completion menu (<C-x><C-o>) and generate-code (<leader>cg); ghost text needs the module.
local client_id = nil

vim.api.nvim_create_autocmd('FileType', {
  pattern = { 'python', 'c', 'cpp', 'rust', 'go', 'javascript', 'typescript', 'lua' },
  callback = function(args)
    if not client_id or not vim.lsp.get_client_by_id(client_id) then
      client_id = vim.lsp.start_client({
        name = 'codegen-lsp',
        cmd = { 'codegen-lsp', 'lsp' },
        root_dir = vim.fn.getcwd(),
        init_options = { model = 'qwen2.5-coder-0.5b' },
      })
    end
    vim.lsp.buf_attach_client(args.buf, client_id)
    vim.bo[args.buf].omnifunc = 'v:lua.vim.lsp.omnifunc'
    vim.keymap.set('n', '<leader>cg', function()
      local client = vim.lsp.get_client_by_id(client_id)
      local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
      client.request('workspace/executeCommand', {
        command = 'codegen-lsp.generateCode',
        arguments = { { uri = params.textDocument.uri, position = params.position } },
      }, function(err)
        if err then
          vim.notify('codegen-lsp: ' .. err.message, vim.log.levels.ERROR)
        end
      end, args.buf)
    end, { buffer = args.buf, desc = 'codegen-lsp: generate code' })
  end,
})
