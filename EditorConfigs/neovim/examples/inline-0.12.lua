-- Neovim 0.12+: the built-in inline completion (ghost text) for codegen-lsp, without the codegen_lsp module.
-- Needs lsp/codegen_lsp.lua on 'runtimepath' (or your own vim.lsp.config('codegen_lsp', {...})).
vim.lsp.enable('codegen_lsp')

vim.api.nvim_create_autocmd('LspAttach', {
  callback = function(args)
    local client = vim.lsp.get_client_by_id(args.data.client_id)
    if not client or client.name ~= 'codegen_lsp' then
      return
    end
    vim.lsp.inline_completion.enable(true, { bufnr = args.buf })
    -- <Tab> accepts the ghost text, or is a plain <Tab> when there is none.
    vim.keymap.set('i', '<Tab>', function()
      if not vim.lsp.inline_completion.get() then
        return '<Tab>'
      end
    end, { expr = true, buffer = args.buf, desc = 'codegen-lsp: accept ghost text' })
    -- <M-]> / <M-[> cycle through the candidates.
    vim.keymap.set('i', '<M-]>', function()
      vim.lsp.inline_completion.select({ count = 1 })
    end, { buffer = args.buf })
    vim.keymap.set('i', '<M-[>', function()
      vim.lsp.inline_completion.select({ count = -1 })
    end, { buffer = args.buf })
  end,
})
