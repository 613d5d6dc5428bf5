//! Zed extension that starts `codegen-lsp lsp` and passes the user's settings to it.
//!
//! settings.json, key `lsp.codegen-lsp`:
//!   `binary.path` / `binary.arguments` / `binary.env`: how to start it (default: `codegen-lsp` on PATH, `lsp`)
//!   `initialization_options`: sent as `initializationOptions` (keys of Protocol/configuration.schema.json)
//!   `settings`: answered to `workspace/configuration` and sent with `workspace/didChangeConfiguration`
use zed_extension_api::{self as zed, serde_json::Value, settings::LspSettings, LanguageServerId, Result};

struct CodegenLspExtension;

impl CodegenLspExtension {
    fn settings(id: &LanguageServerId, worktree: &zed::Worktree) -> Option<LspSettings> {
        LspSettings::for_worktree(id.as_ref(), worktree).ok()
    }
}

impl zed::Extension for CodegenLspExtension {
    fn new() -> Self {
        CodegenLspExtension
    }

    fn language_server_command(&mut self, id: &LanguageServerId, worktree: &zed::Worktree) -> Result<zed::Command> {
        let binary = Self::settings(id, worktree).and_then(|settings| settings.binary);
        let command = binary
            .as_ref()
            .and_then(|binary| binary.path.clone())
            .or_else(|| worktree.which("codegen-lsp"))
            .ok_or_else(|| {
                "codegen-lsp is not on PATH: build it (swift build -c release) and put it on PATH, or set \
                 lsp.codegen-lsp.binary.path in settings.json"
                    .to_string()
            })?;
        let args = binary
            .as_ref()
            .and_then(|binary| binary.arguments.clone())
            .unwrap_or_else(|| vec!["lsp".to_string()]);
        let env = binary
            .and_then(|binary| binary.env)
            .map(|env| env.into_iter().collect())
            .unwrap_or_default();
        Ok(zed::Command { command, args, env })
    }

    fn language_server_initialization_options(
        &mut self,
        id: &LanguageServerId,
        worktree: &zed::Worktree,
    ) -> Result<Option<Value>> {
        Ok(Self::settings(id, worktree).and_then(|settings| settings.initialization_options))
    }

    fn language_server_workspace_configuration(
        &mut self,
        id: &LanguageServerId,
        worktree: &zed::Worktree,
    ) -> Result<Option<Value>> {
        Ok(Self::settings(id, worktree).and_then(|settings| settings.settings))
    }
}

zed::register_extension!(CodegenLspExtension);
