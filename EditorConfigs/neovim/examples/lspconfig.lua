-- nvim-lspconfig: a custom server definition (lspconfig ships no entry for codegen-lsp).
-- With nvim-lspconfig 2.x on Neovim 0.11+, prefer the lsp/codegen_lsp.lua file and vim.lsp.enable('codegen_lsp').
local configs = require('lspconfig.configs')
local util = require('lspconfig.util')

if not configs.codegen_lsp then
  configs.codegen_lsp = {
    default_config = {
      cmd = { 'codegen-lsp', 'lsp' },
      filetypes = { 'python', 'c', 'cpp', 'rust', 'go', 'javascript', 'typescript', 'lua' },
      root_dir = util.root_pattern('.git', 'pyproject.toml', 'Cargo.toml', 'go.mod', 'package.json'),
      single_file_support = true,
      init_options = { model = 'qwen2.5-coder-0.5b' },
    },
    docs = { description = 'codegen-lsp: local AI code completion (ghost text, completion, generate-code).' },
  }
end

require('lspconfig').codegen_lsp.setup({
  init_options = { model = 'qwen2.5-coder-0.5b', temperature = 0 },
})
