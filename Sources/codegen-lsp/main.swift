print("codegen-lsp: not wired yet")
