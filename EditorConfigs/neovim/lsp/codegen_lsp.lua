-- Neovim 0.11+: `vim.lsp.enable('codegen_lsp')` finds this file through 'runtimepath' (lsp/codegen_lsp.lua).
-- Override any field with vim.lsp.config('codegen_lsp', { init_options = { model = 'smollm2-135m' } }).
return {
  cmd = { 'codegen-lsp', 'lsp' },
  filetypes = {
    'python', 'c', 'cpp', 'rust', 'go', 'java', 'javascript', 'typescript', 'javascriptreact',
    'typescriptreact', 'lua', 'swift', 'ruby', 'php', 'sh', 'bash', 'zsh', 'kotlin', 'scala', 'cs', 'haskell',
  },
  root_markers = { '.git', '.hg', 'Package.swift', 'pyproject.toml', 'Cargo.toml', 'go.mod', 'package.json' },
  -- Every key of Protocol/configuration.schema.json, flat.
  init_options = { model = 'qwen2.5-coder-0.5b' },
}
