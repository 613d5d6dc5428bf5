// codegen-lsp for VS Code: starts `codegen-lsp lsp` through vscode-languageclient and adds the generate-code
// commands. Completions, ghost text (inline completion) and progress come from the language client itself.
import * as vscode from 'vscode';
import {
  DidChangeConfigurationNotification,
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
} from 'vscode-languageclient/node';

/** The answer of `codegen-lsp.generateCode`. */
interface GenerateCodeResult {
  applied: boolean;
  text: string;
}

const GENERATE_CODE = 'codegen-lsp.generateCode';
let client: LanguageClient | undefined;

function configuration(): vscode.WorkspaceConfiguration {
  return vscode.workspace.getConfiguration('codegen-lsp');
}

/** Asks the server to generate code at the cursor or for the selection; it inserts the result itself. */
async function generate(instruction?: string): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    return;
  }
  if (!client || !client.isRunning()) {
    void vscode.window.showErrorMessage('codegen-lsp is not running (see "codegen-lsp: Show Server Log").');
    return;
  }
  const convert = client.code2ProtocolConverter;
  const argument: { [key: string]: unknown } = { uri: convert.asUri(editor.document.uri) };
  if (editor.selection.isEmpty) {
    argument.position = convert.asPosition(editor.selection.active);
  } else {
    argument.range = convert.asRange(editor.selection);
  }
  if (instruction) {
    argument.instruction = instruction;
  }
  try {
    // The server reports progress (window/workDoneProgress, shown as a cancellable notification) and applies
    // the result with workspace/applyEdit before it answers.
    const result = (await client.sendRequest(ExecuteCommandRequest.type, {
      command: GENERATE_CODE,
      arguments: [argument],
    })) as GenerateCodeResult | null;
    if (!result || !result.applied) {
      void vscode.window.showWarningMessage('codegen-lsp: nothing was inserted.');
    }
  } catch (error) {
    void vscode.window.showErrorMessage(`codegen-lsp: generate-code failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const config = configuration();
  const serverOptions: ServerOptions = {
    command: config.get<string>('serverPath', 'codegen-lsp'),
    args: config.get<string[]>('serverArgs', ['lsp']),
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: config.get<string[]>('languages', ['python']).map((language) => ({ scheme: 'file', language })),
    initializationOptions: () => configuration().get<object>('settings', {}),
  };
  client = new LanguageClient('codegen-lsp', 'codegen-lsp', serverOptions, clientOptions);
  // textDocument/inlineCompletion (LSP 3.18) is a proposed feature in vscode-languageclient 9.x and 10.x: opt in,
  // or no inline completion provider is registered.
  client.registerProposedFeatures();

  context.subscriptions.push(
    // Not `codegen-lsp.generateCode`: the language client registers a command of that name for the server.
    vscode.commands.registerCommand('codegen-lsp.generateAtCursor', () => generate()),
    vscode.commands.registerCommand('codegen-lsp.generateWithInstruction', async () => {
      const instruction = await vscode.window.showInputBox({ prompt: 'What should codegen-lsp write?' });
      if (instruction !== undefined) {
        await generate(instruction);
      }
    }),
    vscode.commands.registerCommand('codegen-lsp.restart', () => client?.restart()),
    vscode.commands.registerCommand('codegen-lsp.showLog', () => client?.outputChannel.show()),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration('codegen-lsp.settings') && client?.isRunning()) {
        void client.sendNotification(DidChangeConfigurationNotification.type, {
          settings: configuration().get<object>('settings', {}),
        });
      }
    }),
  );
  await client.start();
}

export function deactivate(): Thenable<void> | undefined {
  return client?.stop();
}
